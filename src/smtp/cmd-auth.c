/* AUTH (RFC 4954): SASL on the submission ports. The mechanisms live in auth/sasl.c and the
 * exchange around them (base64, password checks on a worker, SCRAM credentials) in
 * auth/login.c, with the limits on failures; here are the SMTP framing (334 challenges), the
 * replies, and the per-connection limit. */
#include "smtp/smtp.h"
#include "auth/login.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

static void auth_end(struct smtp_session *s)
{
	login_exchange_free(&s->auth);
	s->state = s->helo != NULL ? SMTP_STATE_READY : SMTP_STATE_INIT;
}

/* user (as the client named it) proved account's credentials. */
static void auth_succeeded(struct smtp_session *s, const char *user, const struct account *account)
{
	login_succeeded(&s->server->login, s->conn, user);
	s->user = xstrdup(account->address);
	s->user_id = account->id;
	service_session_logged_in(&s->server->host, &s->link);
	log_info("session=%s smtp auth user=%s method=%s", conn_id(s->conn), s->user,
		 login_exchange_mechanism(s->auth));
	auth_end(s);
	smtp_reply(s, "235 2.7.0 Authentication successful");
}

static void failure_delay_over(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;
	if (!s->gone) {
		smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
		if (s->auth_failures >= s->server->login.max_failures) {
			smtp_reply(s, "421 4.7.0 %s Too many failed authentications", s->server->host.hostname);
			smtp_session_close(s);
		} else {
			s->state = s->helo != NULL ? SMTP_STATE_READY : SMTP_STATE_INIT;
		}
	}
	smtp_session_resume(s);
}

/* A failed login is answered only after a delay, which slows password guessing; after too
 * many the connection is closed. */
static void auth_failed(struct smtp_session *s, const char *user)
{
	s->auth_failures++;
	log_info("session=%s smtp auth failed user=%s ip=%s failures=%d", conn_id(s->conn),
		 user != NULL ? user : "-", conn_peer_ip(s->conn), s->auth_failures);
	auth_end(s);
	s->state = SMTP_STATE_BUSY;
	conn_pause(s->conn);
	login_failed(&s->server->login, s->conn, failure_delay_over, s);
}

static void auth_challenge(void *ctx, const char *b64)
{
	struct smtp_session *s = ctx;
	bool waited = s->state == SMTP_STATE_BUSY; /* for SCRAM's credentials */
	s->state = SMTP_STATE_AUTH;
	smtp_reply(s, "334 %s", b64);
	if (waited)
		smtp_session_resume(s); /* frees the session (and the exchange) when it has gone */
}

static void auth_wait(void *ctx)
{
	struct smtp_session *s = ctx;
	s->state = SMTP_STATE_BUSY;
	conn_pause(s->conn);
}

static void auth_done(void *ctx, enum login_outcome outcome, const char *user,
		      const struct account *account)
{
	struct smtp_session *s = ctx;
	bool waited = s->state == SMTP_STATE_BUSY;
	if (s->gone) {
		smtp_session_resume(s); /* frees the session and the exchange */
		return;
	}
	switch (outcome) {
	case LOGIN_OK:
		auth_succeeded(s, user, account);
		break;
	case LOGIN_FAILED:
		auth_failed(s, user);
		return; /* the delay resumes the session */
	case LOGIN_MALFORMED:
		s->auth_failures++;
		auth_end(s);
		smtp_reply(s, "501 5.5.4 Malformed authentication data");
		break;
	case LOGIN_UNDECODABLE:
		auth_end(s);
		smtp_reply(s, "501 5.5.2 Cannot decode response");
		break;
	case LOGIN_CANCELLED:
		auth_end(s);
		smtp_reply(s, "501 5.0.0 Authentication cancelled");
		break;
	case LOGIN_NOT_EMPTY:
		auth_end(s);
		smtp_reply(s, "501 5.5.2 Expected an empty response");
		break;
	case LOGIN_TOO_LONG:
		auth_end(s);
		smtp_reply(s, "500 5.5.6 Authentication Exchange line is too long"); /* RFC 4954 4 */
		break;
	case LOGIN_TEMPFAIL:
		log_error("session=%s smtp auth lookup failed", conn_id(s->conn));
		auth_end(s);
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		break;
	case LOGIN_REFUSED:
		auth_end(s);
		smtp_reply(s, "454 4.7.0 Too many failed authentications, try again later");
		break;
	}
	if (waited)
		smtp_session_resume(s);
}

static const struct login_exchange_ops smtp_auth_ops = {
	.challenge = auth_challenge,
	.wait = auth_wait,
	.done = auth_done,
};

/* auth-command = "AUTH" SP sasl-mech [SP initial-response] */
void cmd_auth(struct smtp_session *s, const char *arg, size_t len)
{
	if (s->service->mode != SMTP_MODE_SUBMISSION) {
		smtp_reply(s, "503 5.5.1 AUTH is offered on the submission ports only");
		return;
	}
	if (s->user != NULL) {
		smtp_reply(s, "503 5.5.1 Already authenticated");
		return;
	}
	if (!smtp_auth_allowed(s)) {
		smtp_reply(s, "538 5.7.11 Encryption required for requested authentication mechanism");
		return;
	}
	const char *sp = memchr(arg, ' ', len);
	size_t mech_len = sp != NULL ? (size_t)(sp - arg) : len;
	char *mech = xstrndup(arg, mech_len);
	s->auth = login_exchange_new(mech, &s->server->login, s->conn, &smtp_auth_ops, s);
	free(mech);
	if (s->auth == NULL) {
		smtp_reply(s, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	if (sp != NULL)
		login_exchange_start(s->auth, true, sp + 1, len - mech_len - 1);
	else
		login_exchange_start(s->auth, false, "", 0);
}

void smtp_auth_response(struct smtp_session *s, const char *line, size_t len)
{
	login_exchange_line(s->auth, line, len);
}

void smtp_auth_too_long(struct smtp_session *s)
{
	login_exchange_too_long(s->auth);
}
