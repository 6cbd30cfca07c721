/* AUTH (RFC 4954): SASL on the submission ports. The mechanisms themselves live in
 * auth/sasl.c; here are the SMTP framing (334 challenges, base64 lines, "*" to cancel),
 * the password check on a worker thread, and the delay and limit after failures. */
#include "smtp/smtp.h"
#include "auth/password.h"
#include "auth/sasl.h"
#include "core/base64.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

struct password_check {
	struct smtp_session *s;
	char *password;
	char *hash;
	bool ok;
};

static void auth_result(struct smtp_session *s, enum sasl_result r, buf *out);

static void auth_end(struct smtp_session *s)
{
	sasl_free(&s->sasl);
	s->auth_final = false;
	s->state = s->helo != NULL ? SMTP_STATE_READY : SMTP_STATE_INIT;
}

static void auth_succeeded(struct smtp_session *s)
{
	struct account a = { 0 };
	char *error = NULL;
	if (store_user_get(s->server->store, sasl_username(s->sasl), &a, &error) <= 0) {
		free(error);
		auth_end(s);
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		return;
	}
	s->user = xstrdup(a.address);
	s->user_id = a.id;
	account_clear(&a);
	log_info("session=%s smtp auth user=%s", conn_id(s->conn), s->user);
	auth_end(s);
	smtp_reply(s, "235 2.7.0 Authentication successful");
}

static void failure_delay_over(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;
	if (!s->gone) {
		smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
		if (s->auth_failures >= s->server->auth_max_failures) {
			smtp_reply(s, "421 4.7.0 %s Too many failed authentications", s->server->hostname);
			smtp_session_close(s);
		} else {
			s->state = s->helo != NULL ? SMTP_STATE_READY : SMTP_STATE_INIT;
		}
	}
	smtp_session_resume(s);
}

/* A failed login is answered only after a delay, which slows password guessing; after too
 * many the connection is closed. */
static void auth_failed(struct smtp_session *s)
{
	s->auth_failures++;
	log_info("session=%s smtp auth failed user=%s ip=%s failures=%d", conn_id(s->conn),
		 sasl_username(s->sasl) ? sasl_username(s->sasl) : "-", conn_peer_ip(s->conn),
		 s->auth_failures);
	auth_end(s);
	s->state = SMTP_STATE_BUSY;
	conn_pause(s->conn);
	struct timeval tv = { s->server->auth_failure_delay, 0 };
	event_base_once(s->server->base, -1, EV_TIMEOUT, failure_delay_over, s, &tv);
}

static void password_job(void *arg)
{
	struct password_check *pc = arg;
	pc->ok = password_verify(pc->password, pc->hash);
}

static void password_done(void *arg)
{
	struct password_check *pc = arg;
	struct smtp_session *s = pc->s;
	bool ok = pc->ok;
	OPENSSL_cleanse(pc->password, strlen(pc->password));
	free(pc->password);
	free(pc->hash);
	free(pc);
	if (s->gone) {
		smtp_session_resume(s);
		return;
	}
	s->state = SMTP_STATE_AUTH;
	conn_resume(s->conn);
	auth_result(s, sasl_password_checked(s->sasl, ok), NULL);
}

/* Checks the password on a worker: yescrypt takes tens of milliseconds. An unknown user is
 * checked against a dummy hash so the time taken does not tell who exists. */
static void check_password(struct smtp_session *s)
{
	struct account a = { 0 };
	char *error = NULL;
	int found = store_user_get(s->server->store, sasl_username(s->sasl), &a, &error);
	if (found < 0) {
		log_error("session=%s smtp auth lookup failed: %s", conn_id(s->conn), error);
		free(error);
		auth_end(s);
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		return;
	}
	struct password_check *pc = xcalloc(1, sizeof(*pc));
	pc->s = s;
	pc->password = xstrdup(sasl_password(s->sasl));
	pc->hash = xstrdup(found > 0 && a.password_hash != NULL ? a.password_hash : s->server->dummy_hash);
	account_clear(&a);
	s->state = SMTP_STATE_BUSY;
	conn_pause(s->conn);
	workq_submit(s->server->workq, password_job, password_done, pc);
}

static void send_challenge(struct smtp_session *s, const buf *data)
{
	buf enc;
	buf_init(&enc);
	base64_encode(data->data, data->len, &enc);
	smtp_reply(s, "334 %s", enc.data);
	buf_free(&enc);
}

static void auth_result(struct smtp_session *s, enum sasl_result r, buf *out)
{
	buf local;
	buf_init(&local);
	if (out == NULL)
		out = &local;
	switch (r) {
	case SASL_CONTINUE:
		s->state = SMTP_STATE_AUTH;
		send_challenge(s, out);
		break;
	case SASL_CHECK_PASSWORD:
		check_password(s);
		break;
	case SASL_NEED_SCRAM: {
		struct account a = { 0 };
		char *error = NULL;
		int found = store_user_get(s->server->store, sasl_username(s->sasl), &a, &error);
		free(error);
		buf_clear(out);
		enum sasl_result next = sasl_scram_credentials(s->sasl, found > 0 ? a.scram_sha256 : NULL, out);
		account_clear(&a);
		auth_result(s, next, out);
		break;
	}
	case SASL_OK:
		if (out->len > 0) {
			/* RFC 4954 4: SMTP has no success-with-data, so the server-final message is a
			 * last challenge that the client answers with an empty line. */
			s->auth_final = true;
			s->state = SMTP_STATE_AUTH;
			send_challenge(s, out);
		} else {
			auth_succeeded(s);
		}
		break;
	case SASL_FAIL:
		auth_failed(s);
		break;
	case SASL_MALFORMED:
		auth_end(s);
		s->auth_failures++;
		smtp_reply(s, "501 5.5.4 Malformed authentication data");
		break;
	}
	buf_free(&local);
}

/* Decodes a client response and feeds it to the mechanism. */
static void auth_feed(struct smtp_session *s, bool has_data, const char *text, size_t len)
{
	buf data, out;
	buf_init(&data);
	buf_init(&out);
	if (has_data && !(len == 1 && text[0] == '=') && base64_decode(text, len, &data) < 0) {
		auth_end(s);
		smtp_reply(s, "501 5.5.2 Cannot decode response");
	} else {
		auth_result(s, sasl_step(s->sasl, has_data, data.data, data.len, &out), &out);
	}
	OPENSSL_cleanse(data.data, data.len);
	buf_free(&data);
	buf_free(&out);
}

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
	s->sasl = sasl_new(mech);
	free(mech);
	if (s->sasl == NULL) {
		smtp_reply(s, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	if (sp != NULL)
		auth_feed(s, true, sp + 1, len - mech_len - 1);
	else
		auth_feed(s, false, "", 0);
}

void smtp_auth_response(struct smtp_session *s, const char *line, size_t len)
{
	if (len == 1 && line[0] == '*') {
		auth_end(s);
		smtp_reply(s, "501 5.0.0 Authentication cancelled");
		return;
	}
	if (s->auth_final) {
		if (len == 0) {
			auth_succeeded(s);
		} else {
			auth_end(s);
			smtp_reply(s, "501 5.5.2 Expected an empty response");
		}
		return;
	}
	auth_feed(s, true, line, len);
}
