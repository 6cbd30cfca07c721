/* libFuzzer target for base_subject.c: the base subject of any Subject value, which must be
 * no longer than the decoded value, hold no leading or trailing space, and be its own base
 * subject when it carries no "[fwd:" wrapper or leader left to remove (the extraction is
 * idempotent). Also reads the sort keys of the input as a header section. */
#include "imap/imap_sort_keys.h"
#include "mail/base_subject.h"
#include "mail/mime.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *value = (const char *)data;
	buf decoded, base, again;
	buf_init(&decoded);
	buf_init(&base);
	buf_init(&again);
	mime_header_decode(value, size, &decoded);
	base_subject(value, size, &base);
	if (base.len > decoded.len)
		abort();
	if (base.len > 0 && (base.data[0] == ' ' || base.data[base.len - 1] == ' '))
		abort();
	/* a base subject without "=?" (no encoded word to decode again) is its own base */
	if (memchr(base.data, '\0', base.len) == NULL && strstr(base.data, "=?") == NULL) {
		bool reply = base_subject(base.data, base.len, &again);
		if (reply || again.len != base.len || memcmp(again.data, base.data, base.len) != 0)
			abort();
	}
	struct sort_keys k;
	sort_keys_read(value, size, &k);
	sort_keys_free(&k);
	buf_free(&decoded);
	buf_free(&base);
	buf_free(&again);
	return 0;
}
