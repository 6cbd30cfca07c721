/* DKIM keys: generating them, their private form kept in the store (PKCS#8 PEM), and the
 * public key record to publish in DNS (RFC 6376 3.6.1; Ed25519: RFC 8463 4; RSA: at least
 * 1024 bits, RFC 8301 3.2). On OpenSSL 3's EVP interface; no I/O. */
#ifndef ESTAFETA_DKIM_KEY_H
#define ESTAFETA_DKIM_KEY_H
#include "core/buf.h"
#include <openssl/evp.h>

#define DKIM_RSA_BITS 2048
#define DKIM_RSA_MIN_BITS 1024

enum dkim_algorithm { DKIM_ED25519, DKIM_RSA };

/* "ed25519" or "rsa": the name of the k= tag, the command line's and the store's. */
const char *dkim_algorithm_name(enum dkim_algorithm alg);
/* 0 with *alg set for a name dkim_algorithm_name gives, else -1. */
int dkim_algorithm_parse(const char *name, enum dkim_algorithm *alg);
/* The algorithm of a key, or -1 for a key DKIM cannot use (another type, RSA under 1024
 * bits). */
int dkim_key_algorithm(EVP_PKEY *key);

/* A new key (RSA: DKIM_RSA_BITS), or NULL. */
EVP_PKEY *dkim_key_generate(enum dkim_algorithm alg);
/* The private key as unencrypted PKCS#8 PEM, allocated; NULL on failure. */
char *dkim_key_to_pem(EVP_PKEY *key);
/* The key of a PEM text that dkim_key_to_pem wrote, or NULL when it is none DKIM can use. */
EVP_PKEY *dkim_key_from_pem(const char *pem);

/* The public key of a record's p= octets for alg: Ed25519's raw 32 octets, or for RSA the
 * DER SubjectPublicKeyInfo (or a bare PKCS#1 RSAPublicKey, which some publish). Whatever the
 * size of an RSA key, so a verifier can say it is too small. NULL when the octets are no
 * such key. */
EVP_PKEY *dkim_key_public(enum dkim_algorithm alg, const void *data, size_t len);

/* Appends the TXT record's text for the key's selector: "v=DKIM1; k=ed25519; p=BASE64" (p=
 * the raw public key for Ed25519, the DER SubjectPublicKeyInfo for RSA, as every verifier
 * reads it). Returns 0, or -1 when the public key cannot be written. */
int dkim_key_record(EVP_PKEY *key, buf *out);
/* The same for the key of a PEM text that dkim_key_to_pem wrote (a store row's); -1 when it
 * is none DKIM can use. */
int dkim_key_record_of_pem(const char *pem, buf *out);
/* Appends text as the character-strings of a TXT record in zone-file form, each at most 255
 * octets (RFC 1035 3.3.14): "\"first 255\" \"next\"". */
void dkim_txt_strings(const char *text, buf *out);
#endif
