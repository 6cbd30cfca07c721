/* Writing messages; see compose.h. */
#include "mua/compose.h"
#include "core/base64.h"
#include "core/xalloc.h"
#include "mail/address.h"
#include "mail/address_list.h"
#include "mail/encoded_word.h"
#include "mail/header.h"
#include "mail/mime.h"
#include "mail/qp.h"
#include "mail/text.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct list_writer {
	buf *out;
	size_t column;
	size_t count;
	strlist *addrs;
	bool bad;
	char bad_item[300];
};

/* A mailbox of the list written back: its name decoded then encoded again as it must be. */
static void write_item(const struct address_item *it, void *arg)
{
	struct list_writer *w = arg;
	const char *name = it->name, *local = it->local, *domain = it->domain;
	if (it->kind != ADDRESS_ITEM_MAILBOX)
		return;
	char addr[1024];
	struct address a;
	snprintf(addr, sizeof(addr), "%s@%s", local != NULL ? local : "", domain != NULL ? domain : "");
	if (local == NULL || domain == NULL || address_parse_mailbox(addr, strlen(addr), true, &a) != ADDRESS_OK ||
	    address_format(&a, addr, sizeof(addr)) < 0) {
		if (!w->bad)
			snprintf(w->bad_item, sizeof(w->bad_item), "%s%s%s", local != NULL ? local : (name != NULL ? name : ""),
				 domain != NULL ? "@" : "", domain != NULL ? domain : "");
		w->bad = true;
		return;
	}
	if (w->addrs != NULL)
		strlist_add_unique(w->addrs, addr);
	if (w->out == NULL)
		return;
	buf item, decoded;
	buf_init(&item);
	buf_init(&decoded);
	if (name != NULL)
		mime_header_decode(name, strlen(name), &decoded);
	address_write_mailbox(&item, name != NULL ? decoded.data : NULL, addr);
	if (w->count++ > 0) {
		buf_putc(w->out, ',');
		w->column++;
		if (w->column + 1 + item.len > 78) {
			buf_puts(w->out, "\r\n");
			w->column = 0;
		}
		buf_putc(w->out, ' ');
		w->column++;
	}
	buf_append(w->out, item.data, item.len);
	/* an encoded name may hold folds: the column is what follows the last */
	const char *last = item.data;
	for (const char *p = item.data; p < item.data + item.len; p++)
		if (*p == '\n')
			last = p + 1;
	w->column = last == item.data ? w->column + item.len : (size_t)(item.data + item.len - last);
	buf_free(&item);
	buf_free(&decoded);
}

static void write_address_field(buf *out, const char *name, const char *list)
{
	if (list == NULL || list[0] == '\0')
		return;
	buf_printf(out, "%s: ", name);
	struct list_writer w = { .out = out, .column = strlen(name) + 2 };
	address_list_walk(list, strlen(list), write_item, &w);
	buf_puts(out, "\r\n");
}

int compose_addresses(const char *list, strlist *out, const char **bad_r)
{
	static char bad[300];
	struct list_writer w = { .addrs = out };
	address_list_walk(list, strlen(list), write_item, &w);
	if (w.bad) {
		snprintf(bad, sizeof(bad), "%s", w.bad_item);
		*bad_r = bad;
		return -1;
	}
	return 0;
}

char *compose_message_id(const char *addr, time_t now)
{
	const char *at = strrchr(addr, '@');
	return xasprintf("<%lld.%08x%08x@%s>", (long long)now, arc4random(), arc4random(),
			 at != NULL ? at + 1 : "localhost");
}

const char *compose_guess_type(const char *filename, const char *data, size_t len)
{
	static const char *const types[][2] = {
		{ "pdf", "application/pdf" }, { "png", "image/png" }, { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "webp", "image/webp" },
		{ "svg", "image/svg+xml" }, { "txt", "text/plain" }, { "html", "text/html" },
		{ "htm", "text/html" }, { "csv", "text/csv" }, { "ics", "text/calendar" },
		{ "json", "application/json" }, { "xml", "application/xml" }, { "zip", "application/zip" },
		{ "gz", "application/gzip" }, { "tar", "application/x-tar" },
		{ "odt", "application/vnd.oasis.opendocument.text" },
		{ "ods", "application/vnd.oasis.opendocument.spreadsheet" },
		{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
		{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
		{ "doc", "application/msword" }, { "xls", "application/vnd.ms-excel" },
		{ "mp3", "audio/mpeg" }, { "mp4", "video/mp4" }, { "eml", "application/octet-stream" },
	};
	const char *dot = strrchr(filename, '.');
	for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot + 1, types[i][0]) == 0)
			return types[i][1];
	return memchr(data, '\0', len) == NULL && text_is_utf8(data, len) ? "text/plain"
									   : "application/octet-stream";
}

static bool needs_encoding(const char *s, size_t len)
{
	size_t line = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80 || c == '\0' || (c == '\r' && (i + 1 >= len || s[i + 1] != '\n')))
			return true;
		line = c == '\n' ? 0 : line + 1;
		if (line > 998)
			return true;
	}
	return false;
}

/* Lines ended by CRLF whatever the input used. */
void compose_crlf_text(buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			buf_putc(out, '\r');
		buf_putc(out, s[i]);
	}
	if (len > 0 && s[len - 1] != '\n')
		buf_puts(out, "\r\n");
}

static void write_text_part(buf *out, const char *subtype, const char *s, size_t len)
{
	bool encode = needs_encoding(s, len);
	buf_printf(out, "Content-Type: text/%s; charset=%s\r\n", subtype, encode ? "utf-8" : "us-ascii");
	buf_printf(out, "Content-Transfer-Encoding: %s\r\n\r\n", encode ? "quoted-printable" : "7bit");
	if (encode)
		qp_encode(s, len, out);
	else
		compose_crlf_text(out, s, len);
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_puts(out, "\r\n");
}

void compose_base64_lines(buf *out, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i += 57) {
		base64_encode(data + i, len - i < 57 ? len - i : 57, out);
		buf_puts(out, "\r\n");
	}
}

/* True when enc (percent-encoded) may be cut at: not inside a %XX, nor before a %XX that
 * continues a UTF-8 sequence (%80 to %BF), so every section decodes on its own. */
static bool param_cut_ok(const buf *enc, size_t at)
{
	if (at >= enc->len)
		return true;
	if ((at >= 1 && enc->data[at - 1] == '%') || (at >= 2 && enc->data[at - 2] == '%'))
		return false;
	return !(enc->data[at] == '%' && strchr("89AB", enc->data[at + 1]) != NULL);
}

/* filename="plain" or, for anything else, filename*=UTF-8''percent-encoded (RFC 2231 4),
 * cut when long into sections filename*0*=UTF-8''..., filename*1*=... (RFC 2231 3), each on
 * a line of at most 78 octets. */
static void write_filename_param(buf *out, const char *param, const char *name)
{
	const size_t line_max = 78;
	bool plain = strlen(param) + strlen(name) + 5 <= line_max;
	for (const char *p = name; *p && plain; p++)
		plain = (unsigned char)*p >= ' ' && (unsigned char)*p < 0x7f && *p != '"' && *p != '\\';
	if (plain) {
		buf_printf(out, ";\r\n\t%s=\"%s\"", param, name);
		return;
	}
	buf enc;
	buf_init(&enc);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("!#$&+-.^_`|~", *p) != NULL)
			buf_putc(&enc, (char)*p);
		else
			buf_printf(&enc, "%%%02X", *p);
	}
	if (strlen(param) + enc.len + 11 <= line_max) {
		buf_printf(out, ";\r\n\t%s*=UTF-8''%s", param, enc.data);
		buf_free(&enc);
		return;
	}
	size_t at = 0;
	for (unsigned section = 0; at < enc.len; section++) {
		/* the line: tab, param*N*=, the charset in the first, the text, ";" */
		char *head = xasprintf("%s*%u*=%s", param, section, section == 0 ? "UTF-8''" : "");
		size_t n = line_max - strlen(head) - 2;
		if (n > enc.len - at)
			n = enc.len - at;
		while (n > 3 && !param_cut_ok(&enc, at + n))
			n--;
		buf_printf(out, ";\r\n\t%s%.*s", head, (int)n, enc.data + at);
		free(head);
		at += n;
	}
	buf_free(&enc);
}

static void write_attachment(buf *out, const struct attachment *a)
{
	buf_printf(out, "Content-Type: %s", a->type);
	write_filename_param(out, "name", a->filename);
	buf_puts(out, "\r\nContent-Disposition: attachment");
	write_filename_param(out, "filename", a->filename);
	buf_puts(out, "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	compose_base64_lines(out, a->data, a->len);
}

char *compose_boundary(void)
{
	return xasprintf("=_estafeta_%08x%08x", arc4random(), arc4random());
}

static void write_body(const struct compose *c, buf *out)
{
	char *alt = NULL;
	if (c->html != NULL) {
		alt = compose_boundary();
		buf_printf(out, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", alt);
		buf_printf(out, "--%s\r\n", alt);
		write_text_part(out, "plain", c->text, c->text_len);
		buf_printf(out, "--%s\r\n", alt);
		write_text_part(out, "html", c->html, c->html_len);
		buf_printf(out, "--%s--\r\n", alt);
		free(alt);
	} else {
		write_text_part(out, "plain", c->text, c->text_len);
	}
}

void compose_message(const struct compose *c, buf *out)
{
	char date[64];
	header_date(c->date, date, sizeof(date));
	buf_printf(out, "Date: %s\r\n", date);
	buf_puts(out, "From: ");
	address_write_mailbox(out, c->from_name, c->from_addr);
	buf_puts(out, "\r\n");
	write_address_field(out, "To", c->to);
	write_address_field(out, "Cc", c->cc);
	write_address_field(out, "Reply-To", c->reply_to);
	header_write_text(out, "Subject", c->subject != NULL ? c->subject : "");
	buf_printf(out, "Message-ID: %s\r\n", c->message_id);
	if (c->in_reply_to != NULL)
		buf_printf(out, "In-Reply-To: %s\r\n", c->in_reply_to);
	if (c->references != NULL)
		header_write_text(out, "References", c->references);
	if (c->extra_fields != NULL)
		buf_puts(out, c->extra_fields);
	buf_puts(out, "MIME-Version: 1.0\r\n");
	if (c->attachment_count == 0 && c->forwarded == NULL) {
		write_body(c, out);
		return;
	}
	char *mixed = compose_boundary();
	buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", mixed);
	buf_printf(out, "This is a message in MIME format.\r\n--%s\r\n", mixed);
	write_body(c, out);
	if (c->forwarded != NULL) {
		buf_printf(out, "--%s\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n", mixed);
		buf_printf(out, "Content-Transfer-Encoding: %s\r\n\r\n",
			   needs_encoding(c->forwarded, c->forwarded_len) ? "8bit" : "7bit");
		compose_crlf_text(out, c->forwarded, c->forwarded_len);
	}
	for (size_t i = 0; i < c->attachment_count; i++) {
		buf_printf(out, "--%s\r\n", mixed);
		write_attachment(out, &c->attachments[i]);
	}
	buf_printf(out, "--%s--\r\n", mixed);
	free(mixed);
}
