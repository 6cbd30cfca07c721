/* QUOTA (RFC 9208): one quota root per account, named "", with the resources STORAGE (in
 * units of 1024 octets) and MESSAGE; every folder of the account is under it, but for Trash
 * and Junk when quota.exclude_trash_junk leaves them out. Limits are the administrator's
 * (estafeta user quota), so SETQUOTA is refused and QUOTASET not announced. The check every
 * command that adds messages makes is here too. */
#include "imap/imap.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <inttypes.h>
#include <stdlib.h>

/* The account's quota, or false after answering NO [SERVERBUG]. */
static bool quota_of(struct imap_session *s, const struct imap_cmd *cmd, struct quota *q)
{
	char *error = NULL;
	if (store_quota_get(s->store, s->user_id, s->server->quota_exclude_trash_junk, q,
			    &error) > 0)
		return true;
	log_error("session=%s imap quota failed: %s", conn_id(s->conn), error != NULL ? error : "no account");
	free(error);
	imap_tagged(s, cmd->tag, "NO [SERVERBUG] Internal error, try again later");
	return false;
}

static bool has_limits(const struct quota *q)
{
	return q->storage_limit >= 0 || q->message_limit >= 0;
}

/* quota-response = "QUOTA" SP astring SP quota-list: the resources that have a limit */
static void quota_response(struct imap_session *s, const struct quota *q)
{
	buf line;
	buf_init(&line);
	buf_puts(&line, "* QUOTA \"\" (");
	if (q->storage_limit >= 0)
		buf_printf(&line, "STORAGE %" PRIu64 " %" PRId64, (q->storage_used + 1023) / 1024,
			   q->storage_limit / 1024);
	if (q->message_limit >= 0)
		buf_printf(&line, "%sMESSAGE %" PRIu64 " %" PRId64, q->storage_limit >= 0 ? " " : "",
			   q->messages_used, q->message_limit);
	buf_putc(&line, ')');
	imap_reply(s, "%s", line.data);
	buf_free(&line);
}

/* getquota = "GETQUOTA" SP quota-root-name */
void imap_cmd_getquota(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *root = imap_arg_astring(&cmd->args[0]);
	struct quota q;
	if (root == NULL) {
		imap_tagged(s, cmd->tag, "BAD GETQUOTA takes a quota root name");
	} else if (*root != '\0') {
		imap_tagged(s, cmd->tag, "NO No such quota root");
	} else if (quota_of(s, cmd, &q)) {
		quota_response(s, &q);
		imap_tagged(s, cmd->tag, "OK GETQUOTA completed");
	}
}

/* getquotaroot = "GETQUOTAROOT" SP mailbox: QUOTAROOT with the roots of the mailbox (none when
 * the account has no limit or the folder does not count), then their QUOTA */
void imap_cmd_getquotaroot(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (!imap_arg_is_name(s, &cmd->args[0])) {
		imap_tagged(s, cmd->tag, "BAD GETQUOTAROOT takes a mailbox");
		return;
	}
	char *name = imap_arg_mailbox(s, &cmd->args[0]);
	if (name == NULL) {
		imap_mailbox_refused(s, cmd, &cmd->args[0], "[CANNOT] Invalid mailbox name");
		return;
	}
	struct folder f = { 0 };
	struct quota q;
	char *error = NULL;
	int r = store_folder_get(s->store, s->user_id, name, &f, &error);
	if (r < 0) {
		log_error("session=%s imap getquotaroot failed: %s", conn_id(s->conn), error);
		free(error);
		imap_tagged(s, cmd->tag, "NO [SERVERBUG] Internal error, try again later");
	} else if (r == 0) {
		imap_tagged(s, cmd->tag, "NO [NONEXISTENT] No such mailbox");
	} else if (quota_of(s, cmd, &q)) {
		bool rooted = has_limits(&q) &&
			      quota_counts_folder(f.special_use, s->server->quota_exclude_trash_junk);
		buf line;
		buf_init(&line);
		buf_puts(&line, "* QUOTAROOT ");
		imap_write_mailbox(s, &line, f.name);
		if (rooted)
			buf_puts(&line, " \"\"");
		imap_reply(s, "%s", line.data);
		buf_free(&line);
		if (rooted)
			quota_response(s, &q);
		imap_tagged(s, cmd->tag, "OK GETQUOTAROOT completed");
	}
	folder_clear(&f);
	free(name);
}

/* setquota = "SETQUOTA" SP quota-root-name SP setquota-list */
void imap_cmd_setquota(struct imap_session *s, const struct imap_cmd *cmd)
{
	imap_tagged(s, cmd->tag, "NO [NOPERM] Quotas are set by the administrator");
}

bool imap_quota_refuses(struct imap_session *s, const struct imap_cmd *cmd, const char *special_use,
			uint64_t octets, uint64_t messages)
{
	struct quota q;
	if (!quota_counts_folder(special_use, s->server->quota_exclude_trash_junk))
		return false;
	if (!quota_of(s, cmd, &q))
		return true;
	if (quota_allows(&q, octets, messages))
		return false;
	imap_tagged(s, cmd->tag, "NO [OVERQUOTA] Quota exceeded (mailbox full)");
	return true;
}
