/* The shared server side of logging in; see login.h. */
#include "auth/login.h"
#include "auth/password.h"
#include "core/base64.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct password_check {
	const struct login_env *env;
	char *address;
	char *password;
	char *hash;
	struct account account;
	int found;               /* store_user_get's answer */
	char *error;
	bool ok;
	login_password_fn *done;
	void *ctx;
};

char *login_dummy_hash(void)
{
	/* Any valid hash will do; it is only there to spend the same time as a real check. */
	return password_hash("estafeta-no-such-user");
}

static void password_job(void *arg)
{
	struct password_check *pc = arg;
	pc->ok = password_verify(pc->password, pc->hash);
}

static void password_finish(struct password_check *pc, enum login_password_result result)
{
	OPENSSL_cleanse(pc->password, strlen(pc->password));
	free(pc->password);
	free(pc->hash);
	pc->done(pc->ctx, result, result == LOGIN_PASSWORD_OK ? &pc->account : NULL);
	account_clear(&pc->account);
	free(pc->address);
	free(pc->error);
	free(pc);
}

static void password_done(void *arg)
{
	struct password_check *pc = arg;
	password_finish(pc, pc->ok && pc->found > 0 ? LOGIN_PASSWORD_OK : LOGIN_PASSWORD_WRONG);
}

/* On a store worker. */
static void password_lookup(struct store *st, void *arg)
{
	struct password_check *pc = arg;
	pc->found = store_user_get(st, pc->address, &pc->account, &pc->error);
}

static void password_looked_up(void *arg)
{
	struct password_check *pc = arg;
	if (pc->found < 0) {
		log_error("login lookup failed user=%s: %s", pc->address, pc->error);
		password_finish(pc, LOGIN_PASSWORD_UNAVAILABLE);
		return;
	}
	const char *hash = pc->found > 0 ? pc->account.password_hash : NULL;
	pc->hash = xstrdup(hash != NULL ? hash : pc->env->dummy_hash);
	workq_submit(pc->env->workq, password_job, password_done, pc);
}

void login_password_check(const struct login_env *env, const char *address, const char *password,
			  login_password_fn *done, void *ctx)
{
	struct password_check *pc = xcalloc(1, sizeof(*pc));
	pc->env = env;
	pc->address = xstrdup(address);
	pc->password = xstrdup(password);
	pc->done = done;
	pc->ctx = ctx;
	store_workers_submit(env->store_workers, password_lookup, password_looked_up, pc);
}

/* Decodes one client response (base64; "=" alone is the empty initial response of RFC 4954
 * and RFC 5034) and feeds it to the mechanism; has_data false for a first step without an
 * initial response. Returns the mechanism's result with any challenge in out, or -1 when the
 * response is not base64. */
static int sasl_feed(struct sasl *s, bool has_data, const char *text, size_t len, buf *out)
{
	buf data;
	buf_init(&data);
	int r = -1;
	if (!has_data || (len == 1 && text[0] == '=') || base64_decode(text, len, &data) >= 0)
		r = (int)sasl_step(s, has_data, data.data, data.len, out);
	OPENSSL_cleanse(data.data, data.len);
	buf_free(&data);
	return r;
}

struct login_exchange {
	struct sasl *sasl;
	const struct login_env *env;
	struct conn *conn;
	const struct login_exchange_ops *ops;
	void *ctx;
	bool final;   /* server-final sent as a challenge: the client answers with an empty line */
	struct account account; /* the account whose credentials are checked */
};

struct login_exchange *login_exchange_new(const char *mech, const struct login_env *env,
					  struct conn *c, const struct login_exchange_ops *ops,
					  void *ctx)
{
	struct sasl *sasl = sasl_new(mech);
	if (sasl == NULL)
		return NULL;
	struct login_exchange *x = xcalloc(1, sizeof(*x));
	x->sasl = sasl;
	x->env = env;
	x->conn = c;
	x->ops = ops;
	x->ctx = ctx;
	return x;
}

const char *login_exchange_mechanism(const struct login_exchange *x)
{
	return sasl_mechanism(x->sasl);
}

void login_exchange_free(struct login_exchange **xp)
{
	struct login_exchange *x = *xp;
	if (x == NULL)
		return;
	sasl_free(&x->sasl);
	account_clear(&x->account);
	free(x);
	*xp = NULL;
}

static void exchange_done(struct login_exchange *x, enum login_outcome outcome)
{
	x->ops->done(x->ctx, outcome, sasl_username(x->sasl),
		     outcome == LOGIN_OK ? &x->account : NULL);
}

static void send_challenge(struct login_exchange *x, const buf *data)
{
	buf enc;
	buf_init(&enc);
	base64_encode(data->data, data->len, &enc);
	x->ops->challenge(x->ctx, enc.data);
	buf_free(&enc);
}

static void exchange_result(struct login_exchange *x, enum sasl_result r, buf *out);

/* After SASL_NEED_SCRAM: the user's SCRAM credentials, looked up on a store worker while the
 * session waits, go to the mechanism (an unknown user fails later, at the proof). */
struct scram_lookup {
	struct login_exchange *x;
	char *user;
	struct account account;
	int found;
	char *error;
};

static void scram_lookup(struct store *st, void *arg)
{
	struct scram_lookup *sl = arg;
	sl->found = store_user_get(st, sl->user, &sl->account, &sl->error);
}

static void scram_looked_up(void *arg)
{
	struct scram_lookup *sl = arg;
	struct login_exchange *x = sl->x;
	bool found = sl->found > 0;
	if (sl->found < 0)
		log_error("login lookup failed user=%s: %s", sl->user, sl->error);
	account_clear(&x->account);
	x->account = sl->account;
	free(sl->user);
	free(sl->error);
	free(sl);
	buf out;
	buf_init(&out);
	/* the protocol's challenge or done ends the wait, and may free the exchange */
	exchange_result(x, sasl_scram_credentials(x->sasl, found ? x->account.scram_sha256 : NULL,
						  &out), &out);
	buf_free(&out);
}

static void exchange_password_checked(void *arg, enum login_password_result result,
				      const struct account *account)
{
	struct login_exchange *x = arg;
	if (result == LOGIN_PASSWORD_UNAVAILABLE) {
		exchange_done(x, LOGIN_TEMPFAIL);
		return;
	}
	if (account != NULL) {
		account_clear(&x->account);
		x->account = (struct account){ .id = account->id, .address = xstrdup(account->address) };
	}
	buf out;
	buf_init(&out);
	exchange_result(x, sasl_password_checked(x->sasl, result == LOGIN_PASSWORD_OK), &out);
	buf_free(&out);
}

/* Acts on what the mechanism returned. */
static void exchange_result(struct login_exchange *x, enum sasl_result r, buf *out)
{
	switch (r) {
	case SASL_CONTINUE:
		send_challenge(x, out);
		break;
	case SASL_CHECK_PASSWORD:
		if (!login_attempt(x->env, x->conn, sasl_username(x->sasl)))
			exchange_done(x, LOGIN_REFUSED);
		else {
			login_password_check(x->env, sasl_username(x->sasl), sasl_password(x->sasl),
					     exchange_password_checked, x);
			x->ops->wait(x->ctx);
		}
		break;
	case SASL_NEED_SCRAM:
		/* SCRAM's attempt starts with the name, since the proof is checked right away */
		if (!login_attempt(x->env, x->conn, sasl_username(x->sasl))) {
			exchange_done(x, LOGIN_REFUSED);
		} else {
			struct scram_lookup *sl = xcalloc(1, sizeof(*sl));
			sl->x = x;
			sl->user = xstrdup(sasl_username(x->sasl));
			store_workers_submit(x->env->store_workers, scram_lookup, scram_looked_up, sl);
			x->ops->wait(x->ctx);
		}
		break;
	case SASL_OK:
		if (out->len > 0) {
			x->final = true;
			send_challenge(x, out);
		} else {
			exchange_done(x, LOGIN_OK);
		}
		break;
	case SASL_FAIL:
		exchange_done(x, LOGIN_FAILED);
		break;
	case SASL_MALFORMED:
		exchange_done(x, LOGIN_MALFORMED);
		break;
	}
}

/* Decodes a client response and feeds it to the mechanism. */
static void exchange_feed(struct login_exchange *x, bool has_data, const char *text, size_t len)
{
	buf out;
	buf_init(&out);
	int r = sasl_feed(x->sasl, has_data, text, len, &out);
	if (r < 0)
		exchange_done(x, LOGIN_UNDECODABLE);
	else
		exchange_result(x, (enum sasl_result)r, &out);
	buf_free(&out);
}

void login_exchange_start(struct login_exchange *x, bool has_data, const char *text, size_t len)
{
	exchange_feed(x, has_data, text, len);
}

void login_exchange_line(struct login_exchange *x, const char *line, size_t len)
{
	if (len == 1 && line[0] == '*')
		exchange_done(x, LOGIN_CANCELLED);
	else if (x->final)
		exchange_done(x, len == 0 ? LOGIN_OK : LOGIN_NOT_EMPTY);
	else
		exchange_feed(x, true, line, len);
}

void login_exchange_too_long(struct login_exchange *x)
{
	exchange_done(x, LOGIN_TOO_LONG);
}

void login_env_configure(struct login_env *env, const struct config *cfg)
{
	env->plaintext_loopback = config_bool(cfg, "auth.allow_plaintext_loopback");
	env->failure_delay = (int)config_int(cfg, "auth.failure_delay");
	env->max_failures = (int)config_int(cfg, "auth.max_failures");
}

int login_limits_configure(struct login_limits *l, const struct config *cfg, char **error_r)
{
	struct login_limit_settings s = {
		.max_per_pair = (int)config_int(cfg, "auth.max_failures_per_ip_account"),
		.max_accounts_per_ip = (int)config_int(cfg, "auth.max_accounts_per_ip"),
		.max_per_account = (int)config_int(cfg, "auth.max_failures_per_account"),
		.window = (time_t)config_int(cfg, "auth.failure_window"),
		.known_time = (time_t)config_int(cfg, "auth.known_ip_time"),
	};
	login_limits_set(l, &s);
	return login_limits_trust(l, config_str(cfg, "auth.trusted_networks"), error_r);
}

void login_env_attach(struct login_env *env, struct event_base *base, struct store_workers *sw,
		      struct workq *wq, struct login_limits *limits)
{
	env->base = base;
	env->store_workers = sw;
	env->workq = wq;
	env->limits = limits;
	env->dummy_hash = login_dummy_hash();
}

void login_env_clear(struct login_env *env)
{
	xfree(&env->dummy_hash);
}

bool login_plaintext_ok(const struct login_env *env, struct conn *c)
{
	return conn_is_tls(c) || (env->plaintext_loopback && conn_is_loopback(c));
}

bool login_attempt(const struct login_env *env, struct conn *c, const char *account)
{
	static const char *const reasons[] = {
		[LOGIN_LIMIT_PAIR] = "account-failures-from-ip",
		[LOGIN_LIMIT_ADDRESS] = "accounts-failing-from-ip",
		[LOGIN_LIMIT_ACCOUNT] = "account-failures",
	};
	enum login_limit limit =
		login_limits_begin(env->limits, conn_peer_ip(c), account, login_limits_clock());
	if (limit == LOGIN_LIMIT_NONE)
		return true;
	log_info("session=%s login refused user=%s ip=%s reason=%s", conn_id(c), account,
		 conn_peer_ip(c), reasons[limit]);
	return false;
}

void login_succeeded(const struct login_env *env, struct conn *c, const char *account)
{
	login_limits_succeeded(env->limits, conn_peer_ip(c), account, login_limits_clock());
}

void login_failed(const struct login_env *env, struct conn *c, event_callback_fn fn, void *ctx)
{
	int recent =
		login_limits_address_failures(env->limits, conn_peer_ip(c), login_limits_clock());
	/* at least the plain delay, from trusted networks too (they are not counted) */
	int factor = recent < 1 ? 1 : recent < 8 ? recent : 8;
	struct timeval tv = { (time_t)env->failure_delay * factor, 0 };
	event_base_once(env->base, -1, EV_TIMEOUT, fn, ctx, &tv);
}
