/* libFuzzer target for address.c: both parsers over arbitrary bytes, and for every address
 * that parses, its canonical form must parse back to the same address (so what we log and
 * store can always be read again). The first byte chooses allow_null and allow_utf8. */
#include "mail/address.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FORMAT_MAX (4 * ADDRESS_MAX_LOCAL + 1 + ADDRESS_MAX_DOMAIN + 3)

/* Checks what a successful parse promises, then the round trip through address_format. */
static void check(const struct address *a, bool allow_utf8)
{
	char text[FORMAT_MAX];
	struct address back;

	if (strlen(a->local) > ADDRESS_MAX_LOCAL || strlen(a->domain) > ADDRESS_MAX_DOMAIN ||
	    (a->utf8 && !allow_utf8))
		abort();
	int n = address_format(a, text, sizeof(text));
	if (n < 0 || (size_t)n != strlen(text))
		abort();
	if (a->null || a->domain[0] == '\0')
		return;
	if (address_parse_mailbox(text, (size_t)n, allow_utf8, &back) != ADDRESS_OK ||
	    strcmp(back.local, a->local) != 0 || strcmp(back.domain, a->domain) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct address a;
	size_t used;

	if (size == 0)
		return 0;
	bool allow_null = data[0] & 1, allow_utf8 = data[0] & 2;
	const char *s = (const char *)data + 1;
	size_t len = size - 1;

	if (address_parse_path(s, len, allow_null, allow_utf8, &a, &used) == ADDRESS_OK) {
		if (used > len || used > ADDRESS_MAX_PATH || s[used - 1] != '>')
			abort();
		check(&a, allow_utf8);
	} else if (used != 0) {
		abort();
	}
	if (address_parse_mailbox(s, len, allow_utf8, &a) == ADDRESS_OK)
		check(&a, allow_utf8);
	/* A valid domain makes a valid mailbox, when the whole fits the limits. */
	if (address_domain_valid(s, len, allow_utf8) && len + 2 <= ADDRESS_MAX_PATH - 2) {
		char mailbox[ADDRESS_MAX_PATH];
		memcpy(mailbox, "u@", 2);
		memcpy(mailbox + 2, s, len);
		if (address_parse_mailbox(mailbox, len + 2, allow_utf8, &a) != ADDRESS_OK ||
		    strncasecmp(a.domain, s, len) != 0)
			abort();
	}
	return 0;
}
