/* check_host() of RFC 7208 on the shared resolver; see spf.h.
 *
 * One lookup is out at a time: the check is a loop (run) over steps that either decide
 * something at once or ask the DNS and wait; each answer's handler sets the state and the loop
 * goes on. include and redirect push a frame for the domain they name, so the C stack never
 * grows with the records. Each query holds a reference to the check, so one freed while a
 * query is out lives until the answer comes back and then ends quietly. */
#include "verify/spf.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "verify/spf_record.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SPF_MAX_DNS_TERMS 10 /* 4.6.4 */
#define SPF_MAX_VOID 2
#define SPF_MAX_NAMES 10     /* of an MX or PTR answer */
#define SPF_TIME_LIMIT 20    /* seconds for the whole check, then temperror (4.6.4) */

/* One check_host() being evaluated: the top one, or one an include or redirect started. */
struct frame {
	struct frame *parent;
	char *domain;
	struct spf_record record;
	bool loaded;     /* record is in; terms run from next */
	size_t next;
	bool include;    /* its result goes through 5.2's table into the parent's include */
	bool redirected; /* a redirect replaced its first domain: none becomes permerror (6.1) */
	bool in_include; /* it or one of its parents is an include's: its exp= is not used */
};

struct spf_check;
typedef void names_fn(struct spf_check *c, enum dns_status st, char *const *names, size_t count);

enum phase { EVALUATING, EXPLAINING, DELIVERING };

struct spf_check {
	int refs; /* the owner's and one per query out */
	bool stopped;
	struct dns *dns;
	struct spf_macro_env env;
	char *sender, *helo, *receiver;
	spf_done_fn *done;
	void *arg;
	struct event *deliver;
	struct event *deadline;

	struct frame *frame;
	int dns_terms, voids;
	enum phase phase;
	bool running, waiting;
	names_fn *on_names; /* the handler of the names query out */

	/* the term waiting on its lookups, and an mx's exchanges */
	const struct spf_term *term;
	char *target;
	char **names;
	size_t name_count, name_at;

	/* the validated names of ip (5.5), found once for ptr and %{p} */
	bool validated_known;
	char **validated;
	size_t validated_count;

	char *exp_spec, *exp_domain; /* the exp= of the record whose term failed */
	struct spf_outcome out;
	char *reason, *explanation;
};

const char *spf_result_name(enum spf_result r)
{
	static const char *const names[] = {
		[SPF_NONE] = "none",         [SPF_NEUTRAL] = "neutral",     [SPF_PASS] = "pass",
		[SPF_FAIL] = "fail",         [SPF_SOFTFAIL] = "softfail",   [SPF_TEMPERROR] = "temperror",
		[SPF_PERMERROR] = "permerror",
	};
	return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "permerror";
}

static void free_names(char ***names, size_t *count)
{
	for (size_t i = 0; i < *count; i++)
		free((*names)[i]);
	free(*names);
	*names = NULL;
	*count = 0;
}

static void frame_pop(struct spf_check *c)
{
	struct frame *f = c->frame;
	c->frame = f->parent;
	spf_record_free(&f->record);
	free(f->domain);
	free(f);
}

static void check_destroy(struct spf_check *c)
{
	while (c->frame != NULL)
		frame_pop(c);
	free_names(&c->names, &c->name_count);
	free_names(&c->validated, &c->validated_count);
	free(c->target);
	free(c->sender);
	free(c->helo);
	free(c->receiver);
	free(c->exp_spec);
	free(c->exp_domain);
	free(c->reason);
	free(c->explanation);
	free(c);
}

/* Drops an answer's reference; true when the answer is not wanted any more (the check was
 * stopped, or has its result: its time ran out), and the caller must leave it. */
static bool release(struct spf_check *c)
{
	c->refs--;
	bool unwanted = c->stopped || c->phase == DELIVERING;
	if (c->stopped && c->refs == 0)
		check_destroy(c);
	return unwanted;
}

static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct spf_check *c = arg;
	c->out.reason = c->reason;
	c->out.explanation = c->explanation;
	c->done(&c->out, c->arg);
}

static void deliver(struct spf_check *c)
{
	c->phase = DELIVERING;
	evtimer_del(c->deadline);
	event_active(c->deliver, EV_TIMEOUT, 0);
}

static void finish(struct spf_check *c, enum spf_result r, char *reason)
{
	free(c->reason);
	c->reason = reason;
	c->out.result = r;
	if (r == SPF_FAIL && c->exp_spec != NULL)
		c->phase = EXPLAINING;
	else
		deliver(c);
}

/* The check took too long: temperror, or the fail without its explanation. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct spf_check *c = arg;
	if (c->phase == EXPLAINING)
		deliver(c);
	else
		finish(c, SPF_TEMPERROR, xasprintf("no answer within %d seconds", SPF_TIME_LIMIT));
}

static void run(struct spf_check *c);

static void on_names(enum dns_status st, char *const *names, size_t count, void *arg)
{
	struct spf_check *c = arg;
	if (release(c))
		return;
	c->waiting = false;
	c->on_names(c, st, names, count);
	run(c);
}

static void ask_names(struct spf_check *c, names_fn *handler)
{
	c->refs++;
	c->waiting = true;
	c->on_names = handler;
}

static void ask_addrs(struct spf_check *c, const char *name, int family, names_fn *handler)
{
	ask_names(c, handler);
	dns_query_addrs(c->dns, name, family, on_names, c);
}

/* Counts a lookup that found nothing (4.6.4); true when that ended the check. */
static bool void_lookup(struct spf_check *c, enum dns_status st)
{
	if ((st != DNS_NO_DOMAIN && st != DNS_NO_DATA) || c->phase != EVALUATING || ++c->voids <= SPF_MAX_VOID)
		return false;
	finish(c, SPF_PERMERROR, xasprintf("more than %d void DNS lookups", SPF_MAX_VOID));
	return true;
}

/* A DNS error ends the whole check (5): true when st is one. */
static bool dns_error(struct spf_check *c, enum dns_status st, const char *name)
{
	if (st != DNS_TEMPFAIL)
		return false;
	finish(c, SPF_TEMPERROR, xasprintf("DNS error looking up %s", name));
	return true;
}

/* Whether a (4 or 16 octets) and b agree in their first bits bits. */
static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)bytes) != 0)
		return false;
	return rest == 0 || ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest))) == 0;
}

/* Whether one of the addresses (text) is ip within the term's CIDR length (all bits when
 * term is NULL). */
static bool addresses_match(const struct spf_check *c, const struct spf_term *t, char *const *addrs,
			    size_t count)
{
	unsigned char a[16];
	int bits = c->env.family == AF_INET ? (t != NULL ? t->cidr4 : 32) : (t != NULL ? t->cidr6 : 128);
	for (size_t i = 0; i < count; i++)
		if (inet_pton(c->env.family, addrs[i], a) == 1 && prefix_match(a, c->env.ip, bits))
			return true;
	return false;
}

/* The frame ends with result r: the check's result, or what its include makes of it. */
static void frame_result(struct spf_check *c, enum spf_result r, char *reason);

/* c->term matched: its qualifier gives its frame's result; a fail notes the record's exp=. */
static void matched(struct spf_check *c)
{
	struct frame *f = c->frame;
	const struct spf_term *t = c->term;
	static const char qualifiers[] = "+-~?";
	static const enum spf_result results[] = { SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_NEUTRAL };
	enum spf_result r = results[strchr(qualifiers, t->qualifier) - qualifiers];
	if (r == SPF_FAIL && !f->in_include && f->record.exp != NULL) {
		free(c->exp_spec);
		free(c->exp_domain);
		c->exp_spec = xstrdup(f->record.exp);
		c->exp_domain = xstrdup(f->domain);
	}
	frame_result(c, r, xasprintf("%s matched in %s", t->text, f->domain));
}

static void frame_result(struct spf_check *c, enum spf_result r, char *reason)
{
	struct frame *f = c->frame;
	if (f->redirected && r == SPF_NONE) {
		r = SPF_PERMERROR;
		free(reason);
		reason = xasprintf("redirect=%s has no SPF record", f->domain);
	}
	bool include = f->include;
	char *none = r == SPF_NONE ? xasprintf("include:%s has no SPF record", f->domain) : NULL;
	frame_pop(c);
	/* 5.2: how an included check_host()'s result counts in its include */
	if (!include || r == SPF_TEMPERROR || r == SPF_PERMERROR) {
		free(none);
		finish(c, r, reason);
		return;
	}
	free(reason);
	if (r == SPF_NONE) {
		finish(c, SPF_PERMERROR, none);
	} else if (r == SPF_PASS) {
		c->term = &c->frame->record.terms[c->frame->next - 1];
		matched(c);
	}
}

static void on_record(enum dns_status st, char *const *records, size_t count, void *arg)
{
	struct spf_check *c = arg;
	if (release(c))
		return;
	c->waiting = false;
	struct frame *f = c->frame;
	const char *spf = NULL;
	size_t found = 0;
	for (size_t i = 0; st == DNS_OK && i < count; i++)
		if (spf_record_is_spf(records[i])) {
			spf = records[i];
			found++;
		}
	char *error = NULL;
	if (st == DNS_TEMPFAIL)
		finish(c, SPF_TEMPERROR, xasprintf("DNS error looking up the SPF record of %s", f->domain));
	else if (found == 0)
		frame_result(c, SPF_NONE, xasprintf("no SPF record for %s", f->domain));
	else if (found > 1)
		frame_result(c, SPF_PERMERROR, xasprintf("more than one SPF record for %s", f->domain));
	else if (spf_record_parse(spf, &f->record, &error) < 0)
		frame_result(c, SPF_PERMERROR, xasprintf("%s in the SPF record of %s", error, f->domain));
	else
		f->loaded = true;
	free(error);
	run(c);
}

static void fetch_record(struct spf_check *c)
{
	c->refs++;
	c->waiting = true;
	dns_query_txt(c->dns, c->frame->domain, on_record, c);
}

static void start_frame(struct spf_check *c, const char *domain, bool include)
{
	struct frame *f = xcalloc(1, sizeof(*f));
	f->parent = c->frame;
	f->domain = xstrdup(domain);
	f->include = include;
	f->in_include = include || (f->parent != NULL && f->parent->in_include);
	c->frame = f;
	fetch_record(c);
}

/* The validated names of 5.5: each PTR name (the first 10) one of whose addresses is ip. */
static void validate_next(struct spf_check *c);

static void on_validate_addrs(struct spf_check *c, enum dns_status st, char *const *addrs, size_t count)
{
	if (void_lookup(c, st))
		return;
	if (st == DNS_OK && addresses_match(c, NULL, addrs, count)) {
		c->validated = xrealloc(c->validated, (c->validated_count + 1) * sizeof(*c->validated));
		c->validated[c->validated_count++] = xstrdup(c->names[c->name_at]);
	}
	c->name_at++;
	validate_next(c);
}

static void validate_next(struct spf_check *c)
{
	if (c->name_at < c->name_count) {
		ask_addrs(c, c->names[c->name_at], c->env.family, on_validate_addrs);
		return;
	}
	free_names(&c->names, &c->name_count);
	c->validated_known = true;
}

static void on_ptr(struct spf_check *c, enum dns_status st, char *const *names, size_t count)
{
	if (void_lookup(c, st))
		return;
	/* a DNS error here makes no validated names, not a temperror (5.5) */
	count = st == DNS_OK ? count : 0;
	count = count < SPF_MAX_NAMES ? count : SPF_MAX_NAMES;
	for (size_t i = 0; i < count; i++) {
		c->names = xrealloc(c->names, (c->name_count + 1) * sizeof(*c->names));
		c->names[c->name_count++] = xstrdup(names[i]);
	}
	c->name_at = 0;
	validate_next(c);
}

static void start_validation(struct spf_check *c)
{
	char text[INET6_ADDRSTRLEN];
	free_names(&c->names, &c->name_count);
	ask_names(c, on_ptr);
	dns_query_ptr(c->dns, inet_ntop(c->env.family, c->env.ip, text, sizeof(text)), on_names, c);
}

/* name equals domain or is below it, either with or without its trailing dot. */
static bool name_within(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);
	n -= n > 0 && name[n - 1] == '.';
	d -= d > 0 && domain[d - 1] == '.';
	return n >= d && strncasecmp(name + n - d, domain, d) == 0 && (n == d || name[n - d - 1] == '.');
}

/* %{p} (7.3): the target's own name when validated, else one below it, else any. */
static const char *validated_for(const struct spf_check *c, const char *domain)
{
	const char *below = NULL;
	for (size_t i = 0; i < c->validated_count; i++) {
		if (name_within(c->validated[i], domain) && strlen(c->validated[i]) <= strlen(domain) + 1)
			return c->validated[i];
		if (below == NULL && name_within(c->validated[i], domain))
			below = c->validated[i];
	}
	return below != NULL ? below : c->validated_count > 0 ? c->validated[0] : NULL;
}

static void on_a(struct spf_check *c, enum dns_status st, char *const *addrs, size_t count)
{
	if (dns_error(c, st, c->target) || void_lookup(c, st))
		return;
	if (addresses_match(c, c->term, addrs, count))
		matched(c);
}

static void on_exists(struct spf_check *c, enum dns_status st, char *const *addrs, size_t count)
{
	if (dns_error(c, st, c->target) || void_lookup(c, st))
		return;
	if (st == DNS_OK)
		matched(c);
}

static void on_mx_addrs(struct spf_check *c, enum dns_status st, char *const *addrs, size_t count)
{
	if (dns_error(c, st, c->names[c->name_at]) || void_lookup(c, st))
		return;
	if (addresses_match(c, c->term, addrs, count)) {
		free_names(&c->names, &c->name_count);
		matched(c);
	} else if (++c->name_at < c->name_count) {
		ask_addrs(c, c->names[c->name_at], c->env.family, on_mx_addrs);
	} else {
		free_names(&c->names, &c->name_count);
	}
}

static void on_mx(struct spf_check *c, enum dns_status st, char *const *names, size_t count)
{
	if (dns_error(c, st, c->target) || void_lookup(c, st) || st != DNS_OK)
		return;
	if (count > SPF_MAX_NAMES) {
		finish(c, SPF_PERMERROR, xasprintf("%s has more than %d MX records", c->target, SPF_MAX_NAMES));
		return;
	}
	for (size_t i = 0; i < count; i++) {
		c->names = xrealloc(c->names, (c->name_count + 1) * sizeof(*c->names));
		c->names[c->name_count++] = xstrdup(names[i]);
	}
	c->name_at = 0;
	ask_addrs(c, c->names[0], c->env.family, on_mx_addrs);
}

/* The domain a term or modifier names (its domain-spec expanded, else the frame's domain)
 * into c->target; false when that ended the check. */
static bool expand_target(struct spf_check *c, const char *spec)
{
	struct frame *f = c->frame;
	free(c->target);
	c->target = NULL;
	if (spec == NULL) {
		c->target = xstrdup(f->domain);
		return true;
	}
	buf b;
	buf_init(&b);
	c->env.domain = f->domain;
	c->env.validated = spec != NULL && spf_macro_uses_p(spec) ? validated_for(c, f->domain) : NULL;
	if (spf_domain_expand(spec, &c->env, &b) < 0) {
		finish(c, SPF_PERMERROR, xasprintf("\"%s\" in %s expands to too long a name", spec, f->domain));
		buf_free(&b);
		return false;
	}
	c->target = buf_steal(&b);
	return true;
}

/* A name the DNS may be asked for: labels of 1 to 63 octets, 253 in all. */
static bool name_valid(const char *name, bool multi_label)
{
	size_t len = strlen(name), labels = 0;
	len -= len > 0 && name[len - 1] == '.';
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len;) {
		size_t n = strcspn(name + i, ".");
		n = i + n > len ? len - i : n;
		if (n == 0 || n > 63)
			return false;
		labels++;
		i += n + 1;
	}
	return !multi_label || labels > 1;
}

static bool needs_dns(enum spf_mechanism m)
{
	return m == SPF_INCLUDE || m == SPF_A || m == SPF_MX || m == SPF_PTR || m == SPF_EXISTS;
}

/* Counts a term or redirect that queries the DNS; true when that ended the check. */
static bool count_dns_term(struct spf_check *c)
{
	if (++c->dns_terms <= SPF_MAX_DNS_TERMS)
		return false;
	finish(c, SPF_PERMERROR, xasprintf("more than %d DNS lookups", SPF_MAX_DNS_TERMS));
	return true;
}

static void evaluate_term(struct spf_check *c, const struct spf_term *t)
{
	c->term = t;
	if (needs_dns(t->mechanism) && count_dns_term(c))
		return;
	if (!expand_target(c, t->domain_spec))
		return;
	bool valid = name_valid(c->target, false);
	switch (t->mechanism) {
	case SPF_ALL:
		matched(c);
		break;
	case SPF_IP4:
	case SPF_IP6:
		if ((t->mechanism == SPF_IP4) == (c->env.family == AF_INET) &&
		    prefix_match(t->network, c->env.ip, c->env.family == AF_INET ? t->cidr4 : t->cidr6))
			matched(c);
		break;
	/* a name the DNS cannot hold matches nothing, without a lookup */
	case SPF_A:
		if (valid)
			ask_addrs(c, c->target, c->env.family, on_a);
		break;
	case SPF_EXISTS:
		if (valid)
			ask_addrs(c, c->target, AF_INET, on_exists); /* always A (5.7) */
		break;
	case SPF_MX:
		if (valid) {
			ask_names(c, on_mx);
			dns_query_mx_names(c->dns, c->target, on_names, c);
		}
		break;
	case SPF_PTR:
		for (size_t i = 0; i < c->validated_count; i++)
			if (name_within(c->validated[i], c->target)) {
				matched(c);
				break;
			}
		break;
	case SPF_INCLUDE:
		if (valid)
			start_frame(c, c->target, true);
		else
			finish(c, SPF_PERMERROR, xasprintf("include:%s names no domain", c->target));
		break;
	}
}

/* The frame ran out of terms: its redirect, or neutral (4.7). */
static void frame_end(struct spf_check *c)
{
	struct frame *f = c->frame;
	if (f->record.redirect == NULL) {
		frame_result(c, SPF_NEUTRAL, xasprintf("no term of %s's SPF record matched", f->domain));
		return;
	}
	if (count_dns_term(c) || !expand_target(c, f->record.redirect))
		return;
	if (!name_valid(c->target, false)) {
		finish(c, SPF_PERMERROR, xasprintf("redirect=%s names no domain", c->target));
		return;
	}
	/* the target's check_host() takes this one's place (6.1) */
	spf_record_free(&f->record);
	free(f->domain);
	f->domain = xstrdup(c->target);
	f->loaded = false;
	f->next = 0;
	f->redirected = true;
	fetch_record(c);
}

static void on_explanation(enum dns_status st, char *const *records, size_t count, void *arg)
{
	struct spf_check *c = arg;
	if (release(c))
		return;
	c->waiting = false;
	buf b;
	buf_init(&b);
	c->env.domain = c->exp_domain;
	c->env.validated = validated_for(c, c->exp_domain);
	/* any failure leaves the explanation out (6.2) */
	if (st == DNS_OK && count == 1 && spf_macro_expand(records[0], &c->env, true, &b) == 0)
		c->explanation = buf_steal(&b);
	buf_free(&b);
	deliver(c);
}

/* The exp= of a fail: its domain, then its TXT record expanded; none of it counts (4.6.4). */
static void explain(struct spf_check *c)
{
	buf b;
	buf_init(&b);
	c->env.domain = c->exp_domain;
	c->env.validated = validated_for(c, c->exp_domain);
	if (spf_domain_expand(c->exp_spec, &c->env, &b) < 0 || !name_valid(b.data, false)) {
		buf_free(&b);
		deliver(c);
		return;
	}
	c->refs++;
	c->waiting = true;
	dns_query_txt(c->dns, b.data, on_explanation, c);
	buf_free(&b);
}

/* Whether the next step needs the validated names first (a ptr term, %{p}). */
static bool needs_validation(const struct spf_check *c)
{
	if (c->validated_known)
		return false;
	if (c->phase == EXPLAINING)
		return spf_macro_uses_p(c->exp_spec);
	const struct frame *f = c->frame;
	if (!f->loaded)
		return false;
	if (f->next < f->record.count) {
		const struct spf_term *t = &f->record.terms[f->next];
		return t->mechanism == SPF_PTR || (t->domain_spec != NULL && spf_macro_uses_p(t->domain_spec));
	}
	return f->record.redirect != NULL && spf_macro_uses_p(f->record.redirect);
}

static void step(struct spf_check *c)
{
	if (needs_validation(c)) {
		start_validation(c);
		return;
	}
	if (c->phase == EXPLAINING) {
		explain(c);
		return;
	}
	struct frame *f = c->frame;
	if (f->next < f->record.count)
		evaluate_term(c, &f->record.terms[f->next++]);
	else
		frame_end(c);
}

static void run(struct spf_check *c)
{
	if (c->running)
		return; /* an answer that came at once: the loop below goes on */
	c->running = true;
	while (!c->waiting && c->phase != DELIVERING && (c->phase == EXPLAINING || c->frame->loaded))
		step(c);
	c->running = false;
}

/* ip in binary, an IPv4-mapped IPv6 address as IPv4 (5). */
static bool parse_ip(const char *ip, struct spf_macro_env *env)
{
	int n = dns_address_octets(ip, env->ip);
	env->family = n == 4 ? AF_INET : AF_INET6;
	return n > 0;
}

struct spf_check *spf_check_start(struct dns *d, const char *ip, const char *domain,
				  const char *sender, const char *helo, const char *receiver,
				  spf_done_fn *done, void *arg)
{
	struct spf_check *c = xcalloc(1, sizeof(*c));
	c->refs = 1;
	c->dns = d;
	c->done = done;
	c->arg = arg;
	const char *at = strrchr(sender, '@');
	if (domain == NULL)
		domain = sender[0] != '\0' ? (at != NULL ? at + 1 : sender) : helo != NULL ? helo : "";
	c->deliver = event_new(dns_base(d), -1, 0, on_deliver, c);
	c->deadline = evtimer_new(dns_base(d), on_deadline, c);
	struct timeval limit = { SPF_TIME_LIMIT, 0 };
	evtimer_add(c->deadline, &limit);
	/* 4.3: a sender without a local-part is postmaster's; the null sender, postmaster at the
	 * HELO name being checked (2.3) */
	c->sender = sender[0] == '\0' ? xasprintf("postmaster@%s", domain)
		    : at == NULL ? xasprintf("postmaster@%s", sender)
		    : at == sender ? xasprintf("postmaster%s", sender)
				   : xstrdup(sender);
	c->helo = helo != NULL ? xstrdup(helo) : NULL;
	c->receiver = receiver != NULL ? xstrdup(receiver) : NULL;
	c->env.sender = c->sender;
	c->env.helo = c->helo;
	c->env.receiver = c->receiver;
	c->env.now = time(NULL);
	c->env.domain = domain;
	if (!parse_ip(ip, &c->env))
		finish(c, SPF_PERMERROR, xasprintf("\"%s\" is not an IP address", ip));
	else if (!name_valid(domain, true))
		finish(c, SPF_NONE, xasprintf("\"%s\" is no domain name an SPF record can be for", domain));
	else {
		start_frame(c, domain, false);
		run(c);
	}
	return c;
}

void spf_check_free(struct spf_check **cp)
{
	struct spf_check *c = *cp;
	if (c == NULL)
		return;
	*cp = NULL;
	event_free(c->deliver);
	event_free(c->deadline);
	c->stopped = true;
	release(c); /* the owner's reference; queries out hold theirs */
}
