/* Search text of a message; see text.h. */
#include "mail/text.h"
#include "core/base64.h"
#include "mail/address_list.h"
#include "mail/header.h"
#include "mail/mime.h"
#include "mail/qp.h"
#include <stdbool.h>
#include <string.h>
#include <strings.h>

bool text_is_utf8(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < len; i++) {
		size_t n = s[i] < 0x80 ? 0 : (s[i] & 0xe0) == 0xc0 ? 1 : (s[i] & 0xf0) == 0xe0 ? 2
			 : (s[i] & 0xf8) == 0xf0 ? 3 : 4;
		if (n == 4 || n > len - i - 1)
			return false;
		for (; n > 0; n--)
			if ((s[++i] & 0xc0) != 0x80)
				return false;
	}
	return true;
}

/* Appends text in charset as UTF-8: converted when iconv knows the charset, as it is when it
 * is valid UTF-8, else read as Windows-1252, the usual truth behind unlabelled 8-bit mail. */
static void put_utf8(const char *charset, const char *text, size_t len, buf *out)
{
	if (charset != NULL && mime_to_utf8(charset, text, len, out) == 0)
		return;
	if (text_is_utf8(text, len) || mime_to_utf8("WINDOWS-1252", text, len, out) < 0)
		buf_append(out, text, len);
}

/* The text inside HTML: tags and comments dropped, the common entities decoded, block
 * tags as line breaks. Enough for search; not a renderer. */
static void html_text(const char *h, size_t len, buf *out)
{
	static const struct { const char *name; const char *text; } entities[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
		{ "&#39;", "'" }, { "&nbsp;", " " },
	};
	for (size_t i = 0; i < len;) {
		if (h[i] == '<') {
			const char *close = memchr(h + i, '>', len - i);
			size_t end = close != NULL ? (size_t)(close - h) + 1 : len;
			if (end - i >= 3 && (strncasecmp(h + i, "<br", 3) == 0 || strncasecmp(h + i, "<p", 2) == 0 ||
					     strncasecmp(h + i, "</p", 3) == 0 || strncasecmp(h + i, "<div", 4) == 0))
				buf_putc(out, '\n');
			i = end;
			continue;
		}
		size_t k = 0;
		while (k < sizeof(entities) / sizeof(entities[0]) &&
		       strncasecmp(h + i, entities[k].name, strlen(entities[k].name)) != 0)
			k++;
		if (k < sizeof(entities) / sizeof(entities[0]) && len - i >= strlen(entities[k].name)) {
			buf_puts(out, entities[k].text);
			i += strlen(entities[k].name);
		} else {
			buf_putc(out, h[i++]);
		}
	}
}

void text_part_decode(const char *msg, const struct mime_part *p, buf *out)
{
	const char *body = msg + p->body_off;
	if (p->encoding != NULL && strcasecmp(p->encoding, "base64") == 0)
		base64_decode_mime(body, p->body_len, out);
	else if (p->encoding != NULL && strcasecmp(p->encoding, "quoted-printable") == 0)
		qp_decode(body, p->body_len, out);
	else
		buf_append(out, body, p->body_len);
}

void text_part(const char *msg, const struct mime_part *p, buf *out)
{
	buf raw, utf8;
	buf_init(&raw);
	buf_init(&utf8);
	text_part_decode(msg, p, &raw);
	put_utf8(mime_param_get(p->params, p->param_count, "charset"), raw.data, raw.len, &utf8);
	if (mime_part_is(p, "text", "html"))
		html_text(utf8.data, utf8.len, out);
	else
		buf_append(out, utf8.data, utf8.len);
	buf_putc(out, '\n');
	buf_free(&raw);
	buf_free(&utf8);
}

void text_header_value(const char *value, size_t len, buf *out)
{
	buf decoded;
	buf_init(&decoded);
	mime_header_decode(value, len, &decoded);
	put_utf8(NULL, decoded.data, decoded.len, out);
	buf_free(&decoded);
}

/* The fields whose values are address lists (RFC 5322 3.6.2, 3.6.3). */
static bool is_address_field(const char *name, size_t len)
{
	static const char *const names[] = { "From", "Sender", "Reply-To", "To", "Cc", "Bcc" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
			return true;
	return false;
}

static void put_canonical_mailbox(const struct address_item *it, void *arg)
{
	buf *out = arg;
	if (it->kind != ADDRESS_ITEM_MAILBOX || it->local == NULL)
		return;
	if (out->len > 0)
		buf_puts(out, ", ");
	if (it->name != NULL) {
		text_header_value(it->name, strlen(it->name), out);
		buf_puts(out, " <");
	}
	buf_puts(out, it->local);
	if (it->domain != NULL)
		buf_printf(out, "@%s", it->domain);
	if (it->name != NULL)
		buf_putc(out, '>');
}

void text_header_field(const char *name, size_t name_len, const char *value, size_t len, buf *out)
{
	size_t start = out->len;
	text_header_value(value, len, out);
	if (!is_address_field(name, name_len))
		return;
	buf canonical;
	buf_init(&canonical);
	address_list_walk(value, len, put_canonical_mailbox, &canonical);
	if (canonical.len > 0 && strstr(out->data + start, canonical.data) == NULL) {
		buf_putc(out, ' ');
		buf_append(out, canonical.data, canonical.len);
	}
	buf_free(&canonical);
}

void message_text(const char *msg, size_t len, buf *header, buf *body)
{
	struct mime_tree tree;
	mime_parse(msg, len, &mime_default_limits, &tree);
	const struct mime_part *root = &tree.parts[0];
	struct header_field f;
	size_t pos = 0;
	int r;
	while (header != NULL && (r = header_next(msg + root->hdr_off, root->hdr_len, &pos, &f)) != 0) {
		if (r < 0)
			continue;
		buf_append(header, f.name, f.name_len);
		buf_putc(header, ':'); /* the value keeps the space after the colon */
		text_header_field(f.name, f.name_len, f.value, f.value_len, header);
		buf_putc(header, '\n');
	}
	for (size_t i = 0; body != NULL && i < tree.count; i++) {
		const struct mime_part *p = &tree.parts[i];
		if (p->first_child == MIME_NONE && mime_part_is(p, "text", NULL))
			text_part(msg, p, body);
	}
	mime_tree_free(&tree);
}
