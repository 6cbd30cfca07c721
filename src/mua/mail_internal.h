/* What the mail client's command files share: options, the IMAP helpers over the session,
 * and the command functions the table in mail_session.c lists. */
#ifndef ESTAFETA_MUA_MAIL_INTERNAL_H
#define ESTAFETA_MUA_MAIL_INTERNAL_H
#include "core/strlist.h"
#include "mua/mail.h"

struct mail_opts {
	const char *to, *cc, *bcc, *subject, *reply_to, *html, *folder;
	strlist attach;      /* --attach FILE (send, draft) */
	bool all, raw, attach_original;
	bool sign, encrypt, smime_sign, smime_encrypt; /* also set by a reply to encrypted mail */
	strlist args;        /* the rest, in order */
};

/* Connects and logs in on first need. */
int mail_imap(struct mail_session *s);
/* Selects folder (opts->folder, else the session's, else INBOX) and learns its UIDs. */
int mail_select(struct mail_session *s, const char *folder);
/* The UID of message number arg in the selected folder. */
int mail_uid(struct mail_session *s, const char *arg, uint32_t *uid);
/* BODY[] of a message (peek: without setting \Seen). */
int mail_fetch(struct mail_session *s, uint32_t uid, bool peek, buf *out);
/* The folder with a role (found by SPECIAL-USE, then by the usual names, else created). */
const char *mail_role(struct mail_session *s, enum folder_role role);
/* Adds or removes flags ("+\Flagged", "-\Seen", "+label") on a message. */
int mail_store_flags(struct mail_session *s, uint32_t uid, const char *change);
/* APPEND to folder with flags ("\Seen"). */
int mail_append(struct mail_session *s, const char *folder, const char *flags, const buf *msg);

typedef int mail_command_fn(struct mail_session *s, struct mail_opts *o);
mail_command_fn mail_send, mail_draft, mail_reply, mail_forward, mail_keys;

/* The Autocrypt field for outgoing mail (the account's OpenPGP key), allocated; NULL
 * without a key. */
char *mail_autocrypt_field(struct mail_session *s);
/* Signs and/or encrypts msg for rcpts as the options and settings ask (sign_by_default,
 * encrypt_when_possible). 0, or 1 after a failure (printed). */
int mail_crypto_outgoing(struct mail_session *s, const struct mail_opts *o, const strlist *rcpts, buf *msg);
/* What a reader sees of msg (verified, decrypted) and the status lines; learns the
 * sender's Autocrypt key. Returns what was opened (CRYPTO_* of mime_crypto.h). */
unsigned mail_crypto_read(struct mail_session *s, const char *msg, size_t len, buf *view, buf *status);
#endif
