/* COPY and MOVE, with their UID forms (RFC 3501 6.4.7, RFC 6851, COPYUID of RFC 4315 4). The
 * copies share the message files; MOVE removes the originals in the same transaction and
 * then announces them expunged. */
#include "imap/imap.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

/* Appends "a,b,c" for the non-zero entries of uids (those of src when dst has them). */
static void uid_list(buf *out, const uint32_t *uids, const uint32_t *filter, size_t n)
{
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (filter[i] == 0)
			continue;
		buf_printf(out, "%s%u", first ? "" : ",", uids[i]);
		first = false;
	}
}

/* copy = "COPY" SP sequence-set SP mailbox
 * move = "MOVE" SP sequence-set SP mailbox   (RFC 6851 3.1) */
void imap_cmd_copy(struct imap_session *s, const struct imap_cmd *cmd)
{
	bool move = strcmp(cmd->name, "MOVE") == 0;
	const char *set = imap_arg_astring(&cmd->args[0]);
	char *name = imap_arg_mailbox(s, &cmd->args[1]);
	size_t *idx = NULL, n = 0;
	if (set == NULL || !imap_arg_is_name(s, &cmd->args[1])) {
		imap_tagged(s, cmd->tag, "BAD %s takes a sequence set and a mailbox", cmd->name);
		free(name);
		return;
	}
	if (name == NULL) {
		imap_mailbox_refused(s, cmd, &cmd->args[1], "[CANNOT] Invalid mailbox name");
		return;
	}
	if (move && s->box.read_only) {
		imap_tagged(s, cmd->tag, "NO [READ-ONLY] Mailbox is read-only");
		free(name);
		return;
	}
	if (imap_seqset_indexes(s, cmd, set, &idx, &n) < 0) {
		free(name);
		return;
	}
	struct folder f = { 0 };
	char *error = NULL;
	int r = store_folder_get(s->store, s->user_id, name, &f, &error);
	uint32_t *src = xcalloc(n + 1, sizeof(*src)), *dst = xcalloc(n + 1, sizeof(*dst));
	uint32_t uidvalidity = 0;
	uint64_t octets = 0;
	for (size_t i = 0; i < n; i++) {
		src[i] = s->box.messages[idx[i]].uid;
		octets += s->box.messages[idx[i]].size;
	}
	/* A move within the account adds nothing to its usage, unless it leaves a folder that
	 * does not count for one that does. */
	bool adds = !move || s->box.uncounted;
	if (r > 0 && n > 0 && adds && imap_quota_refuses(s, cmd, f.special_use, octets, n))
		r = -2; /* answered */
	if (r > 0)
		r = store_messages_copy(s->store, s->box.folder_id, f.id, src, n, move, dst,
					&uidvalidity, &error);
	if (r == -2) {
	} else if (r < 0) {
		log_error("session=%s imap %s failed: %s", conn_id(s->conn), cmd->name, error);
		free(error);
		imap_tagged(s, cmd->tag, "NO [SERVERBUG] Internal error, try again later");
	} else if (f.id == 0) {
		imap_tagged(s, cmd->tag, "NO %s", imap_missing_mailbox(name));
	} else {
		buf code;
		buf_init(&code);
		if (r > 0) {
			buf_printf(&code, "[COPYUID %u ", uidvalidity);
			uid_list(&code, src, dst, n);
			buf_putc(&code, ' ');
			uid_list(&code, dst, dst, n);
			buf_puts(&code, "] ");
		}
		if (move) {
			/* RFC 6851 4.3: COPYUID in an untagged OK before the EXPUNGEs */
			if (code.len > 0)
				imap_reply(s, "* OK %sMoved", code.data);
			imap_mailbox_sync(s, true);
			imap_tagged(s, cmd->tag, "OK %sMOVE completed", cmd->uid ? "UID " : "");
		} else {
			imap_mailbox_sync(s, cmd->expunges);
			imap_tagged(s, cmd->tag, "OK %s%sCOPY completed", code.data, cmd->uid ? "UID " : "");
		}
		buf_free(&code);
	}
	folder_clear(&f);
	free(name);
	free(src);
	free(dst);
	free(idx);
}
