/* MTA-STS (RFC 8461), its pure parts: the "_mta-sts" TXT record (3.1), the policy file (3.2)
 * and the matching of an MX host name against the policy's "mx" patterns (4.1). Fetching and
 * caching policies is queue/mta_sts_cache.c's. */
#ifndef ESTAFETA_MTA_STS_H
#define ESTAFETA_MTA_STS_H
#include "core/strlist.h"
#include <stdbool.h>
#include <stddef.h>

/* 3.2: max_age is at most 31557600 seconds (a year). */
#define MTA_STS_MAX_AGE_LIMIT 31557600L
/* 3.3: the suggested bound on a policy's size. */
#define MTA_STS_MAX_POLICY 65536

enum mta_sts_mode { MTA_STS_NONE, MTA_STS_TESTING, MTA_STS_ENFORCE };

/* "none", "testing", "enforce". */
const char *mta_sts_mode_name(enum mta_sts_mode m);

/* The id of a TXT record (3.1), written into id (at most 32 characters and a NUL). false
 * when the record is not a valid one ("v=STSv1" first, an id of 1 to 32 letters and digits,
 * fields name=value). */
bool mta_sts_record_id(const char *txt, char id[33]);

struct mta_sts_policy {
	enum mta_sts_mode mode;
	long max_age;
	strlist mx; /* the patterns, lower-cased: "mail.example.com", "*.example.net" */
};

/* Reads a policy file of len octets (lines ending in LF or CRLF). true with *p filled (free it
 * with mta_sts_policy_free): version STSv1, a mode, a max_age within the limit, and at least
 * one mx unless the mode is none; a field given twice keeps its first value (mx excepted),
 * unknown fields are ignored. false for anything else, *p then empty. */
bool mta_sts_policy_parse(const char *text, size_t len, struct mta_sts_policy *p);
void mta_sts_policy_free(struct mta_sts_policy *p);

/* Whether host (an MX name, a trailing dot allowed) matches one of the policy's patterns: the
 * same name, or "*." and a suffix matching everything but its one left-most label (4.1).
 * Case-insensitive. */
bool mta_sts_mx_matches(const struct mta_sts_policy *p, const char *host);
#endif
