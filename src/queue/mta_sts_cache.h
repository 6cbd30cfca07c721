/* The MTA-STS policies of the domains mail goes to (RFC 8461 5.1), for the queue runner, on
 * the loop: the "_mta-sts" TXT record asked at most every MTA_STS_RECHECK seconds per domain,
 * the policy fetched over HTTPS when its id is new (or the cached one is a day old), kept until
 * its max_age runs out, and applied from the cache when the DNS or the policy host fail
 * meanwhile. A failed fetch is not tried again for the same id within five minutes (3.3).
 * Memory is bounded: at most MTA_STS_CACHE_MAX domains, the least recently used making room. */
#ifndef ESTAFETA_MTA_STS_CACHE_H
#define ESTAFETA_MTA_STS_CACHE_H
#include "core/dns.h"
#include "mail/mta_sts.h"
#include <event2/event.h>
#include <openssl/ssl.h>

#define MTA_STS_RECHECK 600
#define MTA_STS_CACHE_MAX 10000

struct mta_sts_cache;
struct mta_sts_request;

/* tls: a verifying client context (policy hosts' certificates are checked against it); port:
 * the policy hosts' HTTPS port, 443 but for tests. */
struct mta_sts_cache *mta_sts_cache_new(struct event_base *base, SSL_CTX *tls, int port);
/* Ends every lookup in progress without calling back. */
void mta_sts_cache_free(struct mta_sts_cache **c);

/* policy: the one that applies to mail for the domain, or NULL when it has none (mode none
 * counts as none); valid during the call. */
typedef void mta_sts_policy_fn(const struct mta_sts_policy *policy, void *arg);
/* Looks the policy of domain up through d; done runs once, on the loop, after this returns. */
struct mta_sts_request *mta_sts_cache_lookup(struct mta_sts_cache *c, struct dns *d,
					     const char *domain, mta_sts_policy_fn *done, void *arg);
/* done will not run for r. */
void mta_sts_cache_cancel(struct mta_sts_request **r);
#endif
