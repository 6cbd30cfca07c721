/* The MIME structure parser; see mime.h. Written by hand because no well-kept C library gives
 * byte offsets of every part together with the raw parameter forms IMAP must report (GMime
 * decodes and rebuilds, and drags in GLib).
 *
 * The message is walked once per nesting level: a multipart's body is split at its delimiter
 * lines, and each piece is parsed as a part of its own (header fields, then body). A line ends
 * at LF with an optional CR before it, as in header.c. */
#include "mail/mime.h"
#include "core/base64.h"
#include "core/xalloc.h"
#include "mail/header.h"
#include "mail/lexer.h"
#include "mail/qp.h"
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct mime_limits mime_default_limits = { 20, 1000, 64 };

struct parser {
	const char *msg;
	size_t len;
	const struct mime_limits *lim;
	struct mime_tree *tree;
};

/* Copies a field value with its folding line ends removed and the white space around it
 * trimmed (the form BODYSTRUCTURE reports for Content-ID, -Description and the like). */
static char *unfold(const char *v, size_t len)
{
	buf b;
	buf_init(&b);
	for (size_t i = 0; i < len; i++)
		if (v[i] != '\r' && v[i] != '\n')
			buf_putc(&b, v[i]);
	size_t start = 0;
	while (start < b.len && (b.data[start] == ' ' || b.data[start] == '\t'))
		start++;
	while (b.len > start && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
		b.len--;
	char *s = xstrndup(b.data + start, b.len - start);
	buf_free(&b);
	return s;
}

/* ---- parameters (RFC 2045 5.1, RFC 2231 3 and 4) ----
 * parameter := attribute "=" value
 * RFC 2231: name*0=a; name*1=b joins to name=ab; name*=charset'lang'%xx marks an extended
 * value; name*0*=charset'lang'%xx; name*1*=%yy; name*2=plain mixes both, the first section
 * carrying the charset. */
struct raw_param {
	char *name;    /* without the "*" parts */
	int section;   /* -1: no section number */
	bool extended; /* the "*" after the name or section */
	char *value;
};

static void raw_param_parse(char *attr, struct raw_param *rp)
{
	size_t n = strlen(attr);
	rp->extended = n > 0 && attr[n - 1] == '*';
	if (rp->extended)
		attr[--n] = '\0';
	rp->section = -1;
	char *star = strchr(attr, '*');
	if (star != NULL && star[1] != '\0' && strspn(star + 1, "0123456789") == strlen(star + 1) &&
	    strlen(star + 1) <= 4) {
		rp->section = atoi(star + 1);
		*star = '\0';
	}
	rp->name = attr;
}

/* Percent-encodes what a plain section adds to an extended value, so the joined value is all
 * in the extended form. */
static void append_as_extended(buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;
		if (lexer_is_token_char((char)c) && c < 128 && c != '%' && c != '\'' && c != '*')
			buf_putc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* Joins the raw parameters into the final list: one entry per name, in the order the names
 * first appear; sections in number order, and only an unbroken run from 0 (RFC 2231 3: a
 * missing section ends the value). A plain name=value given next to sections is dropped in
 * favour of the sections, as the continuation is the newer form. */
static void params_join(struct raw_param *raw, size_t n, struct mime_param **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		if (raw[i].name == NULL)
			continue;
		const char *name = raw[i].name;
		bool has_sections = false;
		for (size_t j = i; j < n; j++)
			if (raw[j].name != NULL && strcasecmp(raw[j].name, name) == 0 && raw[j].section >= 0)
				has_sections = true;
		struct mime_param p = { xstrdup(name), NULL, false };
		if (!has_sections) {
			p.value = xstrdup(raw[i].value);
			p.extended = raw[i].extended;
		} else {
			buf v;
			buf_init(&v);
			bool extended = false;
			for (int sec = 0;; sec++) {
				size_t k = n;
				for (size_t j = i; j < n && k == n; j++)
					if (raw[j].name != NULL && raw[j].section == sec &&
					    strcasecmp(raw[j].name, name) == 0)
						k = j;
				if (k == n)
					break;
				if (sec == 0 && raw[k].extended)
					extended = true;
				if (extended && !raw[k].extended)
					append_as_extended(&v, raw[k].value);
				else
					buf_puts(&v, raw[k].value);
			}
			p.value = buf_steal(&v);
			p.extended = extended;
		}
		/* Later entries of the same name are consumed. */
		for (size_t j = i + 1; j < n; j++)
			if (raw[j].name != NULL && strcasecmp(raw[j].name, name) == 0)
				raw[j].name = NULL;
		*out = xrealloc(*out, (*count + 1) * sizeof(**out));
		(*out)[(*count)++] = p;
	}
}

/* Reads "; name=value" pairs to the end of the field, at most max of them. A pair that does
 * not parse is skipped up to the next ";". */
static void params_parse(struct lexer *l, unsigned max, struct mime_param **out, size_t *count)
{
	struct raw_param *raw = NULL;
	size_t n = 0;
	buf attr, value;
	buf_init(&attr);
	buf_init(&value);
	for (;;) {
		lexer_skip_cfws(l);
		while (l->p < l->end && *l->p != ';')
			l->p++; /* junk before the next parameter */
		if (l->p >= l->end || n >= max)
			break;
		l->p++;
		lexer_skip_cfws(l);
		buf_clear(&attr);
		buf_clear(&value);
		if (!lexer_token(l, &attr))
			continue;
		lexer_skip_cfws(l);
		if (l->p >= l->end || *l->p != '=')
			continue;
		l->p++;
		lexer_skip_cfws(l);
		lexer_value(l, &value); /* an empty value is kept as "" */
		raw = xrealloc(raw, (n + 1) * sizeof(*raw));
		raw_param_parse(xstrdup(attr.data), &raw[n]);
		raw[n].value = xstrdup(value.data);
		n++;
	}
	buf_free(&attr);
	buf_free(&value);
	/* params_join clears the names it has consumed, so the allocations are remembered here;
	 * raw_param_parse left each name at the start of its allocation. */
	char **names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = raw[i].name;
	params_join(raw, n, out, count);
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		free(raw[i].value);
	}
	free(names);
	free(raw);
}

static void params_free(struct mime_param *params, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
}

const char *mime_param_get(const struct mime_param *params, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcasecmp(params[i].name, name) == 0)
			return params[i].value;
	return NULL;
}

/* ---- the fields of one part ---- */

/* content := "Content-Type" ":" type "/" subtype *(";" parameter)   (RFC 2045 5.1) */
static void content_type_parse(struct parser *ps, struct mime_part *p, const char *v, size_t len)
{
	struct lexer l = { v, v + len };
	buf type, subtype;
	buf_init(&type);
	buf_init(&subtype);
	lexer_skip_cfws(&l);
	bool ok = lexer_token(&l, &type);
	lexer_skip_cfws(&l);
	ok = ok && l.p < l.end && *l.p == '/';
	if (ok) {
		l.p++;
		lexer_skip_cfws(&l);
		ok = lexer_token(&l, &subtype);
	}
	if (ok) {
		free(p->type);
		free(p->subtype);
		p->type = buf_steal(&type);
		p->subtype = buf_steal(&subtype);
		p->type_given = true;
		params_free(p->params, p->param_count);
		params_parse(&l, ps->lim->max_params, &p->params, &p->param_count);
	}
	buf_free(&type);
	buf_free(&subtype);
}

/* disposition := "Content-Disposition" ":" disposition-type *(";" disposition-parm)
 * (RFC 2183 2) */
static void disposition_parse(struct parser *ps, struct mime_part *p, const char *v, size_t len)
{
	struct lexer l = { v, v + len };
	buf type;
	buf_init(&type);
	lexer_skip_cfws(&l);
	if (lexer_token(&l, &type)) {
		free(p->disposition.value);
		params_free(p->disposition.params, p->disposition.param_count);
		p->disposition.value = buf_steal(&type);
		params_parse(&l, ps->lim->max_params, &p->disposition.params, &p->disposition.param_count);
	}
	buf_free(&type);
}

/* Sets an unstructured field's value; the first occurrence wins, as in Dovecot. */
static void set_once(char **slot, const char *v, size_t len)
{
	if (*slot == NULL)
		*slot = unfold(v, len);
}

static bool name_is(const struct header_field *f, const char *name)
{
	return strlen(name) == f->name_len && strncasecmp(f->name, name, f->name_len) == 0;
}

static void fields_parse(struct parser *ps, struct mime_part *p)
{
	const char *hdr = ps->msg + p->hdr_off;
	size_t pos = 0;
	struct header_field f;
	int r;
	bool had_type = false;
	while ((r = header_next(hdr, p->hdr_len, &pos, &f)) != 0) {
		if (r < 0 || f.name_len < 8 || strncasecmp(f.name, "Content-", 8) != 0)
			continue;
		if (name_is(&f, "Content-Type") && !had_type) {
			had_type = true;
			content_type_parse(ps, p, f.value, f.value_len);
		} else if (name_is(&f, "Content-Disposition") && p->disposition.value == NULL) {
			disposition_parse(ps, p, f.value, f.value_len);
		} else if (name_is(&f, "Content-Transfer-Encoding")) {
			set_once(&p->encoding, f.value, f.value_len);
		} else if (name_is(&f, "Content-ID")) {
			set_once(&p->id, f.value, f.value_len);
		} else if (name_is(&f, "Content-Description")) {
			set_once(&p->description, f.value, f.value_len);
		} else if (name_is(&f, "Content-MD5")) {
			set_once(&p->md5, f.value, f.value_len);
		} else if (name_is(&f, "Content-Language")) {
			set_once(&p->language, f.value, f.value_len);
		} else if (name_is(&f, "Content-Location")) {
			set_once(&p->location, f.value, f.value_len);
		}
	}
}

/* ---- the tree ---- */

/* Lines are what CRLF ends (RFC 5322 2.1); a part's last line, whose CRLF belongs to the
 * boundary that follows (RFC 2046 5.1.1), is not counted, as Dovecot counts. */
static size_t count_lines(const char *s, size_t len)
{
	size_t n = 0;
	for (const char *p = s, *end = s + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		n++;
	return n;
}

static bool enc_is_identity(const char *enc)
{
	return enc == NULL || strcasecmp(enc, "7bit") == 0 || strcasecmp(enc, "8bit") == 0 ||
	       strcasecmp(enc, "binary") == 0;
}

bool mime_part_is(const struct mime_part *p, const char *type, const char *subtype)
{
	return strcasecmp(p->type, type) == 0 && (subtype == NULL || strcasecmp(p->subtype, subtype) == 0);
}

bool mime_part_is_message(const struct mime_part *p)
{
	return mime_part_is(p, "message", "rfc822") || mime_part_is(p, "message", "global");
}

static void parse_part(struct parser *ps, int idx);

/* Adds a part spanning msg[start..end) as the last child of parent; MIME_NONE when the part
 * limit is reached. */
static int add_part(struct parser *ps, int parent, size_t start, size_t end, bool digest)
{
	struct mime_tree *t = ps->tree;
	if (t->count >= ps->lim->max_parts) {
		t->truncated = true;
		return MIME_NONE;
	}
	t->parts = xrealloc(t->parts, (t->count + 1) * sizeof(*t->parts));
	int idx = (int)t->count++;
	struct mime_part *p = &t->parts[idx];
	memset(p, 0, sizeof(*p));
	p->parent = parent;
	p->first_child = p->next_sibling = MIME_NONE;
	p->hdr_off = start;
	p->body_len = end - start; /* the whole span until parse_part splits it */
	p->type = xstrdup(digest ? "message" : "text");
	p->subtype = xstrdup(digest ? "rfc822" : "plain");
	if (parent != MIME_NONE) {
		struct mime_part *par = &t->parts[parent];
		p->depth = par->depth + 1;
		par->child_count++;
		if (par->first_child == MIME_NONE) {
			par->first_child = idx;
		} else {
			int last = par->first_child;
			while (t->parts[last].next_sibling != MIME_NONE)
				last = t->parts[last].next_sibling;
			t->parts[last].next_sibling = idx;
		}
	}
	return idx;
}

/* dash-boundary := "--" boundary; a delimiter line is dash-boundary transport-padding CRLF,
 * the close delimiter adds "--" (RFC 2046 5.1.1). Returns 0 for no delimiter, 1 for a
 * delimiter, 2 for the close delimiter. Anything but white space after the boundary makes the
 * line ordinary text, so a boundary that is a prefix of another cannot cut it. */
static int delimiter_kind(const char *line, size_t len, const char *boundary, size_t blen)
{
	if (len < 2 + blen || line[0] != '-' || line[1] != '-' || memcmp(line + 2, boundary, blen) != 0)
		return 0;
	size_t i = 2 + blen;
	int kind = 1;
	if (i + 2 <= len && line[i] == '-' && line[i + 1] == '-') {
		kind = 2;
		i += 2;
	}
	for (; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
			return kind == 2 ? 2 : 0; /* text after a close delimiter is tolerated */
	return kind;
}

/* Splits a multipart body at its delimiters (RFC 2046 5.1.1: the line end before a delimiter
 * belongs to the delimiter) and parses each piece. */
static void parse_multipart(struct parser *ps, int idx, const char *boundary)
{
	size_t blen = strlen(boundary);
	size_t start = ps->tree->parts[idx].body_off;
	size_t end = start + ps->tree->parts[idx].body_len;
	bool digest = mime_part_is(&ps->tree->parts[idx], "multipart", "digest");
	size_t part_start = 0;
	bool in_part = false, closed = false;
	for (size_t pos = start; pos < end && !closed;) {
		const char *lf = memchr(ps->msg + pos, '\n', end - pos);
		size_t next = lf != NULL ? (size_t)(lf - ps->msg) + 1 : end;
		int kind = delimiter_kind(ps->msg + pos, next - pos, boundary, blen);
		if (kind != 0) {
			size_t content_end = pos;
			if (content_end > start && ps->msg[content_end - 1] == '\n')
				content_end--;
			if (content_end > start && ps->msg[content_end - 1] == '\r')
				content_end--;
			if (in_part) {
				if (content_end < part_start)
					content_end = part_start;
				int child = add_part(ps, idx, part_start, content_end, digest);
				if (child == MIME_NONE)
					return;
				parse_part(ps, child);
			}
			closed = kind == 2;
			in_part = true;
			part_start = next;
		}
		pos = next;
	}
	if (in_part && !closed) {
		int child = add_part(ps, idx, part_start, end, digest);
		if (child != MIME_NONE)
			parse_part(ps, child);
	}
}

/* Parses the part at idx whose whole span is body_len octets from hdr_off: its header
 * section, fields, body and children. */
static void parse_part(struct parser *ps, int idx)
{
	struct mime_part *p = &ps->tree->parts[idx];
	const char *span = ps->msg + p->hdr_off;
	size_t span_len = p->body_len;
	size_t hdr_len = header_end(span, span_len);
	if (hdr_len == 0)
		hdr_len = span_len; /* no empty line: all of it is header, the body is empty */
	p->hdr_len = hdr_len;
	p->body_off = p->hdr_off + hdr_len;
	p->body_len = span_len - hdr_len;
	fields_parse(ps, p);
	p = &ps->tree->parts[idx];
	p->body_lines = count_lines(ps->msg + p->body_off, p->body_len);

	bool multipart = strcasecmp(p->type, "multipart") == 0;
	bool message = mime_part_is_message(p) && enc_is_identity(p->encoding);
	if (!multipart && !message)
		return;
	if (p->depth >= ps->lim->max_depth) {
		/* Too deep to look into: a leaf of no particular type. */
		ps->tree->truncated = true;
		free(p->type);
		free(p->subtype);
		p->type = xstrdup("application");
		p->subtype = xstrdup("octet-stream");
		return;
	}
	if (message) {
		int child = add_part(ps, idx, p->body_off, p->body_off + p->body_len, false);
		if (child != MIME_NONE)
			parse_part(ps, child);
		return;
	}
	const char *boundary = mime_param_get(p->params, p->param_count, "boundary");
	if (boundary != NULL && *boundary != '\0') {
		char *b = xstrdup(boundary);
		parse_multipart(ps, idx, b);
		free(b);
	}
	p = &ps->tree->parts[idx];
	if (p->child_count == 0) {
		/* RFC 3501's body-type-mpart needs at least one part; like Dovecot, an empty one. */
		size_t at = p->body_off + p->body_len;
		int child = add_part(ps, idx, at, at, false);
		if (child != MIME_NONE)
			parse_part(ps, child);
	}
}

void mime_parse(const char *msg, size_t len, const struct mime_limits *limits,
		struct mime_tree *tree)
{
	struct parser ps = { msg, len, limits, tree };
	memset(tree, 0, sizeof(*tree));
	int root = add_part(&ps, MIME_NONE, 0, len, false);
	if (root != MIME_NONE)
		parse_part(&ps, root);
}

void mime_tree_free(struct mime_tree *tree)
{
	for (size_t i = 0; i < tree->count; i++) {
		struct mime_part *p = &tree->parts[i];
		free(p->type);
		free(p->subtype);
		params_free(p->params, p->param_count);
		free(p->id);
		free(p->description);
		free(p->encoding);
		free(p->md5);
		free(p->language);
		free(p->location);
		free(p->disposition.value);
		params_free(p->disposition.params, p->disposition.param_count);
	}
	free(tree->parts);
	memset(tree, 0, sizeof(*tree));
}

/* ---- encoded words (RFC 2047) ----
 * encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
 * White space between two encoded words is dropped (6.2); an encoded word that does not decode
 * or whose charset iconv does not know is kept as written. */

/* The "Q" encoding (4.2): "_" is a space, =XX an octet. */
static int q_decode(const char *s, size_t len, buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_') {
			buf_putc(out, ' ');
		} else if (s[i] == '=') {
			int hi = i + 2 < len ? qp_hex_value(s[i + 1]) : -1;
			int lo = i + 2 < len ? qp_hex_value(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			buf_putc(out, (char)(hi * 16 + lo));
			i += 2;
		} else {
			buf_putc(out, s[i]);
		}
	}
	return 0;
}

int mime_to_utf8(const char *charset, const char *in, size_t len, buf *out)
{
	if (strcasecmp(charset, "utf-8") == 0 || strcasecmp(charset, "us-ascii") == 0) {
		buf_append(out, in, len);
		return 0;
	}
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return -1;
	size_t start = out->len;
	char *ip = (char *)in;
	size_t ileft = len;
	int r = 0;
	while (ileft > 0 && r == 0) {
		buf_reserve(out, ileft * 4 + 16);
		char *op = out->data + out->len;
		size_t oleft = out->cap - out->len - 1;
		size_t n = iconv(cd, &ip, &ileft, &op, &oleft);
		out->len = (size_t)(op - out->data);
		if (n == (size_t)-1 && errno != E2BIG)
			r = -1;
	}
	iconv_close(cd);
	if (r < 0)
		out->len = start;
	out->data[out->len] = '\0';
	return r;
}

/* Decodes the encoded word at s[0..len) (which starts with "=?") into out. Returns the octets
 * it spans, or 0 when it is no valid encoded word. */
static size_t encoded_word(const char *s, size_t len, buf *out)
{
	const char *end = s + len;
	const char *q1 = memchr(s + 2, '?', len - 2);
	if (q1 == NULL || q1 + 3 >= end || q1[2] != '?')
		return 0;
	const char *text = q1 + 3;
	const char *close = NULL;
	for (const char *p = text; p + 1 < end && close == NULL; p++)
		if (p[0] == '?' && p[1] == '=')
			close = p;
	if (close == NULL || q1 - (s + 2) == 0 || q1 - (s + 2) > 64)
		return 0;
	for (const char *p = s; p < close; p++)
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			return 0;
	/* charset may carry an RFC 2231 language: "utf-8*en". */
	size_t cs_len = (size_t)(q1 - (s + 2));
	const char *star = memchr(s + 2, '*', cs_len);
	char *charset = xstrndup(s + 2, star != NULL ? (size_t)(star - (s + 2)) : cs_len);
	buf raw;
	buf_init(&raw);
	int r;
	if (q1[1] == 'B' || q1[1] == 'b')
		r = base64_decode(text, (size_t)(close - text), &raw);
	else if (q1[1] == 'Q' || q1[1] == 'q')
		r = q_decode(text, (size_t)(close - text), &raw);
	else
		r = -1;
	if (r == 0)
		r = mime_to_utf8(charset, raw.data, raw.len, out);
	free(charset);
	buf_free(&raw);
	return r == 0 ? (size_t)(close + 2 - s) : 0;
}

void mime_header_decode(const char *value, size_t len, buf *out)
{
	size_t i = 0;
	size_t pending_ws = 0;    /* white space seen after an encoded word, not yet written */
	size_t ws_start = 0;
	bool after_word = false;
	while (i < len) {
		char c = value[i];
		if (c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c == ' ' || c == '\t') {
			if (pending_ws == 0)
				ws_start = out->len;
			buf_putc(out, c);
			pending_ws++;
			i++;
			continue;
		}
		if (c == '=' && i + 1 < len && value[i + 1] == '?') {
			size_t mark = out->len;
			size_t n = encoded_word(value + i, len - i, out);
			if (n > 0) {
				if (after_word && pending_ws > 0) {
					/* drop the white space between two encoded words */
					memmove(out->data + ws_start, out->data + mark, out->len - mark);
					out->len -= mark - ws_start;
					out->data[out->len] = '\0';
				}
				after_word = true;
				pending_ws = 0;
				i += n;
				continue;
			}
		}
		buf_putc(out, c);
		after_word = false;
		pending_ws = 0;
		i++;
	}
}
