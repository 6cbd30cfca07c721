/* SHA-256 as lower-case hex, whole or in pieces: the checksums of a backup's files and of its
 * manifest (store/backup_manifest.c). On OpenSSL's EVP interface. */
#ifndef ESTAFETA_DIGEST_H
#define ESTAFETA_DIGEST_H
#include <stddef.h>

#define SHA256_HEX_SIZE 65 /* 64 hex digits and a NUL */

struct sha256;
struct sha256 *sha256_new(void);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Writes the digest of everything given to hex and frees h. */
void sha256_finish(struct sha256 *h, char hex[SHA256_HEX_SIZE]);
/* The digest of data in one call. */
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_SIZE]);
#endif
