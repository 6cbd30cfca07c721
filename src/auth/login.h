/* The server side of logging in that every protocol shares (SMTP AUTH; POP3 USER/PASS, APOP
 * and AUTH; IMAP LOGIN and AUTHENTICATE): checking a password against the account's hash on a
 * worker thread, with a dummy hash for unknown users so the time taken does not tell who
 * exists; the SASL steps that do not depend on the protocol's framing (decoding a base64
 * response, finding SCRAM credentials); the limits on failed logins (login_limits.h), which
 * every attempt passes as soon as its account is known; and the delay before a failed login
 * is answered.
 * The protocols keep only their framing ("334 " or "+ " challenges) and their replies.
 * Everything here runs on the event loop thread; the account lookups (a password check's,
 * SCRAM's credentials) run on a store worker, and a password's hash on a worker. */
#ifndef ESTAFETA_LOGIN_H
#define ESTAFETA_LOGIN_H
#include "auth/login_limits.h"
#include "auth/sasl.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/conn.h"
#include "core/workq.h"
#include "store/store.h"
#include "store/store_workers.h"
#include <event2/event.h>
#include <stdbool.h>

/* An allocated hash of a password nobody has, made once per server (it blocks like
 * password_hash), for login_password_check to spend the same time on unknown users. */
char *login_dummy_hash(void);

struct login_env;
enum login_password_result {
	LOGIN_PASSWORD_WRONG,       /* wrong password, or no such account */
	LOGIN_PASSWORD_OK,
	LOGIN_PASSWORD_UNAVAILABLE, /* the account could not be looked up (logged): try later */
};
/* The account is valid during the call, for LOGIN_PASSWORD_OK only (else NULL). */
typedef void login_password_fn(void *ctx, enum login_password_result result, const struct account *account);
/* Checks password for address: looks the account up on a store worker, then verifies the
 * hash on a worker (yescrypt takes tens of milliseconds; an unknown account's check takes as
 * long, with the dummy hash); done runs later on the loop thread. The password is copied and
 * wiped after use. */
void login_password_check(const struct login_env *env, const char *address, const char *password,
			  login_password_fn *done, void *ctx);

/* ---- a whole SASL exchange (SMTP AUTH, POP3 AUTH, IMAP AUTHENTICATE) ----
 * The exchange drives the mechanism (auth/sasl.c): it decodes the client's base64 lines ("="
 * alone is an empty initial response, "*" cancels), finds SCRAM credentials, checks passwords
 * on a worker, and turns the server-final data of SCRAM into a last challenge answered by an
 * empty line, since none of the three protocols sends data with its success reply
 * (RFC 4954 4, RFC 5034 4; IMAP could, but one behaviour serves all). The protocol only frames
 * challenges and turns the outcome into its reply. */
enum login_outcome {
	LOGIN_OK,          /* authenticated */
	LOGIN_FAILED,      /* wrong credentials (or unknown user): answer after the failure delay */
	LOGIN_MALFORMED,   /* the client's message broke the mechanism's syntax */
	LOGIN_UNDECODABLE, /* a response that is not base64 */
	LOGIN_CANCELLED,   /* the client sent "*" */
	LOGIN_NOT_EMPTY,   /* after the server-final challenge, a response that was not empty */
	LOGIN_TOO_LONG,    /* a response over the protocol's line bound (login_exchange_too_long) */
	LOGIN_TEMPFAIL,    /* the account could not be looked up */
	LOGIN_REFUSED,     /* a limit on failures refused the account (login_attempt): try later */
};

/* What every protocol's logins share: the store and workers the checks use, and the policy
 * (plaintext only on loopback, the delay after a failure, the limits on failures per
 * connection and, shared by all protocols, per account and client address). */
struct login_env {
	struct event_base *base;
	struct store_workers *store_workers; /* the account lookups */
	struct workq *workq;
	char *dummy_hash;            /* login_dummy_hash() */
	struct login_limits *limits; /* shared by all protocols; login_limits_configure */
	/* settings */
	bool plaintext_loopback;
	int failure_delay;
	int max_failures;            /* in one connection, which is then closed */
};

/* (Re)reads the auth.* settings of one protocol's logins; also on SIGHUP. */
void login_env_configure(struct login_env *env, const struct config *cfg);
/* (Re)reads the limits' auth.* settings (the counts stay); also on SIGHUP. Returns 0, or -1
 * with *error_r when auth.trusted_networks does not parse (the other settings are taken). */
int login_limits_configure(struct login_limits *l, const struct config *cfg, char **error_r);
/* Gives the env what checks need once the store is open; makes the dummy hash. */
void login_env_attach(struct login_env *env, struct event_base *base, struct store_workers *sw,
		      struct workq *wq, struct login_limits *limits);
void login_env_clear(struct login_env *env);
/* Passwords travel only under TLS, or on loopback when auth.allow_plaintext_loopback. */
bool login_plaintext_ok(const struct login_env *env, struct conn *c);
/* An attempt to log in to account from c starts: called once the account is known, before
 * its password (or SCRAM proof, or APOP digest) is checked. True when it may go on, and it
 * counts as a failure from now on unless login_succeeded follows; false when a limit refuses
 * it (logged): the protocol answers at once with a temporary error and checks nothing. The
 * SASL exchange calls it itself. */
bool login_attempt(const struct login_env *env, struct conn *c, const char *account);
/* The attempt for account proved its credentials: that account's failures from c's address
 * are forgotten (never other accounts'), and the address becomes known for it. */
void login_succeeded(const struct login_env *env, struct conn *c, const char *account);
/* An attempt failed (it is already counted): runs fn(-1, EV_TIMEOUT, ctx) on the loop after
 * the failure delay, which grows with the address's recent failures (up to eight times
 * auth.failure_delay), so password guessing slows down across connections too. The caller
 * keeps its session alive (paused) until then. */
void login_failed(const struct login_env *env, struct conn *c, event_callback_fn fn, void *ctx);

struct login_exchange_ops {
	/* Sends a challenge (base64 text, maybe empty); the next client line goes to
	 * login_exchange_line. */
	void (*challenge)(void *ctx, const char *b64);
	/* A password check started on a worker: stop reading until done is called. */
	void (*wait)(void *ctx);
	/* The exchange is over. user is the authentication identity (LOGIN_OK, and LOGIN_FAILED
	 * when known, for the log), and account the account it proved (LOGIN_OK only, else
	 * NULL), both valid during the call. Called last: it may free the exchange. After wait,
	 * done is the next call, from the loop. */
	void (*done)(void *ctx, enum login_outcome outcome, const char *user,
		     const struct account *account);
};

struct login_exchange;
/* Starts an exchange with mech (case-insensitive) for the client on c; NULL when the
 * mechanism is not offered. env, c and ops must outlive it. */
struct login_exchange *login_exchange_new(const char *mech, const struct login_env *env,
					  struct conn *c, const struct login_exchange_ops *ops,
					  void *ctx);
void login_exchange_free(struct login_exchange **x);
/* The mechanism's name ("SCRAM-SHA-256"): static, so it outlives the exchange. */
const char *login_exchange_mechanism(const struct login_exchange *x);
/* The first step: the initial response given with the command (has_data), or none. */
void login_exchange_start(struct login_exchange *x, bool has_data, const char *text, size_t len);
/* A client's response line. */
void login_exchange_line(struct login_exchange *x, const char *line, size_t len);
/* A client's response line was over the protocol's bound (and skipped to its end): it cannot
 * be judged, so the exchange ends as for a malformed response, which each protocol answers
 * with its error for it (IMAP BAD, RFC 9051 6.2.2; SMTP 500 5.5.6, RFC 4954 4; POP3 -ERR) and
 * the session goes on, not authenticated. Not a failed login: no credentials were judged. */
void login_exchange_too_long(struct login_exchange *x);
#endif
