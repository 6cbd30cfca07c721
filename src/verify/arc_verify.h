/* ARC chain validation (RFC 8617 5.2) of a message as it streams in. The header section
 * gives the ARC sets (ARC-Authentication-Results, ARC-Message-Signature, ARC-Seal with
 * i=1..N, N at most ARC_MAX_INSTANCES); their structure is judged at once, and the
 * signatures to check (the ARC-Message-Signature of instance N, like a DKIM signature over
 * the message, and every ARC-Seal over the sets up to its own, 5.1.1) go to the message's
 * DKIM verifier, which fetches their keys on the shared resolver (one lookup per key name)
 * and hashes the body as it streams. Once the verifier is done, the outcome is known. The
 * header section is not kept: only the digests and the text of instance N's
 * ARC-Authentication-Results. */
#ifndef ESTAFETA_ARC_VERIFY_H
#define ESTAFETA_ARC_VERIFY_H
#include "verify/dkim_verify.h"
#include <stddef.h>

enum arc_result { ARC_NONE, ARC_PASS, ARC_FAIL };

/* "none", "pass", "fail" (RFC 8617 10.1). */
const char *arc_result_name(enum arc_result r);

struct arc_outcome {
	enum arc_result result;
	unsigned instances;   /* N, 0 without ARC sets */
	const char *sealer;   /* d= of instance N's ARC-Seal when the chain passes, else NULL */
	const char *selector; /* its s= */
	const char *results;  /* on pass: instance N's ARC-Authentication-Results after "i=N;"
	                         (its authserv-id and results) */
	const char *reason;   /* for people: why it fails, or NULL */
};

struct arc_verify;

/* hdr[0..len): the whole header section, as dkim_verify_header had it (call that first);
 * the ARC signatures are added to dkim. */
struct arc_verify *arc_verify_start(struct dkim_verify *dkim, const char *hdr, size_t len);
/* The outcome once dkim's finish is done (before, signatures unanswered make it a fail:
 * every ARC error is permanent, 5.2.1). Lives until the next call or the free. */
const struct arc_outcome *arc_verify_outcome(struct arc_verify *a, struct dkim_verify *dkim);
void arc_verify_free(struct arc_verify **a);
#endif
