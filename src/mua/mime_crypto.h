/* The MIME of signed and encrypted mail (RFC 1847): writing PGP/MIME (RFC 3156) and S/MIME
 * (RFC 8551) structures around a composed message, with protected headers (Subject, From,
 * To, Cc, Reply-To, Date, Message-ID copied into the signed or encrypted part; an encrypted
 * message says "..." as its outer Subject), and opening them for reading: what is signed is
 * checked, what is encrypted decrypted (to memory only), and the reader gets the inner
 * message under the outer header with the protected fields in place of the outer ones, and
 * one plain status line per finding:
 *   Good signature from NAME <addr> (key ID ..., trusted|untrusted)
 *   BAD signature from NAME <addr> (key ID ...)
 *   Signed by a key not in your keyring (key ID ...)
 *   Encrypted to you / Encrypted, but not to any key you have */
#ifndef ESTAFETA_MUA_MIME_CRYPTO_H
#define ESTAFETA_MUA_MIME_CRYPTO_H
#include "core/buf.h"
#include "core/strlist.h"
#include "mua/smime.h"

enum {
	CRYPTO_SIGN = 1,          /* OpenPGP */
	CRYPTO_ENCRYPT = 2,
	CRYPTO_SMIME_SIGN = 4,
	CRYPTO_SMIME_ENCRYPT = 8,
};

struct crypto_setup {
	const char *pgp_signer;          /* the key to sign with: pgp_key, else the address */
	struct smime_identity smime;
};

/* Replaces *msg (a composed message, CRLF) by its signed and/or encrypted form for rcpts
 * (the sender's own address among them, so the Sent copy stays readable). 0, or -1 with
 * *error_r. */
int mime_crypto_protect(const struct crypto_setup *cs, unsigned what, const strlist *rcpts, buf *msg,
			char **error_r);
/* Appends to view what a reader sees of msg and to status what the checks found (nothing
 * for plain mail, view then being msg itself). Returns the layers opened (CRYPTO_*: the
 * signatures checked, whether good or bad, and what was decrypted). */
unsigned mime_crypto_open(const struct crypto_setup *cs, const char *msg, size_t len, buf *view, buf *status);
#endif
