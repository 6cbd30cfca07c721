/* SPF (RFC 7208): whether a client address may send mail for a domain, as the domain's SPF
 * record says. Every mechanism (all, include, a, mx, ptr, ip4, ip6, exists) and modifier
 * (redirect, exp), the macros of section 7, the limits of 4.6.4 (10 terms that query DNS, 2
 * void lookups, 10 names from an MX or PTR answer) and results exactly as 2.6. The lookups
 * run on the shared resolver (core/dns.h), never blocking the loop. */
#ifndef ESTAFETA_SPF_H
#define ESTAFETA_SPF_H
#include "core/dns.h"

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" (RFC 7208 2.6, the
 * names RFC 8601 2.7.2 registers). */
const char *spf_result_name(enum spf_result r);

/* What check_host() found. The strings live until the check is freed. */
struct spf_outcome {
	enum spf_result result;
	const char *explanation; /* fail only: the exp= text expanded (RFC 7208 6.2), or NULL */
	const char *reason;      /* for people: the term that matched, or what went wrong */
};

struct spf_check;
typedef void spf_done_fn(const struct spf_outcome *o, void *arg);

/* check_host(ip, domain, sender) of RFC 7208 4: ip the client's address (text, IPv4 or IPv6,
 * as conn_peer_ip gives it; IPv4-mapped IPv6 counts as IPv4), domain the one whose record is
 * read (MAIL FROM's domain, or the HELO name when MAIL FROM is empty, 2.3; NULL takes it so
 * from sender and helo), sender MAIL FROM's
 * address as given (the <sender> of the macros: "" becomes postmaster@domain and a sender
 * without a local-part postmaster's, 4.3), helo the HELO/EHLO name for %{h} (NULL: "unknown")
 * and receiver our hostname for %{r}. The strings are copied. done runs once, on the loop,
 * after the call returns (even when the result is known at once: a domain that is no
 * multi-label name gives none, ip that is no address permerror). */
struct spf_check *spf_check_start(struct dns *d, const char *ip, const char *domain,
				  const char *sender, const char *helo, const char *receiver,
				  spf_done_fn *done, void *arg);
/* Stops a check: done does not run after this; lookups still out end quietly. */
void spf_check_free(struct spf_check **c);
#endif
