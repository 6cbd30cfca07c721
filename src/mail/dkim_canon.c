/* DKIM canonicalization; see dkim_canon.h. */
#include "mail/dkim_canon.h"

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Appends p[0..len) with folding CRLFs removed and every run of WSP one space, leaving out
 * the WSP at both ends (RFC 6376 3.4.2). */
static void append_compressed(buf *out, const char *p, size_t len)
{
	bool space = false, started = false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\r' && i + 2 < len && p[i + 1] == '\n' && is_wsp(p[i + 2])) {
			i++; /* an unfolded line break: the WSP after it makes the space */
			continue;
		}
		if (is_wsp(p[i])) {
			space = started;
			continue;
		}
		if (space)
			buf_putc(out, ' ');
		space = false;
		started = true;
		buf_putc(out, p[i]);
	}
}

void dkim_canon_header(const char *name, size_t name_len, const char *value, size_t value_len,
		       buf *out)
{
	for (size_t i = 0; i < name_len; i++) {
		char c = name[i];
		buf_putc(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
	}
	buf_putc(out, ':');
	append_compressed(out, value, value_len);
	buf_append(out, "\r\n", 2);
}

void dkim_canon_field(bool relaxed, const char *name, size_t name_len, const char *value,
		      size_t value_len, buf *out)
{
	if (relaxed) {
		dkim_canon_header(name, name_len, value, value_len, out);
		return;
	}
	buf_append(out, name, name_len);
	buf_putc(out, ':');
	buf_append(out, value, value_len);
	buf_append(out, "\r\n", 2);
}

void dkim_body_canon_init(struct dkim_body_canon *c, bool relaxed, dkim_body_fn *emit, void *arg)
{
	*c = (struct dkim_body_canon){ .relaxed = relaxed, .emit = emit, .arg = arg };
}

/* The canonical octets of one update, collected so emit gets runs rather than octets. */
struct out {
	struct dkim_body_canon *c;
	size_t len;
	char data[1024];
};

static void out_flush(struct out *o)
{
	if (o->len > 0)
		o->c->emit(o->data, o->len, o->c->arg);
	o->len = 0;
}

static void out_put(struct out *o, const char *p, size_t len)
{
	o->c->emitted = true;
	for (size_t i = 0; i < len; i++) {
		if (o->len == sizeof(o->data))
			out_flush(o);
		o->data[o->len++] = p[i];
	}
}

/* An octet of line content (anything but the CRLF that ends a line): the empty lines held
 * back were inside the body after all, and so (relaxed) was the space before it. */
static void put_text(struct out *o, char ch)
{
	struct dkim_body_canon *c = o->c;
	for (; c->empty_lines > 0; c->empty_lines--)
		out_put(o, "\r\n", 2);
	if (c->wsp)
		out_put(o, " ", 1);
	c->wsp = false;
	c->line_text = true;
	out_put(o, &ch, 1);
}

/* A CRLF: a line with content ends; an empty one (relaxed: or one of WSP only) is held. */
static void end_line(struct out *o)
{
	struct dkim_body_canon *c = o->c;
	if (c->line_text)
		out_put(o, "\r\n", 2);
	else
		c->empty_lines++;
	c->line_text = false;
	c->wsp = false;
}

void dkim_body_canon_update(struct dkim_body_canon *c, const char *data, size_t len)
{
	struct out o = { .c = c };
	for (size_t i = 0; i < len; i++) {
		char ch = data[i];
		if (c->cr) {
			c->cr = false;
			if (ch == '\n') {
				end_line(&o);
				continue;
			}
			put_text(&o, '\r'); /* a bare CR is an ordinary octet */
		}
		if (ch == '\r')
			c->cr = true;
		else if (c->relaxed && is_wsp(ch))
			c->wsp = true;
		else
			put_text(&o, ch);
	}
	out_flush(&o);
}

void dkim_body_canon_finish(struct dkim_body_canon *c)
{
	struct out o = { .c = c };
	if (c->cr)
		put_text(&o, '\r');
	c->cr = false;
	if (c->line_text)
		out_put(&o, "\r\n", 2);
	else if (!c->relaxed && !c->emitted)
		out_put(&o, "\r\n", 2); /* RFC 6376 3.4.3: an empty body is one CRLF */
	c->line_text = false;
	c->empty_lines = 0;
	out_flush(&o);
}

void dkim_canon_body(const char *body, size_t len, dkim_body_fn *emit, void *arg)
{
	struct dkim_body_canon c;
	dkim_body_canon_init(&c, true, emit, arg);
	dkim_body_canon_update(&c, body, len);
	dkim_body_canon_finish(&c);
}
