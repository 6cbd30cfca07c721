/* TLS with OpenSSL 3: the server context every listener shares, the self-signed certificate
 * that `estafeta init` makes, and a one-line description of a session for Received lines. */
#ifndef ESTAFETA_TLS_H
#define ESTAFETA_TLS_H
#include "core/digest.h"
#include <openssl/ssl.h>
#include <stddef.h>

/* A server context with TLS 1.2 as the floor, loading the PEM chain and key. NULL with
 * *error_r ("cannot read PATH: Permission denied", "TLS key does not match ...") when they
 * cannot be read or do not match. Blocks (reads files). */
SSL_CTX *tls_server_context(const char *cert_path, const char *key_path, char **error_r);
/* The outbound SMTP client's context: TLS 1.2 or later, certificates not verified
 * (opportunistic STARTTLS). NULL with *error_r. */
SSL_CTX *tls_client_context(char **error_r);
/* A client context that verifies the peer's certificate (chain, dates, and the name
 * conn_start_tls_client is given): against the CAs of ca_file, or the system's when it is "".
 * For MTA-STS's policy fetches and the MX hosts of enforced policies. NULL with *error_r. */
SSL_CTX *tls_verifying_client_context(const char *ca_file, char **error_r);
/* Writes a new P-256 key and a self-signed certificate for hostname, valid ten years (key file
 * mode 0640: its group is the server's, so a reload after the privilege drop reads it).
 * Returns 0 or -1 with *error_r. */
int tls_make_self_signed(const char *cert_path, const char *key_path, const char *hostname,
			 char **error_r);
/* The SHA-256 of the SubjectPublicKeyInfo of the first certificate in the PEM file, in
 * lower-case hex: the data of a DANE-EE TLSA record "3 1 1" (RFC 7671 5.1), which stays
 * true across renewals that keep the key. Returns 0, or -1 with *error_r. Blocks. */
int tls_cert_spki_sha256(const char *cert_path, char hex[SHA256_HEX_SIZE], char **error_r);
/* "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", as Postfix writes it. */
void tls_describe(SSL *ssl, char *out, size_t outlen);
#endif
