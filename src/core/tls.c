/* TLS contexts and certificates; see tls.h. */
#include "core/tls.h"
#include "core/xalloc.h"
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *openssl_error(const char *what, const char *path)
{
	char reason[256];
	ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
	ERR_clear_error();
	return xasprintf("%s %s: %s", what, path, reason);
}

/* 0 when this process may read path, else -1 (errno): OpenSSL's own message would not say
 * "Permission denied". */
static int readable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

SSL_CTX *tls_server_context(const char *cert_path, const char *key_path, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		*error_r = openssl_error("cannot create TLS context", "");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Idle connections should cost little: give buffers back while nothing is in flight. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	const char *unreadable = readable(cert_path) < 0 ? cert_path : readable(key_path) < 0 ? key_path : NULL;
	if (unreadable != NULL) {
		*error_r = xasprintf("cannot read %s: %s", unreadable, strerror(errno));
	} else if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		*error_r = openssl_error("cannot load TLS certificate", cert_path);
	} else if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		*error_r = openssl_error("cannot load TLS key", key_path);
	} else if (SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = openssl_error("TLS key does not match the certificate", cert_path);
	} else {
		return ctx;
	}
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *tls_client_context(char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		*error_r = openssl_error("cannot create TLS context", "");
		return NULL;
	}
	/* Opportunistic TLS (RFC 7435, RFC 3207 4.1): most MX hosts have certificates no client
	 * can verify, and an unverified TLS session is still better than plain text, so the
	 * certificate is not checked, as Postfix's default smtp_tls_security_level = may. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

SSL_CTX *tls_verifying_client_context(const char *ca_file, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		*error_r = openssl_error("cannot create TLS context", "");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	int ok = *ca_file != '\0' ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
				   : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		*error_r = openssl_error("cannot read the CA certificates", ca_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
	/* created with its mode, so a key is never readable by others, even for a moment */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f = fd >= 0 && fchmod(fd, mode) == 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int ok = key != NULL ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
			     : PEM_write_X509(f, cert);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	fclose(f);
	return ok == 1 ? 0 : -1;
}

int tls_cert_spki_sha256(const char *cert_path, char hex[SHA256_HEX_SIZE], char **error_r)
{
	FILE *f = fopen(cert_path, "r");
	if (f == NULL) {
		*error_r = xasprintf("cannot read %s: %s", cert_path, strerror(errno));
		return -1;
	}
	X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	unsigned char *der = NULL;
	int len = cert != NULL ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der) : -1;
	X509_free(cert);
	if (len <= 0) {
		*error_r = openssl_error("no certificate in", cert_path);
		return -1;
	}
	sha256_hex(der, (size_t)len, hex);
	OPENSSL_free(der);
	return 0;
}

int tls_make_self_signed(const char *cert_path, const char *key_path, const char *hostname,
			 char **error_r)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	int r = -1;
	if (key == NULL || cert == NULL) {
		*error_r = openssl_error("cannot make a key for", hostname);
		goto out;
	}
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
	X509_set_pubkey(cert, key);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)hostname, -1, -1, 0);
	X509_set_issuer_name(cert, name);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	char *san = xasprintf("DNS:%s", hostname);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	free(san);
	if (ext != NULL) {
		X509_add_ext(cert, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(cert, key, EVP_sha256()) == 0) {
		*error_r = openssl_error("cannot sign certificate for", hostname);
		goto out;
	}
	if (write_pem(key_path, 0640, key, NULL) < 0) {
		*error_r = xasprintf("cannot write %s", key_path);
		goto out;
	}
	if (write_pem(cert_path, 0644, NULL, cert) < 0) {
		*error_r = xasprintf("cannot write %s", cert_path);
		goto out;
	}
	r = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return r;
}

void tls_describe(SSL *ssl, char *out, size_t outlen)
{
	int alg_bits = 0;
	int bits = SSL_get_cipher_bits(ssl, &alg_bits);
	snprintf(out, outlen, "%s with cipher %s (%d/%d bits)", SSL_get_version(ssl),
		 SSL_get_cipher_name(ssl), bits, alg_bits);
}
