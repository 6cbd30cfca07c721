/* DKIM keys on OpenSSL 3; see dkim_key.h. */
#include "mail/dkim_key.h"
#include "core/base64.h"
#include "core/xalloc.h"
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

const char *dkim_algorithm_name(enum dkim_algorithm alg)
{
	return alg == DKIM_ED25519 ? "ed25519" : "rsa";
}

int dkim_algorithm_parse(const char *name, enum dkim_algorithm *alg)
{
	if (strcmp(name, "ed25519") == 0)
		*alg = DKIM_ED25519;
	else if (strcmp(name, "rsa") == 0)
		*alg = DKIM_RSA;
	else
		return -1;
	return 0;
}

int dkim_key_algorithm(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		return DKIM_ED25519;
	case EVP_PKEY_RSA:
		return EVP_PKEY_get_bits(key) >= DKIM_RSA_MIN_BITS ? DKIM_RSA : -1;
	default:
		return -1;
	}
}

EVP_PKEY *dkim_key_generate(enum dkim_algorithm alg)
{
	return alg == DKIM_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
				   : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)DKIM_RSA_BITS);
}

char *dkim_key_to_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;
	if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
		char *data;
		long len = BIO_get_mem_data(bio, &data);
		pem = xstrndup(data, (size_t)len);
	}
	BIO_free(bio);
	return pem;
}

EVP_PKEY *dkim_key_from_pem(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (key != NULL && dkim_key_algorithm(key) < 0) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

EVP_PKEY *dkim_key_public(enum dkim_algorithm alg, const void *data, size_t len)
{
	EVP_PKEY *key;
	if (alg == DKIM_ED25519) {
		key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, data, len);
		ERR_clear_error();
		return key;
	}
	const unsigned char *p = data;
	key = d2i_PUBKEY(NULL, &p, (long)len);
	if (key == NULL || p != (const unsigned char *)data + len) {
		EVP_PKEY_free(key);
		p = data;
		key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
		if (key != NULL && p != (const unsigned char *)data + len) {
			EVP_PKEY_free(key);
			key = NULL;
		}
	}
	if (key != NULL && EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	ERR_clear_error(); /* a failed parse must leave nothing for the TLS sessions' SSL_get_error */
	return key;
}

int dkim_key_record(EVP_PKEY *key, buf *out)
{
	int alg = dkim_key_algorithm(key);
	if (alg < 0)
		return -1;
	buf_printf(out, "v=DKIM1; k=%s; p=", dkim_algorithm_name((enum dkim_algorithm)alg));
	if (alg == DKIM_ED25519) {
		unsigned char raw[32];
		size_t len = sizeof(raw);
		if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1)
			return -1;
		base64_encode(raw, len, out);
		return 0;
	}
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(key, &der);
	if (len <= 0)
		return -1;
	base64_encode(der, (size_t)len, out);
	OPENSSL_free(der);
	return 0;
}

int dkim_key_record_of_pem(const char *pem, buf *out)
{
	EVP_PKEY *key = dkim_key_from_pem(pem);
	int r = key != NULL ? dkim_key_record(key, out) : -1;
	EVP_PKEY_free(key);
	return r;
}

/* The record's text is tags and base64 only: nothing in it needs a backslash. */
void dkim_txt_strings(const char *text, buf *out)
{
	size_t len = strlen(text), pos = 0;
	do {
		size_t n = len - pos < 255 ? len - pos : 255;
		buf_printf(out, "%s\"%.*s\"", pos > 0 ? " " : "", (int)n, text + pos);
		pos += n;
	} while (pos < len);
}
