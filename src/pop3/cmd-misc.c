/* The commands valid outside one state's work: CAPA (RFC 2449 5), STLS (RFC 2595 4) and QUIT
 * (RFC 1939 4 and 6), whose UPDATE state removes the messages marked with DELE. */
#include "pop3/pop3.h"
#include "auth/sasl.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdlib.h>

/* capa = "CAPA" CRLF. The same list in both states (RFC 2449 5), except STLS, which names a
 * command "permitted in the current state" (RFC 2595 4). USER and SASL appear only where
 * passwords may be sent (RFC 5034 4: no plaintext mechanism before TLS). */
void pop3_cmd_capa(struct pop3_session *s, const struct pop3_command *cmd)
{
	buf out;
	buf_init(&out);
	buf_puts(&out, "+OK Capability list follows\r\nTOP\r\nUIDL\r\n");
	if (pop3_auth_allowed(s)) {
		buf_puts(&out, "USER\r\nSASL");
		for (size_t i = 0; sasl_mechanisms[i] != NULL; i++)
			buf_printf(&out, " %s", sasl_mechanisms[i]);
		buf_puts(&out, "\r\n");
	}
	if (s->state == POP3_STATE_AUTHORIZATION && !conn_is_tls(s->conn) && s->server->host.tls != NULL)
		buf_puts(&out, "STLS\r\n");
	/* RFC 2449 6.5 and 6.7: nothing is deleted but by the client, and logins may come as
	 * often as the client likes. */
	buf_puts(&out, "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\n"
		       "LOGIN-DELAY 0\r\nIMPLEMENTATION estafeta\r\n.\r\n");
	conn_write(s->conn, out.data, out.len);
	buf_free(&out);
}

/* stls = "STLS" CRLF */
void pop3_cmd_stls(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (conn_is_tls(s->conn)) {
		pop3_reply(s, "-ERR Command not permitted when TLS active");
		return;
	}
	if (s->server->host.tls == NULL) {
		pop3_reply(s, "-ERR [SYS/TEMP] TLS not available");
		return;
	}
	pop3_reply(s, "+OK Begin TLS negotiation now");
	if (conn_start_tls(s->conn, s->server->host.tls) < 0) {
		log_error("session=%s pop3 stls failed", conn_id(s->conn));
		pop3_session_close(s);
	}
	/* Nothing learnt before TLS is kept: a USER name was already forgotten by dispatch, and
	 * input sent before the handshake was dropped by conn_start_tls. */
}

struct expunge_job {
	int64_t folder_id;
	uint32_t *uids;
	size_t count;
	int status;
	char *error;
};

/* On a store worker: the removal commits with an fsync, which must not stall the loop. */
static void expunge_run(struct store *st, void *arg)
{
	struct expunge_job *job = arg;
	job->status = store_messages_expunge(st, job->folder_id, job->uids, job->count, &job->error);
}

static void expunge_done(struct pop3_session *s, void *arg)
{
	struct expunge_job *job = arg;
	if (job->status < 0) {
		log_error("session=%s pop3 update failed user=%s: %s", conn_id(s->conn), s->user,
			  job->error);
		pop3_reply(s, "-ERR [SYS/TEMP] Deleted messages were not removed, try again later");
	} else {
		log_info("session=%s pop3 update user=%s deleted=%zu", conn_id(s->conn), s->user,
			 job->count);
		pop3_reply(s, "+OK estafeta POP3 server signing off (%zu messages left)",
			   s->drop.count - s->drop.deleted);
	}
	free(job->uids);
	free(job->error);
	free(job);
	pop3_session_close(s);
}

/* quit = "QUIT" CRLF. From AUTHORIZATION the session just ends; from TRANSACTION it enters
 * UPDATE, removes the messages marked deleted, and answers only once that is done. */
void pop3_cmd_quit(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (s->state != POP3_STATE_TRANSACTION || s->drop.deleted == 0) {
		pop3_reply(s, "+OK estafeta POP3 server signing off%s",
			   s->state == POP3_STATE_TRANSACTION ? " (maildrop unchanged)" : "");
		pop3_session_close(s);
		return;
	}
	struct expunge_job *job = xcalloc(1, sizeof(*job));
	job->folder_id = s->drop.folder_id;
	job->uids = xcalloc(s->drop.deleted, sizeof(*job->uids));
	for (size_t i = 0; i < s->drop.count; i++)
		if (s->drop.messages[i].deleted)
			job->uids[job->count++] = s->drop.messages[i].uid;
	s->state = POP3_STATE_UPDATE;
	pop3_job_start(s, expunge_run, expunge_done, job);
}
