/* DMARC's pure parts (draft-ietf-dmarc-dmarcbis-41, which obsoletes RFC 7489, whose records are
 * still understood): the policy record (4.7, 4.8), the names a DNS tree walk queries (4.10),
 * the Organizational Domain chosen from what a walk found (4.10.2) and the Author Domain of
 * a message (5.3.1). The lookups themselves are verify/dmarc.c's. */
#ifndef ESTAFETA_DMARC_RECORD_H
#define ESTAFETA_DMARC_RECORD_H
#include "core/buf.h"
#include "core/strlist.h"
#include <stdbool.h>
#include <stddef.h>

enum dmarc_policy {
	DMARC_POLICY_UNSET, /* the tag is absent */
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

/* "none", "quarantine", "reject" ("none" for unset too). */
const char *dmarc_policy_name(enum dmarc_policy p);

struct dmarc_record {
	bool applies;          /* false: a record, but one that asks for no DMARC processing
	                          (no valid p, or an invalid sp or np, and no valid rua; 4.10.1) */
	enum dmarc_policy p, sp, np;
	bool adkim_strict, aspf_strict;
	char psd;              /* 'y', 'n' or 'u' */
	bool test;             /* t=y, or RFC 7489's pct=0 (Appendix A.6: the same request) */
	strlist rua;           /* the mailto: URIs of rua, as written, without "!size" */
};

/* Reads a TXT record. 1: a DMARC record (v=DMARC1 its first tag; *r filled, free it with
 * dmarc_record_free); 0: not one, to be discarded. Unknown tags are ignored; an invalid
 * value counts as absent (4.8). */
int dmarc_record_parse(const char *txt, struct dmarc_record *r);
void dmarc_record_free(struct dmarc_record *r);

/* At most this many names per walk (4.10: eight queries). */
#define DMARC_WALK_MAX 8

/* The names a walk from domain queries (each to be prefixed with "_dmarc."), in order, as
 * offsets into domain, each the start of a suffix: the domain itself, then (when it has more
 * than eight labels) its last seven labels, then one label fewer each time down to the last
 * label. A trailing dot is ignored. Returns how many. */
size_t dmarc_walk_names(const char *domain, size_t offsets[DMARC_WALK_MAX]);

/* What a walk found at one of its names. */
struct dmarc_walk_step {
	size_t offset;   /* the name, as dmarc_walk_names gives it */
	bool record;     /* exactly one DMARC record is there */
	char psd;        /* its psd tag */
};

/* How many of the steps the walk uses: up to and including the first record with psd=y or
 * psd=n, where it stops (4.10 steps 2 and 6). */
size_t dmarc_walk_end(const struct dmarc_walk_step *steps, size_t count);

/* The Organizational Domain of domain from the steps of its walk (up to dmarc_walk_end), as
 * the offset of the suffix of domain it is (4.10.2): the first record with psd=n; else one
 * label below the first record with psd=y other than the start's; else the record with
 * the fewest labels; else domain itself. */
size_t dmarc_org_domain(const char *domain, const struct dmarc_walk_step *steps, size_t count);

/* The Author Domain (5.3.1): the domain of the mailboxes of the one From field of the header
 * section hdr[0..len), lower-cased, as an A-label. false when there is no From field or more
 * than one, a mailbox without a domain, or mailboxes of different domains (5.3.1 lets a
 * receiver go on when they all share one). */
bool dmarc_author_domain(const char *hdr, size_t len, buf *domain);
#endif
