/* S/MIME (RFC 8551) through OpenSSL's CMS: the user's certificate and key (PEM, or PKCS#12
 * holding both) from the account settings; recipients' certificates collected from the
 * signed mail they sent, one PEM file per address in the client's certs folder. Signatures
 * are detached (multipart/signed); encryption is enveloped-data with AES-256-CBC. What a
 * check finds is appended to status as one plain line. */
#ifndef ESTAFETA_MUA_SMIME_H
#define ESTAFETA_MUA_SMIME_H
#include "core/buf.h"
#include "core/strlist.h"

struct smime_identity {
	const char *cert_file, *key_file; /* key_file NULL: the key is in cert_file */
	const char *certs_dir;            /* collected certificates, "addr.pem" */
};

/* A detached signature (DER) of data. 0, or -1 with *error_r. */
int smime_sign(const struct smime_identity *id, const char *data, size_t len, buf *der, char **error_r);
/* Enveloped-data (DER) of data for every address of rcpts and the user's own certificate.
 * -1 with *error_r naming every address without a certificate. */
int smime_encrypt(const struct smime_identity *id, const strlist *rcpts, const char *data, size_t len,
		  buf *der, char **error_r);
/* Checks signed-data (DER) over data (detached), or, data NULL, the content it holds, which
 * goes to content. A good signer's certificate is kept in certs_dir. */
void smime_verify(const struct smime_identity *id, const char *der, size_t der_len, const char *data,
		  size_t len, buf *content, buf *status);
/* Decrypts enveloped-data (DER) with the user's key into plain. 0, or -1 (status says why). */
int smime_decrypt(const struct smime_identity *id, const char *der, size_t der_len, buf *plain,
		  buf *status);
/* Appends "addr  subject (expires DATE)" lines for the collected certificates to out. */
void smime_list_certs(const struct smime_identity *id, buf *out);
#endif
