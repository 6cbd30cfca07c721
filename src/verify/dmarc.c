/* DMARC evaluation: tree walks over a per-message table of _dmarc lookups, then the policy
 * and the alignment checks. A walk queries all its names at once (one round trip rather
 * than up to eight in a row); what it uses is cut at the first psd=y or psd=n record. */
#include "verify/dmarc.h"
#include "core/xalloc.h"
#include <arpa/nameser.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_WALKS (1 + DMARC_MAX_IDENTIFIERS)
#define MAX_NAMES (DMARC_WALK_MAX * MAX_WALKS)

struct dmarc_check;

/* The _dmarc record of one name, looked up once whatever walks include it. */
struct name_lookup {
	struct dmarc_check *owner;
	char *name;
	bool answered;
	bool tempfail;
	bool record; /* exactly one DMARC record is there */
	struct dmarc_record rec;
};

struct walk {
	char *domain;
	size_t offsets[DMARC_WALK_MAX];
	size_t lookups[DMARC_WALK_MAX]; /* indexes into names */
	size_t count;
};

enum existence { EXISTENCE_UNASKED, EXISTENCE_ASKED, EXISTENCE_YES, EXISTENCE_NO };

struct dmarc_check {
	struct dns *dns;
	int refs;      /* the owner's, one per lookup out, one while done is scheduled */
	bool freed;
	struct name_lookup names[MAX_NAMES];
	size_t name_count;
	struct walk walks[MAX_WALKS]; /* [0]: the Author Domain's */
	size_t walk_count;
	enum existence author_exists;
	bool evaluating, finished;
	bool in_evaluate; /* an answer that comes during evaluate() is seen by it */
	char *spf_domain;
	strlist dkim_domains;
	void (*done)(void *arg);
	void *done_arg;
	struct dmarc_outcome out;
	buf reason;
};

const char *dmarc_result_name(enum dmarc_result r)
{
	static const char *const names[] = { "none", "pass", "fail", "temperror", "permerror" };
	return names[r];
}

static void check_unref(struct dmarc_check *c)
{
	if (--c->refs > 0)
		return;
	for (size_t i = 0; i < c->name_count; i++) {
		free(c->names[i].name);
		if (c->names[i].record)
			dmarc_record_free(&c->names[i].rec);
	}
	for (size_t i = 0; i < c->walk_count; i++)
		free(c->walks[i].domain);
	free(c->spf_domain);
	strlist_free(&c->dkim_domains);
	buf_free(&c->reason);
	free(c);
}

static void advance(struct dmarc_check *c);

static void txt_answered(enum dns_status status, char *const *records, size_t count, void *arg)
{
	struct name_lookup *l = arg;
	struct dmarc_check *c = l->owner;
	l->answered = true;
	l->tempfail = status == DNS_TEMPFAIL;
	size_t found = 0;
	for (size_t i = 0; status == DNS_OK && i < count; i++) {
		struct dmarc_record rec;
		if (dmarc_record_parse(records[i], &rec) != 1)
			continue;
		if (found++ == 0)
			l->rec = rec;
		else
			dmarc_record_free(&rec);
	}
	if (found > 1) /* several records at one name are all discarded (4.10 step 2) */
		dmarc_record_free(&l->rec);
	l->record = found == 1;
	if (!c->freed)
		advance(c);
	check_unref(c);
}

/* The lookup of name's _dmarc record: the one already in the table, or a new one. SIZE_MAX
 * when the table is full. */
static size_t lookup_name(struct dmarc_check *c, const char *name)
{
	for (size_t i = 0; i < c->name_count; i++)
		if (strcasecmp(c->names[i].name, name) == 0)
			return i;
	if (c->name_count == MAX_NAMES)
		return SIZE_MAX;
	struct name_lookup *l = &c->names[c->name_count];
	memset(l, 0, sizeof(*l));
	l->owner = c;
	l->name = xstrdup(name);
	char *query = xasprintf("_dmarc.%s", name);
	c->refs++;
	c->name_count++;
	dns_query_txt(c->dns, query, txt_answered, l);
	free(query);
	return (size_t)(l - c->names);
}

/* The walk from domain: the one already started, or a new one. NULL when none can start. */
static struct walk *walk_from(struct dmarc_check *c, const char *domain)
{
	for (size_t i = 0; i < c->walk_count; i++)
		if (strcasecmp(c->walks[i].domain, domain) == 0)
			return &c->walks[i];
	if (c->walk_count == MAX_WALKS)
		return NULL;
	struct walk *w = &c->walks[c->walk_count++];
	w->domain = xstrdup(domain);
	w->count = dmarc_walk_names(w->domain, w->offsets);
	for (size_t i = 0; i < w->count; i++)
		w->lookups[i] = lookup_name(c, w->domain + w->offsets[i]);
	return w;
}

/* What a walk found: 1 with steps filled, 0 while lookups are out, -1 when one of those it
 * uses failed for now (or could not be made). */
static int walk_steps(const struct dmarc_check *c, const struct walk *w,
		      struct dmarc_walk_step steps[DMARC_WALK_MAX], size_t *count)
{
	if (w->count == 0)
		return -1;
	for (size_t i = 0; i < w->count; i++) {
		if (w->lookups[i] == SIZE_MAX)
			return -1;
		const struct name_lookup *l = &c->names[w->lookups[i]];
		if (!l->answered)
			return 0;
		steps[i] = (struct dmarc_walk_step){ w->offsets[i], l->record, l->record ? l->rec.psd : 'u' };
	}
	*count = dmarc_walk_end(steps, w->count);
	for (size_t i = 0; i < *count; i++)
		if (c->names[w->lookups[i]].tempfail)
			return -1;
	return 1;
}

/* The Organizational Domain of a walk's domain: 1 with *org, 0 while waiting, -1 on error. */
static int walk_org(const struct dmarc_check *c, const struct walk *w, const char **org)
{
	struct dmarc_walk_step steps[DMARC_WALK_MAX];
	size_t count = 0;
	int r = walk_steps(c, w, steps, &count);
	if (r == 1)
		*org = w->domain + dmarc_org_domain(w->domain, steps, count);
	return r;
}

/* The record that applies to the Author Domain (4.10.1) and its name. 1, 0 waiting, -1. */
static int policy_record(const struct dmarc_check *c, const struct name_lookup **found)
{
	const struct walk *w = &c->walks[0];
	struct dmarc_walk_step steps[DMARC_WALK_MAX];
	size_t count = 0;
	int r = walk_steps(c, w, steps, &count);
	if (r != 1)
		return r;
	*found = NULL;
	if (steps[0].record) {
		*found = &c->names[w->lookups[0]];
		return 1;
	}
	size_t org = dmarc_org_domain(w->domain, steps, count);
	for (size_t i = 0; i < count; i++)
		if (steps[i].record && steps[i].offset == org)
			*found = &c->names[w->lookups[i]];
	/* The Public Suffix Domain's record, where the walk stopped at it. */
	if (*found == NULL && count > 0 && steps[count - 1].record && steps[count - 1].psd == 'y')
		*found = &c->names[w->lookups[count - 1]];
	return 1;
}

/* Whether an identifier aligns with the Author Domain: 1 yes, 0 no, 2 waiting, -1 unknown. */
static int aligned(struct dmarc_check *c, const char *id, bool strict, const char *author_org)
{
	if (strcasecmp(id, c->walks[0].domain) == 0)
		return 1;
	if (strict)
		return 0;
	struct walk *w = walk_from(c, id);
	if (w == NULL)
		return -1;
	const char *org;
	int r = walk_org(c, w, &org);
	if (r == 0)
		return 2;
	if (r < 0)
		return -1;
	return strcasecmp(org, author_org) == 0;
}

static void exists_answered(enum dns_status status, const unsigned char *answer, int len, void *arg)
{
	struct dmarc_check *c = arg;
	/* A failed lookup counts as existing: sp or p then apply, never the stricter np. */
	c->author_exists = status == DNS_NO_DOMAIN ? EXISTENCE_NO : EXISTENCE_YES;
	if (!c->freed)
		advance(c);
	check_unref(c);
}

static void finish(struct dmarc_check *c, enum dmarc_result result, const char *reason)
{
	c->out.result = result;
	buf_clear(&c->reason);
	buf_puts(&c->reason, reason);
	c->out.reason = c->reason.data;
}

/* Works out what can be worked out; returns true when the outcome is complete. */
static bool evaluate(struct dmarc_check *c)
{
	if (c->walk_count == 0)
		return true; /* permerror from the start */
	const struct name_lookup *pol;
	int r = policy_record(c, &pol);
	if (r == 0)
		return false;
	if (r < 0) {
		finish(c, DMARC_TEMPERROR, "DNS failure looking up the DMARC policy");
		return true;
	}
	if (pol == NULL || !pol->rec.applies) {
		finish(c, DMARC_NONE, pol == NULL ? "no DMARC policy record"
						  : "policy record without a valid policy");
		return true;
	}
	const struct dmarc_record *rec = &pol->rec;
	bool own = pol == &c->names[c->walks[0].lookups[0]];
	enum dmarc_policy policy = rec->p;
	if (!own) {
		if (rec->np != DMARC_POLICY_UNSET && c->author_exists == EXISTENCE_UNASKED) {
			c->author_exists = EXISTENCE_ASKED;
			c->refs++;
			dns_query(c->dns, c->walks[0].domain, ns_t_a, exists_answered, c);
		}
		if (c->author_exists == EXISTENCE_ASKED)
			return false;
		if (c->author_exists == EXISTENCE_NO && rec->np != DMARC_POLICY_UNSET)
			policy = rec->np;
		else if (rec->sp != DMARC_POLICY_UNSET)
			policy = rec->sp;
	}
	const char *author_org;
	if (walk_org(c, &c->walks[0], &author_org) != 1)
		author_org = c->walks[0].domain;
	bool waiting = false, unknown = false;
	c->out.spf_aligned = c->out.dkim_aligned = false;
	if (c->spf_domain != NULL) {
		int a = aligned(c, c->spf_domain, rec->aspf_strict, author_org);
		c->out.spf_aligned = a == 1;
		waiting |= a == 2;
		unknown |= a == -1;
	}
	for (size_t i = 0; i < c->dkim_domains.count && !c->out.dkim_aligned; i++) {
		int a = aligned(c, c->dkim_domains.items[i], rec->adkim_strict, author_org);
		c->out.dkim_aligned = a == 1;
		waiting |= a == 2;
		unknown |= a == -1;
	}
	c->out.policy_domain = pol->name;
	c->out.record = rec;
	c->out.policy = policy;
	c->out.test_mode = rec->test;
	if (c->out.spf_aligned || c->out.dkim_aligned) {
		finish(c, DMARC_PASS, c->out.dkim_aligned ? "aligned DKIM signature" : "aligned SPF");
		return true;
	}
	if (waiting)
		return false;
	if (unknown) {
		finish(c, DMARC_TEMPERROR, "DNS failure looking up an Organizational Domain");
		return true;
	}
	c->out.disposition = policy;
	if (rec->test && policy != DMARC_POLICY_NONE)
		c->out.disposition = policy - 1;
	finish(c, DMARC_FAIL, c->spf_domain == NULL && c->dkim_domains.count == 0
				      ? "no SPF or DKIM pass"
				      : "no aligned SPF or DKIM pass");
	return true;
}

static void run_done(evutil_socket_t fd, short what, void *arg)
{
	struct dmarc_check *c = arg;
	if (!c->freed)
		c->done(c->done_arg);
	check_unref(c);
}

/* evaluate(), with answers that come meanwhile left to it. */
static bool evaluate_now(struct dmarc_check *c)
{
	c->in_evaluate = true;
	bool complete = evaluate(c);
	c->in_evaluate = false;
	return complete;
}

static void advance(struct dmarc_check *c)
{
	if (!c->evaluating || c->finished || c->in_evaluate || !evaluate_now(c))
		return;
	c->finished = true;
	c->done(c->done_arg);
}

struct dmarc_check *dmarc_check_start(struct dns *d, const char *author_domain)
{
	struct dmarc_check *c = xcalloc(1, sizeof(*c));
	c->dns = d;
	c->refs = 1;
	strlist_init(&c->dkim_domains);
	buf_init(&c->reason);
	c->out.result = DMARC_TEMPERROR;
	if (author_domain == NULL || *author_domain == '\0') {
		finish(c, DMARC_PERMERROR, "no single Author Domain in From");
		return c;
	}
	walk_from(c, author_domain);
	c->out.author_domain = c->walks[0].domain;
	finish(c, DMARC_TEMPERROR, "DMARC lookups unanswered");
	return c;
}

void dmarc_check_evaluate(struct dmarc_check *c, const char *spf_domain,
			  const char *const *dkim_domains, size_t dkim_count,
			  void (*done)(void *arg), void *arg)
{
	c->spf_domain = spf_domain != NULL ? xstrdup(spf_domain) : NULL;
	for (size_t i = 0; i < dkim_count && c->dkim_domains.count < DMARC_MAX_IDENTIFIERS; i++)
		strlist_add_unique(&c->dkim_domains, dkim_domains[i]);
	c->done = done;
	c->done_arg = arg;
	c->evaluating = true;
	if (!evaluate_now(c))
		return;
	c->finished = true;
	/* done runs after this call returns, as every answer does. */
	c->refs++;
	event_base_once(dns_base(c->dns), -1, EV_TIMEOUT, run_done, c, &(struct timeval){ 0, 0 });
}

const struct dmarc_outcome *dmarc_check_outcome(struct dmarc_check *c)
{
	return &c->out;
}

void dmarc_check_free(struct dmarc_check **cp)
{
	struct dmarc_check *c = *cp;
	if (c == NULL)
		return;
	*cp = NULL;
	c->freed = true;
	check_unref(c);
}
