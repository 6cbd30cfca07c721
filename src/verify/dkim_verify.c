/* DKIM verification; see dkim_verify.h.
 *
 * The header section is all a signature's header hash needs, so it is computed then (only
 * its SHA-256 is kept, RFC 8463 signing that too) and the header is not held. Each distinct
 * key name gets one lookup; a lookup outlives the verifier when it is freed first (it is
 * detached, and frees itself when its answer, or dns_free's cancellation, comes). */
#include "verify/dkim_verify.h"
#include "core/xalloc.h"
#include "mail/dkim_canon.h"
#include "mail/dkim_key.h"
#include "mail/dkim_tags.h"
#include "mail/header.h"
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One running body hash: a canonicalization and an l= that signatures share. */
struct body_hash {
	bool relaxed;
	bool has_length;
	uint64_t length;
	uint64_t hashed;       /* canonical octets hashed */
	bool beyond;           /* canonical octets came past l= */
	struct dkim_body_canon canon;
	EVP_MD_CTX *ctx;
	unsigned char md[SHA256_DIGEST_LENGTH];
};

/* The key record of SELECTOR._domainkey.DOMAIN. */
struct key_lookup {
	struct dkim_verify *v; /* NULL once the verifier is freed */
	char *name;
	bool answered;
	enum dns_status status;
	bool usable;           /* a record that reads as a key record (key holds it) */
	const char *error;     /* else, with DNS_OK: why none does */
	struct dkim_key_tags key;
};

struct signature {
	struct dkim_sig_tags tags;
	struct dkim_signature_result result;
	bool settled;          /* result is final */
	unsigned char header_digest[SHA256_DIGEST_LENGTH];
	struct body_hash *hash;
	struct key_lookup *lookup;
};

struct dkim_verify {
	struct dns *dns;
	time_t now;
	bool header_seen, finished;
	/* the DKIM-Signature fields' (dkim_count), then the added ones */
	struct signature sigs[DKIM_VERIFY_MAX_SIGNATURES + DKIM_VERIFY_MAX_ADDED];
	size_t sig_count, dkim_count;
	struct dkim_signature_result results[DKIM_VERIFY_MAX_SIGNATURES];
	struct body_hash hashes[DKIM_VERIFY_MAX_SIGNATURES + 1];
	size_t hash_count;
	struct key_lookup *lookups[DKIM_VERIFY_MAX_SIGNATURES + DKIM_VERIFY_MAX_ADDED];
	size_t lookup_count;
	unsigned pending;      /* lookups out */
	struct event *done_ev;
	void (*done)(void *arg);
	void *done_arg;
};

const char *dkim_result_name(enum dkim_result r)
{
	static const char *const names[] = { "pass", "fail", "neutral", "policy", "temperror", "permerror" };
	return names[r];
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct dkim_verify *v = arg;
	void (*done)(void *) = v->done;
	v->done = NULL;
	if (done != NULL)
		done(v->done_arg);
}

static void maybe_done(struct dkim_verify *v)
{
	if (v->finished && v->pending == 0 && v->done != NULL)
		event_active(v->done_ev, 0, 0);
}

struct dkim_verify *dkim_verify_new(struct dns *d, time_t now)
{
	struct dkim_verify *v = xcalloc(1, sizeof(*v));
	v->dns = d;
	v->now = now;
	v->done_ev = event_new(dns_base(d), -1, 0, on_done, v);
	return v;
}

static void settle(struct signature *s, enum dkim_result r, const char *reason)
{
	s->result.result = r;
	s->result.reason = reason;
	s->settled = true;
}

static void lookup_free(struct key_lookup *l)
{
	dkim_key_tags_free(&l->key);
	free(l->name);
	free(l);
}

/* The first record that reads as a key record is the key (RFC 6376 6.1.2 step 4 lets a
 * verifier choose). */
static void on_key(enum dns_status status, char *const *records, size_t count, void *arg)
{
	struct key_lookup *l = arg;
	struct dkim_verify *v = l->v;
	if (v == NULL) {
		lookup_free(l);
		return;
	}
	l->answered = true;
	l->status = status;
	for (size_t i = 0; status == DNS_OK && i < count && !l->usable; i++) {
		const char *error = NULL;
		dkim_key_tags_free(&l->key);
		l->usable = dkim_key_tags_parse(records[i], strlen(records[i]), &l->key, &error) == 0;
		if (l->error == NULL)
			l->error = error;
	}
	if (status == DNS_OK && count == 0)
		l->status = DNS_NO_DATA;
	v->pending--;
	maybe_done(v);
}

static struct key_lookup *lookup_for(struct dkim_verify *v, const struct dkim_sig_tags *t)
{
	char *name = xasprintf("%s._domainkey.%s", t->selector, t->domain);
	for (size_t i = 0; i < v->lookup_count; i++)
		if (strcasecmp(v->lookups[i]->name, name) == 0) {
			free(name);
			return v->lookups[i];
		}
	struct key_lookup *l = xcalloc(1, sizeof(*l));
	l->v = v;
	l->name = name;
	v->lookups[v->lookup_count++] = l;
	v->pending++;
	dns_query_txt(v->dns, name, on_key, l); /* may answer at once */
	return l;
}

static struct body_hash *hash_for(struct dkim_verify *v, const struct dkim_sig_tags *t);

void dkim_header_digest(const struct dkim_sig_tags *t, const struct header_field *fields, size_t count,
			const struct header_field *self, unsigned char digest[32])
{
	bool *used = xcalloc(count + 1, sizeof(*used));
	bool relaxed = t->header_relaxed;
	buf data, value;
	buf_init(&data);
	buf_init(&value);
	for (size_t n = 0; n < t->headers.count; n++) {
		const char *name = t->headers.items[n];
		for (size_t i = count; i-- > 0;)
			if (!used[i] && fields[i].name_len == strlen(name) &&
			    strncasecmp(fields[i].name, name, fields[i].name_len) == 0) {
				used[i] = true;
				dkim_canon_field(relaxed, fields[i].name, fields[i].name_len, fields[i].value,
						 fields[i].value_len, &data);
				break;
			}
	}
	buf_append(&value, self->value, t->b_start);
	buf_append(&value, self->value + t->b_end, self->value_len - t->b_end);
	dkim_canon_field(relaxed, self->name, self->name_len, value.data, value.len, &data);
	SHA256((const unsigned char *)data.data, data.len - 2, digest);
	buf_free(&data);
	buf_free(&value);
	free(used);
}

/* What 6.1.1 decides before any key is fetched; false when the signature is settled. */
static bool worth_checking(struct dkim_verify *v, struct signature *s)
{
	const struct dkim_sig_tags *t = &s->tags;
	if (t->alg == DKIM_SIG_RSA_SHA1)
		settle(s, DKIM_FAIL, "rsa-sha1 is not accepted (RFC 8301)");
	else if (t->alg == DKIM_SIG_UNKNOWN)
		settle(s, DKIM_NEUTRAL, "unknown algorithm");
	else if (t->has_expiry && t->expiry < (uint64_t)v->now)
		settle(s, DKIM_PERMERROR, "expired");
	return !s->settled;
}

static void add_signature(struct dkim_verify *v, const struct header_field *fields, size_t count,
			  const struct header_field *f)
{
	struct signature *s = &v->sigs[v->sig_count++];
	const char *error = NULL;
	int r = dkim_sig_tags_parse(f->value, f->value_len, &s->tags, &error);
	const struct dkim_sig_tags *t = &s->tags;
	s->result = (struct dkim_signature_result){
		.result = DKIM_TEMPERROR,
		.domain = t->domain != NULL ? t->domain : "",
		.selector = t->selector != NULL ? t->selector : "",
		.identity = t->identity,
		.algorithm = t->algorithm != NULL ? t->algorithm : "",
		.b = t->b != NULL ? t->b : "",
	};
	if (r < 0) {
		settle(s, DKIM_PERMERROR, error);
		return;
	}
	if (!worth_checking(v, s))
		return;
	dkim_header_digest(t, fields, count, f, s->header_digest);
	s->hash = hash_for(v, t);
	s->lookup = lookup_for(v, t);
}

void dkim_verify_header(struct dkim_verify *v, const char *hdr, size_t len)
{
	if (v->header_seen)
		return;
	v->header_seen = true;
	size_t count;
	struct header_field *fields = header_field_list(hdr, len, &count);
	for (size_t i = 0; i < count && v->sig_count < DKIM_VERIFY_MAX_SIGNATURES; i++)
		if (fields[i].name_len == strlen("DKIM-Signature") &&
		    strncasecmp(fields[i].name, "DKIM-Signature", fields[i].name_len) == 0)
			add_signature(v, fields, count, &fields[i]);
	v->dkim_count = v->sig_count;
	free(fields);
}

int dkim_verify_add(struct dkim_verify *v, struct dkim_sig_tags *tags, const unsigned char digest[32],
		    bool body)
{
	if (v->sig_count == v->dkim_count + DKIM_VERIFY_MAX_ADDED || v->finished) {
		dkim_sig_tags_free(tags);
		return -1;
	}
	struct signature *s = &v->sigs[v->sig_count];
	s->tags = *tags;
	*tags = (struct dkim_sig_tags){ 0 };
	const struct dkim_sig_tags *t = &s->tags;
	s->result = (struct dkim_signature_result){
		.result = DKIM_TEMPERROR, .domain = t->domain, .selector = t->selector,
		.algorithm = t->algorithm, .b = t->b,
	};
	memcpy(s->header_digest, digest, sizeof(s->header_digest));
	if (worth_checking(v, s)) {
		s->hash = body ? hash_for(v, t) : NULL;
		s->lookup = lookup_for(v, t);
	}
	return (int)(v->sig_count++ - v->dkim_count);
}

/* Canonical body octets for one hash: only the first l= of them count. */
static void hash_piece(const char *data, size_t len, void *arg)
{
	struct body_hash *h = arg;
	size_t take = len;
	if (h->has_length && h->length - h->hashed < take) {
		take = (size_t)(h->length - h->hashed);
		h->beyond = true;
	}
	EVP_DigestUpdate(h->ctx, data, take);
	h->hashed += take;
}

static struct body_hash *hash_for(struct dkim_verify *v, const struct dkim_sig_tags *t)
{
	for (size_t i = 0; i < v->hash_count; i++) {
		struct body_hash *h = &v->hashes[i];
		if (h->relaxed == t->body_relaxed && h->has_length == t->has_length &&
		    (!t->has_length || h->length == t->length))
			return h;
	}
	/* sha256 is the only hash a signature still checked can use (RFC 8301) */
	struct body_hash *h = &v->hashes[v->hash_count++];
	h->relaxed = t->body_relaxed;
	h->has_length = t->has_length;
	h->length = t->length;
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		abort(); /* out of memory */
	dkim_body_canon_init(&h->canon, h->relaxed, hash_piece, h);
	return h;
}

void dkim_verify_body(struct dkim_verify *v, const char *data, size_t len)
{
	if (v->finished)
		return;
	for (size_t i = 0; i < v->hash_count; i++)
		dkim_body_canon_update(&v->hashes[i].canon, data, len);
}

void dkim_verify_finish(struct dkim_verify *v, void (*done)(void *arg), void *arg)
{
	if (!v->finished)
		for (size_t i = 0; i < v->hash_count; i++) {
			struct body_hash *h = &v->hashes[i];
			dkim_body_canon_finish(&h->canon);
			EVP_DigestFinal_ex(h->ctx, h->md, NULL);
		}
	v->finished = true;
	v->done = done;
	v->done_arg = arg;
	maybe_done(v);
}

/* RSA with PKCS #1 v1.5 over the SHA-256 of the header data (RFC 6376 3.3.1); Ed25519 over
 * that SHA-256 itself (RFC 8463 3). */
static bool signature_valid(struct signature *s, EVP_PKEY *key)
{
	const buf *sig = &s->tags.signature;
	bool ok;
	if (s->tags.alg == DKIM_SIG_ED25519_SHA256) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestVerify(ctx, (const unsigned char *)sig->data, sig->len, s->header_digest,
				      sizeof(s->header_digest)) == 1;
		EVP_MD_CTX_free(ctx);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
		ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
		     EVP_PKEY_verify(ctx, (const unsigned char *)sig->data, sig->len, s->header_digest,
				     sizeof(s->header_digest)) == 1;
		EVP_PKEY_CTX_free(ctx);
	}
	ERR_clear_error(); /* nothing left for the TLS sessions' SSL_get_error */
	return ok;
}

/* RFC 6376 6.1.2's checks of the key record (and 3.6.1's of its tags): NULL when the key may
 * check the signature, else why not, with *r the result. */
static const char *key_problem(const struct signature *s, enum dkim_result *r)
{
	const struct key_lookup *l = s->lookup;
	const struct dkim_key_tags *k = &l->key;
	bool ed25519 = s->tags.alg == DKIM_SIG_ED25519_SHA256;
	*r = DKIM_PERMERROR;
	if (l->status == DNS_TEMPFAIL) {
		*r = DKIM_TEMPERROR;
		return "key lookup failed";
	}
	if (l->status != DNS_OK)
		return "no key for signature";
	if (!l->usable)
		return l->error;
	if (k->key.len == 0)
		return "key revoked";
	if (strcmp(k->key_type, ed25519 ? "ed25519" : "rsa") != 0)
		return "key type (k=) does not match a=";
	if (!k->sha256)
		return "key does not allow sha256 (h=)";
	if (!k->email)
		return "key is not for email (s=)";
	if (k->strict && s->tags.identity != NULL &&
	    strcasecmp(strrchr(s->tags.identity, '@') + 1, s->tags.domain) != 0)
		return "key allows no sub-domain in i= (t=s)";
	return NULL;
}

/* 6.1.3: the key, the body hash, the signature. */
static void check(struct signature *s)
{
	enum dkim_result r;
	const char *problem = key_problem(s, &r);
	bool ed25519 = s->tags.alg == DKIM_SIG_ED25519_SHA256;
	const buf *p = &s->lookup->key.key;
	EVP_PKEY *key = problem == NULL ? dkim_key_public(ed25519 ? DKIM_ED25519 : DKIM_RSA, p->data, p->len)
					: NULL;
	const struct body_hash *h = s->hash; /* NULL: no body hash to check */
	if (key != NULL)
		s->result.key_bits = ed25519 ? 256 : (unsigned)EVP_PKEY_get_bits(key);
	if (problem != NULL)
		settle(s, r, problem);
	else if (key == NULL)
		settle(s, DKIM_PERMERROR, "key syntax error (p=)");
	else if (!ed25519 && s->result.key_bits < DKIM_RSA_MIN_BITS)
		settle(s, DKIM_FAIL, "RSA key under 1024 bits (RFC 8301)");
	else if (h != NULL && h->has_length && h->hashed < h->length)
		settle(s, DKIM_FAIL, "body shorter than l=");
	else if (h != NULL && (s->tags.body_hash.len != sizeof(h->md) ||
			       memcmp(s->tags.body_hash.data, h->md, sizeof(h->md)) != 0))
		settle(s, DKIM_FAIL, "body hash did not verify");
	else if (!signature_valid(s, key))
		settle(s, DKIM_FAIL, "signature did not verify");
	else
		settle(s, DKIM_PASS, NULL);
	s->result.partial_body = h != NULL && h->beyond;
	EVP_PKEY_free(key);
}

/* A signature's result as far as it is known now. */
static void bring_up_to_date(struct dkim_verify *v, struct signature *s)
{
	if (!s->settled && v->finished && s->lookup->answered)
		check(s);
	if (!s->settled) {
		s->result.result = DKIM_TEMPERROR;
		s->result.reason = "key lookup not answered in time";
	}
}

size_t dkim_verify_results(struct dkim_verify *v, const struct dkim_signature_result **r)
{
	for (size_t i = 0; i < v->dkim_count; i++) {
		bring_up_to_date(v, &v->sigs[i]);
		v->results[i] = v->sigs[i].result;
	}
	*r = v->results;
	return v->dkim_count;
}

const struct dkim_signature_result *dkim_verify_added(struct dkim_verify *v, int handle)
{
	struct signature *s = &v->sigs[v->dkim_count + (size_t)handle];
	bring_up_to_date(v, s);
	return &s->result;
}

void dkim_verify_free(struct dkim_verify **vp)
{
	struct dkim_verify *v = *vp;
	if (v == NULL)
		return;
	event_free(v->done_ev);
	for (size_t i = 0; i < v->lookup_count; i++) {
		if (v->lookups[i]->answered)
			lookup_free(v->lookups[i]);
		else
			v->lookups[i]->v = NULL; /* its answer frees it */
	}
	for (size_t i = 0; i < v->hash_count; i++)
		EVP_MD_CTX_free(v->hashes[i].ctx);
	for (size_t i = 0; i < v->sig_count; i++)
		dkim_sig_tags_free(&v->sigs[i].tags);
	free(v);
	*vp = NULL;
}
