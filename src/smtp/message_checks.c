/* SPF, DKIM, ARC and DMARC for one message, and the one wait for all three at its end. */
#include "smtp/message_checks.h"
#include "core/strlist.h"
#include "core/xalloc.h"
#include "mail/dmarc_record.h"
#include "verify/spf.h"
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* RFC 6008 2: enough of b= to tell the signatures of one message apart. */
#define HEADER_B_PREFIX 8

struct message_checks {
	struct dns *dns;
	/* SPF */
	struct spf_check *spf;
	bool spf_done;
	enum spf_result spf_result;
	char *spf_reason;
	char *spf_identity;   /* smtp.mailfrom's value, or smtp.helo's */
	bool spf_helo;        /* the identity checked is the HELO name */
	char *spf_domain;     /* its domain, for DMARC */
	/* DKIM, ARC and DMARC, from the header section on */
	struct dkim_verify *dkim;
	struct arc_verify *arc;
	char *ip;             /* smtp.remote-ip of the arc result */
	char *trusted_sealers;
	bool dkim_done;
	struct dmarc_check *dmarc;
	bool dmarc_started, dmarc_done;
	/* the wait */
	struct event *timer;
	void (*done)(void *arg);
	void *done_arg;
	strlist strings;      /* what the results point into */
};

/* The domain of an SPF identity, or NULL when it has none to check (an address literal). */
static const char *checkable_domain(const char *domain)
{
	return domain != NULL && *domain != '\0' && *domain != '[' ? domain : NULL;
}

static void spf_finished(const struct spf_outcome *o, void *arg)
{
	struct message_checks *m = arg;
	m->spf_done = true;
	m->spf_result = o->result;
	m->spf_reason = o->reason != NULL ? xstrdup(o->reason) : NULL;
	spf_check_free(&m->spf);
	if (m->done != NULL)
		message_checks_wait(m, -1, m->done, m->done_arg);
}

struct message_checks *message_checks_start(struct dns *d, const char *ip, const char *helo,
					    const char *sender, const char *hostname,
					    const char *trusted_sealers)
{
	struct message_checks *m = xcalloc(1, sizeof(*m));
	m->dns = d;
	m->ip = xstrdup(ip);
	m->trusted_sealers = xstrdup(trusted_sealers);
	strlist_init(&m->strings);
	m->spf_helo = *sender == '\0';
	const char *at = strrchr(sender, '@');
	const char *domain = checkable_domain(m->spf_helo ? helo : at != NULL ? at + 1 : NULL);
	m->spf_identity = m->spf_helo ? xstrdup(helo) : xstrdup(sender);
	if (domain == NULL) {
		m->spf_done = true;
		m->spf_result = SPF_NONE;
		m->spf_reason = xstrdup("no domain to check");
		return m;
	}
	m->spf_domain = xstrdup(domain);
	char *who = m->spf_helo ? xasprintf("postmaster@%s", helo) : xstrdup(sender);
	m->spf = spf_check_start(d, ip, domain, who, helo, hostname, spf_finished, m);
	free(who);
	return m;
}

void message_checks_header(struct message_checks *m, const char *hdr, size_t len)
{
	if (m->dkim != NULL)
		return;
	m->dkim = dkim_verify_new(m->dns, time(NULL));
	dkim_verify_header(m->dkim, hdr, len);
	m->arc = arc_verify_start(m->dkim, hdr, len);
	buf author;
	buf_init(&author);
	bool one = dmarc_author_domain(hdr, len, &author);
	m->dmarc = dmarc_check_start(m->dns, one ? author.data : NULL);
	buf_free(&author);
}

void message_checks_body(struct message_checks *m, const char *data, size_t len)
{
	if (m->dkim != NULL)
		dkim_verify_body(m->dkim, data, len);
}

static void all_done(struct message_checks *m)
{
	void (*done)(void *) = m->done;
	m->done = NULL;
	if (m->timer != NULL)
		event_del(m->timer);
	done(m->done_arg);
}

static void dkim_finished(void *arg)
{
	struct message_checks *m = arg;
	m->dkim_done = true;
	if (m->done != NULL)
		message_checks_wait(m, -1, m->done, m->done_arg);
}

static void dmarc_finished(void *arg)
{
	struct message_checks *m = arg;
	m->dmarc_done = true;
	if (m->done != NULL)
		all_done(m);
}

/* SPF and DKIM are in: DMARC can judge their identifiers. */
static void start_dmarc(struct message_checks *m)
{
	m->dmarc_started = true;
	const char *spf_domain = m->spf_result == SPF_PASS ? m->spf_domain : NULL;
	const struct dkim_signature_result *sigs;
	size_t count = dkim_verify_results(m->dkim, &sigs);
	const char *passed[DKIM_VERIFY_MAX_SIGNATURES];
	size_t n = 0;
	for (size_t i = 0; i < count && n < DKIM_VERIFY_MAX_SIGNATURES; i++)
		if (sigs[i].result == DKIM_PASS)
			passed[n++] = sigs[i].domain;
	dmarc_check_evaluate(m->dmarc, spf_domain, passed, n, dmarc_finished, m);
}

static void timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct message_checks *m = arg;
	if (m->done != NULL)
		all_done(m);
}

void message_checks_wait(struct message_checks *m, int timeout_ms, void (*done)(void *arg),
			 void *arg)
{
	bool first = m->done == NULL;
	m->done = done;
	m->done_arg = arg;
	if (first) {
		m->timer = evtimer_new(dns_base(m->dns), timed_out, m);
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
		evtimer_add(m->timer, &tv);
		if (m->dkim != NULL)
			dkim_verify_finish(m->dkim, dkim_finished, m);
		else
			m->dkim_done = true;
	}
	if (!m->spf_done || !m->dkim_done)
		return;
	if (m->dmarc != NULL && !m->dmarc_started) {
		start_dmarc(m);
		return;
	}
	if (m->dmarc == NULL || m->dmarc_done) {
		/* Nothing is out: done still runs after this call returns. */
		struct timeval now = { 0, 0 };
		evtimer_add(m->timer, &now);
	}
}

static const char *keep(struct message_checks *m, char *s)
{
	strlist_add_owned(&m->strings, s);
	return s;
}

static void spf_result_of(struct message_checks *m, struct authres_result *r)
{
	*r = (struct authres_result){ .method = "spf" };
	r->result = spf_result_name(m->spf_done ? m->spf_result : SPF_TEMPERROR);
	r->comment = m->spf_done ? m->spf_reason : "SPF lookups unanswered";
	r->props[r->prop_count++] = (struct authres_property){
		"smtp", m->spf_helo ? "helo" : "mailfrom", m->spf_identity };
}

static void dkim_result_of(struct message_checks *m, const struct dkim_signature_result *sig,
			   struct authres_result *r)
{
	*r = (struct authres_result){ .method = "dkim", .result = dkim_result_name(sig->result) };
	if (sig->reason != NULL && sig->partial_body)
		r->comment = keep(m, xasprintf("%s; l= leaves part of the body unsigned", sig->reason));
	else if (sig->reason != NULL)
		r->comment = sig->reason;
	else if (sig->partial_body)
		r->comment = "l= leaves part of the body unsigned";
	else if (sig->key_bits > 0)
		r->comment = keep(m, xasprintf("%u-bit key", sig->key_bits));
	r->props[r->prop_count++] = (struct authres_property){ "header", "d", sig->domain };
	r->props[r->prop_count++] = (struct authres_property){ "header", "s", sig->selector };
	if (sig->algorithm != NULL && *sig->algorithm != '\0')
		r->props[r->prop_count++] = (struct authres_property){ "header", "a", sig->algorithm };
	if (sig->b != NULL && *sig->b != '\0')
		r->props[r->prop_count++] = (struct authres_property){
			"header", "b", keep(m, xstrndup(sig->b, HEADER_B_PREFIX)) };
}

static void dmarc_result_of(struct message_checks *m, struct authres_result *r)
{
	const struct dmarc_outcome *o = dmarc_check_outcome(m->dmarc);
	*r = (struct authres_result){ .method = "dmarc", .result = dmarc_result_name(o->result) };
	if (o->result == DMARC_PASS || o->result == DMARC_FAIL)
		r->comment = keep(m, xasprintf("p=%s%s dis=%s; %s", dmarc_policy_name(o->policy),
					       o->test_mode ? " t=y" : "",
					       dmarc_policy_name(o->disposition), o->reason));
	else
		r->comment = o->reason;
	const char *sealer = message_checks_arc_override(m);
	if (sealer != NULL)
		r->reason = keep(m, xasprintf("arc override by trusted sealer %s", sealer));
	if (o->author_domain != NULL)
		r->props[r->prop_count++] = (struct authres_property){ "header", "from", o->author_domain };
	if (o->result == DMARC_PASS || o->result == DMARC_FAIL)
		r->props[r->prop_count++] = (struct authres_property){
			"policy", "dmarc", dmarc_policy_name(o->policy) };
}

/* The arc result (RFC 8617 6): the chain's status, its last sealer, the client's address. */
static void arc_result_of(struct message_checks *m, struct authres_result *r)
{
	const struct arc_outcome *o = arc_verify_outcome(m->arc, m->dkim);
	*r = (struct authres_result){ .method = "arc", .result = arc_result_name(o->result) };
	if (o->result == ARC_PASS)
		r->comment = keep(m, xasprintf("%u instance%s, sealed by %s s=%s", o->instances,
					       o->instances == 1 ? "" : "s", o->sealer, o->selector));
	else
		r->comment = o->reason;
	r->props[r->prop_count++] = (struct authres_property){ "smtp", "remote-ip", m->ip };
}

/* An exact, case-insensitive match in a comma-separated list. */
static bool listed(const char *list, const char *domain)
{
	size_t dlen = strlen(domain);
	for (const char *p = list; *p != '\0';) {
		p += strspn(p, ", \t");
		size_t n = strcspn(p, ", \t");
		if (n == dlen && n > 0 && strncasecmp(p, domain, n) == 0)
			return true;
		p += n;
	}
	return false;
}

const char *message_checks_arc_override(struct message_checks *m)
{
	if (m->arc == NULL || message_checks_dmarc(m)->result != DMARC_FAIL)
		return NULL;
	const struct arc_outcome *o = arc_verify_outcome(m->arc, m->dkim);
	if (o->result != ARC_PASS || !listed(m->trusted_sealers, o->sealer) ||
	    !authres_reports(o->results, strlen(o->results), "dmarc", "pass"))
		return NULL;
	return o->sealer;
}

size_t message_checks_results(struct message_checks *m, struct authres_result *out, size_t max)
{
	strlist_free(&m->strings);
	strlist_init(&m->strings);
	size_t n = 0;
	if (n < max)
		spf_result_of(m, &out[n++]);
	if (m->dkim == NULL)
		return n;
	const struct dkim_signature_result *sigs;
	size_t count = dkim_verify_results(m->dkim, &sigs);
	if (count == 0 && n < max)
		out[n++] = (struct authres_result){ .method = "dkim", .result = "none" };
	for (size_t i = 0; i < count && n < max; i++)
		dkim_result_of(m, &sigs[i], &out[n++]);
	if (n < max)
		arc_result_of(m, &out[n++]);
	if (n < max)
		dmarc_result_of(m, &out[n++]);
	return n;
}

const struct dmarc_outcome *message_checks_dmarc(struct message_checks *m)
{
	static const struct dmarc_outcome unchecked = { .result = DMARC_NONE, .reason = "no header section" };
	return m->dmarc != NULL ? dmarc_check_outcome(m->dmarc) : &unchecked;
}

static char *policy_or_null(enum dmarc_policy p)
{
	return p != DMARC_POLICY_UNSET ? xstrdup(dmarc_policy_name(p)) : NULL;
}

struct dmarc_observation *message_checks_observation(struct message_checks *m, const char *ip,
						     const char *envelope_to,
						     const char *disposition)
{
	const struct dmarc_outcome *o = message_checks_dmarc(m);
	if (o->result != DMARC_PASS && o->result != DMARC_FAIL)
		return NULL;
	const struct dmarc_record *rec = o->record;
	struct dmarc_observation *obs = xcalloc(1, sizeof(*obs));
	obs->at = time(NULL);
	obs->policy = (struct dmarc_policy_published){
		.domain = xstrdup(o->policy_domain),
		.p = xstrdup(dmarc_policy_name(rec->p)),
		.sp = policy_or_null(rec->sp),
		.np = policy_or_null(rec->np),
		.adkim = rec->adkim_strict ? 's' : 'r',
		.aspf = rec->aspf_strict ? 's' : 'r',
		.testing = rec->test ? 'y' : 'n',
	};
	buf rua;
	buf_init(&rua);
	for (size_t i = 0; i < rec->rua.count; i++)
		buf_printf(&rua, "%s%s", i > 0 ? " " : "", rec->rua.items[i]);
	obs->rua = buf_steal(&rua);
	struct dmarc_report_record *r = &obs->rec;
	r->source_ip = xstrdup(ip);
	r->count = 1;
	r->disposition = xstrdup(disposition);
	r->dkim = xstrdup(o->dkim_aligned ? "pass" : "fail");
	r->spf = xstrdup(o->spf_aligned ? "pass" : "fail");
	r->header_from = xstrdup(o->author_domain);
	const char *at = strrchr(m->spf_identity, '@');
	r->envelope_from = !m->spf_helo && at != NULL ? xstrdup(at + 1) : NULL;
	r->envelope_to = envelope_to != NULL ? xstrdup(envelope_to) : NULL;
	const struct dkim_signature_result *sigs;
	size_t count = m->dkim != NULL ? dkim_verify_results(m->dkim, &sigs) : 0;
	for (size_t i = 0; i < count; i++)
		dmarc_report_add_auth(r, false, sigs[i].domain, sigs[i].selector,
				      dkim_result_name(sigs[i].result));
	if (m->spf_domain != NULL)
		dmarc_report_add_auth(r, true, m->spf_domain, m->spf_helo ? "helo" : "mfrom",
				      spf_result_name(m->spf_done ? m->spf_result : SPF_TEMPERROR));
	return obs;
}

void message_checks_free(struct message_checks **mp)
{
	struct message_checks *m = *mp;
	if (m == NULL)
		return;
	*mp = NULL;
	spf_check_free(&m->spf);
	arc_verify_free(&m->arc);
	dkim_verify_free(&m->dkim);
	dmarc_check_free(&m->dmarc);
	if (m->timer != NULL)
		event_free(m->timer);
	free(m->spf_reason);
	free(m->spf_identity);
	free(m->spf_domain);
	free(m->ip);
	free(m->trusted_sealers);
	strlist_free(&m->strings);
	free(m);
}
