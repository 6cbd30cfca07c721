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

/* ARC's signatures (RFC 8617 4.1.2, 4.1.3), on the same machinery. The ARC-Message-Signature
 * of instance i for msg: dkim_sign's fields and body hash, "i=N" in place of v=1 (none of
 * ARC's fields, nor Authentication-Results, is in the signed set). Appends it with CRLF;
 * -1 as dkim_sign. */
int dkim_sign_arc_message(const char *msg, size_t len, const struct dkim_signing_key *key,
			  unsigned instance, time_t t, buf *out);
/* The ARC-Seal of instance i, cv= cv ("none", "pass"): signs sets (the relaxed fields of the
 * ARC sets 1..i, each with CRLF, the new set's ARC-Authentication-Results and
 * ARC-Message-Signature last, 5.1.1) and then itself. Appends it with CRLF; -1 when the key
 * fails to sign. */
int dkim_sign_arc_seal(const buf *sets, const struct dkim_signing_key *key, unsigned instance,
		       const char *cv, time_t t, buf *out);
#endif
