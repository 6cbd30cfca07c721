/* TEMPORARY: placeholders so the program links until SPF (verify/spf.h) and DKIM verification
 * (verify/dkim_verify.h) land. Every check answers "none" at once. To be dropped at the merge. */
#include "verify/dkim_verify.h"
#include "verify/spf.h"
#include "core/xalloc.h"
#include <event2/event.h>
#include <stdlib.h>

static const struct timeval at_once = { 0, 0 };

const char *spf_result_name(enum spf_result r)
{
	static const char *const names[] = { "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" };
	return names[r];
}

struct spf_check {
	spf_done_fn *done;
	void *arg;
	struct event *ev;
};

static void spf_answer(evutil_socket_t fd, short what, void *arg)
{
	struct spf_check *c = arg;
	struct spf_outcome o = { SPF_NONE, NULL, "SPF not built in" };
	c->done(&o, c->arg);
}

struct spf_check *spf_check_start(struct dns *d, const char *ip, const char *domain,
				  const char *sender, const char *helo, const char *receiver,
				  spf_done_fn *done, void *arg)
{
	struct spf_check *c = xcalloc(1, sizeof(*c));
	c->done = done;
	c->arg = arg;
	c->ev = evtimer_new(dns_event_base(d), spf_answer, c);
	evtimer_add(c->ev, &at_once);
	return c;
}

void spf_check_free(struct spf_check **c)
{
	if (*c == NULL)
		return;
	event_free((*c)->ev);
	free(*c);
	*c = NULL;
}

const char *dkim_result_name(enum dkim_result r)
{
	static const char *const names[] = { "pass", "fail", "neutral", "policy", "temperror", "permerror" };
	return names[r];
}

struct dkim_verify {
	struct event_base *base;
	struct event *ev;
	void (*done)(void *arg);
	void *arg;
};

struct dkim_verify *dkim_verify_new(struct dns *d, time_t now)
{
	struct dkim_verify *v = xcalloc(1, sizeof(*v));
	v->base = dns_event_base(d);
	return v;
}

void dkim_verify_header(struct dkim_verify *v, const char *hdr, size_t len) {}
void dkim_verify_body(struct dkim_verify *v, const char *data, size_t len) {}

static void dkim_answer(evutil_socket_t fd, short what, void *arg)
{
	struct dkim_verify *v = arg;
	v->done(v->arg);
}

void dkim_verify_finish(struct dkim_verify *v, void (*done)(void *arg), void *arg)
{
	v->done = done;
	v->arg = arg;
	v->ev = evtimer_new(v->base, dkim_answer, v);
	evtimer_add(v->ev, &at_once);
}

size_t dkim_verify_results(struct dkim_verify *v, const struct dkim_signature_result **r)
{
	*r = NULL;
	return 0;
}

void dkim_verify_free(struct dkim_verify **v)
{
	if (*v == NULL)
		return;
	if ((*v)->ev != NULL)
		event_free((*v)->ev);
	free(*v);
	*v = NULL;
}
