/* The queue runner; see queue_runner.h.
 *
 * A job is one destination (a recipient domain, or the relayhost) with the messages due for
 * it: route it, then one SMTP client connection delivers them all. A message with recipients
 * in several domains is in several jobs, each holding only its domain's recipients; while any
 * job holds a message, the next polls leave it alone (inflight). A poll asks the store on a
 * store worker, a new job's message files are read on one before it is routed, and each
 * recipient's outcome is written on one; a job ends (its bounces sent, its messages left to
 * the next polls) only once every outcome of it is written. */
#include "queue/queue_runner.h"
#include "core/log.h"
#include "core/tls.h"
#include "core/xalloc.h"
#include "deliver/inject.h"
#include "queue/bounce.h"
#include "queue/mta_sts_cache.h"
#include "queue/mx_route.h"
#include "queue/outbound_arc.h"
#include "queue/outbound_dkim.h"
#include "queue/smtp_client.h"
#include "smtp/smtp_parse.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define POLL_SECONDS 1
#define JOB_MAX_MESSAGES 50

struct job;

struct inflight {
	int64_t row;
	int jobs;
};

struct queue_runner {
	struct event_base *base;
	struct store *st;
	struct store_workers *sw;
	bool polling;           /* a poll is on a store worker */
	struct committer *cm;
	struct dns *dns;
	SSL_CTX *tls;
	SSL_CTX *verify_tls;    /* MTA-STS: policy hosts and the MX hosts of enforced policies */
	struct mta_sts_cache *sts;
	struct event *poll_ev;
	char *hostname;
	char *data_dir;
	char *delimiter;
	int port;
	int max_per_domain;
	long long retry[CONFIG_MAX_DURATIONS];
	size_t retry_count;
	long long max_age;
	long long delay_warning; /* 0: none */
	char *relay_host;       /* "" for MX routing */
	int relay_port;
	bool relay_mx;          /* relayhost without brackets: its MX records count */
	char *relay_user;       /* AUTH PLAIN at the relayhost, or "" */
	char *relay_pass;
	char *resolvers;
	struct job *jobs;
	struct inflight *inflight;
	size_t inflight_count;
	size_t writing;         /* outcomes of every job on their way to the store */
	bool stopping;
};

/* Recipients of one message in a job that its sender must hear about: one DSN for those
 * that failed, one warning for those that are late. */
struct job_msg_failures {
	struct bounce_rcpt *rcpts;
	size_t count;
	struct bounce_rcpt *delayed;
	size_t delayed_count;
};

struct job {
	struct queue_runner *qr;
	struct job *next;
	char domain[256];
	char hostname[256];     /* ours when the job began: forwarded mail is sealed for it */
	struct smtp_client_msg *msgs;
	struct job_msg_failures *failures;
	size_t msg_count;
	struct smtp_client *client;
	bool routing;
	struct mta_sts_request *sts; /* the domain's MTA-STS policy is looked up */
	struct dns_target *targets;  /* the route, meanwhile */
	size_t target_count;
	bool reading;           /* its message files are read on a store worker */
	bool *unreadable;       /* per message: its file could not be read */
	size_t writing;         /* outcomes on their way to the store */
	bool sent;              /* the connection is over: the job ends with its last outcome */
};

static void job_free(struct job *j);

/* ---- settings ---- */

int queue_runner_configure(struct queue_runner *qr, const struct config *cfg, char **error_r)
{
	long long retry[CONFIG_MAX_DURATIONS];
	size_t retry_count;
	char *relay_host = NULL;
	int relay_port = 25;
	bool relay_bracketed = false;
	const char *relay = config_str(cfg, "relayhost");
	/* config_load checked both (setting_check): these parse what is known good */
	parse_durations(config_str(cfg, "queue.retry_schedule"), retry, &retry_count);
	if (*relay != '\0' &&
	    parse_hostport(relay, 25, &relay_host, &relay_port, &relay_bracketed, error_r) < 0)
		return -1;
	const char *resolvers = config_str(cfg, "dns.resolvers");
	if (qr->dns == NULL || strcmp(resolvers, qr->resolvers) != 0) {
		/* A new resolver only when its servers change: lookups in progress keep theirs. */
		struct dns *dns = dns_new(qr->base, resolvers, error_r);
		if (dns == NULL) {
			free(relay_host);
			return -1;
		}
		if (qr->dns != NULL && qr->jobs == NULL)
			dns_free(&qr->dns);
		else if (qr->dns != NULL)
			log_warn("queue dns.resolvers change waits for the deliveries in progress");
		if (qr->dns == NULL) {
			qr->dns = dns;
			free(qr->resolvers);
			qr->resolvers = xstrdup(resolvers);
		} else {
			dns_free(&dns);
		}
	}
	memcpy(qr->retry, retry, sizeof(retry));
	qr->retry_count = retry_count;
	qr->max_age = config_int(cfg, "queue.max_age");
	qr->delay_warning = config_int(cfg, "queue.delay_warning");
	qr->port = (int)config_int(cfg, "outbound.port");
	qr->max_per_domain = (int)config_int(cfg, "outbound.max_connections_per_domain");
	if (qr->max_per_domain < 1)
		qr->max_per_domain = 1;
	free(qr->relay_host);
	qr->relay_host = relay_host != NULL ? relay_host : xstrdup("");
	qr->relay_port = relay_port;
	qr->relay_mx = !relay_bracketed;
	free(qr->relay_user);
	qr->relay_user = xstrdup(config_str(cfg, "relayhost.username"));
	free(qr->relay_pass);
	qr->relay_pass = xstrdup(config_str(cfg, "relayhost.password"));
	free(qr->hostname);
	qr->hostname = xstrdup(config_hostname(cfg));
	free(qr->data_dir);
	qr->data_dir = xstrdup(config_path(cfg, "data_dir"));
	free(qr->delimiter);
	qr->delimiter = xstrdup(config_str(cfg, "delivery.recipient_delimiter"));
	return 0;
}

/* ---- bounces ---- */

/* Bounces go through the committer like any mail, from the null sender. */
static void bounce_send(struct queue_runner *qr, struct smtp_client_msg *cm,
			const struct bounce_rcpt *rcpts, size_t count, bool delayed)
{
	char *spool_dir = xasprintf("%s/tmp", qr->data_dir);
	struct inject_env env = { qr->st, qr->cm, spool_dir, qr->delimiter };
	inject_bounce(&env, qr->hostname, cm->m, rcpts, count, &cm->body, delayed);
	free(spool_dir);
}

/* ---- outcomes ---- */

static void failure_add(struct bounce_rcpt **list, size_t *count, const struct queue_rcpt *r,
			const struct smtp_client_result *res, bool remote_reply)
{
	*list = xrealloc(*list, (*count + 1) * sizeof(**list));
	(*list)[(*count)++] = (struct bounce_rcpt){
		.recipient = xstrdup(r->recipient),
		.orcpt = r->orcpt != NULL ? xstrdup(r->orcpt) : NULL,
		.status = xstrdup(res->status),
		.diagnostic = xstrdup(res->diagnostic),
		.remote = res->remote != NULL ? xstrdup(res->remote) : NULL,
		.remote_reply = remote_reply,
	};
}

static void bounce_rcpts_free(struct bounce_rcpt *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free((char *)list[i].recipient);
		free((char *)list[i].orcpt);
		free((char *)list[i].status);
		free((char *)list[i].diagnostic);
		free((char *)list[i].remote);
	}
	free(list);
}

static void job_end(struct job *j);

/* One recipient's outcome on its way to the store, with its delay warning when one is due. */
struct outcome {
	struct job *j;
	size_t msg;              /* of the job's messages */
	struct queue_rcpt *r;
	const char *queue_id;
	enum queue_rcpt_status status;
	time_t next;
	char *diagnostic;        /* NULL once sent */
	bool warn;               /* also record the delay warning */
	struct smtp_client_result res; /* for the warning's report (copies) */
	int status_r, warned_r;
	char *error;
};

static void outcome_write(struct store *st, void *arg)
{
	struct outcome *o = arg;
	o->status_r = store_queue_update(st, o->r->id, o->status, o->next, o->diagnostic, &o->error);
	if (o->warn && o->status_r == 0)
		o->warned_r = store_queue_set_warned(st, o->r->id, &o->error);
}

static void outcome_written(void *arg)
{
	struct outcome *o = arg;
	struct job *j = o->j;
	if (o->status_r < 0) {
		/* The next poll tries again: a recipient may then get the message twice, which
		 * is better than never. */
		log_error("queue=%s outbound to=<%s> could not record the outcome: %s", o->queue_id,
			  o->r->recipient, o->error);
	} else if (o->warn && o->warned_r < 0) {
		log_error("queue=%s cannot record the delay warning: %s", o->queue_id, o->error);
	} else if (o->warn) {
		o->r->warned = true;
		struct job_msg_failures *f = &j->failures[o->msg];
		failure_add(&f->delayed, &f->delayed_count, o->r, &o->res, o->res.remote != NULL);
	}
	free(o->diagnostic);
	free((char *)o->res.status);
	free((char *)o->res.diagnostic);
	free((char *)o->res.remote);
	free(o->error);
	free(o);
	j->qr->writing--;
	if (--j->writing == 0 && j->sent)
		job_end(j);
}

/* Commits one recipient's outcome at once (on a store worker): a recipient a server took is
 * never sent again, even after kill -9 a moment later. */
static void on_rcpt(struct smtp_client_msg *cm, struct queue_rcpt *r,
		    const struct smtp_client_result *res, void *arg)
{
	struct job *j = arg;
	struct queue_runner *qr = j->qr;
	struct queue_msg *m = cm->m;
	time_t now = time(NULL);
	enum queue_rcpt_status status = QUEUE_PENDING;
	time_t next = 0;
	const char *word = "deferred";
	bool expired = false;
	if (res->code / 100 == 2) {
		status = QUEUE_SENT;
		word = "sent";
	} else if (res->code / 100 == 5) {
		status = QUEUE_BOUNCED;
		word = "bounced";
	} else if (qr->stopping) {
		next = now; /* not an attempt: try again at once after the restart */
	} else if (now - m->arrival >= qr->max_age) {
		status = QUEUE_BOUNCED;
		word = "expired";
		expired = true;
	} else {
		size_t i = (size_t)r->attempts < qr->retry_count ? (size_t)r->attempts : qr->retry_count - 1;
		next = now + (time_t)qr->retry[i];
	}
	struct outcome *o = xcalloc(1, sizeof(*o));
	*o = (struct outcome){ .j = j, .msg = (size_t)(cm - j->msgs), .r = r, .queue_id = m->queue_id,
			       .status = status, .next = next,
			       .diagnostic = status == QUEUE_SENT ? NULL : xstrdup(res->diagnostic) };
	log_info("queue=%s outbound to=<%s> relay=%s status=%s dsn=%s attempts=%d reply=\"%s\"",
		 m->queue_id, r->recipient, res->remote != NULL ? res->remote : "none", word,
		 res->status, r->attempts + 1, res->diagnostic);
	/* RFC 3461 4.1: NOTIFY, when given, says which reports the sender wants; without it,
	 * failures and delays (as Postfix does). */
	struct job_msg_failures *f = &j->failures[cm - j->msgs];
	bool want_failure = r->notify == 0 || (r->notify & SMTP_NOTIFY_FAILURE);
	bool want_delay = r->notify == 0 || (r->notify & SMTP_NOTIFY_DELAY);
	if (status == QUEUE_BOUNCED && want_failure) {
		if (expired) {
			/* RFC 3463 4.4.7: delivery time expired. */
			char *diag = xasprintf("delivery time expired; last error: %s", res->diagnostic);
			struct smtp_client_result exp = { res->code, "4.4.7", diag, res->remote };
			failure_add(&f->rcpts, &f->count, r, &exp, false);
			free(diag);
		} else {
			failure_add(&f->rcpts, &f->count, r, res, res->remote != NULL);
		}
	} else if (status == QUEUE_PENDING && !qr->stopping && want_delay && !r->warned &&
		   qr->delay_warning > 0 && now - m->arrival >= qr->delay_warning) {
		o->warn = true;
		o->res = (struct smtp_client_result){ res->code, xstrdup(res->status),
						      xstrdup(res->diagnostic),
						      res->remote != NULL ? xstrdup(res->remote) : NULL };
	}
	j->writing++;
	qr->writing++;
	store_workers_submit(qr->sw, outcome_write, outcome_written, o);
}

static void inflight_drop(struct queue_runner *qr, int64_t row)
{
	for (size_t i = 0; i < qr->inflight_count; i++) {
		if (qr->inflight[i].row != row)
			continue;
		if (--qr->inflight[i].jobs == 0)
			qr->inflight[i] = qr->inflight[--qr->inflight_count];
		return;
	}
}

/* The connection is over and every outcome written: the job's reports go, and its messages
 * are the next polls' again. */
static void job_end(struct job *j)
{
	struct queue_runner *qr = j->qr;
	for (size_t i = 0; i < j->msg_count && !qr->stopping; i++) {
		bounce_send(qr, &j->msgs[i], j->failures[i].rcpts, j->failures[i].count, false);
		bounce_send(qr, &j->msgs[i], j->failures[i].delayed, j->failures[i].delayed_count, true);
	}
	struct job **pp = &qr->jobs;
	while (*pp != j)
		pp = &(*pp)->next;
	*pp = j->next;
	job_free(j);
	/* A connection is free for the domain: look for more at once, not at the next tick. */
	if (!qr->stopping)
		event_active(qr->poll_ev, 0, 0);
}

static void on_job_done(void *arg)
{
	struct job *j = arg;
	j->client = NULL;
	j->sent = true;
	if (j->writing == 0)
		job_end(j);
}

/* Decides every recipient of the job the same way (routing failed). */
static void job_fail_all(struct job *j, int code, const char *status, const char *error)
{
	struct smtp_client_result res = { code, status, error, NULL };
	for (size_t i = 0; i < j->msg_count; i++)
		for (size_t k = 0; k < j->msgs[i].m->rcpt_count; k++)
			on_rcpt(&j->msgs[i], &j->msgs[i].m->rcpts[k], &res, j);
	on_job_done(j);
}

/* The connection goes: to the targets given, with TLS required and verified when the
 * domain's MTA-STS policy is enforced. */
static void job_connect(struct job *j, const struct dns_target *targets, size_t count,
			bool require_tls)
{
	struct queue_runner *qr = j->qr;
	bool relay = *qr->relay_host != '\0';
	struct smtp_client_params p = { qr->base, require_tls ? qr->verify_tls : qr->tls, qr->hostname,
					relay ? qr->relay_user : NULL, relay ? qr->relay_pass : NULL,
					require_tls };
	log_info("queue outbound domain=%s messages=%zu mx=%s%s", j->domain, j->msg_count,
		 targets[0].host, require_tls ? " mta-sts=enforce" : "");
	j->client = smtp_client_start(&p, targets, count, j->msgs, j->msg_count, on_rcpt,
				      on_job_done, j);
}

/* RFC 8461 5: under an enforced policy only the MX hosts it names are tried, over TLS with
 * a certificate valid for them; a testing policy is logged and changes nothing. */
static void on_policy(const struct mta_sts_policy *policy, void *arg)
{
	struct job *j = arg;
	j->sts = NULL;
	size_t kept = j->target_count;
	if (policy != NULL && policy->mode == MTA_STS_ENFORCE) {
		kept = 0;
		for (size_t i = 0; i < j->target_count; i++)
			if (mta_sts_mx_matches(policy, j->targets[i].host))
				j->targets[kept++] = j->targets[i];
			else
				log_info("queue outbound domain=%s mx=%s left out: not in its MTA-STS policy",
					 j->domain, j->targets[i].host);
	} else if (policy != NULL) {
		log_info("queue outbound domain=%s mta-sts=testing: delivered as without a policy",
			 j->domain);
	}
	if (kept == 0) {
		char *diag = xasprintf("%s: no MX host matches the domain's MTA-STS policy", j->domain);
		job_fail_all(j, 451, "4.7.0", diag);
		free(diag);
		return;
	}
	job_connect(j, j->targets, kept, policy != NULL && policy->mode == MTA_STS_ENFORCE);
}

static void on_route(enum dns_status status, const struct dns_target *targets, size_t count,
		     const char *error, void *arg)
{
	struct job *j = arg;
	struct queue_runner *qr = j->qr;
	j->routing = false;
	char *diag = xasprintf("%s: %s", j->domain, error != NULL ? error : "");
	switch (status) {
	case DNS_OK:
		if (*qr->relay_host != '\0') {
			job_connect(j, targets, count, false);
			break;
		}
		/* RFC 8461 5.1: the policy of the recipient domain decides which of them may go. */
		j->targets = xmalloc(count * sizeof(*targets));
		memcpy(j->targets, targets, count * sizeof(*targets));
		j->target_count = count;
		j->sts = mta_sts_cache_lookup(qr->sts, qr->dns, j->domain, on_policy, j);
		break;
	case DNS_NO_DOMAIN:
		/* RFC 3463: X.1.2 bad destination system address. */
		job_fail_all(j, 550, "5.1.2", diag);
		break;
	case DNS_NULL_MX:
		/* RFC 7505 4.2: 550 5.1.10 recipient address has null MX. */
		job_fail_all(j, 550, "5.1.10", diag);
		break;
	case DNS_NO_DATA: /* never from a route */
	case DNS_TEMPFAIL:
		job_fail_all(j, 451, "4.4.3", diag);
		break;
	}
	free(diag);
}

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->msg_count; i++) {
		inflight_drop(j->qr, j->msgs[i].m->row);
		queue_msg_free(&j->msgs[i].m);
		buf_free(&j->msgs[i].body);
		bounce_rcpts_free(j->failures[i].rcpts, j->failures[i].count);
		bounce_rcpts_free(j->failures[i].delayed, j->failures[i].delayed_count);
	}
	mta_sts_cache_cancel(&j->sts);
	free(j->targets);
	free(j->msgs);
	free(j->failures);
	free(j->unreadable);
	free(j);
}

/* ---- scheduling ---- */

static const char *rcpt_domain(const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL ? at + 1 : "";
}

static int domain_jobs(struct queue_runner *qr, const char *domain)
{
	int n = 0;
	for (struct job *j = qr->jobs; j != NULL; j = j->next)
		n += strcasecmp(j->domain, domain) == 0;
	return n;
}

/* The open job for domain that still takes messages, or a new one when the domain is below
 * its connection limit; NULL when it is at the limit. */
static struct job *job_for(struct queue_runner *qr, struct job **fresh, const char *domain)
{
	for (struct job *j = *fresh; j != NULL; j = j->next)
		if (strcasecmp(j->domain, domain) == 0 && j->msg_count < JOB_MAX_MESSAGES)
			return j;
	int busy = domain_jobs(qr, domain);
	for (struct job *j = *fresh; j != NULL; j = j->next)
		busy += strcasecmp(j->domain, domain) == 0;
	if (busy >= qr->max_per_domain)
		return NULL;
	struct job *j = xcalloc(1, sizeof(*j));
	j->qr = qr;
	snprintf(j->domain, sizeof(j->domain), "%s", domain);
	snprintf(j->hostname, sizeof(j->hostname), "%s", qr->hostname);
	j->next = *fresh;
	*fresh = j;
	return j;
}

/* Adds to job j a copy of m holding only the recipients of domain (its file is read later). */
static void job_add(struct queue_runner *qr, struct job *j, const struct queue_msg *m,
		    const char *domain)
{
	struct queue_msg *c = xcalloc(1, sizeof(*c));
	c->row = m->row;
	c->queue_id = xstrdup(m->queue_id);
	c->sender = xstrdup(m->sender);
	c->envid = m->envid != NULL ? xstrdup(m->envid) : NULL;
	c->ret = m->ret;
	c->arrival = m->arrival;
	c->body_path = xstrdup(m->body_path);
	c->size = m->size;
	c->local_origin = m->local_origin;
	c->arc_results = m->arc_results != NULL ? xstrdup(m->arc_results) : NULL;
	for (size_t i = 0; i < m->rcpt_count; i++) {
		const struct queue_rcpt *r = &m->rcpts[i];
		if (*qr->relay_host == '\0' && strcasecmp(rcpt_domain(r->recipient), domain) != 0)
			continue;
		c->rcpts = xrealloc(c->rcpts, (c->rcpt_count + 1) * sizeof(*c->rcpts));
		struct queue_rcpt *q = &c->rcpts[c->rcpt_count++];
		*q = *r;
		q->recipient = xstrdup(r->recipient);
		q->orcpt = r->orcpt != NULL ? xstrdup(r->orcpt) : NULL;
		q->last_error = r->last_error != NULL ? xstrdup(r->last_error) : NULL;
	}
	j->msgs = xrealloc(j->msgs, (j->msg_count + 1) * sizeof(*j->msgs));
	j->failures = xrealloc(j->failures, (j->msg_count + 1) * sizeof(*j->failures));
	j->msgs[j->msg_count].m = c;
	buf_init(&j->msgs[j->msg_count].body);
	j->failures[j->msg_count] = (struct job_msg_failures){ 0 };
	j->msg_count++;
	bool found = false;
	for (size_t i = 0; i < qr->inflight_count && !found; i++)
		if (qr->inflight[i].row == m->row) {
			qr->inflight[i].jobs++;
			found = true;
		}
	if (!found) {
		qr->inflight = xrealloc(qr->inflight, (qr->inflight_count + 1) * sizeof(*qr->inflight));
		qr->inflight[qr->inflight_count++] = (struct inflight){ m->row, 1 };
	}
}

/* On a store worker: the message files of a new job, those written here signed (DKIM) as
 * they will be sent, so the signatures' crypto stays off the loop. Mail relayed from other
 * servers (a forward) is never DKIM-signed, its From is not ours to vouch for; it is sealed
 * (ARC) with what our checks found when it arrived. */
static void job_read(struct store *st, void *arg)
{
	struct job *j = arg;
	j->unreadable = xcalloc(j->msg_count, sizeof(*j->unreadable));
	time_t now = time(NULL);
	for (size_t i = 0; i < j->msg_count; i++) {
		char *error = NULL;
		if (store_queue_read_body(st, j->msgs[i].m, &j->msgs[i].body, &error) < 0) {
			log_error("queue=%s cannot read the message file: %s", j->msgs[i].m->queue_id, error);
			free(error);
			j->unreadable[i] = true;
			continue;
		}
		const struct queue_msg *m = j->msgs[i].m;
		if (m->local_origin)
			outbound_dkim_sign(st, m->queue_id, &j->msgs[i].body, now);
		else if (m->arc_results != NULL)
			outbound_arc_seal(st, m->queue_id, j->hostname, m->arc_results, &j->msgs[i].body, now);
	}
}

/* Back on the loop: the messages whose file could not be read wait for the next poll, and
 * the job is routed. */
static void job_read_done(void *arg)
{
	struct job *j = arg;
	struct queue_runner *qr = j->qr;
	j->reading = false;
	size_t kept = 0;
	for (size_t i = 0; i < j->msg_count; i++) {
		if (!j->unreadable[i]) {
			j->msgs[kept] = j->msgs[i];
			j->failures[kept++] = j->failures[i];
			continue;
		}
		inflight_drop(qr, j->msgs[i].m->row);
		queue_msg_free(&j->msgs[i].m);
		buf_free(&j->msgs[i].body);
	}
	j->msg_count = kept;
	if (j->msg_count == 0 || qr->stopping) {
		struct job **pp = &qr->jobs;
		while (*pp != j)
			pp = &(*pp)->next;
		*pp = j->next;
		job_free(j);
		return;
	}
	j->routing = true;
	if (*qr->relay_host != '\0')
		dns_route(qr->dns, qr->relay_host, qr->relay_port, qr->relay_mx, on_route, j);
	else
		dns_route(qr->dns, j->domain, qr->port, 1, on_route, j);
}

/* A poll: the recipients due, of messages no job holds. */
struct poll {
	struct queue_runner *qr;
	int64_t *skip;
	size_t skip_count;
	struct queue_msg **due;
	size_t n;
	int status;
	char *error;
};

static void poll_read(struct store *st, void *arg)
{
	struct poll *p = arg;
	p->status = store_queue_due(st, time(NULL), 1000, p->skip, p->skip_count, &p->due, &p->n,
				    &p->error);
}

/* Back on the loop: the due messages go into jobs, each domain (or the relayhost) at most
 * outbound.max_connections_per_domain at a time; their files are then read. */
static void poll_done(void *arg)
{
	struct poll *p = arg;
	struct queue_runner *qr = p->qr;
	qr->polling = false;
	struct job *fresh = NULL;
	if (p->status < 0)
		log_error("queue poll failed: %s", p->error);
	for (size_t i = 0; i < p->n && !qr->stopping; i++) {
		struct queue_msg *m = p->due[i];
		strlist domains;
		strlist_init(&domains);
		for (size_t k = 0; k < m->rcpt_count; k++)
			strlist_add_unique(&domains, *qr->relay_host != '\0' ? qr->relay_host
								     : rcpt_domain(m->rcpts[k].recipient));
		for (size_t k = 0; k < domains.count; k++) {
			struct job *j = job_for(qr, &fresh, domains.items[k]);
			if (j != NULL)
				job_add(qr, j, m, domains.items[k]);
		}
		strlist_free(&domains);
	}
	queue_msgs_free(p->due, p->n);
	free(p->skip);
	free(p->error);
	free(p);
	while (fresh != NULL) {
		struct job *j = fresh;
		fresh = j->next;
		j->next = qr->jobs;
		qr->jobs = j;
		j->reading = true;
		store_workers_submit(qr->sw, job_read, job_read_done, j);
	}
}

static void queue_poll(struct queue_runner *qr)
{
	if (qr->polling)
		return; /* the next tick asks again */
	struct poll *p = xcalloc(1, sizeof(*p));
	p->qr = qr;
	p->skip = xcalloc(qr->inflight_count + 1, sizeof(*p->skip));
	p->skip_count = qr->inflight_count;
	for (size_t i = 0; i < qr->inflight_count; i++)
		p->skip[i] = qr->inflight[i].row;
	qr->polling = true;
	store_workers_submit(qr->sw, poll_read, poll_done, p);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct queue_runner *qr = arg;
	if (!qr->stopping)
		queue_poll(qr);
}

struct queue_runner *queue_runner_new(struct event_base *base, const struct config *cfg,
				      struct store *st, struct store_workers *sw,
				      struct committer *cm, char **error_r)
{
	struct queue_runner *qr = xcalloc(1, sizeof(*qr));
	qr->base = base;
	qr->st = st;
	qr->sw = sw;
	qr->cm = cm;
	qr->resolvers = xstrdup("");
	qr->tls = tls_client_context(error_r);
	if (qr->tls != NULL)
		qr->verify_tls = tls_verifying_client_context(config_str(cfg, "outbound.tls_ca_file"),
							      error_r);
	if (qr->verify_tls == NULL || queue_runner_configure(qr, cfg, error_r) < 0) {
		queue_runner_free(&qr);
		return NULL;
	}
	qr->sts = mta_sts_cache_new(base, qr->verify_tls, (int)config_int(cfg, "outbound.mta_sts_port"));
	qr->poll_ev = event_new(base, -1, EV_PERSIST, on_poll, qr);
	struct timeval tv = { POLL_SECONDS, 0 };
	event_add(qr->poll_ev, &tv);
	event_active(qr->poll_ev, 0, 0);
	log_info("queue runner started relayhost=%s", *qr->relay_host != '\0' ? qr->relay_host : "none");
	return qr;
}

void queue_runner_stop(struct queue_runner *qr)
{
	qr->stopping = true;
	if (qr->poll_ev != NULL)
		event_del(qr->poll_ev);
	/* Connections end now; routes in progress end when the resolver goes. */
	struct job *j = qr->jobs;
	while (j != NULL) {
		struct job *next = j->next;
		if (j->client != NULL)
			smtp_client_abort(j->client);
		if (j->sts != NULL) {
			mta_sts_cache_cancel(&j->sts);
			job_fail_all(j, 451, "4.4.3", "the server is stopping");
		}
		j = next;
	}
}

void queue_runner_free(struct queue_runner **qrp)
{
	struct queue_runner *qr = *qrp;
	if (qr == NULL)
		return;
	queue_runner_stop(qr);
	dns_free(&qr->dns); /* answers the routes still out, which ends their jobs */
	while (qr->writing > 0) /* their last outcomes, on the store workers */
		event_base_loop(qr->base, EVLOOP_ONCE);
	if (qr->poll_ev != NULL)
		event_free(qr->poll_ev);
	mta_sts_cache_free(&qr->sts);
	SSL_CTX_free(qr->tls);
	SSL_CTX_free(qr->verify_tls);
	free(qr->inflight);
	free(qr->hostname);
	free(qr->data_dir);
	free(qr->delimiter);
	free(qr->relay_host);
	free(qr->relay_user);
	free(qr->relay_pass);
	free(qr->resolvers);
	free(qr);
	*qrp = NULL;
}
