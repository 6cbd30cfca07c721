/* IDLE (RFC 2177): the client waits and the server pushes changes. The session looks at its
 * folder's highestmodseq twice a second while idling (one primary-key lookup), and syncs only
 * when it moved, so mail delivered by SMTP or changes made by another session show up within a
 * second. A wake-up from the committer instead of the timer is for later. */
#include "imap/imap.h"
#include "core/xalloc.h"
#include <event2/event.h>
#include <stdlib.h>
#include <strings.h>

static void idle_tick(evutil_socket_t fd, short what, void *arg)
{
	struct imap_session *s = arg;
	uint64_t modseq;
	char *error = NULL;
	if (s->state != IMAP_STATE_SELECTED)
		return;
	if (store_folder_modseq(s->server->store, s->box.folder_id, &modseq, &error) <= 0) {
		free(error);
		return;
	}
	if (modseq != s->box.modseq)
		imap_mailbox_sync(s, true);
}

/* idle = "IDLE" CRLF "DONE" */
void imap_cmd_idle(struct imap_session *s, const struct imap_cmd *cmd)
{
	free(s->tag);
	s->tag = xstrdup(cmd->tag);
	s->wait = IMAP_WAIT_IDLE;
	imap_mailbox_sync(s, true);
	imap_reply(s, "+ idling");
	if (s->idle_timer == NULL)
		s->idle_timer = event_new(s->server->host.base, -1, EV_PERSIST, idle_tick, s);
	struct timeval tv = { 0, 500000 };
	event_add(s->idle_timer, &tv);
}

void imap_idle_line(struct imap_session *s, const char *line, size_t len)
{
	event_del(s->idle_timer);
	s->wait = IMAP_WAIT_NONE;
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
		imap_tagged(s, s->tag, "OK IDLE terminated");
	else
		imap_tagged(s, s->tag, "BAD Expected DONE");
}
