/* MTA-STS policy discovery and cache: a hash table of domains, each with its policy, the
 * state of its TXT lookup or HTTPS fetch, and the requests waiting for it. */
#include "queue/mta_sts_cache.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "queue/https_get.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BUCKETS 1024
/* 3.3: a fetch that failed is not tried again for the same id within five minutes. */
#define FETCH_RETRY 300
/* 3.3: refresh a cached policy once a day, before it expires. */
#define REFRESH 86400
/* 3.3: the suggested bound on a fetch. */
#define FETCH_TIMEOUT 60

struct entry;

struct mta_sts_request {
	struct entry *entry;
	mta_sts_policy_fn *done;
	void *arg;
	struct mta_sts_request *next;
};

/* A TXT lookup's context: the lookup cannot be cancelled, so a freed cache detaches it. */
struct txt_lookup {
	struct entry *entry; /* NULL once detached */
	struct dns *dns;
};

struct entry {
	struct mta_sts_cache *cache;
	char *domain;
	bool have;                 /* policy holds the last one fetched */
	struct mta_sts_policy policy;
	char id[33];               /* its id */
	time_t fetched;
	time_t checked;            /* when the TXT record was last asked */
	char fetching_id[33], failed_id[33];
	time_t failed_at;
	struct txt_lookup *txt;    /* out, or NULL */
	struct https_get *get;     /* out, or NULL */
	struct mta_sts_request *waiters;
	bool due;                  /* on the cache's due list, to be answered from the loop */
	struct entry *due_next;
	time_t used;
	struct entry *next;        /* in its bucket */
};

struct mta_sts_cache {
	struct event_base *base;
	SSL_CTX *tls;
	int port;
	struct entry *buckets[BUCKETS];
	size_t count;
	struct entry *due;
	struct event *due_ev;
};

static unsigned bucket_of(const char *domain)
{
	unsigned h = 5381;
	for (const char *p = domain; *p != '\0'; p++)
		h = h * 33 + (unsigned char)(*p | 0x20);
	return h % BUCKETS;
}

static bool fresh(const struct entry *e, time_t now)
{
	return e->have && now < e->fetched + e->policy.max_age;
}

/* The policy that applies now, or NULL. */
static const struct mta_sts_policy *applying(const struct entry *e, time_t now)
{
	return fresh(e, now) && e->policy.mode != MTA_STS_NONE ? &e->policy : NULL;
}

/* Answers every request waiting on e. */
static void answer(struct entry *e)
{
	struct mta_sts_request *r = e->waiters;
	e->waiters = NULL;
	const struct mta_sts_policy *p = applying(e, time(NULL));
	while (r != NULL) {
		struct mta_sts_request *next = r->next;
		mta_sts_policy_fn *done = r->done;
		void *arg = r->arg;
		free(r);
		done(p, arg);
		r = next;
	}
}

static void on_due(evutil_socket_t fd, short what, void *arg)
{
	struct mta_sts_cache *c = arg;
	while (c->due != NULL) {
		struct entry *e = c->due;
		c->due = e->due_next;
		e->due = false;
		answer(e);
	}
}

/* e's waiters are answered from the loop, soon. */
static void answer_later(struct entry *e)
{
	if (e->due)
		return;
	e->due = true;
	e->due_next = e->cache->due;
	e->cache->due = e;
	event_active(e->cache->due_ev, 0, 0);
}

static void entry_free(struct entry *e)
{
	if (e->txt != NULL)
		e->txt->entry = NULL;
	https_get_cancel(&e->get);
	while (e->waiters != NULL) {
		struct mta_sts_request *r = e->waiters;
		e->waiters = r->next;
		free(r);
	}
	mta_sts_policy_free(&e->policy);
	free(e->domain);
	free(e);
}

/* Makes room by dropping the least recently used entry that nothing waits on. */
static void evict_one(struct mta_sts_cache *c)
{
	struct entry **victim = NULL;
	for (unsigned b = 0; b < BUCKETS; b++)
		for (struct entry **pp = &c->buckets[b]; *pp != NULL; pp = &(*pp)->next) {
			struct entry *e = *pp;
			if (e->waiters == NULL && e->txt == NULL && e->get == NULL && !e->due &&
			    (victim == NULL || e->used < (*victim)->used))
				victim = pp;
		}
	if (victim == NULL)
		return;
	struct entry *e = *victim;
	*victim = e->next;
	entry_free(e);
	c->count--;
}

static struct entry *entry_of(struct mta_sts_cache *c, const char *domain)
{
	unsigned b = bucket_of(domain);
	for (struct entry *e = c->buckets[b]; e != NULL; e = e->next)
		if (strcasecmp(e->domain, domain) == 0)
			return e;
	if (c->count >= MTA_STS_CACHE_MAX)
		evict_one(c);
	struct entry *e = xcalloc(1, sizeof(*e));
	e->cache = c;
	e->domain = xstrdup(domain);
	strlist_init(&e->policy.mx);
	e->next = c->buckets[b];
	c->buckets[b] = e;
	c->count++;
	return e;
}

/* "text/plain", whatever its parameters (3.2). */
static bool is_text_plain(const char *content_type)
{
	size_t n = strcspn(content_type, "; \t");
	return n == 10 && strncasecmp(content_type, "text/plain", 10) == 0;
}

static void on_policy(int status, const char *content_type, const char *body, size_t len,
		      const char *error, void *arg)
{
	struct entry *e = arg;
	e->get = NULL;
	time_t now = time(NULL);
	struct mta_sts_policy p;
	const char *problem = error;
	if (problem == NULL && status != 200)
		problem = "the answer is not 200 OK (redirects are not followed)";
	else if (problem == NULL && !is_text_plain(content_type))
		problem = "the policy is not text/plain";
	else if (problem == NULL && !mta_sts_policy_parse(body, len, &p))
		problem = "the policy cannot be read (version, mode, max_age and mx are required)";
	if (problem != NULL) {
		log_warn("queue mta-sts domain=%s id=%s policy fetch failed: %s%s", e->domain,
			 e->fetching_id, problem, e->have ? "; the cached policy stays" : "");
		memcpy(e->failed_id, e->fetching_id, sizeof(e->failed_id));
		e->failed_at = now;
	} else {
		mta_sts_policy_free(&e->policy);
		e->policy = p;
		e->have = true;
		e->fetched = now;
		memcpy(e->id, e->fetching_id, sizeof(e->id));
		log_info("queue mta-sts domain=%s id=%s mode=%s max_age=%ld mx=%zu", e->domain, e->id,
			 mta_sts_mode_name(p.mode), p.max_age, p.mx.count);
	}
	answer(e);
}

/* The one TXT record of the domain beginning with v=STSv1, as its id; false when there is
 * none, several, or an invalid one (3.1). */
static bool record_id(char *const *records, size_t count, char id[33])
{
	size_t found = 0;
	const char *record = NULL;
	for (size_t i = 0; i < count; i++)
		if (strncmp(records[i], "v=STSv1", 7) == 0) {
			record = records[i];
			found++;
		}
	return found == 1 && mta_sts_record_id(record, id);
}

static void on_txt(enum dns_status status, char *const *records, size_t count, void *arg)
{
	struct txt_lookup *t = arg;
	struct entry *e = t->entry;
	struct dns *d = t->dns;
	free(t);
	if (e == NULL)
		return;
	e->txt = NULL;
	time_t now = time(NULL);
	e->checked = now;
	char id[33];
	if (status != DNS_OK || !record_id(records, count, id) ||
	    (fresh(e, now) && strcmp(id, e->id) == 0 && now - e->fetched < REFRESH) ||
	    (strcmp(id, e->failed_id) == 0 && now - e->failed_at < FETCH_RETRY)) {
		/* No live record, or nothing new: the cached policy (if any) applies (5.1). */
		answer(e);
		return;
	}
	memcpy(e->fetching_id, id, sizeof(e->fetching_id));
	char *host = xasprintf("mta-sts.%s", e->domain);
	e->get = https_get_start(e->cache->base, d, e->cache->tls, host, e->cache->port,
				 "/.well-known/mta-sts.txt", MTA_STS_MAX_POLICY, FETCH_TIMEOUT,
				 on_policy, e);
	free(host);
}

struct mta_sts_request *mta_sts_cache_lookup(struct mta_sts_cache *c, struct dns *d,
					     const char *domain, mta_sts_policy_fn *done, void *arg)
{
	struct entry *e = entry_of(c, domain);
	time_t now = time(NULL);
	e->used = now;
	struct mta_sts_request *r = xcalloc(1, sizeof(*r));
	r->entry = e;
	r->done = done;
	r->arg = arg;
	r->next = e->waiters;
	e->waiters = r;
	if (e->txt != NULL || e->get != NULL)
		return r;
	if (e->checked != 0 && now - e->checked < MTA_STS_RECHECK) {
		answer_later(e);
		return r;
	}
	e->txt = xcalloc(1, sizeof(*e->txt));
	e->txt->entry = e;
	e->txt->dns = d;
	char *name = xasprintf("_mta-sts.%s", domain);
	dns_query_txt(d, name, on_txt, e->txt);
	free(name);
	return r;
}

void mta_sts_cache_cancel(struct mta_sts_request **rp)
{
	struct mta_sts_request *r = *rp;
	if (r == NULL)
		return;
	*rp = NULL;
	for (struct mta_sts_request **pp = &r->entry->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			free(r);
			return;
		}
}

struct mta_sts_cache *mta_sts_cache_new(struct event_base *base, SSL_CTX *tls, int port)
{
	struct mta_sts_cache *c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->tls = tls;
	c->port = port;
	c->due_ev = event_new(base, -1, 0, on_due, c);
	return c;
}

void mta_sts_cache_free(struct mta_sts_cache **cp)
{
	struct mta_sts_cache *c = *cp;
	if (c == NULL)
		return;
	*cp = NULL;
	for (unsigned b = 0; b < BUCKETS; b++)
		while (c->buckets[b] != NULL) {
			struct entry *e = c->buckets[b];
			c->buckets[b] = e->next;
			entry_free(e);
		}
	event_free(c->due_ev);
	free(c);
}
