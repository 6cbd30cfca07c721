/* The not-authenticated state's commands (RFC 3501 6.2): STARTTLS, LOGIN and AUTHENTICATE
 * (SASL with "+ " challenges, SASL-IR's initial response, RFC 4959). The password check, the
 * SASL exchange and the failure policy are shared with SMTP and POP3 (auth/login.c); here are
 * IMAP's framing and its response codes (RFC 5530). */
#include "imap/imap.h"
#include "auth/login.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

/* starttls = "STARTTLS" */
void imap_cmd_starttls(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (conn_is_tls(s->conn)) {
		imap_tagged(s, cmd->tag, "BAD TLS is already active");
		return;
	}
	if (s->server->host.tls == NULL) {
		imap_tagged(s, cmd->tag, "NO [UNAVAILABLE] TLS is not available");
		return;
	}
	imap_tagged(s, cmd->tag, "OK Begin TLS negotiation now");
	/* Commands pipelined after STARTTLS are dropped with the rest of the clear-text input
	 * (RFC 3501 6.2.1); so is anything the framing holds. */
	imap_frame_reset(&s->frame);
	if (conn_start_tls(s->conn, s->server->host.tls) < 0) {
		log_error("session=%s imap starttls failed", conn_id(s->conn));
		imap_session_close(s);
	}
}

/* The account (as the client named it, and as found) is proven: the session enters the
 * authenticated state. */
static void logged_in(struct imap_session *s, const char *address, const struct account *a,
		      const char *method)
{
	login_succeeded(&s->server->login, s->conn, address);
	s->user = xstrdup(a->address);
	s->user_id = a->id;
	s->state = IMAP_STATE_AUTHENTICATED;
	service_session_logged_in(&s->server->host, &s->link);
	log_info("session=%s imap login user=%s method=%s", conn_id(s->conn), s->user, method);
	buf caps;
	buf_init(&caps);
	imap_capabilities(s, &caps);
	imap_tagged(s, s->tag, "OK [CAPABILITY %s] Logged in", caps.data);
	buf_free(&caps);
}

static void failure_delay_over(evutil_socket_t fd, short what, void *arg)
{
	struct imap_session *s = arg;
	s->wait = IMAP_WAIT_NONE;
	if (!s->gone) {
		imap_tagged(s, s->tag, "NO [AUTHENTICATIONFAILED] Authentication failed");
		if (s->auth_failures >= s->server->login.max_failures) {
			imap_reply(s, "* BYE Too many failed authentications");
			imap_session_close(s);
		}
	}
	imap_session_resume(s);
}

/* A failed login is answered only after a delay, which slows password guessing; after too
 * many the connection is closed. */
static void auth_failed(struct imap_session *s, const char *user)
{
	s->auth_failures++;
	log_info("session=%s imap auth failed user=%s ip=%s failures=%d", conn_id(s->conn),
		 user != NULL ? user : "-", conn_peer_ip(s->conn), s->auth_failures);
	s->wait = IMAP_WAIT_BUSY;
	conn_pause(s->conn);
	login_failed(&s->server->login, s->conn, failure_delay_over, s);
}

/* Passwords travel only under TLS, or on loopback when auth.allow_plaintext_loopback. */
static bool refuse_login(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (!imap_auth_allowed(s)) {
		imap_tagged(s, cmd->tag, "NO [PRIVACYREQUIRED] Use STARTTLS first");
		return true;
	}
	return false;
}

/* The answer when a limit on failed logins refuses the account (login_attempt). */
static void refused(struct imap_session *s, const char *tag)
{
	imap_tagged(s, tag, "NO [UNAVAILABLE] Too many failed logins, try again later");
}

struct login_check {
	struct imap_session *s;
	char *user;
};

static void login_checked(void *arg, enum login_password_result result, const struct account *account)
{
	struct login_check *lc = arg;
	struct imap_session *s = lc->s;
	s->wait = IMAP_WAIT_NONE;
	if (s->gone) {
		imap_session_resume(s);
	} else if (result == LOGIN_PASSWORD_UNAVAILABLE) {
		imap_tagged(s, s->tag, "NO [UNAVAILABLE] Temporary authentication failure");
		imap_session_resume(s);
	} else if (result == LOGIN_PASSWORD_OK) {
		logged_in(s, lc->user, account, "login");
		imap_session_resume(s);
	} else {
		auth_failed(s, lc->user);
	}
	free(lc->user);
	free(lc);
}

/* Keeps the tag of a command answered later (after a password check or SASL exchange). */
static void keep_tag(struct imap_session *s, const struct imap_cmd *cmd)
{
	free(s->tag);
	s->tag = xstrdup(cmd->tag);
}

/* login = "LOGIN" SP userid SP password; userid = astring; password = astring */
void imap_cmd_login(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *user = imap_arg_astring(&cmd->args[0]);
	const char *password = imap_arg_astring(&cmd->args[1]);
	if (user == NULL || password == NULL) {
		imap_tagged(s, cmd->tag, "BAD LOGIN takes a user name and a password");
		return;
	}
	if (refuse_login(s, cmd))
		return;
	if (!login_attempt(&s->server->login, s->conn, user)) {
		refused(s, cmd->tag);
		return;
	}
	keep_tag(s, cmd);
	struct login_check *lc = xcalloc(1, sizeof(*lc));
	lc->s = s;
	lc->user = xstrdup(user);
	login_password_check(&s->server->login, user, password, login_checked, lc);
	s->wait = IMAP_WAIT_BUSY;
	conn_pause(s->conn);
}

static void auth_challenge(void *ctx, const char *b64)
{
	struct imap_session *s = ctx;
	bool waited = s->wait == IMAP_WAIT_BUSY; /* for SCRAM's credentials */
	s->wait = IMAP_WAIT_SASL;
	imap_reply(s, "+ %s", b64);
	if (waited)
		imap_session_resume(s); /* frees the session (and the exchange) when it has gone */
}

static void auth_wait(void *ctx)
{
	struct imap_session *s = ctx;
	s->wait = IMAP_WAIT_BUSY;
	conn_pause(s->conn);
}

static void auth_done(void *ctx, enum login_outcome outcome, const char *user_or_null,
		      const struct account *account)
{
	struct imap_session *s = ctx;
	bool waited = s->wait == IMAP_WAIT_BUSY;
	if (s->gone) {
		imap_session_resume(s); /* frees the session and the exchange */
		return;
	}
	char *user = user_or_null != NULL ? xstrdup(user_or_null) : NULL;
	const char *mechanism = login_exchange_mechanism(s->auth);
	/* the account lives in the exchange, which goes first */
	struct account proven = { 0 };
	if (account != NULL)
		proven = (struct account){ .id = account->id, .address = xstrdup(account->address) };
	login_exchange_free(&s->auth);
	s->wait = IMAP_WAIT_NONE;
	switch (outcome) {
	case LOGIN_OK:
		logged_in(s, user, &proven, mechanism);
		break;
	case LOGIN_FAILED:
		auth_failed(s, user);
		waited = false; /* the delay resumes the session */
		break;
	case LOGIN_MALFORMED:
		s->auth_failures++;
		/* the arguments were fine; the credentials in them are not (RFC 9051 6.2.2) */
		imap_tagged(s, s->tag, "NO [AUTHENTICATIONFAILED] Malformed authentication data");
		break;
	case LOGIN_UNDECODABLE:
		imap_tagged(s, s->tag, "BAD Cannot decode the response (base64)");
		break;
	case LOGIN_CANCELLED:
		imap_tagged(s, s->tag, "BAD Authentication cancelled");
		break;
	case LOGIN_NOT_EMPTY:
		imap_tagged(s, s->tag, "BAD Expected an empty response");
		break;
	case LOGIN_TOO_LONG:
		imap_tagged(s, s->tag, "BAD [TOOBIG] Authentication response too long");
		break;
	case LOGIN_TEMPFAIL:
		log_error("session=%s imap auth lookup failed", conn_id(s->conn));
		imap_tagged(s, s->tag, "NO [UNAVAILABLE] Temporary authentication failure");
		break;
	case LOGIN_REFUSED:
		refused(s, s->tag);
		break;
	}
	account_clear(&proven);
	free(user);
	if (waited)
		imap_session_resume(s);
}

static const struct login_exchange_ops imap_auth_ops = {
	.challenge = auth_challenge,
	.wait = auth_wait,
	.done = auth_done,
};

/* authenticate = "AUTHENTICATE" SP auth-type [SP (base64 / "=")] *(CRLF base64)
 * (RFC 3501 6.2.2 with RFC 4959's initial response) */
void imap_cmd_authenticate(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *mech = imap_arg_astring(&cmd->args[0]);
	const char *ir = cmd->count == 2 ? imap_arg_astring(&cmd->args[1]) : NULL;
	if (mech == NULL || (cmd->count == 2 && ir == NULL)) {
		imap_tagged(s, cmd->tag, "BAD AUTHENTICATE takes a mechanism name");
		return;
	}
	if (refuse_login(s, cmd))
		return;
	s->auth = login_exchange_new(mech, &s->server->login, s->conn, &imap_auth_ops, s);
	if (s->auth == NULL) {
		imap_tagged(s, cmd->tag, "NO Unsupported authentication mechanism");
		return;
	}
	keep_tag(s, cmd);
	if (ir != NULL)
		login_exchange_start(s->auth, true, ir, strlen(ir));
	else
		login_exchange_start(s->auth, false, "", 0);
}

void imap_auth_response(struct imap_session *s, const char *line, size_t len)
{
	login_exchange_line(s->auth, line, len);
}

void imap_auth_too_long(struct imap_session *s)
{
	login_exchange_too_long(s->auth);
}
