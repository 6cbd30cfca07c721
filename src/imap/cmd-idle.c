/* IDLE (RFC 2177): the client waits and the server pushes changes. Sessions in IDLE are on the
 * server's list of idlers; a delivery committed for their account (the committer's watch) or a
 * change made by another IMAP session of the account wakes them at once, and they sync on a
 * store worker. A slow timer (IDLE_POLL_SECONDS) also looks at the folder's highestmodseq,
 * for changes no one announces (POP3 deletions, the admin command line). */
#include "imap/imap.h"
#include "core/xalloc.h"
#include <event2/event.h>
#include <stdlib.h>
#include <strings.h>

#define IDLE_POLL_SECONDS 5

/* Syncs an idling session when its folder moved: one primary-key lookup when it did not. */
void imap_idle_check(struct imap_session *s)
{
	uint64_t modseq;
	char *error = NULL;
	if (s->state != IMAP_STATE_SELECTED)
		return;
	int r = store_folder_modseq(s->store, s->box.folder_id, &modseq, &error);
	free(error);
	if (r == 0 || (r > 0 && modseq != s->box.modseq)) /* gone, or changed */
		imap_mailbox_sync(s, true);
}

static void idle_tick(evutil_socket_t fd, short what, void *arg)
{
	imap_job_sync(arg);
}

static void idlers_remove(struct imap_session *s)
{
	struct imap_server *srv = s->server;
	if (s->idle_prev != NULL)
		s->idle_prev->idle_next = s->idle_next;
	else if (srv->idlers == s)
		srv->idlers = s->idle_next;
	if (s->idle_next != NULL)
		s->idle_next->idle_prev = s->idle_prev;
	s->idle_prev = s->idle_next = NULL;
}

void imap_wake_idlers(struct imap_server *srv, int64_t account_id, const struct imap_session *except)
{
	for (struct imap_session *s = srv->idlers, *next; s != NULL; s = next) {
		next = s->idle_next;
		if (s != except && s->user_id == account_id)
			imap_job_sync(s);
	}
}

void imap_wake_idlers_of(struct imap_server *srv, int64_t account_id)
{
	imap_wake_idlers(srv, account_id, NULL);
}

void imap_server_delivered(const struct delivery *d, void *arg)
{
	for (size_t i = 0; i < d->local_count; i++)
		imap_wake_idlers(arg, d->local[i].account_id, NULL);
}

/* On the loop, once IDLE's first sync and its "+ idling" are written: the session waits for
 * DONE among the idlers. What changed since that sync, before it joined them, is looked at
 * at once. */
static void idle_begin(struct imap_session *s, void *arg)
{
	if (s->gone) {
		imap_session_resume(s); /* frees it */
		return;
	}
	s->wait = IMAP_WAIT_IDLE;
	struct imap_server *srv = s->server;
	s->idle_next = srv->idlers;
	if (s->idle_next != NULL)
		s->idle_next->idle_prev = s;
	srv->idlers = s;
	if (s->idle_timer == NULL)
		s->idle_timer = event_new(srv->host.base, -1, EV_PERSIST, idle_tick, s);
	struct timeval tv = { IDLE_POLL_SECONDS, 0 };
	event_add(s->idle_timer, &tv);
	imap_job_sync(s);
}

/* idle = "IDLE" CRLF "DONE"; on a store worker */
void imap_cmd_idle(struct imap_session *s, const struct imap_cmd *cmd)
{
	free(s->tag);
	s->tag = xstrdup(cmd->tag);
	imap_mailbox_sync(s, true);
	imap_reply(s, "+ idling");
	imap_job_then(s, idle_begin, NULL);
}

void imap_idle_end(struct imap_session *s)
{
	if (s->idle_timer != NULL)
		event_del(s->idle_timer);
	idlers_remove(s);
}

void imap_idle_line(struct imap_session *s, const char *line, size_t len)
{
	imap_idle_end(s);
	s->wait = IMAP_WAIT_NONE;
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
		imap_tagged(s, s->tag, "OK IDLE terminated");
	else
		imap_tagged(s, s->tag, "BAD Expected DONE");
}
