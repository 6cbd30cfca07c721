/* HTTP/1.1 responses: status line, the fields a client needs, and the body. */
#include "http/http_response.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The end of the line starting at pos (its LF), or NULL. */
static const char *line_end(const char *data, size_t len, size_t pos)
{
	return memchr(data + pos, '\n', len - pos);
}

/* The line at *pos without its CRLF (or LF); *pos moves past it. false at the end of data. */
static bool next_line(const char *data, size_t len, size_t *pos, const char **line, size_t *n)
{
	if (*pos >= len)
		return false;
	const char *nl = line_end(data, len, *pos);
	if (nl == NULL)
		return false;
	*line = data + *pos;
	*n = (size_t)(nl - *line);
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	*pos = (size_t)(nl - data) + 1;
	return true;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ] */
static bool status_line(const char *line, size_t n, int *status)
{
	if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
	    line[8] != ' ')
		return false;
	for (int i = 9; i < 12; i++)
		if (!isdigit((unsigned char)line[i]))
			return false;
	*status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return *status >= 100 && *status <= 599 && (n == 12 || line[12] == ' ');
}

static bool name_is(const char *line, size_t name_len, const char *name)
{
	return strlen(name) == name_len && strncasecmp(line, name, name_len) == 0;
}

/* A field's value without the white space around it. */
static void field_value(const char *line, size_t n, size_t colon, const char **v, size_t *vlen)
{
	*v = line + colon + 1;
	*vlen = n - colon - 1;
	while (*vlen > 0 && (**v == ' ' || **v == '\t'))
		(*v)++, (*vlen)--;
	while (*vlen > 0 && ((*v)[*vlen - 1] == ' ' || (*v)[*vlen - 1] == '\t'))
		(*vlen)--;
}

/* A decimal number of up to 18 digits; -1 for anything else. */
static long long decimal(const char *s, size_t n)
{
	if (n == 0 || n > 18)
		return -1;
	long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* chunked-body = *chunk last-chunk trailer-section CRLF */
static int dechunk(const char *data, size_t len, size_t pos, size_t max_body, buf *body)
{
	for (;;) {
		const char *line;
		size_t n;
		if (!next_line(data, len, &pos, &line, &n))
			return 0;
		size_t digits = 0;
		unsigned long long size = 0;
		while (digits < n && isxdigit((unsigned char)line[digits])) {
			if (digits >= 15)
				return -1;
			char c = (char)tolower((unsigned char)line[digits]);
			size = size * 16 + (unsigned)(isdigit((unsigned char)c) ? c - '0' : c - 'a' + 10);
			digits++;
		}
		if (digits == 0 || (digits < n && line[digits] != ';' && line[digits] != ' ' &&
				    line[digits] != '\t'))
			return -1;
		if (size == 0)
			return 1; /* the trailer section is not needed */
		if (body->len + size > max_body)
			return -1;
		if (len - pos < size + 2)
			return 0;
		buf_append(body, data + pos, (size_t)size);
		pos += (size_t)size;
		if (data[pos] == '\r')
			pos++;
		if (pos >= len || data[pos] != '\n')
			return -1;
		pos++;
	}
}

int http_response_parse(const char *data, size_t len, size_t max_body, struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->content_type);
	buf_init(&r->body);
	size_t pos = 0;
	const char *line;
	size_t n;
	if (!next_line(data, len, &pos, &line, &n)) {
		http_response_free(r);
		return 0;
	}
	if (!status_line(line, n, &r->status))
		goto bad;
	long long length = -1;
	bool chunked = false;
	for (;;) {
		if (!next_line(data, len, &pos, &line, &n)) {
			http_response_free(r);
			return 0;
		}
		if (n == 0)
			break;
		const char *colon = memchr(line, ':', n);
		if (colon == NULL || colon == line)
			goto bad;
		size_t name_len = (size_t)(colon - line), vlen;
		const char *v;
		field_value(line, n, name_len, &v, &vlen);
		if (name_is(line, name_len, "Content-Type")) {
			buf_clear(&r->content_type);
			buf_append(&r->content_type, v, vlen);
		} else if (name_is(line, name_len, "Content-Length")) {
			long long l = decimal(v, vlen);
			if (l < 0 || (length >= 0 && l != length))
				goto bad;
			length = l;
		} else if (name_is(line, name_len, "Transfer-Encoding")) {
			/* 6.1: chunked, if there, is the final coding; nothing else is understood. */
			if (!(vlen == 7 && strncasecmp(v, "chunked", 7) == 0))
				goto bad;
			chunked = true;
		}
	}
	if (chunked) {
		int d = dechunk(data, len, pos, max_body, &r->body);
		if (d <= 0) {
			http_response_free(r);
			return d;
		}
		return 1;
	}
	size_t rest = len - pos;
	if (length >= 0) {
		if ((unsigned long long)length > max_body)
			goto bad;
		if (rest < (size_t)length) {
			http_response_free(r);
			return 0;
		}
		rest = (size_t)length;
	} else if (rest > max_body) {
		goto bad;
	}
	buf_append(&r->body, data + pos, rest);
	return 1;
bad:
	http_response_free(r);
	return -1;
}

void http_response_free(struct http_response *r)
{
	buf_free(&r->content_type);
	buf_free(&r->body);
}
