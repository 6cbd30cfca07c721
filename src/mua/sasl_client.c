/* SCRAM-SHA-256 for the mail client; see sasl_client.h. */
#include "mua/sasl_client.h"
#include "core/base64.h"
#include "core/xalloc.h"
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_BYTES 18            /* 24 base64 characters, as common clients send */
#define MAX_ITERATIONS 10000000   /* a hostile server could ask for hours of work */
#define MAX_MESSAGE 4096          /* a server message, as the server side bounds a client's */

void scram_client_init(struct scram_client *sc, const char *password)
{
	memset(sc, 0, sizeof(*sc));
	sc->password = password;
	buf_init(&sc->auth_message);
}

void scram_client_free(struct scram_client *sc)
{
	buf_free(&sc->auth_message);
	OPENSSL_cleanse(sc->server_signature, sizeof(sc->server_signature));
}

bool scram_client_done(const struct scram_client *sc)
{
	return sc->step == 3;
}

enum scram_outcome scram_client_refusal(const struct scram_client *sc)
{
	return sc->step <= 1 ? SCRAM_REFUSED_AT_ONCE : SCRAM_REFUSED;
}

/* saslname: "=" and "," written as "=3D" and "=2C" (RFC 5802 5.1). */
static void put_saslname(buf *out, const char *user)
{
	for (const char *p = user; *p != '\0'; p++)
		buf_puts(out, *p == '=' ? "=3D" : *p == ',' ? "=2C" : (char[]){ *p, '\0' });
}

/* The value of attribute name ("r", "s", "i") in a comma-separated server message, which must
 * come at position index; NULL when it does not. */
static const char *attribute(const char *msg, size_t index, char name, size_t *len_r)
{
	const char *p = msg;
	for (size_t i = 0; i < index && p != NULL; i++)
		if ((p = strchr(p, ',')) != NULL)
			p++;
	if (p == NULL || p[0] != name || p[1] != '=')
		return NULL;
	p += 2;
	*len_r = strcspn(p, ",");
	return p;
}

static int client_first(struct scram_client *sc, const char *user, buf *out)
{
	unsigned char raw[NONCE_BYTES];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		abort();
	buf_puts(&sc->auth_message, "n=");
	put_saslname(&sc->auth_message, user);
	buf_puts(&sc->auth_message, ",r=");
	if (sc->nonce_for_test != NULL)
		buf_puts(&sc->auth_message, sc->nonce_for_test);
	else
		base64_encode(raw, sizeof(raw), &sc->auth_message);
	buf_puts(out, "n,,");
	buf_append(out, sc->auth_message.data, sc->auth_message.len);
	return 0;
}

/* True when the len octets at s are digits, the first not 0. */
static bool positive_number(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0 && s[0] != '0';
}

/* printable = %x21-2B / %x2D-7E: "," ends the attribute already (RFC 5802 7) */
static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

static int client_final(struct scram_client *sc, const char *msg, buf *out, char **error_r)
{
	size_t nonce_len, salt_len, iter_len;
	const char *nonce = attribute(msg, 0, 'r', &nonce_len);
	const char *salt64 = attribute(msg, 1, 's', &salt_len);
	const char *iter = attribute(msg, 2, 'i', &iter_len);
	const char *mine = strstr(sc->auth_message.data, ",r=") + 3;
	/* at most 8 digits: MAX_ITERATIONS has 8 */
	unsigned long iterations = iter != NULL && iter_len <= 8 && positive_number(iter, iter_len)
					   ? strtoul(iter, NULL, 10)
					   : 0;
	buf salt;
	buf_init(&salt);
	if (nonce == NULL || salt64 == NULL || iterations == 0 || iterations > MAX_ITERATIONS ||
	    nonce_len <= strlen(mine) || strncmp(nonce, mine, strlen(mine)) != 0 ||
	    !printable(nonce, nonce_len) || base64_decode(salt64, salt_len, &salt) < 0 ||
	    salt.len == 0) {
		buf_free(&salt);
		*error_r = xstrdup("the server's SCRAM challenge is malformed");
		return -1;
	}
	unsigned char client_key[SCRAM_KEY_LEN], server_key[SCRAM_KEY_LEN], stored_key[SCRAM_KEY_LEN],
		signature[SCRAM_KEY_LEN];
	int r = scram_keys(sc->password, (const unsigned char *)salt.data, salt.len,
			   (unsigned)iterations, client_key, server_key);
	buf_free(&salt);
	if (r < 0) {
		*error_r = xstrdup("cannot compute the SCRAM keys");
		return -1;
	}
	/* client-final-message-without-proof: c=biws is base64 of the GS2 header "n,," */
	buf_printf(&sc->auth_message, ",%s,c=biws,r=%.*s", msg, (int)nonce_len, nonce);
	buf_printf(out, "c=biws,r=%.*s,p=", (int)nonce_len, nonce);
	/* ClientProof := ClientKey XOR HMAC(H(ClientKey), AuthMessage) */
	scram_hash(client_key, sizeof(client_key), stored_key);
	scram_hmac(stored_key, sc->auth_message.data, sc->auth_message.len, signature);
	for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
		client_key[i] ^= signature[i];
	base64_encode(client_key, sizeof(client_key), out);
	scram_hmac(server_key, sc->auth_message.data, sc->auth_message.len, sc->server_signature);
	OPENSSL_cleanse(client_key, sizeof(client_key));
	OPENSSL_cleanse(server_key, sizeof(server_key));
	return 0;
}

static int check_server_final(struct scram_client *sc, const char *msg, char **error_r)
{
	size_t len;
	const char *e = attribute(msg, 0, 'e', &len);
	if (e != NULL) {
		*error_r = xasprintf("the server refused the SCRAM login: %.*s", (int)len, e);
		return -1;
	}
	const char *v = attribute(msg, 0, 'v', &len);
	buf sig;
	buf_init(&sig);
	bool ok = v != NULL && base64_decode(v, len, &sig) == 0 && sig.len == SCRAM_KEY_LEN &&
		  CRYPTO_memcmp(sig.data, sc->server_signature, SCRAM_KEY_LEN) == 0;
	buf_free(&sig);
	if (!ok)
		*error_r = xstrdup("the server could not prove it knows the account (SCRAM "
				   "signature wrong): not trusting it");
	return ok ? 0 : -1;
}

int scram_client_step(struct scram_client *sc, const char *user, const char *challenge,
		      size_t len, buf *out, char **error_r)
{
	/* the server's messages are printable text; one with a NUL in it is malformed */
	char *msg = xstrndup(challenge != NULL ? challenge : "", len > MAX_MESSAGE ? 0 : len);
	int r = -1;
	if (len > MAX_MESSAGE)
		*error_r = xstrdup("the server's SCRAM message is too long");
	else if (strlen(msg) != len)
		*error_r = xstrdup("the server's SCRAM message holds a NUL");
	else if (sc->step == 0)
		r = client_first(sc, user, out);
	else if (sc->step == 1)
		r = client_final(sc, msg, out, error_r);
	else if (sc->step == 2)
		r = check_server_final(sc, msg, error_r);
	else
		*error_r = xstrdup("the server sent more SCRAM challenges than SCRAM has");
	free(msg);
	if (r == 0)
		sc->step++;
	return r;
}
