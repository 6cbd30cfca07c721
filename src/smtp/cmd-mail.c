/* MAIL (RFC 5321 4.1.1.2): starts a transaction. On submission the sender must be one the
 * authenticated user owns (sender_login.c), and the user within its hourly message limit. */
#include "smtp/smtp.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

static bool has_parameters(const struct smtp_mail_args *m)
{
	return m->has_size || m->body != SMTP_BODY_UNSET || m->smtputf8 ||
	       m->ret != SMTP_RET_UNSET || m->envid[0] != '\0';
}

void smtp_checks_start(struct smtp_session *s)
{
	if (s->tx == NULL || s->tx->checks != NULL || s->dns_check == NULL || s->user != NULL)
		return;
	s->tx->checks = message_checks_start(s->server->dns, conn_peer_ip(s->conn), s->helo,
					     s->tx->sender, s->server->host.hostname,
					     s->server->arc_trusted_sealers);
}

/* mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF */
void cmd_mail(struct smtp_session *s, const char *arg, size_t len)
{
	struct smtp_mail_args m;
	enum smtp_parse_error e = smtp_parse_mail(arg, len, &m);
	if (e != SMTP_PARSE_OK) {
		smtp_reply_parse_error(s, e, SMTP_PATH_SENDER);
		return;
	}
	if (!s->esmtp && has_parameters(&m)) {
		smtp_reply(s, "555 5.5.4 Parameters need EHLO");
		return;
	}
	if (m.has_size && m.size > s->server->max_message_size) {
		smtp_reply(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	char sender[ADDRESS_MAX_PATH * 4 + 4];
	if (address_format(&m.from, sender, sizeof(sender)) < 0) {
		smtp_reply_parse_error(s, SMTP_PARSE_PATH_TOO_LONG, SMTP_PATH_SENDER);
		return;
	}
	if (s->service->mode == SMTP_MODE_SUBMISSION)
		smtp_sender_aliases_read(s);
	if (s->service->mode == SMTP_MODE_SUBMISSION && !smtp_sender_owned(s, sender)) {
		smtp_reply(s, "553 5.7.1 <%s>: Sender address not owned by user %s", sender, s->user);
		return;
	}
	if (!smtp_within_hourly_limits(s, 0))
		return;
	struct smtp_tx *tx = xcalloc(1, sizeof(*tx));
	tx->sender = xstrdup(sender);
	tx->mail = m;
	resolution_init(&tx->targets);
	buf_init(&tx->header);
	buf_init(&tx->chunk);
	snprintf(tx->queue_id, sizeof(tx->queue_id), "%08x%08x", arc4random(), arc4random());
	s->tx = tx;
	s->state = SMTP_STATE_MAIL;
	if (!s->in_job)
		smtp_checks_start(s);
	/* A peer on port 25 never authenticates: its first transaction ends its login time, and
	 * from then on RFC 5321 4.5.3.2's per-command timeouts bound it. */
	smtp_logged_in(s);
	smtp_reply(s, "250 2.1.0 Ok");
}
