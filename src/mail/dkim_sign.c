/* DKIM signing; see dkim_sign.h. */
#include "mail/dkim_sign.h"
#include "core/base64.h"
#include "core/xalloc.h"
#include "mail/dkim_canon.h"
#include "mail/dkim_key.h"
#include "mail/header.h"
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The fields whose change would change what the reader sees or where replies go: the set
 * RFC 6376 5.4.1 recommends, and the list fields of RFC 2369 and RFC 2919 that receivers
 * (Gmail's one-click unsubscribe, RFC 8058) want signed. Received and Return-Path are left
 * out: relays add and change them. */
static const char *const signed_set[] = {
	"From", "Reply-To", "Sender", "Subject", "Date", "Message-ID", "To", "Cc",
	"In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"Content-Disposition", "Content-Language", "Resent-Date", "Resent-From", "Resent-To",
	"Resent-Cc", "Resent-Message-ID", "List-Id", "List-Help", "List-Unsubscribe",
	"List-Unsubscribe-Post", "List-Subscribe", "List-Post", "List-Owner", "List-Archive",
};
#define SIGNED_SET_COUNT (sizeof(signed_set) / sizeof(signed_set[0]))

/* Folding: a new line before a piece that would take the line past this. */
#define LINE_WIDTH 76

static bool field_is(const struct header_field *f, const char *name)
{
	return strlen(name) == f->name_len && strncasecmp(f->name, name, f->name_len) == 0;
}

static void append_lower(buf *out, const char *s)
{
	for (; *s != '\0'; s++)
		buf_putc(out, *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s);
}

/* Walks the signed set: for each field of it present, bottom-up as a verifier takes them
 * (RFC 6376 5.4.2), adds its name to names and its canonical form to canon; From's extra
 * name matches nothing and adds no field. */
static void select_fields(const char *hdr, size_t len, buf *names, buf *canon)
{
	size_t count;
	struct header_field *fields = header_field_list(hdr, len, &count);
	bool first = true;
	for (size_t s = 0; s < SIGNED_SET_COUNT; s++) {
		bool from = s == 0;
		for (size_t i = count; i-- > 0;) {
			if (!field_is(&fields[i], signed_set[s]))
				continue;
			buf_puts(names, first ? "" : ":");
			append_lower(names, signed_set[s]);
			first = false;
			dkim_canon_header(fields[i].name, fields[i].name_len, fields[i].value,
					  fields[i].value_len, canon);
		}
		if (from) {
			buf_puts(names, first ? "from" : ":from");
			first = false;
		}
	}
	free(fields);
}

static void hash_piece(const char *data, size_t len, void *arg)
{
	EVP_DigestUpdate(arg, data, len);
}

/* The body hash (bh=): SHA-256 of the relaxed body, base64. */
static int body_hash(const char *body, size_t len, buf *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned int md_len = 0;
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	if (ok)
		dkim_canon_body(body, len, hash_piece, ctx);
	ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	base64_encode(md, md_len, out);
	return 0;
}

/* Appends "; " (or a folded line) and the tag, keeping lines under LINE_WIDTH; *col is the
 * current line's length. */
static void add_tag(buf *out, size_t *col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_tag(buf *out, size_t *col, const char *fmt, ...)
{
	buf tag;
	buf_init(&tag);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&tag, fmt, ap);
	va_end(ap);
	if (*col + 2 + tag.len > LINE_WIDTH) {
		buf_puts(out, ";\r\n\t");
		*col = 1;
	} else {
		buf_puts(out, "; ");
		*col += 2;
	}
	buf_append(out, tag.data, tag.len);
	*col += tag.len;
	buf_free(&tag);
}

/* Appends a long tag value, folded where FWS is allowed (RFC 6376 3.5) so that lines stay
 * within LINE_WIDTH: for h=, before a name that would not fit; in b='s base64, anywhere. */
static void add_folded(buf *out, size_t *col, const char *value, bool at_colons)
{
	for (const char *p = value; *p != '\0'; p++) {
		bool name_start = p == value || p[-1] == ':';
		size_t need = at_colons ? (name_start ? strcspn(p, ":") + 1 : 0) : 1;
		if (need > 0 && *col + need > LINE_WIDTH && *col > 1) {
			buf_puts(out, "\r\n\t");
			*col = 1;
		}
		buf_putc(out, *p);
		(*col)++;
	}
}

/* The signature of data (the canonical header fields and this signature's own field without
 * its b= value), base64 into out. Ed25519 signs the SHA-256 digest of data (RFC 8463 3), RSA
 * data itself with SHA-256 and PKCS #1 v1.5 (RFC 6376 3.3.1). */
static int sign_data(EVP_PKEY *key, const buf *data, buf *out)
{
	bool ed25519 = dkim_key_algorithm(key) == DKIM_ED25519;
	unsigned char digest[SHA256_DIGEST_LENGTH];
	const unsigned char *in = (const unsigned char *)data->data;
	size_t in_len = data->len;
	if (ed25519) {
		SHA256(in, in_len, digest);
		in = digest;
		in_len = sizeof(digest);
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	int ok = ctx != NULL &&
		 EVP_DigestSignInit(ctx, NULL, ed25519 ? NULL : EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestSign(ctx, NULL, &sig_len, in, in_len) == 1 &&
		 (sig = OPENSSL_malloc(sig_len)) != NULL &&
		 EVP_DigestSign(ctx, sig, &sig_len, in, in_len) == 1;
	if (ok)
		base64_encode(sig, sig_len, out);
	OPENSSL_free(sig);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Ends a signature field begun in field (its tags up to b=): signs signed (the canonical
 * fields it covers) followed by the field itself with b= empty and no CRLF (RFC 6376 3.7,
 * RFC 8617 5.1.1), then appends the field, b= filled, and CRLF to out. */
static int finish_field(buf *field, size_t *col, size_t name_len, const char *signed_data,
			size_t signed_len, EVP_PKEY *key, buf *out)
{
	buf data, b;
	buf_init(&data);
	buf_init(&b);
	add_tag(field, col, "b=");
	buf_append(&data, signed_data, signed_len);
	dkim_canon_header(field->data, name_len, field->data + name_len + 1, field->len - name_len - 1,
			  &data);
	data.len -= 2;
	int r = sign_data(key, &data, &b);
	if (r == 0) {
		add_folded(field, col, b.data, false);
		buf_append(out, field->data, field->len);
		buf_append(out, "\r\n", 2);
	}
	buf_free(&data);
	buf_free(&b);
	return r;
}

/* A signature of the message: "NAME: LEAD; a=; c=relaxed/relaxed; d=; s=; t=; h=; bh=; b=",
 * over the fields names lists (canonical in fields) and the body hash bh. */
static int sign_message(const char *name, const char *lead, const struct dkim_signing_key *key,
			time_t t, const buf *names, const buf *fields, const buf *bh, buf *out)
{
	buf field;
	buf_init(&field);
	buf_printf(&field, "%s: %s; a=%s-sha256; c=relaxed/relaxed", name, lead,
		   dkim_key_algorithm(key->key) == DKIM_ED25519 ? "ed25519" : "rsa");
	size_t col = field.len;
	add_tag(&field, &col, "d=%s", key->domain);
	add_tag(&field, &col, "s=%s", key->selector);
	add_tag(&field, &col, "t=%lld", (long long)t);
	add_tag(&field, &col, "h=");
	add_folded(&field, &col, names->data, true);
	add_tag(&field, &col, "bh=%s", bh->data);
	int r = finish_field(&field, &col, strlen(name), fields->data, fields->len, key->key, out);
	buf_free(&field);
	return r;
}

/* The fields to sign (names and canonical forms) and the body hash of msg; -1 without a
 * header section. */
static int message_parts(const char *msg, size_t len, buf *names, buf *fields, buf *bh)
{
	size_t body = header_end(msg, len);
	if (body == 0)
		return -1;
	select_fields(msg, body, names, fields);
	return body_hash(msg + body, len - body, bh);
}

int dkim_sign(const char *msg, size_t len, const struct dkim_signing_key *keys, size_t count,
	      time_t t, buf *out)
{
	buf names, fields, bh;
	buf_init(&names);
	buf_init(&fields);
	buf_init(&bh);
	int r = message_parts(msg, len, &names, &fields, &bh);
	for (size_t k = 0; k < count && r == 0; k++)
		r = sign_message("DKIM-Signature", "v=1", &keys[k], t, &names, &fields, &bh, out);
	buf_free(&names);
	buf_free(&fields);
	buf_free(&bh);
	return r;
}

int dkim_sign_arc_message(const char *msg, size_t len, const struct dkim_signing_key *key,
			  unsigned instance, time_t t, buf *out)
{
	buf names, fields, bh;
	buf_init(&names);
	buf_init(&fields);
	buf_init(&bh);
	char lead[16];
	snprintf(lead, sizeof(lead), "i=%u", instance);
	int r = message_parts(msg, len, &names, &fields, &bh);
	if (r == 0)
		r = sign_message("ARC-Message-Signature", lead, key, t, &names, &fields, &bh, out);
	buf_free(&names);
	buf_free(&fields);
	buf_free(&bh);
	return r;
}

int dkim_sign_arc_seal(const buf *sets, const struct dkim_signing_key *key, unsigned instance,
		       const char *cv, time_t t, buf *out)
{
	buf field;
	buf_init(&field);
	buf_printf(&field, "ARC-Seal: i=%u; cv=%s; a=%s-sha256", instance, cv,
		   dkim_key_algorithm(key->key) == DKIM_ED25519 ? "ed25519" : "rsa");
	size_t col = field.len;
	add_tag(&field, &col, "d=%s", key->domain);
	add_tag(&field, &col, "s=%s", key->selector);
	add_tag(&field, &col, "t=%lld", (long long)t);
	int r = finish_field(&field, &col, strlen("ARC-Seal"), sets->data, sets->len, key->key, out);
	buf_free(&field);
	return r;
}
