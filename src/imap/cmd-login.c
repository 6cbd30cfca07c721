/* The not-authenticated state's commands (RFC 3501 6.2): STARTTLS, LOGIN and AUTHENTICATE
 * (SASL with "+ " challenges, SASL-IR's initial response, RFC 4959). The password check, the
 * SASL steps and the delay after a failure are shared with SMTP and POP3 (auth/login.c); here
 * are IMAP's framing and its response codes (RFC 5530). */
#include "imap/imap.h"
#include "auth/login.h"
#include "auth/sasl.h"
#include "core/base64.h"
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
	if (s->server->tls == NULL) {
		imap_tagged(s, cmd->tag, "NO [UNAVAILABLE] TLS is not available");
		return;
	}
	imap_tagged(s, cmd->tag, "OK Begin TLS negotiation now");
	/* Commands pipelined after STARTTLS are dropped with the rest of the clear-text input
	 * (RFC 3501 6.2.1); so is anything the framing holds. */
	imap_frame_reset(&s->frame);
	if (conn_start_tls(s->conn, s->server->tls) < 0) {
		log_error("session=%s imap starttls failed", conn_id(s->conn));
		imap_session_close(s);
	}
}

/* The account is proven: the session enters the authenticated state. */
static void logged_in(struct imap_session *s, const char *address, const char *method)
{
	struct account a = { 0 };
	char *error = NULL;
	if (store_user_get(s->server->store, address, &a, &error) <= 0) {
		log_error("session=%s imap login lookup failed: %s", conn_id(s->conn),
			  error != NULL ? error : "account gone");
		free(error);
		imap_tagged(s, s->tag, "NO [UNAVAILABLE] Temporary authentication failure");
		return;
	}
	s->user = xstrdup(a.address);
	s->user_id = a.id;
	account_clear(&a);
	s->state = IMAP_STATE_AUTHENTICATED;
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
		if (s->auth_failures >= s->server->auth_max_failures) {
			imap_reply(s, "* BYE Too many failed authentications");
			imap_session_close(s);
		}
	}
	imap_session_resume(s);
}

/* A failed login is answered only after a delay, which slows password guessing; after too
 * many the connection is closed. */
static void login_failed(struct imap_session *s, const char *user)
{
	s->auth_failures++;
	log_info("session=%s imap auth failed user=%s ip=%s failures=%d", conn_id(s->conn),
		 user != NULL ? user : "-", conn_peer_ip(s->conn), s->auth_failures);
	sasl_free(&s->sasl);
	s->auth_final = false;
	s->wait = IMAP_WAIT_BUSY;
	conn_pause(s->conn);
	login_failure_delay(s->server->base, s->server->auth_failure_delay, failure_delay_over, s);
}

/* Passwords travel only under TLS, or on loopback when auth.allow_plaintext_loopback. */
static bool refuse_plaintext(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (imap_auth_allowed(s))
		return false;
	imap_tagged(s, cmd->tag, "NO [PRIVACYREQUIRED] Use STARTTLS first");
	return true;
}

struct login_check {
	struct imap_session *s;
	char *user;
};

static void login_checked(void *arg, bool ok)
{
	struct login_check *lc = arg;
	struct imap_session *s = lc->s;
	s->wait = IMAP_WAIT_NONE;
	if (s->gone) {
		imap_session_resume(s);
	} else if (ok) {
		logged_in(s, lc->user, "login");
		imap_session_resume(s);
	} else {
		login_failed(s, lc->user);
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
	if (refuse_plaintext(s, cmd))
		return;
	keep_tag(s, cmd);
	struct login_check *lc = xcalloc(1, sizeof(*lc));
	lc->s = s;
	lc->user = xstrdup(user);
	char *error = NULL;
	if (login_password_check(s->server->store, s->server->workq, s->server->dummy_hash, user,
				 password, login_checked, lc, &error) < 0) {
		log_error("session=%s imap login lookup failed: %s", conn_id(s->conn), error);
		free(error);
		free(lc->user);
		free(lc);
		imap_tagged(s, cmd->tag, "NO [UNAVAILABLE] Temporary authentication failure");
		return;
	}
	s->wait = IMAP_WAIT_BUSY;
	conn_pause(s->conn);
}

static void auth_end(struct imap_session *s)
{
	sasl_free(&s->sasl);
	s->auth_final = false;
	s->wait = IMAP_WAIT_NONE;
}

static void password_checked(void *arg, bool ok);

/* Answers what the mechanism returned: a challenge, a password to check, credentials to find,
 * success or failure. */
static void auth_result(struct imap_session *s, enum sasl_result r, buf *out)
{
	char *error = NULL;
	buf enc;
	buf_init(&enc);
	switch (r) {
	case SASL_CONTINUE:
		s->wait = IMAP_WAIT_SASL;
		base64_encode(out->data, out->len, &enc);
		imap_reply(s, "+ %s", enc.data);
		break;
	case SASL_CHECK_PASSWORD:
		if (login_password_check(s->server->store, s->server->workq, s->server->dummy_hash,
					 sasl_username(s->sasl), sasl_password(s->sasl),
					 password_checked, s, &error) < 0) {
			log_error("session=%s imap auth lookup failed: %s", conn_id(s->conn), error);
			free(error);
			auth_end(s);
			imap_tagged(s, s->tag, "NO [UNAVAILABLE] Temporary authentication failure");
			break;
		}
		s->wait = IMAP_WAIT_BUSY;
		conn_pause(s->conn);
		break;
	case SASL_NEED_SCRAM:
		auth_result(s, login_sasl_scram(s->sasl, s->server->store, out), out);
		break;
	case SASL_OK:
		if (out->len > 0) {
			/* RFC 3501 has no data with OK, so the server-final message is a last
			 * challenge that the client answers with an empty line. */
			s->auth_final = true;
			auth_result(s, SASL_CONTINUE, out);
		} else {
			char *user = xstrdup(sasl_username(s->sasl));
			auth_end(s);
			logged_in(s, user, "sasl");
			free(user);
		}
		break;
	case SASL_FAIL:
		login_failed(s, sasl_username(s->sasl));
		break;
	case SASL_MALFORMED:
		auth_end(s);
		s->auth_failures++;
		imap_tagged(s, s->tag, "BAD Malformed authentication data");
		break;
	}
	buf_free(&enc);
}

static void password_checked(void *arg, bool ok)
{
	struct imap_session *s = arg;
	s->wait = IMAP_WAIT_SASL;
	if (s->gone) {
		imap_session_resume(s);
		return;
	}
	buf out;
	buf_init(&out);
	auth_result(s, sasl_password_checked(s->sasl, ok), &out);
	buf_free(&out);
	if (s->wait != IMAP_WAIT_BUSY)
		imap_session_resume(s);
}

/* Decodes a client response and feeds it to the mechanism. */
static void auth_feed(struct imap_session *s, bool has_data, const char *text, size_t len)
{
	buf out;
	buf_init(&out);
	int r = login_sasl_feed(s->sasl, has_data, text, len, &out);
	if (r < 0) {
		auth_end(s);
		imap_tagged(s, s->tag, "BAD Cannot decode the response (base64)");
	} else {
		auth_result(s, (enum sasl_result)r, &out);
	}
	buf_free(&out);
}

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
	if (refuse_plaintext(s, cmd))
		return;
	s->sasl = sasl_new(mech);
	if (s->sasl == NULL) {
		imap_tagged(s, cmd->tag, "NO Unsupported authentication mechanism");
		return;
	}
	keep_tag(s, cmd);
	if (ir != NULL)
		auth_feed(s, true, ir, strlen(ir));
	else
		auth_feed(s, false, "", 0);
}

void imap_auth_response(struct imap_session *s, const char *line, size_t len)
{
	if (len == 1 && line[0] == '*') {
		auth_end(s);
		imap_tagged(s, s->tag, "BAD Authentication cancelled");
		return;
	}
	if (s->auth_final) {
		if (len == 0) {
			char *user = xstrdup(sasl_username(s->sasl));
			auth_end(s);
			logged_in(s, user, "sasl");
			free(user);
		} else {
			auth_end(s);
			imap_tagged(s, s->tag, "BAD Expected an empty response");
		}
		return;
	}
	auth_feed(s, true, line, len);
}
