/* OpenPGP through GPGME: the user's own GnuPG keyring and agent ($GNUPGHOME), so pinentry
 * and smartcards work as they do for mutt. Signatures are detached and armored, as PGP/MIME
 * (RFC 3156) carries them; encryption is to the recipients' keys and the sender's own. What
 * a check finds is appended to status as one plain line each (see mime_crypto.h). */
#ifndef ESTAFETA_MUA_PGP_H
#define ESTAFETA_MUA_PGP_H
#include "core/buf.h"
#include "core/strlist.h"
#include <stdbool.h>

/* A detached signature of data by the secret key signer names (ID, fingerprint or address)
 * into sig; *micalg_r ("pgp-sha256", allocated) for multipart/signed. 0, or -1 with *error_r. */
int pgp_sign(const char *signer, const char *data, size_t len, buf *sig, char **micalg_r, char **error_r);
/* Encrypts data to the key of every address of rcpts (and signs it too when signer is not
 * NULL) into out, armored. -1 with *error_r naming every address without a usable key. */
int pgp_encrypt(const char *signer, const strlist *rcpts, const char *data, size_t len, buf *out,
		char **error_r);
/* True when the keyring has a key that can encrypt to addr. */
bool pgp_can_encrypt_to(const char *addr);
/* Checks a detached signature over data; appends what it found to status. */
void pgp_verify(const char *data, size_t len, const char *sig, size_t sig_len, buf *status);
/* Decrypts (and checks a signature inside) into plain. 0, or -1 when it cannot (status says
 * why). */
int pgp_decrypt(const char *data, size_t len, buf *plain, buf *status);
/* The public key of signer in its minimal form (binary), as Autocrypt carries it. */
int pgp_export_minimal(const char *signer, buf *keydata, char **error_r);
/* Adds keys (binary or armored) to the keyring. 0, or -1 when none could be read. */
int pgp_import(const char *keydata, size_t len);
/* Appends "FINGERPRINT  NAME <addr>" lines for the keys of the keyring (secret ones marked)
 * to out. */
void pgp_list_keys(buf *out);
#endif
