/* Server side of SASL PLAIN, LOGIN and SCRAM-SHA-256; see sasl.h.
 *
 * Each exchange is an explicit state machine (enum sasl_state). A mechanism is one row of a
 * table: the challenge sent when the client gave no initial response, and the handler of the
 * client's first message; later messages go to the handler that the state names.
 *
 * Written by hand because the libraries do not fit: Cyrus SASL and GNU SASL want to own the
 * user database and the password check, which estafeta keeps in the store and off the event
 * loop. All cryptography is OpenSSL's; this file parses, composes and compares. */
#include "auth/sasl.h"
#include "auth/password.h"
#include "core/base64.h"
#include "core/xalloc.h"
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a client may send. RFC 4616 section 2: servers MUST accept identities and passwords of
 * 255 octets; passwords get more room for passphrases. */
#define SASL_MAX_NAME 255
#define SASL_MAX_PASSWORD 1024
#define SASL_MAX_NONCE 255    /* a client's SCRAM nonce; real clients send 24 to 48 */
#define SASL_MAX_MESSAGE 4096 /* any one client message, SCRAM extensions included */

#define SCRAM_MAX_SALT 64           /* decoded salt bytes accepted from stored credentials */
#define SCRAM_FAKE_SALT_LEN 16      /* the salt length scram_sha256_credentials uses */
#define SCRAM_MAX_ITER_DIGITS 9     /* keeps the iteration count far from overflow */
#define SCRAM_SERVER_NONCE_BYTES 18 /* random bytes in our half of the nonce (24 base64 chars) */

enum sasl_state {
	SASL_ST_START,             /* nothing exchanged yet */
	SASL_ST_FIRST,             /* sent the first challenge, waiting for the answer */
	SASL_ST_LOGIN_PASSWORD,    /* LOGIN sent "Password:" */
	SASL_ST_CHECK_PASSWORD,    /* waiting for sasl_password_checked */
	SASL_ST_SCRAM_CREDENTIALS, /* waiting for sasl_scram_credentials */
	SASL_ST_SCRAM_FINAL,       /* sent server-first-message, waiting for client-final-message */
	SASL_ST_DONE,              /* ended: every further call fails */
};

struct sasl;
typedef enum sasl_result step_fn(struct sasl *s, const char *data, size_t len, buf *out);

struct sasl_mech {
	const char *name;
	const char *challenge; /* sent when the client gives no initial response */
	step_fn *first;        /* handles the client's first message */
};

struct sasl {
	const struct sasl_mech *mech;
	enum sasl_state state;
	char *username;
	char *password; /* PLAIN and LOGIN, until sasl_password_checked wipes it */

	/* SCRAM: the parts of the AuthMessage (RFC 5802 section 3), the values the
	 * client-final-message must repeat, and the user's keys. */
	buf gs2_header;
	buf client_first_bare;
	buf server_first;
	buf nonce;               /* client nonce, then client + server nonce */
	char *test_server_nonce; /* sasl_scram_set_server_nonce_for_test */
	bool known_user;         /* false: the keys are zeros that no proof matches */
	unsigned char stored_key[SCRAM_KEY_LEN];
	unsigned char server_key[SCRAM_KEY_LEN];
};

/* A piece of a client message, not NUL-terminated. */
struct span {
	const char *p;
	size_t len;
};

/* A read position in a client message. */
struct cursor {
	const char *p;
	const char *end;
};

static step_fn plain_message, login_username, login_password, scram_client_first,
	scram_client_final;

/* In the order of sasl_mechanisms: strongest first. */
static const struct sasl_mech mechs[] = {
	{ "SCRAM-SHA-256", "", scram_client_first },
	{ "PLAIN", "", plain_message },
	{ "LOGIN", "Username:", login_username },
};

const char *const sasl_mechanisms[] = { "SCRAM-SHA-256", "PLAIN", "LOGIN", NULL };

/* RFC 3629 section 4, the same grammar as RFC 4616's SAFE:
 *   UTF8-1 = %x00-7F
 *   UTF8-2 = %xC2-DF UTF8-tail
 *   UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
 *            %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
 *   UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
 *            %xF4 %x80-8F 2( UTF8-tail )
 * True when p is such text and holds no NUL (every SASL field here excludes it). */
static bool text_ok(const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;
	while (i < len) {
		unsigned c = u[i];
		size_t tail;
		unsigned lo = 0x80, hi = 0xBF; /* range of the first tail byte */
		if (c >= 0x01 && c <= 0x7F) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			tail = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			tail = 2;
			lo = c == 0xE0 ? 0xA0 : lo; /* overlong */
			hi = c == 0xED ? 0x9F : hi; /* surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			tail = 3;
			lo = c == 0xF0 ? 0x90 : lo; /* overlong */
			hi = c == 0xF4 ? 0x8F : hi; /* beyond U+10FFFF */
		} else {
			return false;
		}
		if (len - i - 1 < tail || u[i + 1] < lo || u[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= tail; k++)
			if ((u[i + k] & 0xC0) != 0x80)
				return false;
		i += tail + 1;
	}
	return true;
}

/* A required field: 1 to max octets of text_ok. */
static bool field_ok(const char *p, size_t len, size_t max)
{
	return len >= 1 && len <= max && text_ok(p, len);
}

/* Frees a string that held a secret, wiping it first. */
static void wipe_string(char **p)
{
	if (*p)
		OPENSSL_cleanse(*p, strlen(*p));
	xfree(p);
}

struct sasl *sasl_new(const char *mech)
{
	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
		if (strcasecmp(mech, mechs[i].name) != 0)
			continue;
		struct sasl *s = xcalloc(1, sizeof(*s));
		s->mech = &mechs[i];
		s->state = SASL_ST_START;
		buf_init(&s->gs2_header);
		buf_init(&s->client_first_bare);
		buf_init(&s->server_first);
		buf_init(&s->nonce);
		return s;
	}
	return NULL;
}

void sasl_free(struct sasl **sp)
{
	struct sasl *s = *sp;
	if (!s)
		return;
	wipe_string(&s->password);
	free(s->username);
	free(s->test_server_nonce);
	buf_free(&s->gs2_header);
	buf_free(&s->client_first_bare);
	buf_free(&s->server_first);
	buf_free(&s->nonce);
	OPENSSL_cleanse(s->stored_key, sizeof(s->stored_key));
	OPENSSL_cleanse(s->server_key, sizeof(s->server_key));
	free(s);
	*sp = NULL;
}

/* Calls out of order (a step while the caller owes us a password check or credentials, or
 * after the end) fail: they are the caller's bug, and failing can never let anyone in. */
enum sasl_result sasl_step(struct sasl *s, bool has_data, const char *data, size_t len, buf *out)
{
	step_fn *handler;
	if (s->state == SASL_ST_START && !has_data) {
		buf_puts(out, s->mech->challenge);
		s->state = SASL_ST_FIRST;
		return SASL_CONTINUE;
	}
	switch (s->state) {
	case SASL_ST_START:
	case SASL_ST_FIRST:
		handler = s->mech->first;
		break;
	case SASL_ST_LOGIN_PASSWORD:
		handler = login_password;
		break;
	case SASL_ST_SCRAM_FINAL:
		handler = scram_client_final;
		break;
	default:
		s->state = SASL_ST_DONE;
		return SASL_FAIL;
	}
	/* A handler that wants more sets the next state; anything else ends the exchange. */
	s->state = SASL_ST_DONE;
	if (!has_data) {
		data = "";
		len = 0;
	}
	if (len > SASL_MAX_MESSAGE)
		return SASL_MALFORMED;
	return handler(s, data, len, out);
}

/* Keeps the password for the caller's check (sasl.h, SASL_CHECK_PASSWORD). */
static enum sasl_result ask_password_check(struct sasl *s, const char *password, size_t len)
{
	s->password = xstrndup(password, len);
	s->state = SASL_ST_CHECK_PASSWORD;
	return SASL_CHECK_PASSWORD;
}

enum sasl_result sasl_password_checked(struct sasl *s, bool ok)
{
	if (s->state != SASL_ST_CHECK_PASSWORD) {
		s->state = SASL_ST_DONE;
		return SASL_FAIL;
	}
	wipe_string(&s->password); /* checked: nobody needs it any more */
	s->state = SASL_ST_DONE;
	return ok ? SASL_OK : SASL_FAIL;
}

/* RFC 4616 section 2:
 *   message   = [authzid] UTF8NUL authcid UTF8NUL passwd
 *   authcid   = 1*SAFE ; MUST accept up to 255 octets
 *   authzid   = 1*SAFE ; MUST accept up to 255 octets
 *   passwd    = 1*SAFE ; MUST accept up to 255 octets
 *   SAFE      = any UTF-8 character except NUL */
static enum sasl_result plain_message(struct sasl *s, const char *data, size_t len, buf *out)
{
	(void)out; /* answered by the caller's check or lookup, not by a challenge */
	const char *end = data + len;
	const char *nul1 = memchr(data, '\0', len);
	const char *nul2 = nul1 ? memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1)) : NULL;
	if (!nul2)
		return SASL_MALFORMED;
	struct span authzid = { data, (size_t)(nul1 - data) };
	struct span authcid = { nul1 + 1, (size_t)(nul2 - nul1 - 1) };
	struct span passwd = { nul2 + 1, (size_t)(end - nul2 - 1) };
	if ((authzid.len > 0 && !field_ok(authzid.p, authzid.len, SASL_MAX_NAME)) ||
	    !field_ok(authcid.p, authcid.len, SASL_MAX_NAME) ||
	    !field_ok(passwd.p, passwd.len, SASL_MAX_PASSWORD))
		return SASL_MALFORMED;
	s->username = xstrndup(authcid.p, authcid.len);
	/* We offer no proxy authorization: a client may only name itself. This says nothing
	 * about whether the user exists, so it may fail before the password check. */
	if (authzid.len > 0 &&
	    (authzid.len != authcid.len || memcmp(authzid.p, authcid.p, authcid.len) != 0))
		return SASL_FAIL;
	return ask_password_check(s, passwd.p, passwd.len);
}

/* draft-murchison-sasl-login: the server asks "Username:" (unless the client sent the username
 * as its initial response), then "Password:"; each answer is the bare value. */
static enum sasl_result login_username(struct sasl *s, const char *data, size_t len, buf *out)
{
	if (!field_ok(data, len, SASL_MAX_NAME))
		return SASL_MALFORMED;
	s->username = xstrndup(data, len);
	buf_puts(out, "Password:");
	s->state = SASL_ST_LOGIN_PASSWORD;
	return SASL_CONTINUE;
}

static enum sasl_result login_password(struct sasl *s, const char *data, size_t len, buf *out)
{
	(void)out; /* answered by the caller's check or lookup, not by a challenge */
	if (!field_ok(data, len, SASL_MAX_PASSWORD))
		return SASL_MALFORMED;
	return ask_password_check(s, data, len);
}

/* --- SCRAM-SHA-256 (RFC 5802 with SHA-256 per RFC 7677) --- */

/* Takes the literal lit at the cursor; false (cursor unmoved) when it is not there. */
static bool take(struct cursor *c, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* Takes the value up to the next ',' or the end; the ',' stays. */
static struct span take_value(struct cursor *c)
{
	const char *comma = memchr(c->p, ',', (size_t)(c->end - c->p));
	struct span v = { c->p, (size_t)((comma ? comma : c->end) - c->p) };
	c->p += v.len;
	return v;
}

/* printable = %x21-2B / %x2D-7E   ; printable ASCII except "," */
static bool printable(struct span v)
{
	for (size_t i = 0; i < v.len; i++)
		if (v.p[i] < 0x21 || v.p[i] > 0x7E || v.p[i] == ',')
			return false;
	return v.len > 0;
}

/* attr-val = ALPHA "=" value ; value = 1*value-char (any UTF-8 but NUL and ",")
 * The caller has checked the whole message with text_ok and split it at the commas. */
static bool attr_val_ok(struct span v)
{
	if (v.len < 3 || v.p[1] != '=')
		return false;
	char a = (char)(v.p[0] | 0x20);
	return a >= 'a' && a <= 'z';
}

/* saslname = 1*(value-safe-char / "=2C" / "=3D")
 * Returns the decoded name, allocated, or NULL when it is empty, holds an '=' that starts
 * neither escape, or decodes to more than SASL_MAX_NAME octets. ABNF literals are
 * case-insensitive (RFC 5234 section 2.3), so "=2c" and "=3d" are accepted too. */
static char *saslname_decode(struct span v)
{
	char *name = xmalloc(v.len + 1);
	size_t n = 0;
	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];
		if (c == '=') {
			bool comma = v.len - i >= 3 && strncasecmp(v.p + i, "=2C", 3) == 0;
			bool equals = v.len - i >= 3 && strncasecmp(v.p + i, "=3D", 3) == 0;
			if (!comma && !equals) { /* RFC 5802 section 5.1: MUST fail */
				free(name);
				return NULL;
			}
			c = comma ? ',' : '=';
			i += 2;
		}
		name[n++] = c;
	}
	if (n == 0 || n > SASL_MAX_NAME) {
		free(name);
		return NULL;
	}
	name[n] = '\0';
	return name;
}

/* RFC 5802 section 7:
 *   client-first-message      = gs2-header client-first-message-bare
 *   gs2-header                = gs2-cbind-flag "," [ authzid ] ","
 *   gs2-cbind-flag            = ("p=" cb-name) / "n" / "y"
 *   authzid                   = "a=" saslname
 *   client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
 *   username                  = "n=" saslname
 *   nonce                     = "r=" c-nonce [s-nonce]   ; c-nonce = printable
 *   extensions                = attr-val *("," attr-val) */
static enum sasl_result scram_client_first(struct sasl *s, const char *data, size_t len, buf *out)
{
	(void)out; /* answered by the caller's check or lookup, not by a challenge */
	struct cursor c = { data, data + len };
	if (!text_ok(data, len))
		return SASL_MALFORMED;
	/* "p" insists on channel binding, which we do not offer (no -PLUS): section 6 says fail.
	 * "y" (the client could bind but thinks we cannot) is then the truth and is accepted. */
	if (take(&c, "p="))
		return SASL_FAIL;
	if (!take(&c, "n,") && !take(&c, "y,"))
		return SASL_MALFORMED;
	bool has_authzid = take(&c, "a=");
	struct span authzid = has_authzid ? take_value(&c) : (struct span){ NULL, 0 };
	if (!take(&c, ","))
		return SASL_MALFORMED;
	buf_append(&s->gs2_header, data, (size_t)(c.p - data));
	buf_append(&s->client_first_bare, c.p, (size_t)(c.end - c.p));
	/* A mandatory extension: none is defined, so we cannot know it (section 5.1: MUST fail). */
	if (take(&c, "m="))
		return SASL_FAIL;
	if (!take(&c, "n="))
		return SASL_MALFORMED;
	struct span name = take_value(&c);
	if (!take(&c, ",r="))
		return SASL_MALFORMED;
	struct span nonce = take_value(&c);
	if (!printable(nonce) || nonce.len > SASL_MAX_NONCE)
		return SASL_MALFORMED;
	while (c.p < c.end)
		if (!take(&c, ",") || !attr_val_ok(take_value(&c)))
			return SASL_MALFORMED;
	s->username = saslname_decode(name);
	char *claimed = has_authzid ? saslname_decode(authzid) : NULL;
	bool authzid_bad = has_authzid && !claimed;
	bool authzid_other = claimed && s->username && strcmp(claimed, s->username) != 0;
	free(claimed);
	if (!s->username || authzid_bad)
		return SASL_MALFORMED;
	if (authzid_other) /* no proxy authorization, as with PLAIN */
		return SASL_FAIL;
	buf_append(&s->nonce, nonce.p, nonce.len);
	s->state = SASL_ST_SCRAM_CREDENTIALS;
	return SASL_NEED_SCRAM;
}

/* Decodes base64 that must hold exactly SCRAM_KEY_LEN bytes into key. */
static bool decode_key(const char *b64, size_t len, unsigned char key[SCRAM_KEY_LEN])
{
	buf b;
	buf_init(&b);
	bool ok = base64_decode(b64, len, &b) == 0 && b.len == SCRAM_KEY_LEN;
	if (ok)
		memcpy(key, b.data, SCRAM_KEY_LEN);
	OPENSSL_cleanse(b.data, b.len);
	buf_free(&b);
	return ok;
}

/* credentials = iter ":" salt ":" stored-key ":" server-key   (password.h)
 *   iter = %x31-39 *DIGIT ; the rest base64
 * Fills the keys, *iter_r and salt (decoded); false for anything else. */
static bool credentials_parse(struct sasl *s, const char *cred, unsigned long *iter_r, buf *salt)
{
	struct span f[4];
	for (int i = 0; i < 4; i++) {
		const char *colon = strchr(cred, ':');
		f[i].p = cred;
		f[i].len = colon ? (size_t)(colon - cred) : strlen(cred);
		if ((colon != NULL) != (i < 3))
			return false;
		if (colon)
			cred = colon + 1;
	}
	if (f[0].len == 0 || f[0].len > SCRAM_MAX_ITER_DIGITS || f[0].p[0] == '0')
		return false;
	*iter_r = 0;
	for (size_t i = 0; i < f[0].len; i++) {
		if (f[0].p[i] < '0' || f[0].p[i] > '9')
			return false;
		*iter_r = *iter_r * 10 + (unsigned long)(f[0].p[i] - '0');
	}
	return base64_decode(f[1].p, f[1].len, salt) == 0 && salt->len > 0 &&
	       salt->len <= SCRAM_MAX_SALT && decode_key(f[2].p, f[2].len, s->stored_key) &&
	       decode_key(f[3].p, f[3].len, s->server_key);
}

/* The one piece of process-wide state: a random key, chosen once, that makes the fake salt of
 * an unknown name the same on every try yet unpredictable to the client. */
static unsigned char fake_secret[SCRAM_KEY_LEN];

static void fake_secret_init(void)
{
	if (RAND_bytes(fake_secret, sizeof(fake_secret)) != 1)
		abort(); /* without randomness the fake salts would give unknown users away */
}

/* What we answer for a name we do not know (or whose stored credentials are broken): the same
 * shape as a real answer, with a salt that stays the same for the name (in any letter case)
 * and the iteration count
 * every account gets, so the client cannot tell. The zero keys make the proof fail, as it
 * would for a wrong password; known_user = false makes sure of it. */
static void scram_fake(struct sasl *s, unsigned long *iter_r, buf *salt)
{
	static CRYPTO_ONCE once = CRYPTO_ONCE_STATIC_INIT;
	unsigned char mac[SCRAM_KEY_LEN];
	if (!CRYPTO_THREAD_run_once(&once, fake_secret_init))
		abort();
	/* Accounts are found whatever the letter case of their name (ASCII, as the store's
	 * NOCASE collation), so the fake salt must not depend on it either: NOSUCH and nosuch
	 * getting different salts while ALICE and alice get the same would tell who exists. */
	char *folded = xstrdup_ascii_lower(s->username);
	scram_hmac(fake_secret, folded, strlen(folded), mac);
	free(folded);
	buf_clear(salt);
	buf_append(salt, mac, SCRAM_FAKE_SALT_LEN);
	*iter_r = SCRAM_ITERATIONS;
	OPENSSL_cleanse(s->stored_key, sizeof(s->stored_key));
	OPENSSL_cleanse(s->server_key, sizeof(s->server_key));
	s->known_user = false;
}

/* server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
 * We send: "r=" c-nonce s-nonce ",s=" base64(salt) ",i=" iterations. */
enum sasl_result sasl_scram_credentials(struct sasl *s, const char *credentials, buf *out)
{
	if (s->state != SASL_ST_SCRAM_CREDENTIALS) {
		s->state = SASL_ST_DONE;
		return SASL_FAIL;
	}
	s->state = SASL_ST_DONE;
	unsigned long iter;
	buf salt;
	buf_init(&salt);
	s->known_user = credentials && credentials_parse(s, credentials, &iter, &salt);
	if (!s->known_user)
		scram_fake(s, &iter, &salt);
	if (s->test_server_nonce) {
		buf_puts(&s->nonce, s->test_server_nonce);
	} else {
		unsigned char r[SCRAM_SERVER_NONCE_BYTES];
		if (RAND_bytes(r, sizeof(r)) != 1) {
			buf_free(&salt);
			return SASL_FAIL;
		}
		/* base64 is printable and has no ',', as s-nonce must be */
		base64_encode(r, sizeof(r), &s->nonce);
	}
	buf_printf(&s->server_first, "r=%s,s=", s->nonce.data);
	base64_encode(salt.data, salt.len, &s->server_first);
	buf_printf(&s->server_first, ",i=%lu", iter);
	buf_free(&salt);
	buf_append(out, s->server_first.data, s->server_first.len);
	s->state = SASL_ST_SCRAM_FINAL;
	return SASL_CONTINUE;
}

void sasl_scram_set_server_nonce_for_test(struct sasl *s, const char *nonce)
{
	free(s->test_server_nonce);
	s->test_server_nonce = xstrdup(nonce);
}

/* RFC 5802 section 3: ClientSignature := HMAC(StoredKey, AuthMessage),
 * ClientKey := ClientProof XOR ClientSignature; the proof holds when H(ClientKey) = StoredKey. */
static bool scram_proof_ok(const struct sasl *s, const buf *auth_message,
			   const unsigned char proof[SCRAM_KEY_LEN])
{
	unsigned char signature[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN], stored[SCRAM_KEY_LEN];
	scram_hmac(s->stored_key, auth_message->data, auth_message->len, signature);
	for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
		client_key[i] = proof[i] ^ signature[i];
	scram_hash(client_key, sizeof(client_key), stored);
	bool ok = CRYPTO_memcmp(stored, s->stored_key, SCRAM_KEY_LEN) == 0;
	OPENSSL_cleanse(signature, sizeof(signature));
	OPENSSL_cleanse(client_key, sizeof(client_key));
	return ok;
}

/* RFC 5802 section 7:
 *   client-final-message               = client-final-message-without-proof "," proof
 *   client-final-message-without-proof = channel-binding "," nonce ["," extensions]
 *   channel-binding                    = "c=" base64   ; of cbind-input
 *   cbind-input                        = gs2-header [ cbind-data ] ; none for "n" and "y"
 *   proof                              = "p=" base64
 *   server-final-message               = (server-error / verifier) ["," extensions]
 *   verifier                           = "v=" base64   ; ServerSignature
 * On failure we send no server-final-message (section 5.1 makes it optional), so no error
 * attribute can hint at why. */
static enum sasl_result scram_client_final(struct sasl *s, const char *data, size_t len, buf *out)
{
	struct cursor c = { data, data + len };
	if (!text_ok(data, len) || !take(&c, "c="))
		return SASL_MALFORMED;
	struct span cbind = take_value(&c);
	if (!take(&c, ",r="))
		return SASL_MALFORMED;
	struct span nonce = take_value(&c);
	if (!printable(nonce))
		return SASL_MALFORMED;
	const char *without_proof_end;
	for (;;) { /* extensions, up to the proof that ends the message */
		without_proof_end = c.p;
		if (!take(&c, ","))
			return SASL_MALFORMED;
		if (take(&c, "p="))
			break;
		if (!attr_val_ok(take_value(&c)))
			return SASL_MALFORMED;
	}
	unsigned char proof[SCRAM_KEY_LEN];
	buf expect, auth_message;
	buf_init(&expect);
	if (!decode_key(c.p, (size_t)(c.end - c.p), proof) ||
	    base64_decode(cbind.p, cbind.len, &expect) != 0) {
		buf_free(&expect);
		return SASL_MALFORMED;
	}
	/* Section 6: the server builds the c= value itself and compares. */
	buf_clear(&expect);
	base64_encode(s->gs2_header.data, s->gs2_header.len, &expect);
	bool cbind_ok = cbind.len == expect.len && memcmp(cbind.p, expect.data, cbind.len) == 0;
	bool nonce_ok = nonce.len == s->nonce.len && memcmp(nonce.p, s->nonce.data, nonce.len) == 0;
	buf_free(&expect);

	/* AuthMessage := client-first-message-bare "," server-first-message ","
	 *                client-final-message-without-proof */
	buf_init(&auth_message);
	buf_append(&auth_message, s->client_first_bare.data, s->client_first_bare.len);
	buf_putc(&auth_message, ',');
	buf_append(&auth_message, s->server_first.data, s->server_first.len);
	buf_putc(&auth_message, ',');
	buf_append(&auth_message, data, (size_t)(without_proof_end - data));
	/* The proof is checked whatever else failed, so every failure takes the same time. */
	bool proof_ok = scram_proof_ok(s, &auth_message, proof);
	enum sasl_result result = SASL_FAIL;
	if (cbind_ok && nonce_ok && proof_ok && s->known_user) {
		/* ServerSignature := HMAC(ServerKey, AuthMessage) */
		unsigned char signature[SCRAM_KEY_LEN];
		scram_hmac(s->server_key, auth_message.data, auth_message.len, signature);
		buf_puts(out, "v=");
		base64_encode(signature, sizeof(signature), out);
		result = SASL_OK;
	}
	buf_free(&auth_message);
	return result;
}

void sasl_plain_response(const char *user, const char *password, buf *out)
{
	buf plain;
	buf_init(&plain);
	buf_putc(&plain, '\0');
	buf_puts(&plain, user);
	buf_putc(&plain, '\0');
	buf_puts(&plain, password);
	base64_encode(plain.data, plain.len, out);
	OPENSSL_cleanse(plain.data, plain.len);
	buf_free(&plain);
}

const char *sasl_mechanism(const struct sasl *s)
{
	return s->mech->name;
}

const char *sasl_username(const struct sasl *s)
{
	return s->username;
}

const char *sasl_password(const struct sasl *s)
{
	return s->password;
}
