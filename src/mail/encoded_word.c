/* Encoded words and folding; see encoded_word.h. */
#include "mail/encoded_word.h"
#include "core/base64.h"
#include <string.h>

#define WORD_MAX 75  /* RFC 2047 2 */
#define LINE_SOFT 78 /* RFC 5322 2.1.1 */

bool encoded_word_needed(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 0x7f || (c < ' ' && c != '\t'))
			return true;
		if (c == '=' && i + 1 < len && text[i + 1] == '?')
			return true; /* would read as the start of an encoded word */
	}
	return false;
}

void encoded_word_write(buf *out, const char *text, size_t len, size_t column)
{
	/* "=?UTF-8?B?" + "?=" leave 63 characters of base64: 45 octets (47 with the column
	 * slack never used, to keep words whole on their own lines). */
	const size_t max_octets = (WORD_MAX - 12) / 4 * 3;
	size_t i = 0;
	bool first = true;
	while (i < len || first) {
		size_t n = len - i < max_octets ? len - i : max_octets;
		/* back up to the start of a UTF-8 character */
		while (n > 0 && i + n < len && ((unsigned char)text[i + n] & 0xc0) == 0x80)
			n--;
		if (n == 0)
			n = len - i < max_octets ? len - i : max_octets;
		if (!first)
			buf_puts(out, "\r\n ");
		else if (column + WORD_MAX > LINE_SOFT && column > 20)
			buf_puts(out, "\r\n ");
		buf_puts(out, "=?UTF-8?B?");
		base64_encode(text + i, n, out);
		buf_puts(out, "?=");
		i += n;
		first = false;
	}
}

void header_write_text(buf *out, const char *name, const char *text)
{
	size_t len = strlen(text);
	buf_printf(out, "%s: ", name);
	size_t column = strlen(name) + 2;
	if (encoded_word_needed(text, len)) {
		encoded_word_write(out, text, len, column);
		buf_puts(out, "\r\n");
		return;
	}
	/* fold before a space when the line would pass 78 */
	for (size_t i = 0; i < len;) {
		size_t word = i + 1;
		while (word < len && text[word] != ' ')
			word++;
		if (column + (word - i) > LINE_SOFT && i > 0 && text[i] == ' ') {
			buf_puts(out, "\r\n");
			column = 0;
		}
		buf_append(out, text + i, word - i);
		column += word - i;
		i = word;
	}
	buf_puts(out, "\r\n");
}
