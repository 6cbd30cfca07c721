/* APPEND (RFC 3501 6.3.11, APPENDUID of RFC 4315 3): a message from the client goes into a
 * mailbox the same durable way SMTP delivers one: written to a spool file, then committed by
 * the committer (fsync, rename, one transaction) before the client hears OK. A small message
 * literal is framed with the command in memory and written out; a big one (over the
 * framing's max_inline) goes to the spool file as it arrives, so a message of any size
 * (up to smtp.max_message_size) costs the server no more memory than a small one. */
#include "imap/imap.h"
#include "mail/header.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "deliver/spool.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct append {
	struct imap_session *s;
	struct delivery *d;      /* on its way to the committer, then committed */
	char *folder;            /* delivery_local.folder points here */
	int64_t folder_id;
	uint32_t uidvalidity;
	char *keywords;          /* set after the commit: deliveries carry system flags only */
};

/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE,
 * e.g. " 7-Feb-1994 21:52:25 -0800". Returns the time, or -1. */
static time_t parse_date_time(const char *s)
{
	struct tm tm = { 0 };
	char mon[4], sign;
	int zone, n = 0;
	if (sscanf(s, "%2d-%3[A-Za-z]-%4d %2d:%2d:%2d %c%4d%n", &tm.tm_mday, mon, &tm.tm_year,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &sign, &zone, &n) != 8 || s[n] != '\0' ||
	    (sign != '+' && sign != '-') || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	if ((tm.tm_mon = header_month(mon)) < 0)
		return -1;
	tm.tm_year -= 1900;
	long offset = (zone / 100 * 60 + zone % 100) * 60L;
	return timegm(&tm) - (sign == '+' ? offset : -offset);
}

static void append_free(struct append *ap)
{
	delivery_free(&ap->d);
	free(ap->folder);
	free(ap->keywords);
	free(ap);
}

/* On a store worker, once committed: the keywords, and the answer. */
static void append_finish(struct imap_session *s, void *arg)
{
	struct append *ap = arg;
	struct delivery *d = ap->d;
	uint32_t uid = d->local_count > 0 ? d->local[0].uid_r : 0;
	if (d->status == 0 && ap->keywords != NULL) {
		struct flag_update up = { uid, d->local[0].flags, ap->keywords };
		uint64_t modseq;
		char *error = NULL;
		if (store_flags_update(s->store, ap->folder_id, &up, 1, &modseq, &error) < 0) {
			log_error("session=%s imap append keywords lost uid=%u: %s", conn_id(s->conn), uid, error);
			free(error);
		}
	}
	/* answered also when the client has gone: its connection then writes nothing */
	if (d->status == 0) {
		log_info("session=%s imap append mailbox=%s uid=%u size=%llu", conn_id(s->conn),
			 ap->folder, uid, (unsigned long long)d->body_size);
		imap_mailbox_sync(s, true);
		imap_tagged(s, s->tag, "OK [APPENDUID %u %u] APPEND completed", ap->uidvalidity, uid);
	} else {
		log_error("session=%s imap append failed: %s", conn_id(s->conn), d->error);
		imap_tagged(s, s->tag, "NO [%s] Cannot store the message, try again later",
			    d->full ? "OVERQUOTA" : "SERVERBUG");
	}
	append_free(ap);
}

static void appended(struct delivery *d, void *arg)
{
	struct append *ap = arg;
	ap->d = d;
	imap_job_finish(ap->s, append_finish, ap);
}

/* On the loop, after the job that spooled the message: the committer takes it (fsync,
 * rename, one transaction), while the session waits. */
static void append_commit(struct imap_session *s, void *arg)
{
	struct append *ap = arg;
	if (s->server->host.stopping) {
		/* the committer may be gone: the client sends it again to the next server */
		imap_tagged(s, s->tag, "NO [UNAVAILABLE] The server is shutting down");
		append_free(ap);
		imap_session_resume(s);
		return;
	}
	s->wait = IMAP_WAIT_BUSY;
	committer_submit(s->server->committer, ap->d, appended, ap);
}

static struct spool *spool_open(struct imap_session *s, bool *full_r, char **error_r)
{
	/* on the loop (a streamed literal) or a worker: the folder is the same */
	char *tmp = xasprintf("%s/tmp", store_data_dir(s->server->store));
	struct spool *sp = spool_new(tmp, full_r, error_r);
	free(tmp);
	return sp;
}

bool imap_append_stream_begin(struct imap_session *s)
{
	bool full = false;
	char *error = NULL;
	s->literal_spool = spool_open(s, &full, &error);
	if (s->literal_spool != NULL)
		return true;
	log_error("session=%s imap append spool failed: %s", conn_id(s->conn), error);
	free(error);
	return false;
}

void imap_append_stream(struct imap_session *s, const void *data, size_t len)
{
	spool_write(s->literal_spool, data, len);
}

void imap_append_discard(struct imap_session *s)
{
	spool_discard(&s->literal_spool);
}

/* Writes the message to a spool file (or finishes the one it streamed into); the file's path,
 * or NULL after answering NO. */
static char *spool_message(struct imap_session *s, const struct imap_cmd *cmd,
			   const struct imap_arg *msg)
{
	char *error = NULL;
	bool full = false;
	struct spool *sp = s->literal_spool;
	s->literal_spool = NULL;
	if (!msg->streamed && (sp = spool_open(s, &full, &error)) != NULL)
		spool_write(sp, msg->str, msg->len);
	if (sp != NULL) {
		if (spool_flush(sp, &full, &error) == 0)
			return spool_release(&sp);
		spool_discard(&sp);
	}
	log_error("session=%s imap append spool failed: %s", conn_id(s->conn), error);
	free(error);
	imap_tagged(s, cmd->tag, "NO [%s] Cannot store the message", full ? "OVERQUOTA" : "SERVERBUG");
	return NULL;
}

/* append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP append-data
 * append-data = literal / "UTF8" SP "(" literal8 ")"   (RFC 6855 4, after ENABLE UTF8=ACCEPT)
 * Messages with 8-bit header fields are taken from every client, as Dovecot does, though
 * RFC 6855 4 would refuse them without UTF8=ACCEPT: old mail synced back (mbsync) must not
 * be lost for its age. */
void imap_cmd_append(struct imap_session *s, const struct imap_cmd *cmd)
{
	char *name = imap_arg_mailbox(s, &cmd->args[0]);
	const struct imap_arg *msg = &cmd->args[cmd->count - 1];
	size_t end = cmd->count - 1; /* where the optional arguments stop */
	if (msg->type == IMAP_ARG_LIST && end >= 2 && imap_arg_atom_is(&cmd->args[end - 1], "UTF8") &&
	    s->utf8 && msg->count == 1 && msg->list[0].literal8) {
		msg = &msg->list[0];
		end--;
	}
	const struct imap_arg *flags = NULL, *date = NULL;
	bool ok = imap_arg_is_name(s, &cmd->args[0]);
	for (size_t i = 1; i < end; i++) {
		if (cmd->args[i].type == IMAP_ARG_LIST && flags == NULL && date == NULL)
			flags = &cmd->args[i];
		else if (cmd->args[i].type == IMAP_ARG_STRING && date == NULL)
			date = &cmd->args[i];
		else
			ok = false;
	}
	uint32_t bits = 0;
	buf keywords;
	buf_init(&keywords);
	time_t when = date != NULL ? parse_date_time(date->str) : time(NULL);
	/* a streamed literal can only be the message */
	if (!ok || msg->type != IMAP_ARG_LITERAL || msg->streamed != (s->literal_spool != NULL) || when < 0 ||
	    (flags != NULL && imap_parse_flags(flags->list, flags->count, &bits, &keywords) < 0)) {
		buf_free(&keywords);
		free(name);
		imap_tagged(s, cmd->tag, "BAD APPEND takes a mailbox, flags, a date and a literal");
		return;
	}
	if (name == NULL) { /* well-formed, but no mailbox has it (RFC 3501 5.1.3) */
		buf_free(&keywords);
		imap_mailbox_refused(s, cmd, &cmd->args[0], "[CANNOT] Invalid mailbox name");
		return;
	}
	struct folder f = { 0 };
	char *error = NULL;
	int r = store_folder_get(s->store, s->user_id, name, &f, &error);
	char *path = NULL;
	if (r < 0) {
		log_error("session=%s imap append failed: %s", conn_id(s->conn), error);
		free(error);
		imap_tagged(s, cmd->tag, "NO [SERVERBUG] Internal error, try again later");
	} else if (r == 0) {
		imap_tagged(s, cmd->tag, "NO %s", imap_missing_mailbox(name));
	} else if (msg->len == 0) {
		imap_tagged(s, cmd->tag, "NO Empty message");
	} else if (imap_quota_refuses(s, cmd, f.special_use, msg->len, 1)) {
		/* answered; a streamed literal goes with the command */
	} else if ((path = spool_message(s, cmd, msg)) != NULL) {
		struct append *ap = xcalloc(1, sizeof(*ap));
		ap->s = s;
		ap->folder = xstrdup(f.name);
		ap->folder_id = f.id;
		ap->uidvalidity = f.uidvalidity;
		ap->keywords = keywords.len > 0 ? buf_steal(&keywords) : NULL;
		struct delivery *d = ap->d = xcalloc(1, sizeof(*d));
		d->spool_path = path;
		d->body_size = msg->len;
		d->sender = xstrdup("");
		d->arrival = when;
		d->queue_id = xasprintf("imap-%s", conn_id(s->conn));
		d->local_count = 1;
		d->local = xcalloc(1, sizeof(*d->local));
		d->local[0] = (struct delivery_local){ .account_id = s->user_id, .folder = ap->folder,
						       .flags = bits };
		free(s->tag);
		s->tag = xstrdup(cmd->tag);
		imap_job_then(s, append_commit, ap);
	}
	free(name);
	folder_clear(&f);
	buf_free(&keywords);
}
