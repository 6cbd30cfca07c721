/* STARTTLS (RFC 3207): switch the connection to TLS, then start over as if just greeted. */
#include "smtp/smtp.h"
#include "core/log.h"
#include <stdlib.h>

/* starttls = "STARTTLS" CRLF */
void cmd_starttls(struct smtp_session *s, const char *arg, size_t len)
{
	if (conn_is_tls(s->conn)) {
		smtp_reply(s, "503 5.5.1 TLS already active");
		return;
	}
	if (s->server->host.tls == NULL) {
		smtp_reply(s, "454 4.7.0 TLS not available due to temporary reason");
		return;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	if (conn_start_tls(s->conn, s->server->host.tls) < 0) {
		log_error("session=%s smtp starttls failed", conn_id(s->conn));
		smtp_session_close(s);
		return;
	}
	/* RFC 3207 4.2: forget everything learnt before TLS, the EHLO name included. */
	smtp_tx_reset(s);
	free(s->helo);
	s->helo = NULL;
	free(s->user);
	s->user = NULL;
	s->esmtp = false;
	s->state = SMTP_STATE_INIT;
}
