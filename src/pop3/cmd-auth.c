/* The AUTHORIZATION state's login commands: USER and PASS, APOP (RFC 1939 7) and AUTH
 * (RFC 5034: SASL with "+ " challenges). The password check and the delay after a failure are
 * shared with the other protocols (auth/login.c); here are the POP3 framing, the RFC 2449 /
 * RFC 3206 response codes, and opening the maildrop: the INBOX snapshot and its lock. */
#include "pop3/pop3.h"
#include "auth/login.h"
#include "auth/sasl.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <ctype.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The maildrop of an account whose credentials are proven, read on a store worker: the
 * account, then the snapshot of INBOX. */
struct maildrop_open {
	char *address;
	const char *method;
	struct account a;
	struct folder f;
	struct message *list;
	size_t count;
	int r;
	char *error;
};

static void maildrop_read(struct store *st, void *arg)
{
	struct maildrop_open *mo = arg;
	mo->r = store_user_get(st, mo->address, &mo->a, &mo->error);
	if (mo->r > 0)
		mo->r = store_folder_get(st, mo->a.id, "INBOX", &mo->f, &mo->error);
	if (mo->r > 0 && store_message_list(st, mo->f.id, &mo->list, &mo->count, &mo->error) < 0)
		mo->r = -1;
}

/* Back on the loop: the lock (one session per maildrop, RFC 1939 8), and the session enters
 * TRANSACTION with the snapshot. */
static void maildrop_opened(struct pop3_session *s, void *arg)
{
	struct maildrop_open *mo = arg;
	struct message *list = mo->list;
	size_t count = mo->count;
	if (s->gone) {
		/* nothing to answer */
	} else if (mo->r > 0 && pop3_maildrop_locked(s->server, mo->a.id)) {
		log_info("session=%s pop3 login refused user=%s reason=in-use", conn_id(s->conn),
			 mo->a.address);
		pop3_reply(s, "-ERR [IN-USE] Maildrop is locked by another POP3 session");
	} else if (mo->r <= 0) {
		log_error("session=%s pop3 cannot open maildrop user=%s: %s", conn_id(s->conn),
			  mo->address, mo->error != NULL ? mo->error : "account or INBOX gone");
		pop3_reply(s, "-ERR [SYS/TEMP] Cannot open the maildrop, try again later");
	} else {
		s->drop.folder_id = mo->f.id;
		s->drop.uidvalidity = mo->f.uidvalidity;
		s->drop.messages = xcalloc(count > 0 ? count : 1, sizeof(*s->drop.messages));
		s->drop.count = count;
		for (size_t i = 0; i < count; i++) {
			s->drop.messages[i].uid = list[i].uid;
			s->drop.messages[i].size = list[i].size;
			s->drop.size += list[i].size;
		}
		s->user = xstrdup(mo->a.address);
		s->user_id = mo->a.id;
		s->locked = true;
		s->state = POP3_STATE_TRANSACTION;
		service_session_logged_in(&s->server->host, &s->link);
		log_info("session=%s pop3 login user=%s method=%s messages=%zu", conn_id(s->conn),
			 s->user, mo->method, count);
		pop3_reply(s, "+OK Logged in, maildrop has %zu messages (%" PRIu64 " octets)", count,
			   s->drop.size);
	}
	for (size_t i = 0; i < count; i++)
		message_clear(&list[i]);
	free(list);
	free(mo->error);
	free(mo->address);
	folder_clear(&mo->f);
	account_clear(&mo->a);
	free(mo);
}

/* Takes the maildrop for address (credentials already proven), on a store worker. */
static void open_maildrop(struct pop3_session *s, const char *address, const char *method)
{
	s->state = POP3_STATE_AUTHORIZATION;
	login_succeeded(&s->server->login, s->conn, address);
	struct maildrop_open *mo = xcalloc(1, sizeof(*mo));
	mo->address = xstrdup(address);
	mo->method = method;
	pop3_job_start(s, maildrop_read, maildrop_opened, mo);
}

static void failure_delay_over(evutil_socket_t fd, short what, void *arg)
{
	struct pop3_session *s = arg;
	if (!s->gone) {
		s->state = POP3_STATE_AUTHORIZATION;
		pop3_reply(s, "-ERR [AUTH] Authentication failed");
		if (s->auth_failures >= s->server->login.max_failures)
			pop3_session_close(s); /* RFC 1939 4: after -ERR the server may close */
	}
	pop3_session_resume(s);
}

/* A failed login is answered only after a delay, which slows password guessing; after too
 * many the connection is closed. */
static void auth_failed(struct pop3_session *s, const char *user)
{
	s->auth_failures++;
	log_info("session=%s pop3 auth failed user=%s ip=%s failures=%d", conn_id(s->conn),
		 user != NULL ? user : "-", conn_peer_ip(s->conn), s->auth_failures);
	s->state = POP3_STATE_BUSY;
	conn_pause(s->conn);
	login_failed(&s->server->login, s->conn, failure_delay_over, s);
}

static const char refused_reply[] = "-ERR [SYS/TEMP] Too many failed logins, try again later";

/* The attempt for name starts; a limit on failed logins may refuse it (login_attempt). */
static bool refuse_account(struct pop3_session *s, const char *name)
{
	if (login_attempt(&s->server->login, s->conn, name))
		return false;
	pop3_reply(s, refused_reply);
	return true;
}

/* Passwords travel only under TLS, or on loopback when auth.allow_plaintext_loopback. */
static bool refuse_plaintext(struct pop3_session *s)
{
	if (pop3_auth_allowed(s))
		return false;
	pop3_reply(s, "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections; "
		      "use STLS first");
	return true;
}

/* user = "USER" SP name CRLF. Always +OK: whether the name exists is told by nothing. */
void pop3_cmd_user(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (refuse_plaintext(s))
		return;
	s->user_name = xstrndup(cmd->args[0].data, cmd->args[0].len);
	pop3_reply(s, "+OK Send your password");
}

static void pass_checked(void *arg, enum login_password_result result, const struct account *account)
{
	struct pop3_session *s = arg;
	if (s->gone) {
		pop3_session_resume(s);
		return;
	}
	char *name = s->user_name;
	s->user_name = NULL;
	if (result == LOGIN_PASSWORD_UNAVAILABLE) {
		s->state = POP3_STATE_AUTHORIZATION;
		pop3_reply(s, "-ERR [SYS/TEMP] Temporary authentication failure");
		pop3_session_resume(s);
	} else if (result == LOGIN_PASSWORD_OK) {
		open_maildrop(s, name, "user");
		pop3_session_resume(s);
	} else {
		auth_failed(s, name);
	}
	free(name);
}

/* pass = "PASS" SP string CRLF, right after a successful USER; the string is the rest of
 * the line, spaces included (RFC 1939 7). */
void pop3_cmd_pass(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (s->user_name == NULL) {
		pop3_reply(s, "-ERR Send USER first");
		return;
	}
	if (refuse_account(s, s->user_name)) {
		xfree(&s->user_name);
		return;
	}
	char *password = xstrndup(cmd->rest, cmd->rest_len);
	login_password_check(&s->server->login, s->user_name, password, pass_checked, s);
	OPENSSL_cleanse(password, cmd->rest_len);
	free(password);
	/* user_name stays until the check is done: pass_checked logs in with it. */
	s->state = POP3_STATE_BUSY;
	conn_pause(s->conn);
}

/* The APOP digest of RFC 1939 7: MD5 over timestamp and secret, 32 lower-case hex digits. */
static void apop_digest(const char *timestamp, const char *secret, char hex[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
	EVP_DigestUpdate(ctx, timestamp, strlen(timestamp));
	EVP_DigestUpdate(ctx, secret, strlen(secret));
	EVP_DigestFinal_ex(ctx, md, &md_len);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* apop = "APOP" SP name SP digest CRLF. APOP sends no password, so it needs no TLS; it works
 * only for accounts given an APOP secret (estafeta user apop). An unknown name, an account
 * without a secret and a wrong digest all fail alike, after the same delay. */
/* APOP's account, looked up on a store worker. */
struct apop_check {
	char *name;
	char given[33];          /* the client's digest, lower-cased; "" when malformed */
	struct account a;
	int found;
	char *error;
};

static void apop_lookup(struct store *st, void *arg)
{
	struct apop_check *ac = arg;
	ac->found = store_user_get(st, ac->name, &ac->a, &ac->error);
}

static void apop_looked_up(struct pop3_session *s, void *arg)
{
	struct apop_check *ac = arg;
	char expected[33] = "";
	if (s->gone) {
		/* nothing to answer */
	} else if (ac->found < 0) {
		log_error("session=%s pop3 apop lookup failed: %s", conn_id(s->conn), ac->error);
		pop3_reply(s, "-ERR [SYS/TEMP] Temporary authentication failure");
	} else {
		if (ac->found > 0 && ac->a.apop_secret != NULL)
			apop_digest(s->timestamp, ac->a.apop_secret, expected);
		if (expected[0] != '\0' && ac->given[0] != '\0' &&
		    CRYPTO_memcmp(ac->given, expected, 32) == 0)
			open_maildrop(s, ac->name, "apop");
		else
			auth_failed(s, ac->name);
	}
	OPENSSL_cleanse(expected, sizeof(expected));
	account_clear(&ac->a);
	free(ac->error);
	free(ac->name);
	free(ac);
}

void pop3_cmd_apop(struct pop3_session *s, const struct pop3_command *cmd)
{
	char *name = xstrndup(cmd->args[0].data, cmd->args[0].len);
	if (refuse_account(s, name)) {
		free(name);
		return;
	}
	struct apop_check *ac = xcalloc(1, sizeof(*ac));
	ac->name = name;
	if (cmd->args[1].len == 32)
		for (size_t i = 0; i < 32; i++)
			ac->given[i] = (char)tolower((unsigned char)cmd->args[1].data[i]);
	pop3_job_start(s, apop_lookup, apop_looked_up, ac);
}

static void auth_challenge(void *ctx, const char *b64)
{
	struct pop3_session *s = ctx;
	bool waited = s->state == POP3_STATE_BUSY; /* for SCRAM's credentials */
	s->state = POP3_STATE_SASL;
	pop3_reply(s, "+ %s", b64);
	if (waited)
		pop3_session_resume(s); /* frees the session (and the exchange) when it has gone */
}

static void auth_wait(void *ctx)
{
	struct pop3_session *s = ctx;
	s->state = POP3_STATE_BUSY;
	conn_pause(s->conn);
}

static void auth_done(void *ctx, enum login_outcome outcome, const char *user_or_null,
		      const struct account *account)
{
	struct pop3_session *s = ctx;
	bool waited = s->state == POP3_STATE_BUSY;
	if (s->gone) {
		pop3_session_resume(s); /* frees the session and the exchange */
		return;
	}
	char *user = user_or_null != NULL ? xstrdup(user_or_null) : NULL;
	login_exchange_free(&s->auth);
	s->state = POP3_STATE_AUTHORIZATION;
	switch (outcome) {
	case LOGIN_OK:
		open_maildrop(s, user, "sasl");
		break;
	case LOGIN_FAILED:
		auth_failed(s, user);
		waited = false; /* the delay resumes the session */
		break;
	case LOGIN_MALFORMED:
		s->auth_failures++;
		pop3_reply(s, "-ERR Malformed authentication data");
		break;
	case LOGIN_UNDECODABLE:
		pop3_reply(s, "-ERR Cannot decode the response (base64)");
		break;
	case LOGIN_CANCELLED:
		pop3_reply(s, "-ERR Authentication cancelled");
		break;
	case LOGIN_NOT_EMPTY:
		pop3_reply(s, "-ERR Expected an empty response");
		break;
	case LOGIN_TOO_LONG:
		pop3_reply(s, "-ERR Authentication exchange line is too long");
		break;
	case LOGIN_TEMPFAIL:
		log_error("session=%s pop3 auth lookup failed", conn_id(s->conn));
		pop3_reply(s, "-ERR [SYS/TEMP] Temporary authentication failure");
		break;
	case LOGIN_REFUSED:
		pop3_reply(s, refused_reply);
		break;
	}
	free(user);
	if (waited)
		pop3_session_resume(s);
}

static const struct login_exchange_ops pop3_auth_ops = {
	.challenge = auth_challenge,
	.wait = auth_wait,
	.done = auth_done,
};

/* auth = "AUTH" SP sasl-mech [SP initial-response] CRLF (RFC 5034 4). "AUTH" alone lists the
 * mechanisms, as RFC 1734 clients (and Outlook) expect. */
void pop3_cmd_auth(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (refuse_plaintext(s))
		return;
	if (cmd->argc == 0) {
		buf out;
		buf_init(&out);
		buf_puts(&out, "+OK Mechanisms follow\r\n");
		for (size_t i = 0; sasl_mechanisms[i] != NULL; i++)
			buf_printf(&out, "%s\r\n", sasl_mechanisms[i]);
		buf_puts(&out, ".\r\n");
		conn_write(s->conn, out.data, out.len);
		buf_free(&out);
		return;
	}
	char *mech = xstrndup(cmd->args[0].data, cmd->args[0].len);
	s->auth = login_exchange_new(mech, &s->server->login, s->conn, &pop3_auth_ops, s);
	free(mech);
	if (s->auth == NULL) {
		pop3_reply(s, "-ERR Unsupported authentication mechanism");
		return;
	}
	if (cmd->argc == 2)
		login_exchange_start(s->auth, true, cmd->args[1].data, cmd->args[1].len);
	else
		login_exchange_start(s->auth, false, "", 0);
}

void pop3_auth_response(struct pop3_session *s, const char *line, size_t len)
{
	login_exchange_line(s->auth, line, len);
}

void pop3_auth_too_long(struct pop3_session *s)
{
	login_exchange_too_long(s->auth);
}
