/* libFuzzer target for dmarc_record.c: the input as a DMARC record (its report URIs all
 * mailto: and within it), as a domain whose walk names must be suffixes in order from the
 * longest, with an Organizational Domain among its suffixes, and as a header section whose
 * Author Domain, when found, is lower-case ASCII. */
#include "mail/dmarc_record.h"
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size);
	size_t len = strlen(text);
	struct dmarc_record r;
	if (dmarc_record_parse(text, &r) == 1) {
		for (size_t i = 0; i < r.rua.count; i++)
			if (strncasecmp(r.rua.items[i], "mailto:", 7) != 0 || strlen(r.rua.items[i]) > len)
				abort();
		if (r.psd != 'y' && r.psd != 'n' && r.psd != 'u')
			abort();
		dmarc_record_free(&r);
	}

	size_t off[DMARC_WALK_MAX];
	size_t n = dmarc_walk_names(text, off);
	struct dmarc_walk_step steps[DMARC_WALK_MAX];
	for (size_t i = 0; i < n; i++) {
		if (off[i] > len || (i > 0 && off[i] <= off[i - 1]))
			abort();
		steps[i] = (struct dmarc_walk_step){ off[i], i < size && (data[i] & 1), "ynu"[i < size ? data[i] % 3 : 2] };
	}
	if (n > 0) {
		size_t org = dmarc_org_domain(text, steps, n);
		if (org > len || (org > 0 && text[org - 1] != '.'))
			abort();
	}

	buf d;
	buf_init(&d);
	if (dmarc_author_domain(text, len, &d))
		for (size_t i = 0; i < d.len; i++)
			if ((unsigned char)d.data[i] >= 128 || isupper((unsigned char)d.data[i]))
				abort();
	buf_free(&d);
	free(text);
	return 0;
}
