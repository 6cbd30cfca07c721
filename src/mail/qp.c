/* Quoted-printable; see qp.h. */
#include "mail/qp.h"
#include <stdbool.h>

#define QP_LINE_MAX 76

static const char hex[] = "0123456789ABCDEF";

/* Appends one encoded unit ("a" or "=E9") to the line in progress, breaking it softly first
 * when the unit would not fit (the "=" of the break counts). */
static void put_unit(buf *out, size_t *col, const char *unit, size_t n)
{
	if (*col + n > QP_LINE_MAX - 1) {
		buf_puts(out, "=\r\n");
		*col = 0;
	}
	buf_append(out, unit, n);
	*col += n;
}

void qp_encode(const char *text, size_t len, buf *out)
{
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		bool line_end = c == '\n' || (c == '\r' && i + 1 < len && text[i + 1] == '\n');
		if (line_end) {
			i += c == '\r';
			buf_puts(out, "\r\n");
			col = 0;
			continue;
		}
		/* a space or tab right before a line end (or the end) would be lost in transport */
		bool at_end = i + 1 == len || text[i + 1] == '\n' ||
			      (text[i + 1] == '\r' && i + 2 < len && text[i + 2] == '\n');
		bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_end);
		if (literal) {
			char unit = (char)c;
			put_unit(out, &col, &unit, 1);
		} else {
			char unit[3] = { '=', hex[c >> 4], hex[c & 15] };
			put_unit(out, &col, unit, 3);
		}
	}
}

int qp_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void qp_decode(const char *text, size_t len, buf *out)
{
	size_t i = 0;
	while (i < len) {
		/* a line: its content up to the line end, trailing whitespace dropped */
		size_t end = i;
		while (end < len && text[end] != '\n')
			end++;
		size_t stop = end;
		if (end < len && stop > i && text[stop - 1] == '\r')
			stop--;
		while (stop > i && (text[stop - 1] == ' ' || text[stop - 1] == '\t'))
			stop--;
		bool soft = false;
		for (size_t j = i; j < stop; j++) {
			if (text[j] != '=') {
				buf_putc(out, text[j]);
				continue;
			}
			if (j + 1 == stop) {
				soft = true; /* "=" at the end of the line: a soft break */
				break;
			}
			int hi = j + 2 < stop ? qp_hex_value(text[j + 1]) : -1;
			int lo = hi >= 0 ? qp_hex_value(text[j + 2]) : -1;
			if (lo < 0) {
				buf_putc(out, '=');
				continue;
			}
			buf_putc(out, (char)(hi * 16 + lo));
			j += 2;
		}
		if (end < len && !soft)
			buf_puts(out, "\r\n");
		i = end < len ? end + 1 : len;
	}
}
