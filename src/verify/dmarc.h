/* DMARC evaluation of an inbound message (draft-ietf-dmarc-dmarcbis-41 5.3): the policy of
 * its Author Domain found by the DNS tree walk (4.10.1), started as soon as the header section
 * is in; then, once SPF and DKIM are done, the alignment of their authenticated identifiers
 * with the Author Domain (4.10.2), each Organizational Domain found by a walk of its own. The
 * lookups run on the shared resolver, each name queried once per message, at most eight per
 * walk and DMARC_MAX_IDENTIFIERS identifiers besides the author's. */
#ifndef ESTAFETA_DMARC_H
#define ESTAFETA_DMARC_H
#include "core/dns.h"
#include "mail/dmarc_record.h"
#include <stdbool.h>
#include <stddef.h>

#define DMARC_MAX_IDENTIFIERS 4

enum dmarc_result {
	DMARC_NONE,      /* no policy record for the domain: DMARC does not apply */
	DMARC_PASS,
	DMARC_FAIL,
	DMARC_TEMPERROR, /* a lookup it needed failed for now */
	DMARC_PERMERROR, /* no single Author Domain to check */
};

/* "none", "pass", "fail", "temperror", "permerror" (RFC 8601 2.7 registry). */
const char *dmarc_result_name(enum dmarc_result r);

struct dmarc_outcome {
	enum dmarc_result result;
	const char *author_domain;     /* header.from; NULL for permerror */
	const char *policy_domain;     /* where the record that applies was found, or NULL */
	enum dmarc_policy policy;      /* the policy that applies (p, sp or np), NONE without one */
	enum dmarc_policy disposition; /* on fail: policy, one level lower in test mode (t=y);
	                                  NONE otherwise */
	bool test_mode;
	bool spf_aligned, dkim_aligned;
	const struct dmarc_record *record; /* pass and fail: the policy record that applied */
	const char *reason;            /* for people */
};

struct dmarc_check;

/* author_domain: dmarc_author_domain's, or NULL when the message has none (a permerror).
 * Starts the policy discovery. */
struct dmarc_check *dmarc_check_start(struct dns *d, const char *author_domain);
/* The identifiers SPF and DKIM authenticated: spf_domain the MAIL FROM domain when SPF passed
 * (else NULL), dkim_domains the d= of each signature that passed. done(arg) runs once, on the
 * loop, after this call returns, when the outcome is known. Call once. */
void dmarc_check_evaluate(struct dmarc_check *c, const char *spf_domain,
			  const char *const *dkim_domains, size_t dkim_count,
			  void (*done)(void *arg), void *arg);
/* The outcome; before done has run, what is still unanswered makes it a temperror. Lives
 * until the free. */
const struct dmarc_outcome *dmarc_check_outcome(struct dmarc_check *c);
/* Frees c: a pending evaluation is cancelled, lookups still out end quietly. */
void dmarc_check_free(struct dmarc_check **c);
#endif
