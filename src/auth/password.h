/* Password hashes for accounts. Passwords are never stored: accounts keep a yescrypt crypt(3)
 * string (libcrypt) for PLAIN/LOGIN/USER-PASS checks, and SCRAM-SHA-256 keys (RFC 5802, 7677)
 * derived once at password-setting time, so SCRAM logins never need the password. */
#ifndef ESTAFETA_PASSWORD_H
#define ESTAFETA_PASSWORD_H
#include <stdbool.h>
#include <stddef.h>

#define SCRAM_ITERATIONS 4096 /* RFC 7677 section 4: at least 4096 */
#define SCRAM_KEY_LEN 32       /* SHA-256 output: the keys, signatures and proofs */

/* Returns an allocated yescrypt hash ("$y$...") of password with a fresh random salt, or NULL
 * when the system cannot hash (the caller reports it). Blocks for tens of milliseconds. */
char *password_hash(const char *password);
/* True when password matches hash. Constant-time comparison; blocks like password_hash. */
bool password_verify(const char *password, const char *hash);
/* Returns allocated SCRAM-SHA-256 credentials "ITER:SALT:STOREDKEY:SERVERKEY" (base64 parts)
 * with a fresh random 16-octet salt, or NULL when the system cannot (the caller reports it). */
char *scram_sha256_credentials(const char *password);
/* The same with a given salt and iteration count: for checking against published examples
 * (RFC 7677 section 3) and for building known credentials in tests. */
char *scram_sha256_credentials_salted(const char *password, const unsigned char *salt,
				      size_t salt_len, unsigned iterations);

/* SCRAM-SHA-256's building blocks, for the server's check and the mail client's proof:
 * HMAC-SHA-256 with a key of SCRAM_KEY_LEN octets, SHA-256, and ClientKey and ServerKey from
 * a password (SASLprep'd), salt and iteration count (RFC 5802 3). -1 when OpenSSL fails. */
void scram_hmac(const unsigned char key[SCRAM_KEY_LEN], const void *data, size_t len,
		unsigned char mac[SCRAM_KEY_LEN]);
void scram_hash(const void *data, size_t len, unsigned char md[SCRAM_KEY_LEN]);
int scram_keys(const char *password, const unsigned char *salt, size_t salt_len,
	       unsigned iterations, unsigned char client_key[SCRAM_KEY_LEN],
	       unsigned char server_key[SCRAM_KEY_LEN]);
#endif
