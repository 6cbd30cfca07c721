/* DKIM's tag lists (RFC 6376 3.2): the DKIM-Signature field (3.5) and the public key record
 * published in DNS (3.6.1; Ed25519: RFC 8463 4). Pure functions over byte buffers: what they
 * read is checked to the letter (6.1.1: any inconsistency makes the whole list unusable), and
 * what they find is copied out, so nothing points back into the input. */
#ifndef ESTAFETA_DKIM_TAGS_H
#define ESTAFETA_DKIM_TAGS_H
#include "core/buf.h"
#include "core/strlist.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A list of more tags than this is refused: duplicates are looked for among all of them. */
#define DKIM_TAGS_MAX 64

/* One tag-spec: its name, its value without the white space around it, and the whole span
 * after the '=' up to the ';' (or the end), which is what a b= value's removal takes out. */
struct dkim_tag {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
	size_t span_start, span_end;
};

/* Reads the tag-spec at *pos of s[0..len). Returns 1 with *t filled and *pos past its ';', 0
 * at the end of the list (white space and a final ';' allowed), -1 for a syntax error. */
int dkim_tag_next(const char *s, size_t len, size_t *pos, struct dkim_tag *t);

enum dkim_sig_algorithm {
	DKIM_SIG_RSA_SHA256,
	DKIM_SIG_ED25519_SHA256,
	DKIM_SIG_RSA_SHA1,   /* readable, never valid (RFC 8301 3.1) */
	DKIM_SIG_UNKNOWN,
};

/* Whose tag list a signature is: a DKIM-Signature field's, or one of ARC's signatures (RFC
 * 8617 4.1.2, 4.1.3), which take DKIM's tags with i= the instance and no v=. */
enum dkim_sig_kind {
	DKIM_SIG_FIELD,
	DKIM_SIG_ARC_MESSAGE, /* ARC-Message-Signature: DKIM's tags but v= */
	DKIM_SIG_ARC_SEAL,    /* ARC-Seal: a, b, cv, d, i, s, t; no bh=, no h= */
};

/* An ARC-Seal's cv= (RFC 8617 4.1.3). */
enum arc_cv { ARC_CV_NONE, ARC_CV_PASS, ARC_CV_FAIL };

#define ARC_MAX_INSTANCES 50

/* A DKIM-Signature's tags (or an ARC signature's). The strings are allocated (NULL when the tag is absent). */
struct dkim_sig_tags {
	char *algorithm;         /* a= */
	enum dkim_sig_algorithm alg;
	char *b;                 /* b= with its white space removed */
	buf signature;           /* b= decoded */
	buf body_hash;           /* bh= decoded */
	bool header_relaxed, body_relaxed; /* c=, simple/simple when absent */
	char *domain;            /* d=, lower-cased */
	char *selector;          /* s= */
	char *identity;          /* i= as given (DKIM-Signature only) */
	unsigned instance;       /* ARC: i=, 1..ARC_MAX_INSTANCES */
	enum arc_cv cv;          /* ARC-Seal: cv= */
	strlist headers;         /* h=, each name as given */
	bool has_length;
	uint64_t length;         /* l=; a count past UINT64_MAX is taken as UINT64_MAX */
	bool has_timestamp, has_expiry;
	uint64_t timestamp, expiry; /* t=, x= */
	size_t b_start, b_end;   /* b='s value in the field value given, to be emptied */
};

/* Reads a DKIM-Signature field's value (after the colon, as header_next gives it). Returns 0,
 * or -1 with *error saying what is wrong (a static string): a syntax error, a duplicate tag,
 * a required tag missing (v, a, b, bh, d, h, s), v= other than 1, an unknown c=, no
 * "dns/txt" in q=, no From in h=, an i= whose domain is not d= or under it, x= before t=.
 * What could be read stays in *sig either way; dkim_sig_tags_free frees it. */
int dkim_sig_tags_parse(const char *value, size_t len, struct dkim_sig_tags *sig, const char **error);
/* The same for an ARC signature's value: required are i= (1 to ARC_MAX_INSTANCES) and the
 * tags of its kind, an ARC-Seal needs a cv= of none, pass or fail and has no h=. */
int dkim_sig_tags_parse_kind(enum dkim_sig_kind kind, const char *value, size_t len,
			     struct dkim_sig_tags *sig, const char **error);
void dkim_sig_tags_free(struct dkim_sig_tags *sig);

/* The instance an ARC field's value begins with ("i=N;", RFC 8617 4.2.1), 1 to
 * ARC_MAX_INSTANCES, with *after the offset past its ';'; 0 when it does not begin so. */
unsigned arc_instance_of(const char *value, size_t len, size_t *after);

/* A public key record's tags. */
struct dkim_key_tags {
	char *key_type;      /* k=, "rsa" when absent */
	bool sha256;         /* h= absent or naming sha256 */
	bool email;          /* s= absent, or naming "*" or "email" */
	bool testing;        /* t=y */
	bool strict;         /* t=s: i='s domain must be d= itself */
	buf key;             /* p= decoded; empty: the key is revoked */
};

/* Reads a key record's text (its TXT strings joined). Returns 0, or -1 with *error for a
 * syntax error, a duplicate tag, v= other than DKIM1, no p=, or p= that is no base64.
 * dkim_key_tags_free frees it either way. */
int dkim_key_tags_parse(const char *text, size_t len, struct dkim_key_tags *key, const char **error);
void dkim_key_tags_free(struct dkim_key_tags *key);
#endif
