/* ARC sealing; see arc_seal.h. */
#include "mail/arc_seal.h"
#include "core/xalloc.h"
#include "mail/arc_sets.h"
#include "mail/authres.h"
#include "mail/dkim_canon.h"
#include "mail/header.h"
#include <stdlib.h>
#include <string.h>

/* The chain's status on receipt, as cv= says it; NULL when it is not one to seal. */
static const char *chain_status(unsigned n, const char *results, const char **why)
{
	if (n == 0)
		return "none";
	if (n == ARC_MAX_INSTANCES) {
		*why = "it carries the most ARC sets there may be";
		return NULL;
	}
	if (!authres_reports(results, strlen(results), "arc", "pass")) {
		*why = "the ARC chain it came with did not pass";
		return NULL;
	}
	return "pass";
}

/* The set's ARC-Authentication-Results and ARC-Message-Signature, relaxed, after sets. */
static void canon_new_fields(const buf *aar, const buf *ams, buf *sets)
{
	buf both;
	buf_init(&both);
	buf_append(&both, aar->data, aar->len);
	buf_append(&both, ams->data, ams->len);
	size_t count;
	struct header_field *fields = header_field_list(both.data, both.len, &count);
	for (size_t i = 0; i < count; i++)
		dkim_canon_header(fields[i].name, fields[i].name_len, fields[i].value, fields[i].value_len,
				  sets);
	free(fields);
	buf_free(&both);
}

int arc_seal(const char *msg, size_t len, const char *results, const struct dkim_signing_key *key,
	     time_t t, buf *out, const char **why)
{
	size_t hdr_len = header_end(msg, len);
	if (hdr_len == 0) {
		*why = "it has no header section";
		return -1;
	}
	size_t count;
	struct header_field *fields = header_field_list(msg, hdr_len, &count);
	struct arc_set *sets = xcalloc(ARC_MAX_INSTANCES, sizeof(*sets));
	unsigned n;
	const char *cv = NULL;
	*why = arc_sets_collect(fields, count, sets, &n);
	if (*why == NULL)
		cv = chain_status(n, results, why);
	buf aar, ams, data;
	buf_init(&aar);
	buf_init(&ams);
	buf_init(&data);
	int r = -1;
	if (cv != NULL) {
		buf_printf(&aar, "ARC-Authentication-Results: i=%u;%s\r\n", n + 1, results);
		arc_sets_canon(sets, n, &data);
		if (dkim_sign_arc_message(msg, len, key, n + 1, t, &ams) == 0) {
			canon_new_fields(&aar, &ams, &data);
			r = dkim_sign_arc_seal(&data, key, n + 1, cv, t, out);
		}
		if (r == 0) {
			buf_append(out, ams.data, ams.len);
			buf_append(out, aar.data, aar.len);
		} else {
			*why = "the key failed to sign";
		}
	}
	buf_free(&aar);
	buf_free(&ams);
	buf_free(&data);
	free(sets);
	free(fields);
	return r;
}
