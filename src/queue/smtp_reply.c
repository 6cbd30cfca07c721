/* The SMTP client's reply parser; see smtp_reply.h for the grammar. */
#include "queue/smtp_reply.h"
#include "core/xalloc.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void smtp_reply_init(struct smtp_reply *r)
{
	r->code = 0;
	r->lines = 0;
	buf_init(&r->text);
}

void smtp_reply_free(struct smtp_reply *r)
{
	buf_free(&r->text);
}

void smtp_reply_clear(struct smtp_reply *r)
{
	r->code = 0;
	r->lines = 0;
	buf_clear(&r->text);
}

int smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len)
{
	/* Reply-code = %x32-35 %x30-35 %x30-39 */
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
	    !isdigit((unsigned char)line[2]))
		return -1;
	int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->lines > 0 && code != r->code)
		return -1;
	if (r->lines >= SMTP_REPLY_LINES_MAX)
		return -1;
	bool more = len > 3 && line[3] == '-';
	/* After the code: "-" for more lines, or SP (RFC 5321 4.2.1 allows a bare code too). */
	if (len > 3 && line[3] != '-' && line[3] != ' ')
		return -1;
	if (r->lines > 0)
		buf_putc(&r->text, '\n');
	if (len > 4)
		buf_append(&r->text, line + 4, len - 4);
	r->code = code;
	r->lines++;
	return more ? 0 : 1;
}

void smtp_reply_status(const struct smtp_reply *r, char *out, size_t outlen)
{
	/* status-code = class "." subject "." detail; class matches the reply's first digit
	 * (RFC 2034 3). */
	const char *t = r->text.data;
	size_t i = 0;
	int dots = 0, digits = 0;
	bool ok = r->text.len > 0 && t[0] - '0' == r->code / 100;
	for (; ok && i < r->text.len && i < 15; i++) {
		if (isdigit((unsigned char)t[i])) {
			digits++;
			ok = digits <= 3;
		} else if (t[i] == '.' && digits > 0 && dots < 2) {
			dots++;
			digits = 0;
		} else {
			break;
		}
	}
	ok = ok && dots == 2 && digits > 0 && (i == r->text.len || t[i] == ' ' || t[i] == '\n');
	if (ok)
		snprintf(out, outlen, "%.*s", (int)i, t);
	else
		snprintf(out, outlen, "%d.0.0", r->code / 100);
}

char *smtp_reply_oneline(const struct smtp_reply *r)
{
	buf b;
	buf_init(&b);
	buf_printf(&b, "%d", r->code);
	if (r->text.len > 0)
		buf_putc(&b, ' ');
	for (size_t i = 0; i < r->text.len; i++) {
		unsigned char ch = (unsigned char)r->text.data[i];
		/* Logs and DSN fields are one line of printable ASCII. */
		buf_putc(&b, ch == '\n' ? ' ' : (ch < 0x20 || ch > 0x7e) ? '?' : (char)ch);
	}
	return buf_steal(&b);
}

static bool keyword_is(const char *p, size_t len, const char *kw)
{
	return strlen(kw) == len && strncasecmp(p, kw, len) == 0;
}

void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *out)
{
	static const struct {
		const char *keyword;
		unsigned bit;
	} keywords[] = {
		{ "STARTTLS", SMTP_EXT_STARTTLS },   { "PIPELINING", SMTP_EXT_PIPELINING },
		{ "SIZE", SMTP_EXT_SIZE },           { "8BITMIME", SMTP_EXT_8BITMIME },
		{ "SMTPUTF8", SMTP_EXT_SMTPUTF8 },   { "DSN", SMTP_EXT_DSN },
		{ "CHUNKING", SMTP_EXT_CHUNKING },   { "ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCEDSTATUSCODES },
	};
	out->ext = 0;
	out->size_max = 0;
	const char *p = r->text.data, *end = p + r->text.len;
	/* The first line is the server's domain and greeting; the ehlo-lines follow. */
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	p = nl != NULL ? nl + 1 : end;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;
		const char *sp = memchr(p, ' ', (size_t)(eol - p));
		const char *kw_end = sp != NULL ? sp : eol;
		size_t kw_len = (size_t)(kw_end - p);
		for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
			if (keyword_is(p, kw_len, keywords[i].keyword))
				out->ext |= keywords[i].bit;
		if (keyword_is(p, kw_len, "SIZE") && sp != NULL) {
			unsigned long long v = 0;
			const char *q = sp + 1;
			while (q < eol && isdigit((unsigned char)*q) && v < UINT64_MAX / 10)
				v = v * 10 + (unsigned)(*q++ - '0');
			out->size_max = v;
		}
		if (keyword_is(p, kw_len, "AUTH") && sp != NULL) {
			/* auth-line: "AUTH" 1*(SP mechanism) (RFC 4954 3) */
			const char *q = sp;
			while (q < eol) {
				q++;
				const char *e = memchr(q, ' ', (size_t)(eol - q));
				if (e == NULL)
					e = eol;
				if (keyword_is(q, (size_t)(e - q), "PLAIN"))
					out->ext |= SMTP_EXT_AUTH_PLAIN;
				if (keyword_is(q, (size_t)(e - q), "SCRAM-SHA-256"))
					out->ext |= SMTP_EXT_AUTH_SCRAM_SHA_256;
				q = e;
			}
		}
		p = nl != NULL ? nl + 1 : end;
	}
}
