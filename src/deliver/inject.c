/* Deliveries built outside an SMTP session; see inject.h. */
#include "deliver/inject.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "queue/bounce.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct delivery *delivery_new(struct spool **sp, const char *sender, const char *queue_id,
			      const struct resolution *targets)
{
	struct delivery *d = xcalloc(1, sizeof(*d));
	d->body_size = spool_size(*sp);
	d->spool_path = spool_release(sp);
	d->sender = xstrdup(sender);
	d->arrival = time(NULL);
	d->queue_id = xstrdup(queue_id);
	d->local_count = targets->local_count;
	d->local = xcalloc(d->local_count, sizeof(*d->local));
	for (size_t i = 0; i < d->local_count; i++) {
		d->local[i].account_id = targets->local[i].account_id;
		d->local[i].folder = "INBOX";
		d->local[i].header_prefix = xasprintf("Return-Path: <%s>\r\nDelivered-To: %s\r\n",
						      sender, targets->local[i].address);
	}
	d->remote_count = targets->remote_count;
	d->remote = xcalloc(d->remote_count, sizeof(*d->remote));
	for (size_t i = 0; i < d->remote_count; i++) {
		const struct resolved_remote *t = &targets->remote[i];
		d->remote[i].recipient = xstrdup(t->address);
		d->remote[i].orcpt = t->orcpt != NULL ? xstrdup(t->orcpt) : NULL;
		d->remote[i].notify = t->notify;
	}
	return d;
}

/* Resolves every recipient into res; refused_r[i] for those that lead nowhere. */
static int resolve_all(const struct inject_env *env, const char *const *rcpts, size_t count,
		       bool *refused_r, struct resolution *res, char **error_r)
{
	for (size_t i = 0; i < count; i++) {
		refused_r[i] = false;
		switch (resolve_recipient(env->st, rcpts[i], env->delimiter, 0, NULL, res, error_r)) {
		case RESOLVE_OK:
			break;
		case RESOLVE_ERROR:
			return -1;
		default:
			refused_r[i] = true;
		}
	}
	return 0;
}

int inject_spool(const struct inject_env *env, const char *sender, const char *const *rcpts,
		 size_t count, struct spool **sp, const char *queue_id, bool *refused_r,
		 committer_done_fn *done, void *arg, char **error_r)
{
	struct resolution res;
	resolution_init(&res);
	int r = resolve_all(env, rcpts, count, refused_r, &res, error_r);
	if (r == 0 && res.local_count + res.remote_count > 0) {
		struct delivery *d = delivery_new(sp, sender, queue_id, &res);
		d->local_origin = true; /* sendmail's and the server's own */
		committer_submit(env->cm, d, done, arg);
		r = 1;
	} else {
		spool_discard(sp);
	}
	resolution_free(&res);
	return r;
}

int inject_message(const struct inject_env *env, const char *sender, const char *const *rcpts,
		   size_t count, const char *msg, size_t len, const char *queue_id, bool *refused_r,
		   committer_done_fn *done, void *arg, bool *full_r, char **error_r)
{
	*full_r = false;
	struct spool *sp = spool_new(env->spool_dir, full_r, error_r);
	if (sp == NULL)
		return -1;
	spool_write(sp, msg, len);
	if (spool_flush(sp, full_r, error_r) < 0) {
		spool_discard(&sp);
		return -1;
	}
	return inject_spool(env, sender, rcpts, count, &sp, queue_id, refused_r, done, arg, error_r);
}

static void bounce_committed(struct delivery *d, void *arg)
{
	if (d->status == 0)
		log_info("queue=%s bounce queued mailboxes=%zu remote=%zu", d->queue_id, d->local_count,
			 d->remote_count);
	else
		log_error("queue=%s bounce could not be stored: %s", d->queue_id, d->error);
	delivery_free(&d);
}

void inject_bounce(const struct inject_env *env, const char *hostname, const struct queue_msg *m,
		   const struct bounce_rcpt *rcpts, size_t count, const buf *original, bool delayed)
{
	if (count == 0)
		return;
	if (m->sender[0] == '\0') {
		log_info("queue=%s bounce skipped: the message is from the null sender", m->queue_id);
		return;
	}
	buf dsn;
	buf_init(&dsn);
	bounce_build(&dsn, hostname, m, rcpts, count, original, delayed);
	char *queue_id = xasprintf("%08x%08x", arc4random(), arc4random());
	const char *to = m->sender;
	bool refused, full;
	char *error = NULL, *postmaster = NULL;
	int r = inject_message(env, "", &to, 1, dsn.data, dsn.len, queue_id, &refused,
			       bounce_committed, NULL, &full, &error);
	/* A sender of ours with no mailbox (root@ or a daemon's name from cron through estafeta
	 * sendmail): the report goes to its domain's postmaster, as Postfix sends what it cannot
	 * return to the postmaster, rather than nowhere. */
	if (r == 0 && resolve_is_local(env->st, m->sender, &error) == 1) {
		postmaster = xasprintf("postmaster%s", strrchr(m->sender, '@'));
		to = postmaster;
		r = inject_message(env, "", &to, 1, dsn.data, dsn.len, queue_id, &refused,
				   bounce_committed, NULL, &full, &error);
	}
	if (r == 1)
		log_info("queue=%s %s from=<> to=<%s> dsn=%s recipients=%zu", m->queue_id,
			 delayed ? "delay-warning" : "bounce", to, queue_id, count);
	else
		log_error("queue=%s bounce to=<%s> not sent: %s", m->queue_id, m->sender,
			  r < 0 ? error : "the sender's address does not exist");
	free(error);
	free(postmaster);
	free(queue_id);
	buf_free(&dsn);
}
