/* libFuzzer target for mta_sts.c: the input as a TXT record (an id found is 1 to 32 letters
 * and digits) and as a policy file (a policy read has a mode, a max_age within the limit and
 * lower-case patterns, and each of its patterns without the wildcard matches itself). */
#include "mail/mta_sts.h"
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size);
	char id[33];
	if (mta_sts_record_id(text, id)) {
		size_t n = strlen(id);
		if (n == 0 || n > 32)
			abort();
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)id[i]))
				abort();
	}
	struct mta_sts_policy p;
	if (mta_sts_policy_parse((const char *)data, size, &p)) {
		if (p.max_age < 0 || p.max_age > MTA_STS_MAX_AGE_LIMIT ||
		    (p.mode != MTA_STS_NONE && p.mx.count == 0))
			abort();
		for (size_t i = 0; i < p.mx.count; i++) {
			const char *pat = p.mx.items[i];
			for (const char *c = pat; *c != '\0'; c++)
				if (isupper((unsigned char)*c))
					abort();
			if (pat[0] != '*' && !mta_sts_mx_matches(&p, pat))
				abort();
		}
		mta_sts_policy_free(&p);
	}
	free(text);
	return 0;
}
