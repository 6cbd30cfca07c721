/* SPF records and macros as pure functions (RFC 7208 4.5, 4.6, 5, 6, 7): which TXT records are
 * SPF records, the parse of one into its terms, and the expansion of macro strings. Nothing
 * here queries the DNS; spf.c evaluates what these give. */
#ifndef ESTAFETA_SPF_RECORD_H
#define ESTAFETA_SPF_RECORD_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum spf_mechanism { SPF_ALL, SPF_INCLUDE, SPF_A, SPF_MX, SPF_PTR, SPF_IP4, SPF_IP6, SPF_EXISTS };

struct spf_term {
	enum spf_mechanism mechanism;
	char qualifier;     /* '+', '-', '~' or '?' */
	char *domain_spec;  /* include, a, mx, ptr, exists: the domain-spec, unexpanded; NULL when absent */
	unsigned char network[16]; /* ip4 (4 octets) and ip6 */
	int cidr4, cidr6;   /* prefix lengths: 32 and 128 when absent */
	char *text;         /* the term as written, for reasons */
};

struct spf_record {
	struct spf_term *terms;
	size_t count;
	char *redirect; /* the domain-specs of redirect= and exp=, or NULL */
	char *exp;
};

/* Whether txt is an SPF record: "v=spf1" (any case) then a space or its end (4.5). */
bool spf_record_is_spf(const char *txt);

/* Parses an SPF record. Any syntax error (4.6: an unknown mechanism, a bad domain-spec or
 * macro, a CIDR length out of range, redirect= or exp= twice) gives -1 and *error_r, allocated,
 * saying which term; r is then empty. Unknown modifiers are checked and ignored (6). */
int spf_record_parse(const char *txt, struct spf_record *r, char **error_r);
void spf_record_free(struct spf_record *r);

/* What the macros of section 7 expand to. */
struct spf_macro_env {
	const char *sender;   /* s: local-part@domain ("postmaster" when the local-part is empty) */
	const char *domain;   /* d: the <domain> of the check_host() being evaluated */
	int family;           /* AF_INET or AF_INET6 */
	unsigned char ip[16]; /* i, c, v */
	const char *helo;     /* h */
	const char *validated;/* p: the validated name of ip, or NULL for "unknown" */
	const char *receiver; /* r (explanations only) */
	time_t now;           /* t (explanations only) */
};

/* Expands macro-string spec into out (appended). explanation allows the letters c, r and t
 * and spaces (an explain-string, 6.2). With env NULL only the syntax is checked. -1 on a
 * syntax error. */
int spf_macro_expand(const char *spec, const struct spf_macro_env *env, bool explanation, buf *out);
/* Expands a domain-spec and keeps at most 253 octets of it, dropping labels from the left (7.3). */
int spf_domain_expand(const char *spec, const struct spf_macro_env *env, buf *out);
/* Whether spec is a domain-spec of 7.1: a macro string ending in a macro or in a dot and a
 * top label (not all digits), and a trailing dot. */
bool spf_domain_spec_valid(const char *spec);
/* Whether spec uses the p macro, whose value needs DNS lookups before the expansion. */
bool spf_macro_uses_p(const char *spec);
#endif
