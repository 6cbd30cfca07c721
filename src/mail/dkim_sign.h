/* DKIM signing (RFC 6376 5; RSA-SHA256 as RFC 8301 allows it, Ed25519-SHA256 of RFC 8463):
 * the DKIM-Signature header fields of a message, relaxed/relaxed, with the header fields a
 * receiver expects signed and From signed once more than it occurs (RFC 6376 8.15), so no
 * From can be added to the message without breaking the signature. No l= (the whole body is
 * signed) and no x=. Pure functions over the message in memory, on OpenSSL's EVP. */
#ifndef ESTAFETA_DKIM_SIGN_H
#define ESTAFETA_DKIM_SIGN_H
#include "core/buf.h"
#include <openssl/evp.h>
#include <stddef.h>
#include <time.h>

struct dkim_signing_key {
	const char *domain;   /* d= */
	const char *selector; /* s= */
	EVP_PKEY *key;        /* Ed25519, or RSA of at least 1024 bits */
};

/* Appends to out one DKIM-Signature field (CRLF-terminated) for each of the keys, made at
 * time t, to be put above msg[0..len), a whole message with CRLF lines. Its h= names every
 * field of the signed set present, once per occurrence, lower-case, and "from" once more. Returns 0, or -1 when
 * the message has no header section or a key fails to sign (out then holds the fields of the
 * keys before it). */
int dkim_sign(const char *msg, size_t len, const struct dkim_signing_key *keys, size_t count,
	      time_t t, buf *out);
#endif
