/* ARC chain validation; see arc_verify.h.
 *
 * Steps 1 to 3 of RFC 8617 5.2 (the sets, their instances, the cv= values) are decided from
 * the header section; steps 4 and 6 (the last ARC-Message-Signature, each ARC-Seal) are
 * signatures the DKIM verifier checks. The optional step 5 (oldest-pass) is not taken. */
#include "verify/arc_verify.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "mail/arc_sets.h"
#include "mail/dkim_canon.h"
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct arc_verify {
	unsigned instances;
	const char *failure;  /* decided from the header section, or NULL */
	int ams;              /* dkim_verify_add's handles */
	int seals[ARC_MAX_INSTANCES];
	char *sealer, *selector;
	char *results;
	struct arc_outcome outcome;
};

const char *arc_result_name(enum arc_result r)
{
	static const char *const names[] = { "none", "pass", "fail" };
	return names[r];
}

/* RFC 8617 5.1.1: the relaxed fields of every set up to the seal's own, the seal's with its
 * b= emptied and no CRLF at its end. */
static void seal_digest(const struct arc_set *sets, unsigned upto, const struct dkim_sig_tags *t,
			unsigned char digest[SHA256_DIGEST_LENGTH])
{
	buf data, value;
	buf_init(&data);
	buf_init(&value);
	arc_sets_canon(sets, upto - 1, &data);
	const struct arc_set *own = &sets[upto - 1];
	for (int k = ARC_AAR; k < ARC_SEAL; k++)
		dkim_canon_header(own->field[k]->name, own->field[k]->name_len, own->field[k]->value,
				  own->field[k]->value_len, &data);
	const struct header_field *f = own->field[ARC_SEAL];
	buf_append(&value, f->value, t->b_start);
	buf_append(&value, f->value + t->b_end, f->value_len - t->b_end);
	dkim_canon_header(f->name, f->name_len, value.data, value.len, &data);
	SHA256((const unsigned char *)data.data, data.len - 2, digest);
	buf_free(&data);
	buf_free(&value);
}

/* Step 2, 3 C and the signatures: NULL, or why the chain fails already. */
static const char *add_signatures(struct arc_verify *a, struct dkim_verify *dkim,
				  const struct header_field *fields, size_t count,
				  const struct arc_set *sets)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	struct dkim_sig_tags t;
	const char *error;
	for (unsigned i = a->instances; i-- > 0;) {
		const struct header_field *f = sets[i].field[ARC_SEAL];
		if (dkim_sig_tags_parse_kind(DKIM_SIG_ARC_SEAL, f->value, f->value_len, &t, &error) < 0) {
			dkim_sig_tags_free(&t);
			return "an ARC-Seal does not read";
		}
		enum arc_cv want = i == 0 ? ARC_CV_NONE : ARC_CV_PASS;
		if (t.cv != want) {
			bool last_failed = i + 1 == a->instances && t.cv == ARC_CV_FAIL;
			dkim_sig_tags_free(&t);
			return last_failed ? "the last ARC-Seal says cv=fail" : "an ARC-Seal's cv= breaks the chain";
		}
		if (i + 1 == a->instances) {
			a->sealer = xstrdup(t.domain);
			a->selector = xstrdup(t.selector);
		}
		seal_digest(sets, i + 1, &t, digest);
		if ((a->seals[i] = dkim_verify_add(dkim, &t, digest, false)) < 0)
			return "too many ARC signatures";
	}
	const struct header_field *ams = sets[a->instances - 1].field[ARC_AMS];
	if (dkim_sig_tags_parse_kind(DKIM_SIG_ARC_MESSAGE, ams->value, ams->value_len, &t, &error) < 0) {
		dkim_sig_tags_free(&t);
		return "the last ARC-Message-Signature does not read";
	}
	dkim_header_digest(&t, fields, count, ams, digest);
	if ((a->ams = dkim_verify_add(dkim, &t, digest, true)) < 0)
		return "too many ARC signatures";
	return NULL;
}

struct arc_verify *arc_verify_start(struct dkim_verify *dkim, const char *hdr, size_t len)
{
	struct arc_verify *a = xcalloc(1, sizeof(*a));
	size_t count;
	struct header_field *fields = header_field_list(hdr, len, &count);
	struct arc_set *sets = xcalloc(ARC_MAX_INSTANCES, sizeof(*sets));
	a->failure = arc_sets_collect(fields, count, sets, &a->instances);
	if (a->failure == NULL && a->instances > 0)
		a->failure = add_signatures(a, dkim, fields, count, sets);
	if (a->failure == NULL && a->instances > 0) {
		const struct header_field *aar = sets[a->instances - 1].field[ARC_AAR];
		size_t after;
		arc_instance_of(aar->value, aar->value_len, &after);
		a->results = xstrndup(aar->value + after, aar->value_len - after);
	}
	free(sets);
	free(fields);
	return a;
}

/* Steps 4 and 6. */
static const char *signature_failure(struct arc_verify *a, struct dkim_verify *dkim)
{
	const struct dkim_signature_result *r = dkim_verify_added(dkim, a->ams);
	if (r->result != DKIM_PASS)
		return "the last ARC-Message-Signature does not verify";
	for (unsigned i = a->instances; i-- > 0;)
		if (dkim_verify_added(dkim, a->seals[i])->result != DKIM_PASS)
			return "an ARC-Seal does not verify";
	return NULL;
}

const struct arc_outcome *arc_verify_outcome(struct arc_verify *a, struct dkim_verify *dkim)
{
	struct arc_outcome *o = &a->outcome;
	*o = (struct arc_outcome){ .result = ARC_NONE, .instances = a->instances };
	if (a->instances == 0 && a->failure == NULL)
		return o;
	o->reason = a->failure != NULL ? a->failure : signature_failure(a, dkim);
	o->result = o->reason == NULL ? ARC_PASS : ARC_FAIL;
	if (o->result == ARC_PASS) {
		o->sealer = a->sealer;
		o->selector = a->selector;
		o->results = a->results;
	}
	return o;
}

void arc_verify_free(struct arc_verify **ap)
{
	struct arc_verify *a = *ap;
	if (a == NULL)
		return;
	free(a->sealer);
	free(a->selector);
	free(a->results);
	free(a);
	*ap = NULL;
}
