/* The TRANSACTION state's commands (RFC 1939 5 and 7): STAT, LIST, RETR, DELE, RSET, NOOP,
 * TOP and UIDL, all on the snapshot of INBOX taken at login. DELE only marks; the messages go
 * at QUIT (cmd-misc.c), so a dropped connection removes nothing. */
#include "pop3/pop3.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The message numbered by arg, or NULL after answering -ERR: not a number, no such message,
 * or marked as deleted ("may NOT refer to a message marked as deleted"). */
static struct pop3_message *message_arg(struct pop3_session *s, const struct pop3_arg *arg)
{
	uint32_t n;
	if (pop3_parse_number(arg, &n) < 0) {
		pop3_reply(s, "-ERR Invalid message number");
		return NULL;
	}
	if (n == 0 || n > s->drop.count) {
		pop3_reply(s, "-ERR No such message, only %zu messages in maildrop", s->drop.count);
		return NULL;
	}
	struct pop3_message *m = &s->drop.messages[n - 1];
	if (m->deleted) {
		pop3_reply(s, "-ERR Message %" PRIu32 " already deleted", n);
		return NULL;
	}
	return m;
}

static size_t number_of(const struct pop3_session *s, const struct pop3_message *m)
{
	return (size_t)(m - s->drop.messages) + 1;
}

/* RETR or TOP: the message read on a store worker, then sent. */
struct message_send {
	int64_t folder_id;
	uint32_t uid;
	size_t number;
	bool top;
	uint32_t lines;           /* TOP's */
	buf msg;                  /* the whole message (CRLF lines as stored) */
	int status;
	char *error;
};

static void message_read(struct store *st, void *arg)
{
	struct message_send *ms = arg;
	ms->status = store_message_read(st, ms->folder_id, ms->uid, &ms->msg, &ms->error);
}

static size_t top_length(const char *msg, size_t len, uint32_t lines);

static void message_send(struct pop3_session *s, void *arg)
{
	struct message_send *ms = arg;
	if (ms->status < 0) {
		log_error("session=%s pop3 cannot read uid=%" PRIu32 ": %s", conn_id(s->conn), ms->uid,
			  ms->error);
		pop3_reply(s, "-ERR [SYS/TEMP] Cannot read the message, try again later");
	} else if (ms->status == 0) {
		/* Removed since login by another client (IMAP): the snapshot still lists it. */
		pop3_reply(s, "-ERR Message %zu was removed by another session", ms->number);
	} else if (ms->top) {
		pop3_reply(s, "+OK Top of message follows");
		pop3_send_multiline(s, ms->msg.data, top_length(ms->msg.data, ms->msg.len, ms->lines));
	} else {
		pop3_reply(s, "+OK %zu octets", ms->msg.len);
		pop3_send_multiline(s, ms->msg.data, ms->msg.len);
		s->retrieved++;
	}
	buf_free(&ms->msg);
	free(ms->error);
	free(ms);
}

static void message_send_start(struct pop3_session *s, const struct pop3_message *m, bool top,
			       uint32_t lines)
{
	struct message_send *ms = xcalloc(1, sizeof(*ms));
	ms->folder_id = s->drop.folder_id;
	ms->uid = m->uid;
	ms->number = number_of(s, m);
	ms->top = top;
	ms->lines = lines;
	buf_init(&ms->msg);
	pop3_job_start(s, message_read, message_send, ms);
}

/* stat = "STAT" CRLF; response "+OK" SP count SP octets (messages marked deleted not counted) */
void pop3_cmd_stat(struct pop3_session *s, const struct pop3_command *cmd)
{
	pop3_reply(s, "+OK %zu %" PRIu64, s->drop.count - s->drop.deleted, s->drop.size);
}

typedef void listing_fn(const struct pop3_session *s, const struct pop3_message *m, buf *out);

/* scan listing = msg SP octets */
static void scan_listing(const struct pop3_session *s, const struct pop3_message *m, buf *out)
{
	buf_printf(out, "%zu %" PRIu64, number_of(s, m), m->size);
}

/* unique-id listing = msg SP unique-id; the unique-id is UIDVALIDITY.UID, which never
 * repeats in the folder and never changes (RFC 1939 7: 1 to 70 characters 0x21-0x7E). */
static void uid_listing(const struct pop3_session *s, const struct pop3_message *m, buf *out)
{
	buf_printf(out, "%zu %" PRIu32 ".%" PRIu32, number_of(s, m), s->drop.uidvalidity, m->uid);
}

/* LIST and UIDL: one listing with an argument, else every message not marked deleted. */
static void listings(struct pop3_session *s, const struct pop3_command *cmd, listing_fn *fn)
{
	buf out;
	buf_init(&out);
	if (cmd->argc == 1) {
		const struct pop3_message *m = message_arg(s, &cmd->args[0]);
		if (m != NULL) {
			fn(s, m, &out);
			pop3_reply(s, "+OK %s", out.data);
		}
	} else {
		pop3_reply(s, "+OK %zu messages (%" PRIu64 " octets)", s->drop.count - s->drop.deleted,
			   s->drop.size);
		for (size_t i = 0; i < s->drop.count; i++) {
			if (s->drop.messages[i].deleted)
				continue;
			fn(s, &s->drop.messages[i], &out);
			buf_puts(&out, "\r\n");
		}
		buf_puts(&out, ".\r\n");
		conn_write(s->conn, out.data, out.len);
	}
	buf_free(&out);
}

/* list = "LIST" [SP msg] CRLF */
void pop3_cmd_list(struct pop3_session *s, const struct pop3_command *cmd)
{
	listings(s, cmd, scan_listing);
}

/* uidl = "UIDL" [SP msg] CRLF */
void pop3_cmd_uidl(struct pop3_session *s, const struct pop3_command *cmd)
{
	listings(s, cmd, uid_listing);
}

/* retr = "RETR" SP msg CRLF */
void pop3_cmd_retr(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct pop3_message *m = message_arg(s, &cmd->args[0]);
	if (m != NULL)
		message_send_start(s, m, false, 0);
}

/* How much of msg TOP sends for lines body lines: the header section, the empty line that
 * ends it, then up to lines lines of the body (all of it when it has fewer). A message with
 * no empty line is all header. */
static size_t top_length(const char *msg, size_t len, uint32_t lines)
{
	size_t body;
	const char *end = len >= 2 && msg[0] == '\r' && msg[1] == '\n' ? msg : memmem(msg, len, "\r\n\r\n", 4);
	if (end == NULL)
		return len;
	body = (size_t)(end - msg) + (end == msg ? 2 : 4);
	while (lines > 0 && body < len) {
		const char *nl = memchr(msg + body, '\n', len - body);
		body = nl != NULL ? (size_t)(nl - msg) + 1 : len;
		lines--;
	}
	return body;
}

/* top = "TOP" SP msg SP n CRLF */
void pop3_cmd_top(struct pop3_session *s, const struct pop3_command *cmd)
{
	uint32_t lines;
	struct pop3_message *m = message_arg(s, &cmd->args[0]);
	if (m == NULL)
		return;
	if (pop3_parse_number(&cmd->args[1], &lines) < 0) {
		pop3_reply(s, "-ERR Invalid number of lines");
		return;
	}
	message_send_start(s, m, true, lines);
}

/* dele = "DELE" SP msg CRLF */
void pop3_cmd_dele(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct pop3_message *m = message_arg(s, &cmd->args[0]);
	if (m == NULL)
		return;
	m->deleted = true;
	s->drop.deleted++;
	s->drop.size -= m->size;
	pop3_reply(s, "+OK Message %zu deleted", number_of(s, m));
}

/* rset = "RSET" CRLF */
void pop3_cmd_rset(struct pop3_session *s, const struct pop3_command *cmd)
{
	for (size_t i = 0; i < s->drop.count; i++) {
		struct pop3_message *m = &s->drop.messages[i];
		if (m->deleted) {
			m->deleted = false;
			s->drop.size += m->size;
		}
	}
	s->drop.deleted = 0;
	pop3_reply(s, "+OK Maildrop has %zu messages (%" PRIu64 " octets)", s->drop.count,
		   s->drop.size);
}

/* noop = "NOOP" CRLF */
void pop3_cmd_noop(struct pop3_session *s, const struct pop3_command *cmd)
{
	pop3_reply(s, "+OK");
}
