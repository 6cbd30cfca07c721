/* DKIM verification (RFC 6376 6, RSA-SHA256 and RFC 8463's Ed25519-SHA256; RFC 8301: RSA-SHA1
 * and RSA keys under 1024 bits fail) of a message as it streams in: the header section gives
 * the signatures and starts their key lookups on the shared resolver, the body is hashed as
 * it arrives (one running hash per canonicalization, algorithm and l= the signatures ask
 * for), and the end checks each signature against its key. Memory stays bounded whatever the
 * message: at most DKIM_VERIFY_MAX_SIGNATURES signatures are checked (the rest are ignored)
 * and no body is kept. */
#ifndef ESTAFETA_DKIM_VERIFY_H
#define ESTAFETA_DKIM_VERIFY_H
#include "core/dns.h"
#include "mail/dkim_tags.h"
#include "mail/header.h"
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define DKIM_VERIFY_MAX_SIGNATURES 8
/* Signatures of other fields checked with the same machinery: ARC's (one ARC-Message-
 * Signature and the seals of a chain, RFC 8617 5.2). */
#define DKIM_VERIFY_MAX_ADDED (ARC_MAX_INSTANCES + 1)

/* RFC 8601 2.7.1's results. */
enum dkim_result {
	DKIM_PASS,
	DKIM_FAIL,      /* the signature or the body hash does not match, or the key is too weak */
	DKIM_NEUTRAL,   /* a signature that cannot be checked for reasons not of the signer's making */
	DKIM_POLICY,    /* valid, but not acceptable to us (l= covering part of the body only is noted, not this) */
	DKIM_TEMPERROR, /* the key could not be fetched for now */
	DKIM_PERMERROR, /* malformed signature, missing or unusable key, expired (x=) */
};

/* "pass", "fail", "neutral", "policy", "temperror", "permerror". */
const char *dkim_result_name(enum dkim_result r);

/* One signature's outcome. The strings live until the verifier is freed. */
struct dkim_signature_result {
	enum dkim_result result;
	const char *domain;    /* d=, lower-cased (empty when unreadable) */
	const char *selector;  /* s= */
	const char *identity;  /* i= as given, or NULL */
	const char *algorithm; /* a= as given ("rsa-sha256", "ed25519-sha256") */
	const char *b;         /* b= with its white space removed (header.b takes a prefix) */
	const char *reason;    /* NULL on pass; what failed, for people */
	bool partial_body;     /* l= left part of the body unsigned (noted, RFC 6376 8.2) */
	unsigned key_bits;     /* RSA modulus size, 256 for Ed25519, 0 before the key is in */
};

struct dkim_verify;

/* now: the time x= and t= are compared against. */
struct dkim_verify *dkim_verify_new(struct dns *d, time_t now);
/* The whole header section as it arrived (fields with CRLF, up to and including the empty
 * line that ends it): reads the DKIM-Signature fields and starts their key lookups. Call
 * once, before the body. */
void dkim_verify_header(struct dkim_verify *v, const char *hdr, size_t len);
/* Body octets as they arrive (after dot-unstuffing), in order, in pieces of any size. */
void dkim_verify_body(struct dkim_verify *v, const char *data, size_t len);
/* The message has ended: done(arg) runs once, on the loop, when every key is in (after this
 * call returns, even when none is out). */
void dkim_verify_finish(struct dkim_verify *v, void (*done)(void *arg), void *arg);
/* The outcome of each signature checked, in header order. Callable any time after finish;
 * a signature whose key has not arrived yet is a temperror. */
size_t dkim_verify_results(struct dkim_verify *v, const struct dkim_signature_result **r);
/* One more signature to check, of a field other than DKIM-Signature: ARC's (RFC 8617 4.1.2,
 * 4.1.3). tags: read by dkim_sig_tags_parse_kind, taken over by v; digest: the SHA-256 of its
 * header data (dkim_header_digest's for an ARC-Message-Signature); body: whether its bh= is
 * checked against the body. After dkim_verify_header, before the body. Returns its handle,
 * or -1 (tags freed) when DKIM_VERIFY_MAX_ADDED are in. */
int dkim_verify_add(struct dkim_verify *v, struct dkim_sig_tags *tags, const unsigned char digest[32],
		    bool body);
/* The outcome of an added signature, as dkim_verify_results gives them; lives until the next
 * call or the free. */
const struct dkim_signature_result *dkim_verify_added(struct dkim_verify *v, int handle);
/* The SHA-256 of a signature's header data (RFC 6376 3.7, 5.4.2): the fields of
 * fields[0..count) its h= names, each name taking the last field of that name not yet
 * taken, then self (the signature's own field) with its b= value emptied and no CRLF. */
void dkim_header_digest(const struct dkim_sig_tags *t, const struct header_field *fields, size_t count,
			const struct header_field *self, unsigned char digest[32]);
/* Frees v; a pending finish is cancelled and lookups still out end quietly. */
void dkim_verify_free(struct dkim_verify **v);
#endif
