/* DKIM relaxed canonicalization; see dkim_canon.h. */
#include "mail/dkim_canon.h"
#include <stdbool.h>

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Appends p[0..len) with folding CRLFs removed and every run of WSP one space, leaving out
 * the WSP at both ends (RFC 6376 3.4.2 and 3.4.4 share this). */
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

void dkim_canon_body(const char *body, size_t len, dkim_body_fn *emit, void *arg)
{
	buf line;
	buf_init(&line);
	size_t empty_lines = 0; /* held back: they count only when a line with text follows */
	size_t pos = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && !(body[end] == '\r' && end + 1 < len && body[end + 1] == '\n'))
			end++;
		buf_clear(&line);
		/* a line's leading WSP stays, as one space; append_compressed drops it */
		if (is_wsp(body[pos])) {
			size_t text = pos;
			while (text < end && is_wsp(body[text]))
				text++;
			if (text < end)
				buf_putc(&line, ' ');
		}
		append_compressed(&line, body + pos, end - pos);
		pos = end < len ? end + 2 : len;
		if (line.len == 0) {
			empty_lines++;
			continue;
		}
		for (; empty_lines > 0; empty_lines--)
			emit("\r\n", 2, arg);
		buf_append(&line, "\r\n", 2);
		emit(line.data, line.len, arg);
	}
	buf_free(&line);
}
