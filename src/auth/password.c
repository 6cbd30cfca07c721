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
#include <openssl/sha.h>
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

char *scram_sha256_credentials_salted(const char *password, const unsigned char *salt,
				      size_t salt_len, unsigned iterations)
{
	/* SaltedPassword := Hi(Normalize(password), salt, i); ClientKey := HMAC(SaltedPassword,
	 * "Client Key"); StoredKey := H(ClientKey); ServerKey := HMAC(SaltedPassword, "Server Key").
	 * Normalize is SASLprep for stored strings (RFC 5802 2.2, RFC 4013), as clients apply it.
	 * A password SASLprep refuses (prohibited or unassigned characters) is used as its octets:
	 * no conforming client can log in with it by SCRAM, but PLAIN and LOGIN still work. */
	char *prepared = NULL;
	if (stringprep_profile(password, &prepared, "SASLprep", STRINGPREP_NO_UNASSIGNED) == STRINGPREP_OK)
		password = prepared;
	unsigned char salted[SHA256_DIGEST_LENGTH], client_key[SHA256_DIGEST_LENGTH],
		stored_key[SHA256_DIGEST_LENGTH], server_key[SHA256_DIGEST_LENGTH];
	unsigned int len = 0;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, (int)iterations,
			      EVP_sha256(), sizeof(salted), salted) != 1 ||
	    HMAC(EVP_sha256(), salted, sizeof(salted), (const unsigned char *)"Client Key", 10,
		 client_key, &len) == NULL ||
	    SHA256(client_key, sizeof(client_key), stored_key) == NULL ||
	    HMAC(EVP_sha256(), salted, sizeof(salted), (const unsigned char *)"Server Key", 10,
		 server_key, &len) == NULL) {
		OPENSSL_cleanse(salted, sizeof(salted));
		wipe_prepared(prepared);
		return NULL;
	}
	wipe_prepared(prepared);
	OPENSSL_cleanse(salted, sizeof(salted));
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
