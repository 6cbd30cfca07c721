/* Messages from local programs; see local_message.h. */
#include "mail/local_message.h"
#include "mail/address.h"
#include "mail/address_list.h"
#include "mail/header.h"
#include "mail/qp.h"
#include "mail/text.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_OCTETS 998

int local_address(const char *s, size_t len, const char *origin, char *out, size_t outlen)
{
	char qualified[1024];
	if (memchr(s, '@', len) == NULL) {
		int n = snprintf(qualified, sizeof(qualified), "%.*s@%s", (int)len, s, origin);
		if (n < 0 || (size_t)n >= sizeof(qualified))
			return -1;
		s = qualified;
		len = (size_t)n;
	}
	struct address a;
	if (address_parse_mailbox(s, len, true, &a) != ADDRESS_OK)
		return -1;
	return address_format(&a, out, outlen) < 0 ? -1 : 0;
}

/* A header field starts with a name of printable characters and a colon (RFC 5322 2.2). */
static bool is_field_start(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (line[i] == ':')
			return i > 0;
		if (line[i] <= ' ' || line[i] > '~')
			return false;
	}
	return false;
}

struct collect {
	const char *origin;
	strlist *rcpts;
	bool bad;
};

static void collect_rcpt(const struct address_item *it, void *arg)
{
	struct collect *c = arg;
	const char *local = it->local, *domain = it->domain;
	if (it->kind != ADDRESS_ITEM_MAILBOX || local == NULL)
		return;
	char joined[1024], canonical[1024];
	snprintf(joined, sizeof(joined), "%s%s%s", local, domain != NULL ? "@" : "", domain != NULL ? domain : "");
	if (local_address(joined, strlen(joined), c->origin, canonical, sizeof(canonical)) < 0)
		c->bad = true;
	else
		strlist_add_unique(c->rcpts, canonical);
}

static bool field_is(const struct header_field *f, const char *name)
{
	return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

/* True when the body holds a line over the limit. */
static bool has_long_line(const char *s, size_t len)
{
	size_t line = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			line = 0;
		else if (++line > LINE_MAX_OCTETS)
			return true;
	}
	return false;
}

/* Appends a line with CRLF; a lone CR inside it (old Mac line ends) ends a line too, since
 * SMTP cannot carry it (RFC 5321 2.3.8). */
static void append_line(buf *out, const char *line, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (line[i] == '\r')
			buf_putc(out, '\r'), buf_putc(out, '\n');
		else
			buf_putc(out, line[i]);
	}
	buf_puts(out, "\r\n");
}

int local_message(const char *in, size_t len, const struct local_message_opts *o, buf *out,
		  strlist *rcpts, const char **error_r)
{
	buf hdr, body;
	buf_init(&hdr);
	buf_init(&body);
	bool in_header = true;
	size_t pos = 0;
	if (len >= 5 && memcmp(in, "From ", 5) == 0) { /* an mbox separator, not a field */
		const char *lf = memchr(in, '\n', len);
		pos = lf != NULL ? (size_t)(lf - in) + 1 : len;
	}
	while (pos < len) {
		const char *line = in + pos;
		const char *lf = memchr(line, '\n', len - pos);
		size_t n = lf != NULL ? (size_t)(lf - line) : len - pos;
		pos += n + (lf != NULL);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (o->dot_ends && n == 1 && line[0] == '.')
			break;
		if (in_header) {
			bool continuation = n > 0 && (line[0] == ' ' || line[0] == '\t') && hdr.len > 0;
			if (continuation || is_field_start(line, n)) {
				append_line(&hdr, line, n);
				continue;
			}
			in_header = false;
			if (n == 0)
				continue; /* the empty line that ends the header */
		}
		append_line(&body, line, n);
	}
	int status = -1;
	if (has_long_line(hdr.data != NULL ? hdr.data : "", hdr.len)) {
		*error_r = "a header line is longer than 998 octets (RFC 5322 2.1.1)";
		goto done;
	}
	/* -t recipients, Bcc removed, what is missing noted */
	struct collect c = { o->origin, rcpts, false };
	bool has_from = false, has_date = false, has_msgid = false, has_mime = false;
	struct header_field f;
	size_t hp = 0;
	int r;
	buf kept;
	buf_init(&kept);
	while ((r = header_next(hdr.data, hdr.len, &hp, &f)) != 0) {
		if (r < 0)
			continue;
		if (o->extract && (field_is(&f, "To") || field_is(&f, "Cc") || field_is(&f, "Bcc")))
			address_list_walk(f.value, f.value_len, collect_rcpt, &c);
		has_from |= field_is(&f, "From");
		has_date |= field_is(&f, "Date");
		has_msgid |= field_is(&f, "Message-ID");
		has_mime |= field_is(&f, "MIME-Version") || field_is(&f, "Content-Type") ||
			    field_is(&f, "Content-Transfer-Encoding");
		if (!field_is(&f, "Bcc"))
			buf_append(&kept, f.raw, f.raw_len);
	}
	if (c.bad) {
		*error_r = "a recipient in To, Cc or Bcc is not an address";
		buf_free(&kept);
		goto done;
	}
	bool reencode = has_long_line(body.data != NULL ? body.data : "", body.len);
	if (reencode && has_mime) {
		*error_r = "a body line is longer than 998 octets in a MIME message; encode that part "
			   "(quoted-printable or base64)";
		buf_free(&kept);
		goto done;
	}
	if (!has_from) {
		buf_puts(out, "From: ");
		address_write_mailbox(out, o->from_name, o->from_addr);
		buf_puts(out, "\r\n");
	}
	if (!has_date) {
		char date[64];
		header_date(o->now, date, sizeof(date));
		buf_printf(out, "Date: %s\r\n", date);
	}
	if (!has_msgid)
		buf_printf(out, "Message-ID: <%lld.%08x%08x@%s>\r\n", (long long)o->now, arc4random(),
			   arc4random(), o->origin);
	buf_append(out, kept.data != NULL ? kept.data : "", kept.len);
	buf_free(&kept);
	if (reencode) {
		bool utf8 = text_is_utf8(body.data, body.len);
		buf_printf(out, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=%s\r\n"
				"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
			   utf8 ? "utf-8" : "unknown-8bit");
		qp_encode(body.data, body.len, out);
	} else {
		buf_puts(out, "\r\n");
		buf_append(out, body.data != NULL ? body.data : "", body.len);
	}
	status = 0;
done:
	buf_free(&hdr);
	buf_free(&body);
	return status;
}
