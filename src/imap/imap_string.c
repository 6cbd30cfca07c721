/* Strings in IMAP responses; see imap_string.h. */
#include "imap/imap_string.h"
#include <string.h>

void imap_write_literal(buf *out, const char *s, size_t len, bool binary)
{
	bool nul = len > 0 && memchr(s, '\0', len) != NULL;
	buf_printf(out, "%s{%zu}\r\n", binary && nul ? "~" : "", len);
	size_t at = out->len;
	buf_append(out, s, len);
	for (size_t i = at; nul && !binary && i < out->len; i++)
		if (out->data[i] == '\0')
			out->data[i] = (char)0x80;
}

void imap_write_string(buf *out, const char *s, size_t len)
{
	bool quotable = len < 1024;
	for (size_t i = 0; i < len && quotable; i++) {
		unsigned char c = (unsigned char)s[i];
		quotable = c >= 32 && c < 127;
	}
	if (!quotable) {
		imap_write_literal(out, s, len, false);
		return;
	}
	buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(out, '\\');
		buf_putc(out, s[i]);
	}
	buf_putc(out, '"');
}
