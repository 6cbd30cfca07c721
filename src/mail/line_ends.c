/* CRLF and LF line ends: see line_ends.h. */
#include "mail/line_ends.h"
#include <stdbool.h>
#include <string.h>

void line_ends_crlf(const char *in, size_t len, buf *out)
{
	buf_reserve(out, line_ends_crlf_len(in, len));
	size_t start = 0;
	for (const char *lf; start < len && (lf = memchr(in + start, '\n', len - start)) != NULL;) {
		size_t at = (size_t)(lf - in);
		bool bare = at == 0 || in[at - 1] != '\r';
		buf_append(out, in + start, at - start);
		buf_append(out, bare ? "\r\n" : "\n", bare ? 2 : 1);
		start = at + 1;
	}
	buf_append(out, in + start, len - start);
}

size_t line_ends_crlf_len(const char *in, size_t len)
{
	size_t n = len;
	for (size_t i = 0; i < len; i++)
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			n++;
	return n;
}

void line_ends_lf(const char *in, size_t len, buf *out)
{
	buf_reserve(out, len);
	size_t start = 0;
	for (size_t i = 0; i + 1 < len; i++) {
		if (in[i] == '\r' && in[i + 1] == '\n') {
			buf_append(out, in + start, i - start);
			start = i + 1; /* the LF goes with what follows */
		}
	}
	buf_append(out, in + start, len - start);
}
