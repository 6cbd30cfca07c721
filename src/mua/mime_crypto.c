/* Signed and encrypted MIME; see mime_crypto.h. */
#include "mua/mime_crypto.h"
#include "core/xalloc.h"
#include "mail/header.h"
#include "mail/mime.h"
#include "mail/text.h"
#include "mua/compose.h"
#include "mua/pgp.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The fields a signed or encrypted part carries inside (protected headers, v1). */
static const char *const protected_fields[] = { "Subject", "From", "To", "Cc", "Reply-To", "Date", "Message-ID" };

static bool is_protected(const struct header_field *f)
{
	for (size_t i = 0; i < sizeof(protected_fields) / sizeof(protected_fields[0]); i++)
		if (f->name_len == strlen(protected_fields[i]) && strncasecmp(f->name, protected_fields[i], f->name_len) == 0)
			return true;
	return false;
}

static bool named(const struct header_field *f, const char *name)
{
	return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

static bool is_content(const struct header_field *f)
{
	return (f->name_len > 8 && strncasecmp(f->name, "Content-", 8) == 0) || named(f, "MIME-Version");
}

/* The part to sign or encrypt: the body's Content-* fields (Content-Type marked
 * protected-headers="v1"), the protected fields, then the body. */
static void inner_entity(const char *msg, size_t len, size_t hend, buf *out)
{
	struct header_field f;
	size_t pos = 0;
	int r;
	while ((r = header_next(msg, hend, &pos, &f)) != 0) {
		if (r < 0 || !is_content(&f) || named(&f, "MIME-Version"))
			continue;
		if (named(&f, "Content-Type")) {
			size_t n = f.raw_len;
			while (n > 0 && (f.raw[n - 1] == '\r' || f.raw[n - 1] == '\n'))
				n--;
			buf_append(out, f.raw, n);
			buf_puts(out, ";\r\n\tprotected-headers=\"v1\"\r\n");
		} else {
			buf_append(out, f.raw, f.raw_len);
		}
	}
	pos = 0;
	while ((r = header_next(msg, hend, &pos, &f)) != 0)
		if (r > 0 && is_protected(&f))
			buf_append(out, f.raw, f.raw_len);
	buf_puts(out, "\r\n");
	buf_append(out, msg + hend, len - hend);
}

static void signed_entity(buf *out, const char *protocol, const char *micalg, const char *inner,
			  size_t inner_len, const char *sig_part)
{
	char *b = compose_boundary();
	buf_printf(out, "Content-Type: multipart/signed; micalg=%s;\r\n\tprotocol=\"%s\";\r\n\tboundary=\"%s\"\r\n\r\n",
		   micalg, protocol, b);
	buf_printf(out, "This is a signed message (RFC 1847).\r\n--%s\r\n", b);
	/* the signed octets end with the inner part's last line end; the delimiter's CRLF follows */
	buf_append(out, inner, inner_len);
	buf_printf(out, "\r\n--%s\r\n%s--%s--\r\n", b, sig_part, b);
	free(b);
}

static int pgp_protect(const struct crypto_setup *cs, unsigned what, const strlist *rcpts, const buf *inner,
		       buf *entity, char **error_r)
{
	buf out;
	buf_init(&out);
	int r;
	if (what & CRYPTO_ENCRYPT) {
		r = pgp_encrypt(what & CRYPTO_SIGN ? cs->pgp_signer : NULL, rcpts, inner->data, inner->len, &out, error_r);
		if (r == 0) {
			char *b = compose_boundary();
			buf_printf(entity, "Content-Type: multipart/encrypted;\r\n\tprotocol=\"application/pgp-encrypted\";\r\n"
				   "\tboundary=\"%s\"\r\n\r\nThis is an OpenPGP/MIME encrypted message (RFC 3156).\r\n", b);
			buf_printf(entity, "--%s\r\nContent-Type: application/pgp-encrypted\r\n"
				   "Content-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n", b);
			buf_printf(entity, "--%s\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
				   "Content-Description: OpenPGP encrypted message\r\n"
				   "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n", b);
			compose_crlf_text(entity, out.data, out.len);
			buf_printf(entity, "--%s--\r\n", b);
			free(b);
		}
	} else {
		char *micalg = NULL;
		r = pgp_sign(cs->pgp_signer, inner->data, inner->len, &out, &micalg, error_r);
		if (r == 0) {
			buf part;
			buf_init(&part);
			buf_puts(&part, "Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
				 "Content-Description: OpenPGP digital signature\r\n"
				 "Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n");
			compose_crlf_text(&part, out.data, out.len);
			signed_entity(entity, "application/pgp-signature", micalg, inner->data, inner->len, part.data);
			buf_free(&part);
		}
		free(micalg);
	}
	buf_free(&out);
	return r;
}

static int smime_protect(const struct crypto_setup *cs, unsigned what, const strlist *rcpts, const buf *inner,
			 buf *entity, char **error_r)
{
	buf der, signed_part;
	buf_init(&der);
	buf_init(&signed_part);
	const buf *content = inner;
	int r = 0;
	if (what & CRYPTO_SMIME_SIGN) {
		r = smime_sign(&cs->smime, inner->data, inner->len, &der, error_r);
		if (r == 0) {
			buf part;
			buf_init(&part);
			buf_puts(&part, "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
				 "Content-Transfer-Encoding: base64\r\n"
				 "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n");
			compose_base64_lines(&part, der.data, der.len);
			signed_entity(&signed_part, "application/pkcs7-signature", "sha-256", inner->data, inner->len, part.data);
			buf_free(&part);
			content = &signed_part;
		}
	}
	if (r == 0 && (what & CRYPTO_SMIME_ENCRYPT)) {
		buf_clear(&der);
		r = smime_encrypt(&cs->smime, rcpts, content->data, content->len, &der, error_r);
		if (r == 0) {
			buf_puts(entity, "Content-Type: application/pkcs7-mime; smime-type=enveloped-data;\r\n"
				 "\tname=\"smime.p7m\"\r\nContent-Transfer-Encoding: base64\r\n"
				 "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n");
			compose_base64_lines(entity, der.data, der.len);
		}
	} else if (r == 0) {
		buf_append(entity, signed_part.data, signed_part.len);
	}
	buf_free(&der);
	buf_free(&signed_part);
	return r;
}

int mime_crypto_protect(const struct crypto_setup *cs, unsigned what, const strlist *rcpts, buf *msg,
			char **error_r)
{
	bool pgp = what & (CRYPTO_SIGN | CRYPTO_ENCRYPT), smime = what & (CRYPTO_SMIME_SIGN | CRYPTO_SMIME_ENCRYPT);
	if (pgp && smime) {
		*error_r = xstrdup("choose OpenPGP (--sign, --encrypt) or S/MIME (--smime-sign, --smime-encrypt), not both");
		return -1;
	}
	size_t hend = header_end(msg->data, msg->len);
	buf inner, entity;
	buf_init(&inner);
	buf_init(&entity);
	inner_entity(msg->data, msg->len, hend, &inner);
	int r = pgp ? pgp_protect(cs, what, rcpts, &inner, &entity, error_r)
		    : smime_protect(cs, what, rcpts, &inner, &entity, error_r);
	if (r == 0) {
		bool hide = what & (CRYPTO_ENCRYPT | CRYPTO_SMIME_ENCRYPT);
		buf out;
		buf_init(&out);
		struct header_field f;
		size_t pos = 0;
		int k;
		while ((k = header_next(msg->data, hend, &pos, &f)) != 0) {
			if (k < 0 || is_content(&f))
				continue;
			if (hide && named(&f, "Subject"))
				buf_puts(&out, "Subject: ...\r\n");
			else
				buf_append(&out, f.raw, f.raw_len);
		}
		buf_puts(&out, "MIME-Version: 1.0\r\n");
		buf_append(&out, entity.data, entity.len);
		buf_free(msg);
		*msg = out;
	}
	buf_free(&inner);
	buf_free(&entity);
	return r;
}

/* The message a reader sees once inner (a MIME entity) is opened: the outer fields that are
 * neither Content-* nor given again inside, then the inner entity. */
static void merge(const char *outer, size_t outer_len, const char *inner, size_t inner_len, buf *out)
{
	size_t oend = header_end(outer, outer_len), iend = header_end(inner, inner_len);
	if (iend == 0)
		iend = inner_len;
	struct header_field f;
	size_t pos = 0;
	int r;
	while ((r = header_next(outer, oend, &pos, &f)) != 0) {
		if (r < 0 || (is_content(&f) && !named(&f, "MIME-Version")))
			continue;
		char *name = xstrndup(f.name, f.name_len);
		bool replaced = is_protected(&f) && header_has(inner, iend, name);
		free(name);
		if (!replaced)
			buf_append(out, f.raw, f.raw_len);
	}
	buf_append(out, inner, inner_len);
}

static const char *param(const struct mime_part *p, const char *name)
{
	const char *v = mime_param_get(p->params, p->param_count, name);
	return v != NULL ? v : "";
}

/* Opens one layer of cur into inner: what it was (CRYPTO_*), 0 when cur is not signed or
 * encrypted, or cannot be opened. */
static unsigned open_layer(const struct crypto_setup *cs, const char *cur, size_t len, buf *inner, buf *status)
{
	struct mime_tree t;
	mime_parse(cur, len, &mime_default_limits, &t);
	const struct mime_part *root = &t.parts[0];
	const struct mime_part *c1 = root->first_child != MIME_NONE ? &t.parts[root->first_child] : NULL;
	const struct mime_part *c2 = c1 != NULL && c1->next_sibling != MIME_NONE ? &t.parts[c1->next_sibling] : NULL;
	const char *protocol = param(root, "protocol");
	unsigned opened = 0;
	buf data;
	buf_init(&data);
	if (mime_part_is(root, "multipart", "signed") && c2 != NULL) {
		const char *content = cur + c1->hdr_off;
		size_t content_len = c1->body_off + c1->body_len - c1->hdr_off;
		text_part_decode(cur, c2, &data);
		opened = CRYPTO_SIGN;
		if (strcasecmp(protocol, "application/pgp-signature") == 0)
			pgp_verify(content, content_len, data.data != NULL ? data.data : "", data.len, status);
		else if (strcasecmp(protocol, "application/pkcs7-signature") == 0 ||
			 strcasecmp(protocol, "application/x-pkcs7-signature") == 0)
			smime_verify(&cs->smime, data.data != NULL ? data.data : "", data.len, content, content_len,
				     NULL, status), opened = CRYPTO_SMIME_SIGN;
		else
			opened = 0;
		if (opened)
			buf_append(inner, content, content_len);
	} else if (mime_part_is(root, "multipart", "encrypted") && c2 != NULL &&
		   strcasecmp(protocol, "application/pgp-encrypted") == 0) {
		text_part_decode(cur, c2, &data);
		opened = pgp_decrypt(data.data != NULL ? data.data : "", data.len, inner, status) == 0 ? CRYPTO_ENCRYPT : 0;
	} else if (mime_part_is(root, "application", "pkcs7-mime") || mime_part_is(root, "application", "x-pkcs7-mime")) {
		text_part_decode(cur, root, &data);
		if (strcasecmp(param(root, "smime-type"), "signed-data") == 0) {
			smime_verify(&cs->smime, data.data != NULL ? data.data : "", data.len, NULL, 0, inner, status);
			opened = inner->len > 0 ? CRYPTO_SMIME_SIGN : 0;
		} else {
			opened = smime_decrypt(&cs->smime, data.data != NULL ? data.data : "", data.len, inner, status) == 0
					 ? CRYPTO_SMIME_ENCRYPT : 0;
		}
	}
	buf_free(&data);
	mime_tree_free(&t);
	return opened;
}

unsigned mime_crypto_open(const struct crypto_setup *cs, const char *msg, size_t len, buf *view, buf *status)
{
	unsigned found = 0;
	buf cur;
	buf_init(&cur);
	buf_append(&cur, msg, len);
	/* signed inside encrypted inside signed at most: deeper nesting is shown as it is */
	for (int depth = 0; depth < 3; depth++) {
		buf inner, merged;
		buf_init(&inner);
		buf_init(&merged);
		unsigned opened = open_layer(cs, cur.data, cur.len, &inner, status);
		found |= opened;
		if (opened)
			merge(cur.data, cur.len, inner.data != NULL ? inner.data : "", inner.len, &merged);
		buf_free(&inner);
		if (!opened) {
			buf_free(&merged);
			break;
		}
		buf_free(&cur);
		cur = merged;
	}
	buf_append(view, cur.data != NULL ? cur.data : "", cur.len);
	buf_free(&cur);
	return found;
}
