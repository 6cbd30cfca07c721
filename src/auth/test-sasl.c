/* Unit tests for the SASL server mechanisms (sasl.c): PLAIN, LOGIN, SCRAM-SHA-256 with RFC 7677's
 * example exchange, failures that must not tell a known user from an unknown one, malformed
 * messages, and calls out of order. A small SCRAM client below, built on OpenSSL, plays the
 * client's side so tests need no stored account. */
#include "auth/sasl.h"
#include "core/base64.h"
#include "core/xalloc.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs these before it */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#define S(lit) lit, sizeof(lit) - 1 /* a literal with its length, NULs included */

/* RFC 7677 section 3: user "user", password "pencil". */
#define RFC_SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_CLIENT_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_NONCE "rOprNGfwEbeRWgbNEkqO" RFC_SERVER_NONCE
#define RFC_SERVER_FIRST "r=" RFC_NONCE ",s=" RFC_SALT ",i=4096"
#define RFC_PROOF "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_CLIENT_FINAL "c=biws,r=" RFC_NONCE ",p=" RFC_PROOF
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

/* --- the client's side of SCRAM-SHA-256 (RFC 5802 section 3) --- */

static void b64_decode_or_fail(const char *in, size_t len, buf *out)
{
	assert_int_equal(base64_decode(in, len, out), 0);
}

/* Returns b's text, allocated, and frees b. */
static char *to_string(buf *b)
{
	char *s = xstrdup(b->data);
	buf_free(b);
	return s;
}

/* SaltedPassword := Hi(password, salt, i); ClientKey and ServerKey from it. */
static void derive_keys(const char *password, const buf *salt, unsigned iter,
			unsigned char client_key[32], unsigned char server_key[32])
{
	unsigned char salted[32];
	assert_int_equal(PKCS5_PBKDF2_HMAC(password, (int)strlen(password),
					   (const unsigned char *)salt->data, (int)salt->len,
					   (int)iter, EVP_sha256(), 32, salted),
			 1);
	assert_non_null(HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Client Key", 10,
			     client_key, NULL));
	assert_non_null(HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Server Key", 10,
			     server_key, NULL));
}

/* What scram_sha256_credentials stores: "ITER:SALT:STOREDKEY:SERVERKEY". */
static char *make_credentials(const char *password, const char *salt_b64, unsigned iter)
{
	unsigned char client_key[32], server_key[32], stored_key[32];
	buf salt, cred;
	buf_init(&salt);
	buf_init(&cred);
	b64_decode_or_fail(salt_b64, strlen(salt_b64), &salt);
	derive_keys(password, &salt, iter, client_key, server_key);
	assert_int_equal(EVP_Digest(client_key, 32, stored_key, NULL, EVP_sha256(), NULL), 1);
	buf_printf(&cred, "%u:%s:", iter, salt_b64);
	base64_encode(stored_key, 32, &cred);
	buf_putc(&cred, ':');
	base64_encode(server_key, 32, &cred);
	buf_free(&salt);
	return to_string(&cred);
}

/* Returns the value of attribute "x=" in a server-first-message, allocated. */
static char *attr(const char *msg, const char *name)
{
	const char *p = strstr(msg, name);
	assert_non_null(p);
	p += strlen(name);
	return xstrndup(p, strcspn(p, ","));
}

/* Returns the client-final-message for without_proof (c=...,r=...[,ext]) as a client with
 * password computes it, from the client-first-message-bare and the server's first message. */
static char *client_final(const char *bare, const char *server_first, const char *without_proof,
			  const char *password)
{
	unsigned char client_key[32], server_key[32], stored_key[32], signature[32], proof[32];
	char *salt_b64 = attr(server_first, "s="), *iter = attr(server_first, ",i=");
	buf salt, auth, msg;
	buf_init(&salt);
	buf_init(&auth);
	buf_init(&msg);
	b64_decode_or_fail(salt_b64, strlen(salt_b64), &salt);
	derive_keys(password, &salt, (unsigned)atoi(iter), client_key, server_key);
	assert_int_equal(EVP_Digest(client_key, 32, stored_key, NULL, EVP_sha256(), NULL), 1);
	buf_printf(&auth, "%s,%s,%s", bare, server_first, without_proof);
	assert_non_null(HMAC(EVP_sha256(), stored_key, 32, (unsigned char *)auth.data, auth.len,
			     signature, NULL));
	for (int i = 0; i < 32; i++)
		proof[i] = client_key[i] ^ signature[i];
	buf_printf(&msg, "%s,p=", without_proof);
	base64_encode(proof, 32, &msg);
	free(salt_b64);
	free(iter);
	buf_free(&salt);
	buf_free(&auth);
	return to_string(&msg);
}

/* --- helpers for driving an exchange --- */

struct exchange {
	struct sasl *s;
	buf out;
};

static void begin(struct exchange *x, const char *mech)
{
	x->s = sasl_new(mech);
	assert_non_null(x->s);
	buf_init(&x->out);
}

static void end(struct exchange *x)
{
	sasl_free(&x->s);
	assert_null(x->s);
	buf_free(&x->out);
}

/* Feeds one message (has_data true); the output buffer starts empty each time. */
static enum sasl_result step(struct exchange *x, const char *data, size_t len)
{
	buf_clear(&x->out);
	return sasl_step(x->s, true, data, len, &x->out);
}

static enum sasl_result step_str(struct exchange *x, const char *data)
{
	return step(x, data, strlen(data));
}

/* Runs a one-message mechanism on data, expecting result. */
static void expect_first(const char *mech, const char *data, size_t len, enum sasl_result want)
{
	struct exchange x;
	begin(&x, mech);
	assert_int_equal(step(&x, data, len), want);
	end(&x);
}

/* --- mechanism list --- */

static void test_mechanisms(void **state)
{
	(void)state;
	size_t n = 0;
	for (; sasl_mechanisms[n]; n++) {
		struct sasl *s = sasl_new(sasl_mechanisms[n]);
		assert_non_null(s);
		sasl_free(&s);
	}
	assert_int_equal(n, 3);
	assert_string_equal(sasl_mechanisms[0], "SCRAM-SHA-256");
	struct sasl *s = sasl_new("plain");
	assert_non_null(s);
	sasl_free(&s);
	sasl_free(&s); /* freeing NULL is harmless */
	assert_null(sasl_new("CRAM-MD5"));
	assert_null(sasl_new("SCRAM-SHA-256-PLUS"));
	assert_null(sasl_new(""));
}

/* --- PLAIN --- */

static void test_plain_good(void **state)
{
	(void)state;
	struct exchange x;
	begin(&x, "PLAIN");
	assert_int_equal(step(&x, S("\0user@example.org\0s3cret")), SASL_CHECK_PASSWORD);
	assert_int_equal(x.out.len, 0);
	assert_string_equal(sasl_username(x.s), "user@example.org");
	assert_string_equal(sasl_password(x.s), "s3cret");
	assert_int_equal(sasl_password_checked(x.s, true), SASL_OK);
	assert_null(sasl_password(x.s)); /* wiped once checked */
	assert_string_equal(sasl_username(x.s), "user@example.org");
	end(&x);
}

static void test_plain_no_initial_response(void **state)
{
	(void)state;
	struct exchange x;
	begin(&x, "PLAIN");
	assert_null(sasl_username(x.s));
	assert_int_equal(sasl_step(x.s, false, NULL, 0, &x.out), SASL_CONTINUE);
	assert_int_equal(x.out.len, 0); /* the empty challenge */
	/* authzid equal to authcid is no proxy authorization and is accepted */
	assert_int_equal(step(&x, S("user\0user\0pencil")), SASL_CHECK_PASSWORD);
	assert_string_equal(sasl_password(x.s), "pencil");
	assert_int_equal(sasl_password_checked(x.s, true), SASL_OK);
	end(&x);
}

static void test_plain_bad(void **state)
{
	(void)state;
	struct exchange x;
	begin(&x, "PLAIN");
	assert_int_equal(step(&x, S("\0user\0wrong")), SASL_CHECK_PASSWORD);
	assert_int_equal(sasl_password_checked(x.s, false), SASL_FAIL);
	end(&x);
	/* proxy authorization is not offered */
	expect_first("PLAIN", S("admin\0user\0pencil"), SASL_FAIL);
	expect_first("PLAIN", S("use\0user\0pencil"), SASL_FAIL);
}

static void test_plain_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *data;
		size_t len;
	} cases[] = {
		{ S("") },
		{ S("user") },                /* no NUL */
		{ S("user\0pencil") },        /* one NUL */
		{ S("\0user") },              /* one NUL */
		{ S("\0\0pencil") },          /* empty authcid */
		{ S("\0user\0") },            /* empty password */
		{ S("\0user\0pen\0cil") },    /* NUL in the password */
		{ S("\0us\xffr\0pencil") },   /* not UTF-8 */
		{ S("\0user\0pen\xc0\x80") }, /* overlong NUL */
		{ S("\0user\0\xe0\x80\xaf") }, /* overlong '/' */
		{ S("\0user\0\xf0\x80\x80\xaf") }, /* overlong '/' */
		{ S("\0user\0\xed\xa0\x80") }, /* a surrogate */
		{ S("\0user\0\xf4\x90\x80\x80") }, /* beyond U+10FFFF */
		{ S("\0user\0\xc3") },        /* truncated sequence */
		{ S("\0user\0\xe2\x82" "A") }, /* a bad last byte */
		{ S("\xff\0user\0pencil") },  /* bad authzid */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_first("PLAIN", cases[i].data, cases[i].len, SASL_MALFORMED);
	/* UTF-8 of every length is fine */
	expect_first("PLAIN", S("\0j\xc3\xbcrgen\0\xe2\x82\xac\xf0\x9f\x93\xa7"),
		     SASL_CHECK_PASSWORD);
}

/* Builds "\0" name "\0" password with the given lengths. */
static size_t plain_sized(char *msg, size_t name_len, size_t password_len)
{
	msg[0] = '\0';
	memset(msg + 1, 'u', name_len);
	msg[1 + name_len] = '\0';
	memset(msg + 2 + name_len, 'p', password_len);
	return 2 + name_len + password_len;
}

static void test_limits(void **state)
{
	(void)state;
	char msg[2048];
	expect_first("PLAIN", msg, plain_sized(msg, 255, 1024), SASL_CHECK_PASSWORD);
	expect_first("PLAIN", msg, plain_sized(msg, 256, 8), SASL_MALFORMED);
	expect_first("PLAIN", msg, plain_sized(msg, 8, 1025), SASL_MALFORMED);
	/* a whole message has a bound too, even where its fields have none (SCRAM extensions) */
	char ext[5000];
	memset(ext, 'x', sizeof(ext));
	char *first = xasprintf("n,,n=user,r=abc,x=%.4070s", ext);
	expect_first("SCRAM-SHA-256", first, strlen(first), SASL_NEED_SCRAM);
	free(first);
	first = xasprintf("n,,n=user,r=abc,x=%.4080s", ext);
	expect_first("SCRAM-SHA-256", first, strlen(first), SASL_MALFORMED);
	free(first);
}

/* --- LOGIN --- */

static void test_login_challenges(void **state)
{
	(void)state;
	struct exchange x;
	begin(&x, "LOGIN");
	assert_int_equal(sasl_step(x.s, false, NULL, 0, &x.out), SASL_CONTINUE);
	assert_string_equal(x.out.data, "Username:");
	assert_int_equal(step_str(&x, "user@example.org"), SASL_CONTINUE);
	assert_string_equal(x.out.data, "Password:");
	assert_string_equal(sasl_username(x.s), "user@example.org");
	assert_int_equal(step_str(&x, "pencil"), SASL_CHECK_PASSWORD);
	assert_string_equal(sasl_password(x.s), "pencil");
	assert_int_equal(sasl_password_checked(x.s, true), SASL_OK);
	end(&x);
}

static void test_login_initial_response(void **state)
{
	(void)state;
	struct exchange x;
	begin(&x, "login");
	assert_int_equal(step_str(&x, "user"), SASL_CONTINUE);
	assert_string_equal(x.out.data, "Password:");
	assert_int_equal(step_str(&x, "wrong"), SASL_CHECK_PASSWORD);
	assert_int_equal(sasl_password_checked(x.s, false), SASL_FAIL);
	end(&x);
}

static void test_login_malformed(void **state)
{
	(void)state;
	expect_first("LOGIN", S(""), SASL_MALFORMED);
	expect_first("LOGIN", S("us\0er"), SASL_MALFORMED);
	expect_first("LOGIN", S("us\x80r"), SASL_MALFORMED);
	struct exchange x;
	begin(&x, "LOGIN");
	assert_int_equal(step_str(&x, "user"), SASL_CONTINUE);
	assert_int_equal(step(&x, S("")), SASL_MALFORMED);
	end(&x);
	/* after the first step, no data is taken as an empty message */
	begin(&x, "LOGIN");
	assert_int_equal(sasl_step(x.s, false, NULL, 0, &x.out), SASL_CONTINUE);
	assert_int_equal(sasl_step(x.s, false, NULL, 0, &x.out), SASL_MALFORMED);
	end(&x);
}

/* --- calls out of order never authenticate --- */

static void test_out_of_order(void **state)
{
	(void)state;
	struct exchange x;
	begin(&x, "PLAIN");
	assert_int_equal(sasl_password_checked(x.s, true), SASL_FAIL); /* nothing to check */
	end(&x);

	begin(&x, "PLAIN");
	assert_int_equal(step(&x, S("\0user\0pencil")), SASL_CHECK_PASSWORD);
	assert_int_equal(step(&x, S("\0user\0pencil")), SASL_FAIL); /* still owed a check */
	assert_int_equal(sasl_password_checked(x.s, true), SASL_FAIL);
	end(&x);

	begin(&x, "LOGIN");
	assert_int_equal(step_str(&x, "user"), SASL_CONTINUE);
	assert_int_equal(step_str(&x, "pencil"), SASL_CHECK_PASSWORD);
	assert_int_equal(sasl_password_checked(x.s, true), SASL_OK);
	assert_int_equal(step_str(&x, "more"), SASL_FAIL);
	assert_int_equal(sasl_password_checked(x.s, true), SASL_FAIL);
	end(&x);

	begin(&x, "PLAIN");
	assert_int_equal(sasl_scram_credentials(x.s, NULL, &x.out), SASL_FAIL);
	end(&x);

	begin(&x, "SCRAM-SHA-256");
	assert_int_equal(step_str(&x, RFC_CLIENT_FIRST), SASL_NEED_SCRAM);
	assert_int_equal(step_str(&x, RFC_CLIENT_FINAL), SASL_FAIL); /* credentials first */
	assert_int_equal(sasl_scram_credentials(x.s, NULL, &x.out), SASL_FAIL);
	end(&x);
}

/* --- SCRAM-SHA-256 --- */

/* Starts a SCRAM exchange with client_first; credentials NULL plays an unknown user. The
 * server-first-message is left in x->out. */
static void scram_begin(struct exchange *x, const char *client_first, const char *credentials)
{
	begin(x, "SCRAM-SHA-256");
	assert_int_equal(step_str(x, client_first), SASL_NEED_SCRAM);
	assert_int_equal(x->out.len, 0);
	buf_clear(&x->out);
	assert_int_equal(sasl_scram_credentials(x->s, credentials, &x->out), SASL_CONTINUE);
}

/* Runs a whole exchange: client_first, then the final message that a client with password
 * builds from without_proof, where "NONCE" stands for the server's whole nonce. Returns the
 * last result. */
static enum sasl_result scram_run(const char *client_first, const char *credentials,
				  const char *without_proof_template, const char *password)
{
	struct exchange x;
	scram_begin(&x, client_first, credentials);
	char *server_first = xstrdup(x.out.data);
	char *nonce = attr(server_first, "r=");
	const char *mark = strstr(without_proof_template, "NONCE");
	char *without_proof = mark ? xasprintf("%.*s%s%s", (int)(mark - without_proof_template),
					       without_proof_template, nonce, mark + 5)
				   : xstrdup(without_proof_template);
	const char *bare = strchr(strchr(client_first, ',') + 1, ',') + 1;
	char *final = client_final(bare, server_first, without_proof, password);
	enum sasl_result r = step_str(&x, final);
	if (r == SASL_OK)
		assert_memory_equal(x.out.data, "v=", 2);
	else
		assert_int_equal(x.out.len, 0); /* no e= attribute hints at the reason */
	free(final);
	free(without_proof);
	free(nonce);
	free(server_first);
	end(&x);
	return r;
}

static void test_scram_rfc7677_example(void **state)
{
	(void)state;
	char *cred = make_credentials("pencil", RFC_SALT, 4096);
	struct exchange x;
	begin(&x, "SCRAM-SHA-256");
	sasl_scram_set_server_nonce_for_test(x.s, RFC_SERVER_NONCE);
	assert_int_equal(sasl_step(x.s, false, NULL, 0, &x.out), SASL_CONTINUE);
	assert_int_equal(x.out.len, 0); /* a client-first mechanism: empty challenge */
	assert_int_equal(step_str(&x, RFC_CLIENT_FIRST), SASL_NEED_SCRAM);
	assert_string_equal(sasl_username(x.s), "user");
	assert_null(sasl_password(x.s));
	assert_int_equal(sasl_scram_credentials(x.s, cred, &x.out), SASL_CONTINUE);
	assert_string_equal(x.out.data, RFC_SERVER_FIRST);
	assert_int_equal(step_str(&x, RFC_CLIENT_FINAL), SASL_OK);
	assert_string_equal(x.out.data, RFC_SERVER_FINAL);
	assert_string_equal(sasl_username(x.s), "user");
	end(&x);
	free(cred);
}

static void test_scram_random_nonce(void **state)
{
	(void)state;
	char *cred = make_credentials("pencil", RFC_SALT, 4096);
	struct exchange x;
	scram_begin(&x, "y,,n=user,r=abc", cred);
	char *nonce = attr(x.out.data, "r=");
	assert_int_equal(strlen(nonce), 3 + 24); /* the client's part, then 18 bytes in base64 */
	assert_memory_equal(nonce, "abc", 3);
	free(nonce);
	end(&x);
	/* Both flags without binding, and an authzid naming the user, succeed. */
	assert_int_equal(scram_run("n,,n=user,r=abc", cred, "c=biws,r=NONCE", "pencil"), SASL_OK);
	assert_int_equal(scram_run("y,,n=user,r=abc", cred, "c=eSws,r=NONCE", "pencil"), SASL_OK);
	assert_int_equal(
		scram_run("n,a=user,n=user,r=abc", cred, "c=bixhPXVzZXIs,r=NONCE", "pencil"),
		SASL_OK);
	/* Extensions are ignored, but the proof covers them. */
	assert_int_equal(scram_run("n,,n=user,r=abc,x=1", cred, "c=biws,r=NONCE,y=2", "pencil"),
			 SASL_OK);
	free(cred);
}

static void test_scram_wrong_password(void **state)
{
	(void)state;
	char *cred = make_credentials("pencil", RFC_SALT, 4096);
	assert_int_equal(scram_run(RFC_CLIENT_FIRST, cred, "c=biws,r=NONCE", "pencil2"), SASL_FAIL);
	assert_int_equal(scram_run(RFC_CLIENT_FIRST, cred, "c=biws,r=NONCE", ""), SASL_FAIL);
	free(cred);
}

/* The server-first-message of an unknown user has the shape of a real one and the same salt
 * every time the name is tried, in any letter case (the store finds accounts so, and a salt
 * that changed with the case only for unknown names would tell them apart); only the proof
 * fails. */
static void test_scram_unknown_user(void **state)
{
	(void)state;
	struct exchange x;
	char *salt[4];
	const char *names[4] = { "nobody", "nobody", "someone", "NoBody" };
	for (int i = 0; i < 4; i++) {
		char *first = xasprintf("n,,n=%s,r=abc", names[i]);
		scram_begin(&x, first, NULL);
		salt[i] = attr(x.out.data, "s=");
		assert_int_equal(strlen(salt[i]), strlen(RFC_SALT)); /* 16 bytes, as real ones */
		assert_non_null(strstr(x.out.data, ",i=4096"));
		end(&x);
		free(first);
	}
	assert_string_equal(salt[0], salt[1]);
	assert_string_not_equal(salt[0], salt[2]);
	assert_string_equal(salt[0], salt[3]);
	for (int i = 0; i < 4; i++)
		free(salt[i]);
	/* Even a proof made from the offered salt fails. */
	assert_int_equal(scram_run("n,,n=nobody,r=abc", NULL, "c=biws,r=NONCE", "pencil"),
			 SASL_FAIL);
	/* Broken stored credentials are treated the same way. */
	static const char *const broken[] = { "", "4096", "0:" RFC_SALT ":AA==:AA==",
					      "4096:" RFC_SALT ":AA==:AA==", "x:y:z:w" };
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
		assert_int_equal(
			scram_run("n,,n=user,r=abc", broken[i], "c=biws,r=NONCE", "pencil"),
			SASL_FAIL);
}

static void test_scram_tampered(void **state)
{
	(void)state;
	char *cred = make_credentials("pencil", RFC_SALT, 4096);
	const char *first = RFC_CLIENT_FIRST;
	/* the nonce: changed, cut to the client's part, extended */
	assert_int_equal(scram_run(first, cred, "c=biws,r=NONCEx", "pencil"), SASL_FAIL);
	assert_int_equal(scram_run(first, cred, "c=biws,r=rOprNGfwEbeRWgbNEkqO", "pencil"),
			 SASL_FAIL);
	/* channel binding: another flag, an authzid, channel data after the header */
	assert_int_equal(scram_run(first, cred, "c=eSws,r=NONCE", "pencil"), SASL_FAIL);
	assert_int_equal(scram_run(first, cred, "c=bixhPXVzZXIs,r=NONCE", "pencil"), SASL_FAIL);
	assert_int_equal(scram_run(first, cred, "c=biwsAAAA,r=NONCE", "pencil"), SASL_FAIL);
	assert_int_equal(scram_run("n,a=user,n=user,r=abc", cred, "c=biws,r=NONCE", "pencil"),
			 SASL_FAIL);

	/* the proof: one bit flipped in RFC 7677's own exchange */
	struct exchange x;
	begin(&x, "SCRAM-SHA-256");
	sasl_scram_set_server_nonce_for_test(x.s, RFC_SERVER_NONCE);
	assert_int_equal(step_str(&x, RFC_CLIENT_FIRST), SASL_NEED_SCRAM);
	assert_int_equal(sasl_scram_credentials(x.s, cred, &x.out), SASL_CONTINUE);
	char *final = xstrdup(RFC_CLIENT_FINAL);
	final[strlen(final) - 3] ^= 1; /* 'V' -> 'W' */
	assert_int_equal(step_str(&x, final), SASL_FAIL);
	assert_int_equal(x.out.len, 0);
	free(final);
	end(&x);
	free(cred);
}

static void test_scram_refused(void **state)
{
	(void)state;
	/* channel binding required (we offer no -PLUS), proxy authorization, mandatory extension */
	expect_first("SCRAM-SHA-256", S("p=tls-unique,,n=user,r=abc"), SASL_FAIL);
	expect_first("SCRAM-SHA-256", S("n,a=admin,n=user,r=abc"), SASL_FAIL);
	expect_first("SCRAM-SHA-256", S("n,,m=ext,n=user,r=abc"), SASL_FAIL);
}

static void test_scram_saslname(void **state)
{
	(void)state;
	struct exchange x;
	scram_begin(&x, "n,a=u=2Cs=3Der,n=u=2cs=3der,r=abc", NULL);
	assert_string_equal(sasl_username(x.s), "u,s=er");
	end(&x);
	char name[300], first[400];
	memset(name, 'u', sizeof(name));
	snprintf(first, sizeof(first), "n,,n=%.255s,r=abc", name);
	expect_first("SCRAM-SHA-256", first, strlen(first), SASL_NEED_SCRAM);
	snprintf(first, sizeof(first), "n,,n=%.256s,r=abc", name);
	expect_first("SCRAM-SHA-256", first, strlen(first), SASL_MALFORMED);
}

static void test_scram_malformed_first(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"",
		"n",
		"n,",
		"x,,n=user,r=abc",
		"N,,n=user,r=abc",
		"n,x,n=user,r=abc",   /* not an authzid */
		"n,a=,n=user,r=abc",  /* empty authzid */
		"n,a=b=2,n=b,r=abc",  /* cut escape */
		"n,,",
		"n,,n=user",
		"n,,r=abc,n=user",    /* out of order */
		"n,,n=,r=abc",        /* empty name */
		"n,,n=us=er,r=abc",   /* bad escape */
		"n,,n=u=41=3D=2Cuser,r=abc", /* bad escape, then more */
		"n,,n=us=2,r=abc",    /* cut escape */
		"n,,n=user=",         /* cut escape */
		"n,,n=user,r=",       /* empty nonce */
		"n,,n=user,r=a b",    /* space is not printable */
		"n,,n=user,r=a\x7f",  /* nor DEL */
		"n,,n=user,r=\xc3\xa9", /* nor UTF-8 */
		"n,,n=user,r=abc,",   /* empty extension */
		"n,,n=user,r=abc,x",  /* extension without value */
		"n,,n=user,r=abc,x=", /* extension with empty value */
		"n,,n=user,r=abc,1=x", /* extension name not ALPHA */
		"n,,n=us\xffr,r=abc", /* not UTF-8 */
		"n,,n=user,,r=abc",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_first("SCRAM-SHA-256", cases[i], strlen(cases[i]), SASL_MALFORMED);
	expect_first("SCRAM-SHA-256", S("n,,n=us\0er,r=abc"), SASL_MALFORMED);
	char nonce[300];
	memset(nonce, 'a', sizeof(nonce));
	char *first = xasprintf("n,,n=user,r=%.256s", nonce);
	expect_first("SCRAM-SHA-256", first, strlen(first), SASL_MALFORMED);
	free(first);
}

static void test_scram_malformed_final(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"",
		"c=biws",
		"c=biws,r=" RFC_NONCE,
		"c=biws,r=" RFC_NONCE ",",
		"c=biws,r=" RFC_NONCE ",p=",
		"c=biws,r=" RFC_NONCE ",p=dHz",               /* bad base64 */
		"c=biws,r=" RFC_NONCE ",p=dHzb",              /* a short proof */
		"c=biws,r=" RFC_NONCE ",p=" RFC_PROOF ",x=1", /* the proof not last */
		"c=bi*s,r=" RFC_NONCE ",p=" RFC_PROOF,
		"c=biw,r=" RFC_NONCE ",p=" RFC_PROOF,
		"r=" RFC_NONCE ",c=biws,p=" RFC_PROOF,
		"c=biws,r=,p=" RFC_PROOF,
		"c=biws,r=" RFC_NONCE ",x,p=" RFC_PROOF,
		"c=biws,r=" RFC_NONCE ",p=" RFC_PROOF "\xff",
	};
	char *cred = make_credentials("pencil", RFC_SALT, 4096);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int known = 0; known < 2; known++) {
			struct exchange x;
			begin(&x, "SCRAM-SHA-256");
			sasl_scram_set_server_nonce_for_test(x.s, RFC_SERVER_NONCE);
			assert_int_equal(step_str(&x, RFC_CLIENT_FIRST), SASL_NEED_SCRAM);
			assert_int_equal(sasl_scram_credentials(x.s, known ? cred : NULL, &x.out),
					 SASL_CONTINUE);
			assert_int_equal(step_str(&x, cases[i]), SASL_MALFORMED);
			end(&x);
		}
	}
	free(cred);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mechanisms),
		cmocka_unit_test(test_plain_good),
		cmocka_unit_test(test_plain_no_initial_response),
		cmocka_unit_test(test_plain_bad),
		cmocka_unit_test(test_plain_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_login_challenges),
		cmocka_unit_test(test_login_initial_response),
		cmocka_unit_test(test_login_malformed),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_scram_rfc7677_example),
		cmocka_unit_test(test_scram_random_nonce),
		cmocka_unit_test(test_scram_wrong_password),
		cmocka_unit_test(test_scram_unknown_user),
		cmocka_unit_test(test_scram_tampered),
		cmocka_unit_test(test_scram_refused),
		cmocka_unit_test(test_scram_saslname),
		cmocka_unit_test(test_scram_malformed_first),
		cmocka_unit_test(test_scram_malformed_final),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
