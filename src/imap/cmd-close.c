/* Leaving and cleaning the selected mailbox: CLOSE (RFC 3501 6.4.2), UNSELECT (RFC 3691) and
 * EXPUNGE / UID EXPUNGE (RFC 3501 6.4.3, RFC 4315 2.1). */
#include "imap/imap.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

/* Removes the messages marked \Deleted (those also in only, when given) from the store.
 * Returns 0, or -1 after logging. The session's view changes at the next sync. */
static int expunge_deleted(struct imap_session *s, const size_t *only, size_t only_count)
{
	struct imap_mailbox *b = &s->box;
	size_t n = only != NULL ? only_count : b->count;
	uint32_t *uids = xcalloc(n + 1, sizeof(*uids));
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		const struct imap_message *m = &b->messages[only != NULL ? only[i] : i];
		if (m->flags & FLAG_DELETED)
			uids[count++] = m->uid;
	}
	char *error = NULL;
	int r = store_messages_expunge(s->store, b->folder_id, uids, count, &error);
	if (r < 0) {
		log_error("session=%s imap expunge failed: %s", conn_id(s->conn), error);
		free(error);
	} else if (count > 0) {
		log_info("session=%s imap expunge mailbox=%s messages=%zu", conn_id(s->conn), b->name, count);
	}
	free(uids);
	return r;
}

/* close = "CLOSE": expunges silently when read-write, then deselects.
 * unselect = "UNSELECT": deselects without expunging. */
void imap_cmd_close(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (strcmp(cmd->name, "CLOSE") == 0 && !s->box.read_only && expunge_deleted(s, NULL, 0) < 0) {
		imap_tagged(s, cmd->tag, "NO [SERVERBUG] Cannot expunge, try again later");
		return;
	}
	imap_mailbox_close(s);
	imap_tagged(s, cmd->tag, "OK %s completed", cmd->name);
}

/* expunge     = "EXPUNGE"
 * uid-expunge = "UID" SP "EXPUNGE" SP sequence-set  (RFC 4315 2.1) */
void imap_cmd_expunge(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->uid != (cmd->count == 1)) {
		imap_tagged(s, cmd->tag, "BAD %s", cmd->uid ? "UID EXPUNGE takes a set of UIDs"
							    : "EXPUNGE takes no argument");
		return;
	}
	if (s->box.read_only) {
		imap_tagged(s, cmd->tag, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	if (s->box.deleted) { /* what is gone is announced, but nothing was expunged here */
		imap_mailbox_sync(s, true);
		imap_mailbox_gone(s, cmd);
		return;
	}
	size_t *idx = NULL, n = 0;
	const char *set = cmd->uid ? imap_arg_astring(&cmd->args[0]) : NULL;
	if (cmd->uid && (set == NULL || imap_seqset_indexes(s, cmd, set, &idx, &n) < 0)) {
		if (set == NULL)
			imap_tagged(s, cmd->tag, "BAD Invalid sequence set");
		return;
	}
	int r = expunge_deleted(s, idx, cmd->uid ? n : 0);
	free(idx);
	imap_mailbox_sync(s, true);
	if (r < 0)
		imap_tagged(s, cmd->tag, "NO [SERVERBUG] Cannot expunge, try again later");
	else
		imap_tagged(s, cmd->tag, "OK %s completed", cmd->uid ? "UID EXPUNGE" : "EXPUNGE");
}
