/* libFuzzer target for dkim_tags.c: any input read as a DKIM-Signature value, as ARC's
 * signatures (ARC-Message-Signature, ARC-Seal) and instance prefix, and as a key
 * record. Each tag's value lies inside its span and has no white space at either end; a
 * signature that reads has every required tag, a domain and selector, From in h=, an i= under
 * d=, x= not before t=, and a b= span inside the input; a key record that reads has a key
 * type. */
#include "mail/dkim_tags.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void check_tags(const char *s, size_t len)
{
	size_t pos = 0;
	struct dkim_tag t;
	while (dkim_tag_next(s, len, &pos, &t) == 1) {
		const char *span = s + t.span_start;
		if (t.span_start > t.span_end || t.span_end > len || t.value < span ||
		    t.value + t.value_len > s + t.span_end || t.name_len == 0 || pos > len)
			abort();
		if (t.value_len > 0 && (strchr(" \t\r\n", t.value[0]) != NULL ||
					strchr(" \t\r\n", t.value[t.value_len - 1]) != NULL))
			abort();
	}
}

static void check_signature(const char *s, size_t len)
{
	struct dkim_sig_tags t;
	const char *error = NULL;
	int r = dkim_sig_tags_parse(s, len, &t, &error);
	if ((r == 0) != (error == NULL))
		abort();
	if (r == 0) {
		if (t.algorithm == NULL || t.domain == NULL || t.selector == NULL || t.b == NULL ||
		    !strlist_contains(&t.headers, "from") || t.signature.len == 0 ||
		    t.b_start > t.b_end || t.b_end > len)
			abort();
		for (const char *p = t.domain; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
		if (t.identity != NULL) {
			const char *at = strrchr(t.identity, '@');
			size_t il = at != NULL ? strlen(at + 1) : 0, dl = strlen(t.domain);
			if (at == NULL || il < dl || strcasecmp(at + 1 + il - dl, t.domain) != 0)
				abort();
		}
		if (t.has_timestamp && t.has_expiry && t.expiry < t.timestamp)
			abort();
	}
	dkim_sig_tags_free(&t);
}

/* Read as an ARC signature of each kind: one that reads has an instance of 1..50, a seal no
 * h= and a cv=, neither an identity; the instance prefix lies inside the input. */
static void check_arc(const char *s, size_t len)
{
	for (int kind = DKIM_SIG_ARC_MESSAGE; kind <= DKIM_SIG_ARC_SEAL; kind++) {
		struct dkim_sig_tags t;
		const char *error = NULL;
		int r = dkim_sig_tags_parse_kind((enum dkim_sig_kind)kind, s, len, &t, &error);
		if ((r == 0) != (error == NULL))
			abort();
		if (r == 0 && (t.instance < 1 || t.instance > ARC_MAX_INSTANCES || t.identity != NULL ||
			       t.domain == NULL || t.b_end > len ||
			       (kind == DKIM_SIG_ARC_SEAL && t.headers.count != 0)))
			abort();
		dkim_sig_tags_free(&t);
	}
	size_t after = 0;
	unsigned inst = arc_instance_of(s, len, &after);
	if (inst > ARC_MAX_INSTANCES || (inst > 0 && (after == 0 || after > len)))
		abort();
}

static void check_key(const char *s, size_t len)
{
	struct dkim_key_tags k;
	const char *error = NULL;
	int r = dkim_key_tags_parse(s, len, &k, &error);
	if ((r == 0) != (error == NULL) || (r == 0 && (k.key_type == NULL || k.key_type[0] == '\0')))
		abort();
	dkim_key_tags_free(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	check_tags(s, size);
	check_signature(s, size);
	check_arc(s, size);
	check_key(s, size);
	return 0;
}
