/* S/MIME through OpenSSL CMS; see smime.h. */
#include "mua/smime.h"
#include "core/xalloc.h"
#include <ctype.h>
#include <dirent.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *openssl_error(const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256];
	ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	return xasprintf("%s: %s", what, e != 0 ? reason : "unknown error");
}

static bool is_pkcs12(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot != NULL && (strcasecmp(dot, ".p12") == 0 || strcasecmp(dot, ".pfx") == 0);
}

/* The user's certificate and key. */
static int load_identity(const struct smime_identity *id, X509 **cert_r, EVP_PKEY **key_r, char **error_r)
{
	*cert_r = NULL;
	*key_r = NULL;
	if (id->cert_file == NULL) {
		*error_r = xstrdup("no S/MIME certificate: set smime_cert (and smime_key) in mail.conf");
		return -1;
	}
	FILE *f = fopen(id->cert_file, "rb");
	if (f == NULL) {
		*error_r = xasprintf("cannot read %s", id->cert_file);
		return -1;
	}
	if (is_pkcs12(id->cert_file)) {
		PKCS12 *p12 = d2i_PKCS12_fp(f, NULL);
		if (p12 == NULL || !PKCS12_parse(p12, "", key_r, cert_r, NULL)) {
			EVP_PKEY_free(*key_r);
			X509_free(*cert_r);
			*key_r = NULL;
			*cert_r = NULL;
		}
		PKCS12_free(p12);
	} else {
		*cert_r = PEM_read_X509(f, NULL, NULL, NULL);
		if (id->key_file == NULL) {
			rewind(f);
			*key_r = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		}
	}
	fclose(f);
	if (*key_r == NULL && id->key_file != NULL && (f = fopen(id->key_file, "rb")) != NULL) {
		*key_r = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (*cert_r == NULL || *key_r == NULL) {
		char *e = openssl_error(is_pkcs12(id->cert_file) ? "PKCS#12 without a passphrase expected"
								 : "a PEM certificate and key expected");
		*error_r = xasprintf("cannot load the S/MIME certificate and key (%s, %s): %s", id->cert_file,
				     id->key_file != NULL ? id->key_file : "key in the same file", e);
		free(e);
		X509_free(*cert_r);
		EVP_PKEY_free(*key_r);
		return -1;
	}
	return 0;
}

static void der_of(CMS_ContentInfo *cms, buf *der)
{
	unsigned char *p = NULL;
	int n = i2d_CMS_ContentInfo(cms, &p);
	if (n > 0)
		buf_append(der, p, (size_t)n);
	OPENSSL_free(p);
}

int smime_sign(const struct smime_identity *id, const char *data, size_t len, buf *der, char **error_r)
{
	X509 *cert;
	EVP_PKEY *key;
	if (load_identity(id, &cert, &key, error_r) < 0)
		return -1;
	BIO *in = BIO_new_mem_buf(data, (int)len);
	/* the text is canonical already (CRLF, 7bit): signed as it is */
	CMS_ContentInfo *cms = CMS_sign(cert, key, NULL, in, CMS_DETACHED | CMS_BINARY);
	int r = -1;
	if (cms == NULL) {
		*error_r = openssl_error("cannot sign");
	} else {
		der_of(cms, der);
		r = 0;
	}
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	X509_free(cert);
	EVP_PKEY_free(key);
	return r;
}

/* certs_dir/addr.pem, the address lowercased and without '/'. */
static char *cert_path(const struct smime_identity *id, const char *addr)
{
	char *lower = xstrdup(addr);
	for (char *p = lower; *p; p++)
		*p = *p == '/' ? '_' : (char)tolower((unsigned char)*p);
	char *path = xasprintf("%s/%s.pem", id->certs_dir, lower);
	free(lower);
	return path;
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	X509 *c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return c;
}

int smime_encrypt(const struct smime_identity *id, const strlist *rcpts, const char *data, size_t len,
		  buf *der, char **error_r)
{
	X509 *own;
	EVP_PKEY *key;
	if (load_identity(id, &own, &key, error_r) < 0)
		return -1;
	EVP_PKEY_free(key);
	STACK_OF(X509) *certs = sk_X509_new_null();
	sk_X509_push(certs, own);
	buf missing;
	buf_init(&missing);
	for (size_t i = 0; i < rcpts->count; i++) {
		if (X509_check_email(own, rcpts->items[i], 0, 0) == 1)
			continue; /* the sender's own */
		char *path = cert_path(id, rcpts->items[i]);
		X509 *c = read_cert(path);
		free(path);
		if (c != NULL)
			sk_X509_push(certs, c);
		else
			buf_printf(&missing, "%s%s", missing.len > 0 ? ", " : "", rcpts->items[i]);
	}
	int r = -1;
	if (missing.len > 0) {
		*error_r = xasprintf("no S/MIME certificate for %s: one comes with a signed message from "
				     "them (read it), or send without --smime-encrypt; nothing sent", missing.data);
	} else {
		BIO *in = BIO_new_mem_buf(data, (int)len);
		CMS_ContentInfo *cms = CMS_encrypt(certs, in, EVP_aes_256_cbc(), CMS_BINARY);
		if (cms == NULL) {
			*error_r = openssl_error("cannot encrypt");
		} else {
			der_of(cms, der);
			r = 0;
		}
		CMS_ContentInfo_free(cms);
		BIO_free(in);
	}
	buf_free(&missing);
	sk_X509_pop_free(certs, X509_free);
	return r;
}

/* "Name <addr>" from the subject's CN and the first e-mail address of the certificate. */
static char *describe(X509 *cert, STACK_OF(OPENSSL_STRING) *emails)
{
	char cn[256] = "";
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
	const char *email = sk_OPENSSL_STRING_num(emails) > 0 ? sk_OPENSSL_STRING_value(emails, 0) : "?";
	return xasprintf("%s%s<%s>", cn, cn[0] != '\0' ? " " : "", email);
}

static void fingerprint(X509 *cert, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	X509_digest(cert, EVP_sha256(), md, &n);
	out[0] = '\0';
	for (unsigned i = 0; i < n && i < 8 && (i + 1) * 2 < outlen; i++)
		snprintf(out + i * 2, outlen - i * 2, "%02X", md[i]);
}

/* Keeps the signer's certificate under each of its addresses. */
static void collect(const struct smime_identity *id, X509 *cert, STACK_OF(OPENSSL_STRING) *emails)
{
	for (int i = 0; id->certs_dir != NULL && i < sk_OPENSSL_STRING_num(emails); i++) {
		char *path = cert_path(id, sk_OPENSSL_STRING_value(emails, i));
		char *tmp = xasprintf("%s.tmp", path);
		FILE *f = fopen(tmp, "wb");
		if (f != NULL && PEM_write_X509(f, cert) && fclose(f) == 0)
			rename(tmp, path);
		else if (f != NULL)
			fclose(f);
		remove(tmp);
		free(tmp);
		free(path);
	}
}

static int cms_verify(CMS_ContentInfo *cms, const char *data, size_t len, buf *content, unsigned flags)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_set_default_paths(store);
	BIO *in = data != NULL ? BIO_new_mem_buf(data, (int)len) : NULL;
	BIO *out = data == NULL ? BIO_new(BIO_s_mem()) : NULL;
	int ok = CMS_verify(cms, NULL, store, in, out, flags | CMS_BINARY);
	if (ok && out != NULL) {
		char *p;
		long n = BIO_get_mem_data(out, &p);
		buf_append(content, p, (size_t)n);
	}
	BIO_free(in);
	BIO_free(out);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

void smime_verify(const struct smime_identity *id, const char *der, size_t der_len, const char *data,
		  size_t len, buf *content, buf *status)
{
	const unsigned char *p = (const unsigned char *)der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
	if (cms == NULL || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		buf_puts(status, "BAD signature: the S/MIME signature cannot be read\n");
		CMS_ContentInfo_free(cms);
		ERR_clear_error();
		return;
	}
	/* trusted: the chain leads to a CA of the system; else the signature alone */
	bool trusted = cms_verify(cms, data, len, content, 0);
	bool good = trusted || cms_verify(cms, data, len, content, CMS_NO_SIGNER_CERT_VERIFY);
	STACK_OF(X509) *signers = CMS_get0_signers(cms);
	X509 *cert = signers != NULL && sk_X509_num(signers) > 0 ? sk_X509_value(signers, 0) : NULL;
	STACK_OF(OPENSSL_STRING) *emails = cert != NULL ? X509_get1_email(cert) : NULL;
	char *who = cert != NULL ? describe(cert, emails) : xstrdup("an unknown signer");
	char fpr[32] = "unknown";
	if (cert != NULL)
		fingerprint(cert, fpr, sizeof(fpr));
	if (good) {
		buf_printf(status, "Good signature from %s (S/MIME certificate %s, %s)\n", who, fpr,
			   trusted ? "trusted" : "untrusted");
		if (cert != NULL)
			collect(id, cert, emails);
	} else {
		buf_printf(status, "BAD signature from %s (S/MIME certificate %s)\n", who, fpr);
	}
	free(who);
	X509_email_free(emails);
	sk_X509_free(signers);
	CMS_ContentInfo_free(cms);
}

int smime_decrypt(const struct smime_identity *id, const char *der, size_t der_len, buf *plain, buf *status)
{
	X509 *cert;
	EVP_PKEY *key;
	char *error = NULL;
	if (load_identity(id, &cert, &key, &error) < 0) {
		buf_printf(status, "Encrypted (S/MIME); not decrypted: %s\n", error);
		free(error);
		return -1;
	}
	const unsigned char *p = (const unsigned char *)der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
	BIO *out = BIO_new(BIO_s_mem());
	int r = -1;
	if (cms != NULL && CMS_decrypt(cms, key, cert, NULL, out, CMS_BINARY)) {
		char *data;
		long n = BIO_get_mem_data(out, &data);
		buf_append(plain, data, (size_t)n);
		buf_puts(status, "Encrypted to you (S/MIME)\n");
		r = 0;
	} else {
		buf_puts(status, cms == NULL ? "Encrypted (S/MIME), but it cannot be read\n"
					     : "Encrypted (S/MIME), but not to any key you have\n");
	}
	ERR_clear_error();
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	X509_free(cert);
	EVP_PKEY_free(key);
	return r;
}

void smime_list_certs(const struct smime_identity *id, buf *out)
{
	DIR *d = id->certs_dir != NULL ? opendir(id->certs_dir) : NULL;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".pem") != 0)
			continue;
		char *path = xasprintf("%s/%s", id->certs_dir, e->d_name);
		X509 *c = read_cert(path);
		free(path);
		if (c == NULL)
			continue;
		char subject[256] = "", fpr[32];
		X509_NAME_oneline(X509_get_subject_name(c), subject, sizeof(subject));
		fingerprint(c, fpr, sizeof(fpr));
		BIO *b = BIO_new(BIO_s_mem());
		ASN1_TIME_print(b, X509_get0_notAfter(c));
		char *date;
		long dn = BIO_get_mem_data(b, &date);
		buf_printf(out, "  %.*s  %s  %s (expires %.*s)\n", (int)(n - 4), e->d_name, fpr, subject, (int)dn, date);
		BIO_free(b);
		X509_free(c);
	}
	if (d != NULL)
		closedir(d);
}
