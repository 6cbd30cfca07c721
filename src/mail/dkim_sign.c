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

int dkim_sign(const char *msg, size_t len, const struct dkim_signing_key *keys, size_t count,
	      time_t t, buf *out)
{
	size_t body = header_end(msg, len);
	if (body == 0)
		return -1;
	buf names, fields, bh, field, data, b;
	buf_init(&names);
	buf_init(&fields);
	buf_init(&bh);
	buf_init(&field);
	buf_init(&data);
	buf_init(&b);
	select_fields(msg, body, &names, &fields);
	int r = body_hash(msg + body, len - body, &bh);
	for (size_t k = 0; k < count && r == 0; k++) {
		int alg = dkim_key_algorithm(keys[k].key);
		buf_clear(&field);
		buf_printf(&field, "DKIM-Signature: v=1; a=%s-sha256; c=relaxed/relaxed",
			   alg == DKIM_ED25519 ? "ed25519" : "rsa");
		size_t col = field.len;
		add_tag(&field, &col, "d=%s", keys[k].domain);
		add_tag(&field, &col, "s=%s", keys[k].selector);
		add_tag(&field, &col, "t=%lld", (long long)t);
		add_tag(&field, &col, "h=");
		add_folded(&field, &col, names.data, true);
		add_tag(&field, &col, "bh=%s", bh.data);
		add_tag(&field, &col, "b=");
		/* RFC 6376 3.7: the header fields, then this field with b= empty and no CRLF */
		buf_clear(&data);
		buf_append(&data, fields.data, fields.len);
		size_t colon = strlen("DKIM-Signature");
		dkim_canon_header(field.data, colon, field.data + colon + 1, field.len - colon - 1, &data);
		data.len -= 2;
		buf_clear(&b);
		r = sign_data(keys[k].key, &data, &b);
		if (r == 0) {
			add_folded(&field, &col, b.data, false);
			buf_append(out, field.data, field.len);
			buf_append(out, "\r\n", 2);
		}
	}
	buf_free(&names);
	buf_free(&fields);
	buf_free(&bh);
	buf_free(&field);
	buf_free(&data);
	buf_free(&b);
	return r;
}
