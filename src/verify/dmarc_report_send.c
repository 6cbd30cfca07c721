/* Our daily aggregate reports: a run collects and writes them on a store worker, checks
 * external destinations on the loop's resolver, then hands the messages to the committer
 * from a worker (resolving recipients reads the store). One run at a time. */
#include "verify/dmarc_reports.h"
#include "core/dns.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "deliver/inject.h"
#include "mail/dmarc_record.h"
#include "mail/unpack.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DAY 86400
/* Observations stay this long after the period they were reported in (the draft asks
 * receivers to be able to resend a report). */
#define KEEP (8 * DAY)

struct dmarc_reporter {
	struct event_base *base;
	struct dns *dns;
	struct store_workers *sw;
	struct committer *cm;
	char *hostname, *spool_dir, *delimiter;
	struct event *timer;
	bool running;
};

/* One report on its way to one destination. */
struct outgoing {
	char *domain;    /* the policy domain */
	char *to;        /* the rua's address */
	char *report_id;
	buf msg;
	bool allowed;    /* the destination takes the domain's reports */
	struct run *run;
};

struct run {
	struct dmarc_reporter *r;
	time_t end;
	char *from;
	struct outgoing *out;
	size_t count;
	size_t lookups;  /* destinations being checked */
	char *error;
};

/* Whether two names are one the other or below it: a destination in the policy domain's own
 * tree needs no check (an approximation of "the same Organizational Domain" that a tree
 * walk of both would give; the difference only costs a lookup). */
static bool same_tree(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la < lb)
		return same_tree(b, a);
	return strcasecmp(a + la - lb, b) == 0 && (la == lb || a[la - lb - 1] == '.');
}

/* The address of a mailto: URI (RFC 6068) without its query, or NULL. */
static char *mailto_address(const char *uri)
{
	if (strncasecmp(uri, "mailto:", 7) != 0)
		return NULL;
	const char *addr = uri + 7;
	size_t len = strcspn(addr, "?");
	const char *at = memchr(addr, '@', len);
	return at != NULL && at > addr && at + 1 < addr + len ? xstrndup(addr, len) : NULL;
}

/* The report of one policy domain to each of its mailto: destinations. */
static void prepare_domain(struct store *st, struct run *run, time_t begin, const char *line)
{
	const char *space = strchr(line, ' ');
	char *domain = xstrndup(line, space != NULL ? (size_t)(space - line) : strlen(line));
	struct dmarc_report rep;
	char *error = NULL;
	if (store_dmarc_collect(st, domain, begin, run->end, &rep, &error) < 0) {
		log_error("dmarc report domain=%s not made: %s", domain, error);
		free(error);
		free(domain);
		return;
	}
	rep.org_name = xstrdup(run->r->hostname);
	rep.email = xstrdup(run->from);
	rep.report_id = xasprintf("%lld.%s@%s", (long long)run->end, domain, run->r->hostname);
	rep.generator = xstrdup("estafeta");
	buf xml, gz;
	buf_init(&xml);
	buf_init(&gz);
	dmarc_report_write_xml(&rep, &xml);
	if (gzip_compress(xml.data, xml.len, &gz) < 0)
		log_error("dmarc report domain=%s not made: gzip failed", domain);
	char *uris = xstrdup(space != NULL ? space + 1 : ""), *save = NULL;
	for (char *uri = strtok_r(uris, " ", &save); gz.len > 0 && uri != NULL;
	     uri = strtok_r(NULL, " ", &save)) {
		char *to = mailto_address(uri);
		if (to == NULL) {
			log_info("dmarc report domain=%s rua=%s skipped: only mailto: is sent to", domain, uri);
			continue;
		}
		run->out = xrealloc(run->out, (run->count + 1) * sizeof(*run->out));
		struct outgoing *o = &run->out[run->count++];
		*o = (struct outgoing){ .domain = xstrdup(domain), .to = to,
					.report_id = xstrdup(rep.report_id), .run = run };
		buf_init(&o->msg);
		dmarc_report_message(&o->msg, run->r->hostname, run->from, to, &rep, gz.data, gz.len);
	}
	free(uris);
	buf_free(&xml);
	buf_free(&gz);
	dmarc_report_free(&rep);
	free(domain);
}

static void collect_on_worker(struct store *st, void *arg)
{
	struct run *run = arg;
	time_t begin;
	strlist domains, ours;
	strlist_init(&domains);
	strlist_init(&ours);
	if (store_dmarc_period_start(st, run->end - KEEP, &begin, &run->error) < 0 ||
	    store_domain_list(st, &ours, &run->error) < 0)
		goto out;
	/* From our first domain, whose keys sign it and whose SPF covers us: reports must pass
	 * DMARC themselves (the draft's 3.x on email transport). */
	run->from = ours.count > 0 ? xasprintf("postmaster@%s", ours.items[0])
				   : xasprintf("noreply-dmarc@%s", run->r->hostname);
	if (begin == 0 || begin >= run->end)
		goto out;
	if (store_dmarc_domains(st, begin, run->end, &domains, &run->error) < 0)
		goto out;
	for (size_t i = 0; i < domains.count; i++)
		prepare_domain(st, run, begin, domains.items[i]);
	/* What a lost message would have said is lost with it: reports are a daily summary, and
	 * the next period starts whatever becomes of these. */
	if (store_dmarc_reported(st, run->end, KEEP, &run->error) == 0)
		log_info("dmarc reports period=%lld-%lld domains=%zu messages=%zu", (long long)begin,
			 (long long)run->end, domains.count, run->count);
out:
	strlist_free(&domains);
	strlist_free(&ours);
}

static void report_committed(struct delivery *d, void *arg)
{
	if (d->status != 0)
		log_error("queue=%s dmarc report could not be stored: %s", d->queue_id, d->error);
	delivery_free(&d);
}

static void send_on_worker(struct store *st, void *arg)
{
	struct run *run = arg;
	struct inject_env env = { st, run->r->cm, run->r->spool_dir, run->r->delimiter };
	for (size_t i = 0; i < run->count; i++) {
		struct outgoing *o = &run->out[i];
		if (!o->allowed)
			continue;
		char *queue_id = xasprintf("%08x%08x", arc4random(), arc4random());
		const char *to = o->to;
		bool refused, full;
		char *error = NULL;
		int r = inject_message(&env, run->from, &to, 1, o->msg.data, o->msg.len, queue_id,
				       &refused, report_committed, NULL, &full, &error);
		if (r == 1)
			log_info("queue=%s dmarc report domain=%s to=<%s> id=%s", queue_id, o->domain,
				 o->to, o->report_id);
		else
			log_error("dmarc report domain=%s to=<%s> not sent: %s", o->domain, o->to,
				  r < 0 ? error : "the address does not exist");
		free(error);
		free(queue_id);
	}
}

static void run_free(struct run *run)
{
	for (size_t i = 0; i < run->count; i++) {
		free(run->out[i].domain);
		free(run->out[i].to);
		free(run->out[i].report_id);
		buf_free(&run->out[i].msg);
	}
	free(run->out);
	free(run->from);
	free(run->error);
	free(run);
}

static void send_done(void *arg)
{
	struct run *run = arg;
	run->r->running = false;
	run_free(run);
}

static void destination_answered(enum dns_status status, char *const *records, size_t count,
				 void *arg)
{
	struct outgoing *o = arg;
	for (size_t i = 0; status == DNS_OK && i < count && !o->allowed; i++) {
		struct dmarc_record rec;
		if (dmarc_record_parse(records[i], &rec) == 1) {
			o->allowed = true;
			dmarc_record_free(&rec);
		}
	}
	if (!o->allowed)
		log_info("dmarc report domain=%s to=<%s> skipped: %s does not say it takes the "
			 "domain's reports", o->domain, o->to, strrchr(o->to, '@') + 1);
	struct run *run = o->run;
	if (--run->lookups == 0)
		store_workers_submit(run->r->sw, send_on_worker, send_done, run);
}

static void collect_done(void *arg)
{
	struct run *run = arg;
	if (run->error != NULL)
		log_error("dmarc reports not made: %s", run->error);
	run->lookups = 1; /* this function's own, so no answer ends the run under it */
	for (size_t i = 0; i < run->count; i++) {
		struct outgoing *o = &run->out[i];
		const char *dest = strrchr(o->to, '@') + 1;
		if (same_tree(o->domain, dest)) {
			o->allowed = true;
			continue;
		}
		char *name = xasprintf("%s._report._dmarc.%s", o->domain, dest);
		run->lookups++;
		dns_query_txt(run->r->dns, name, destination_answered, o);
		free(name);
	}
	if (--run->lookups == 0)
		store_workers_submit(run->r->sw, send_on_worker, send_done, run);
}

static bool start_run(struct dmarc_reporter *r, time_t end)
{
	if (r->running)
		return false;
	r->running = true;
	struct run *run = xcalloc(1, sizeof(*run));
	run->r = r;
	run->end = end;
	store_workers_submit(r->sw, collect_on_worker, collect_done, run);
	return true;
}

bool dmarc_reporter_run_now(struct dmarc_reporter *r)
{
	/* periods end before their last second: this one's mail is in it too */
	return start_run(r, time(NULL) + 1);
}

/* The next 00:00 UTC, a minute past it so the day's last mail is in. */
static void schedule(struct dmarc_reporter *r)
{
	time_t now = time(NULL);
	struct timeval tv = { (now / DAY + 1) * DAY + 60 - now, 0 };
	evtimer_add(r->timer, &tv);
}

static void daily(evutil_socket_t fd, short what, void *arg)
{
	struct dmarc_reporter *r = arg;
	if (!start_run(r, time(NULL) / DAY * DAY))
		log_warn("dmarc reports: the run before is still under way");
	schedule(r);
}

static int control_send_reports(void *ctx, const char *arg, buf *out, char **error_r)
{
	if (!dmarc_reporter_run_now(ctx)) {
		*error_r = xstrdup("reports are being made already; try again in a moment");
		return -1;
	}
	buf_puts(out, "making the reports of the period up to now; the log says where each goes\n");
	return 0;
}

void dmarc_reporter_control_register(struct control *ctl, struct dmarc_reporter *r)
{
	control_register(ctl, "dmarc-send-reports", control_send_reports, r);
}

struct dmarc_reporter *dmarc_reporter_new(struct event_base *base, const struct config *cfg,
					  struct store_workers *sw, struct committer *cm,
					  char **error_r)
{
	struct dns *dns = dns_new(base, config_str(cfg, "dns.resolvers"), error_r);
	if (dns == NULL)
		return NULL;
	struct dmarc_reporter *r = xcalloc(1, sizeof(*r));
	r->base = base;
	r->dns = dns;
	r->sw = sw;
	r->cm = cm;
	r->hostname = xstrdup(config_hostname(cfg));
	r->spool_dir = xasprintf("%s/tmp", config_path(cfg, "data_dir"));
	r->delimiter = xstrdup(config_str(cfg, "delivery.recipient_delimiter"));
	r->timer = evtimer_new(base, daily, r);
	schedule(r);
	return r;
}

void dmarc_reporter_free(struct dmarc_reporter **rp)
{
	struct dmarc_reporter *r = *rp;
	if (r == NULL)
		return;
	*rp = NULL;
	event_free(r->timer);
	/* A run under way at the stop keeps what it uses: its lookups and jobs end unanswered
	 * with the loop, and the process exits. */
	if (r->running)
		return;
	dns_free(&r->dns);
	free(r->hostname);
	free(r->spool_dir);
	free(r->delimiter);
	free(r);
}
