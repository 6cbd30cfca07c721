/* Password hashing for accounts (password.h): yescrypt through libcrypt for password checks,
 * and the SCRAM-SHA-256 keys of RFC 5802 section 3 computed with OpenSSL. Nothing here is
 * hand-rolled cryptography: only the glue that formats the results. */
#include "auth/password.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <stringprep.h>

#define SCRAM_SALT_BYTES 16

/* crypt_ra's result for password and setting, copied; NULL when libcrypt refuses. libcrypt
 * marks failure with NULL or a string starting with '*', never a valid hash. */
static char *crypt_copy(const char *password, const char *setting)
{
	void *data = NULL;
	int size = 0;
	const char *hash = crypt_ra(password, setting, &data, &size);
	char *copy = hash != NULL && hash[0] != '*' ? xstrdup(hash) : NULL;
	if (data != NULL) {
		/* The work area held material derived from the password. */
		OPENSSL_cleanse(data, (size_t)size);
		free(data);
	}
	return copy;
}

char *password_hash(const char *password)
{
	/* "$y$" with count 0 and no random bytes given: libcrypt's default yescrypt cost and a
	 * salt from the system's random source. */
	char *setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (setting == NULL)
		return NULL;
	char *hash = crypt_copy(password, setting);
	free(setting);
	return hash;
}

bool password_verify(const char *password, const char *hash)
{
	char *computed = crypt_copy(password, hash);
	if (computed == NULL)
		return false;
	size_t len = strlen(hash);
	bool ok = strlen(computed) == len && CRYPTO_memcmp(computed, hash, len) == 0;
	free(computed);
	return ok;
}

static void wipe_prepared(char *prepared)
{
	if (prepared != NULL) {
		OPENSSL_cleanse(prepared, strlen(prepared));
		free(prepared);
	}
}

/* OpenSSL fails these only when it cannot allocate; like xalloc, we abort then. */
void scram_hmac(const unsigned char key[SCRAM_KEY_LEN], const void *data, size_t len,
		unsigned char mac[SCRAM_KEY_LEN])
{
	if (!HMAC(EVP_sha256(), key, SCRAM_KEY_LEN, data, len, mac, NULL))
		abort();
}

void scram_hash(const void *data, size_t len, unsigned char md[SCRAM_KEY_LEN])
{
	if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
		abort();
}

int scram_keys(const char *password, const unsigned char *salt, size_t salt_len,
	       unsigned iterations, unsigned char client_key[SCRAM_KEY_LEN],
	       unsigned char server_key[SCRAM_KEY_LEN])
{
	/* SaltedPassword := Hi(Normalize(password), salt, i); ClientKey := HMAC(SaltedPassword,
	 * "Client Key"); ServerKey := HMAC(SaltedPassword, "Server Key"). Normalize is SASLprep
	 * (RFC 5802 2.2, RFC 4013). A password SASLprep refuses (prohibited or unassigned
	 * characters) is used as its octets: no conforming client can log in with it by SCRAM,
	 * but PLAIN and LOGIN still work. */
	char *prepared = NULL;
	if (stringprep_profile(password, &prepared, "SASLprep", STRINGPREP_NO_UNASSIGNED) == STRINGPREP_OK)
		password = prepared;
	unsigned char salted[SCRAM_KEY_LEN];
	int ok = PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len,
				   (int)iterations, EVP_sha256(), sizeof(salted), salted);
	wipe_prepared(prepared);
	if (ok != 1)
		return -1;
	scram_hmac(salted, "Client Key", 10, client_key);
	scram_hmac(salted, "Server Key", 10, server_key);
	OPENSSL_cleanse(salted, sizeof(salted));
	return 0;
}

char *scram_sha256_credentials_salted(const char *password, const unsigned char *salt,
				      size_t salt_len, unsigned iterations)
{
	/* StoredKey := H(ClientKey): the server keeps that and ServerKey, never ClientKey. */
	unsigned char client_key[SCRAM_KEY_LEN], stored_key[SCRAM_KEY_LEN], server_key[SCRAM_KEY_LEN];
	if (scram_keys(password, salt, salt_len, iterations, client_key, server_key) < 0)
		return NULL;
	scram_hash(client_key, sizeof(client_key), stored_key);
	OPENSSL_cleanse(client_key, sizeof(client_key));
	buf out;
	buf_init(&out);
	buf_printf(&out, "%u:", iterations);
	base64_encode(salt, salt_len, &out);
	buf_putc(&out, ':');
	base64_encode(stored_key, sizeof(stored_key), &out);
	buf_putc(&out, ':');
	base64_encode(server_key, sizeof(server_key), &out);
	char *credentials = buf_steal(&out);
	buf_free(&out);
	return credentials;
}

char *scram_sha256_credentials(const char *password)
{
	unsigned char salt[SCRAM_SALT_BYTES];
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return NULL;
	return scram_sha256_credentials_salted(password, salt, sizeof(salt), SCRAM_ITERATIONS);
}
