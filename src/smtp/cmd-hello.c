/* HELO and EHLO (RFC 5321 4.1.1.1): the client names itself; EHLO lists our extensions.
 * Replies to them carry no enhanced status code (RFC 2034 3). */
#include "smtp/smtp.h"
#include "auth/sasl.h"
#include "core/xalloc.h"
#include <stdlib.h>

/* The argument must be one printable word. Its form is not checked further: RFC 5321 4.1.4
 * forbids refusing mail for a HELO name that does not match, and real clients send names that
 * are not strictly Domain syntax (underscores, bare host names), which Postfix accepts too. */
static bool hello_arg_valid(const char *arg, size_t len)
{
	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)arg[i] <= 0x20 || (unsigned char)arg[i] == 0x7f)
			return false;
	return true;
}

static bool hello(struct smtp_session *s, const char *arg, size_t len, bool esmtp)
{
	if (!hello_arg_valid(arg, len)) {
		smtp_reply(s, "501 Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		return false;
	}
	smtp_tx_reset(s);
	free(s->helo);
	s->helo = xstrndup(arg, len);
	s->esmtp = esmtp;
	s->state = SMTP_STATE_READY;
	if (s->dns_check != NULL)
		client_dns_helo(s->dns_check, s->server->dns, s->helo);
	return true;
}

/* helo = "HELO" SP Domain CRLF */
void cmd_helo(struct smtp_session *s, const char *arg, size_t len)
{
	if (hello(s, arg, len, false))
		smtp_reply(s, "250 %s", s->server->host.hostname);
}

/* ehlo = "EHLO" SP ( Domain / address-literal ) CRLF */
void cmd_ehlo(struct smtp_session *s, const char *arg, size_t len)
{
	if (!hello(s, arg, len, true))
		return;
	struct smtp_server *srv = s->server;
	smtp_reply(s, "250-%s Hello %s [%s]", srv->host.hostname, s->helo, conn_peer_ip(s->conn));
	smtp_reply(s, "250-PIPELINING");
	smtp_reply(s, "250-SIZE %llu", (unsigned long long)srv->max_message_size);
	smtp_reply(s, "250-8BITMIME");
	smtp_reply(s, "250-SMTPUTF8");
	smtp_reply(s, "250-ENHANCEDSTATUSCODES");
	if (srv->host.tls != NULL && !conn_is_tls(s->conn))
		smtp_reply(s, "250-STARTTLS");
	if (s->service->mode == SMTP_MODE_SUBMISSION && s->user == NULL && smtp_auth_allowed(s)) {
		buf mechs;
		buf_init(&mechs);
		for (size_t i = 0; sasl_mechanisms[i] != NULL; i++)
			buf_printf(&mechs, " %s", sasl_mechanisms[i]);
		smtp_reply(s, "250-AUTH%s", mechs.data);
		buf_free(&mechs);
	}
	smtp_reply(s, "250-DSN");
	smtp_reply(s, "250-ETRN");
	smtp_reply(s, "250 CHUNKING");
}
