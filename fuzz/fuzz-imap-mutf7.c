/* libFuzzer target for imap_mutf7.c: any input decodes or is refused; what decodes encodes
 * back to the same text (modified UTF-7 has one form per name), and any valid UTF-8 name
 * round-trips through its encoding. */
#include "imap/imap_mutf7.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	buf a, b;
	buf_init(&a);
	buf_init(&b);
	if (imap_mutf7_decode(s, &a) == 0) {
		if (imap_mutf7_encode(a.data, &b) != 0 || strcmp(b.data, s) != 0)
			abort();
	}
	buf_clear(&a);
	buf_clear(&b);
	if (imap_mutf7_encode(s, &a) == 0) {
		if (imap_mutf7_decode(a.data, &b) != 0 || strcmp(b.data, s) != 0)
			abort();
	}
	buf_free(&a);
	buf_free(&b);
	free(s);
	return 0;
}
