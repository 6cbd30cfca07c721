/* The mail client's OpenPGP, S/MIME and Autocrypt: what to do with a message sent (the
 * options, sign_by_default, encrypt_when_possible, peers' Autocrypt keys), what to show of
 * a message read, and the keys command. See mail_internal.h and mime_crypto.h. */
#include "mua/mail_internal.h"
#include "core/xalloc.h"
#include "mail/header.h"
#include "mua/autocrypt.h"
#include "mua/compose.h"
#include "mua/mime_crypto.h"
#include "mua/pgp.h"
#include "mua/smime.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct crypto_dirs {
	char *certs, *autocrypt;
	struct crypto_setup cs;
};

static void setup(struct mail_session *s, struct crypto_dirs *d)
{
	d->certs = mail_data_dir("certs");
	d->autocrypt = mail_data_dir("autocrypt");
	d->cs = (struct crypto_setup){
		.pgp_signer = s->acct.pgp_key != NULL ? s->acct.pgp_key : s->acct.address,
		.smime = { s->acct.smime_cert, s->acct.smime_key, d->certs },
	};
}

static void dirs_free(struct crypto_dirs *d)
{
	free(d->certs);
	free(d->autocrypt);
}

char *mail_autocrypt_field(struct mail_session *s)
{
	buf key, field;
	buf_init(&key);
	buf_init(&field);
	char *error = NULL;
	if (pgp_export_minimal(s->acct.pgp_key != NULL ? s->acct.pgp_key : s->acct.address, &key, &error) == 0)
		autocrypt_write(&field, s->acct.address, s->acct.encrypt_when_possible, key.data, key.len);
	free(error);
	buf_free(&key);
	return field.len > 0 ? buf_steal(&field) : (buf_free(&field), NULL);
}

/* Every recipient without a key in the keyring gets the one Autocrypt learnt, if any.
 * True when then every one has a key. */
static bool autocrypt_keys(const struct crypto_dirs *d, const strlist *rcpts)
{
	bool all = true;
	for (size_t i = 0; i < rcpts->count; i++) {
		if (pgp_can_encrypt_to(rcpts->items[i]))
			continue;
		struct autocrypt_header h;
		if (autocrypt_find(d->autocrypt, rcpts->items[i], &h) == 0)
			pgp_import(h.keydata.data, h.keydata.len);
		autocrypt_header_free(&h);
		all = all && pgp_can_encrypt_to(rcpts->items[i]);
	}
	return all;
}

int mail_crypto_outgoing(struct mail_session *s, const struct mail_opts *o, const strlist *rcpts, buf *msg)
{
	unsigned what = (o->sign ? CRYPTO_SIGN : 0) | (o->encrypt ? CRYPTO_ENCRYPT : 0) |
			(o->smime_sign ? CRYPTO_SMIME_SIGN : 0) | (o->smime_encrypt ? CRYPTO_SMIME_ENCRYPT : 0);
	struct crypto_dirs d;
	setup(s, &d);
	/* the sender's own key too: the Sent copy stays readable */
	strlist to;
	strlist_init(&to);
	for (size_t i = 0; i < rcpts->count; i++)
		strlist_add_unique(&to, rcpts->items[i]);
	bool smime_only = s->acct.smime_cert != NULL && s->acct.pgp_key == NULL;
	if (what == 0 && s->acct.encrypt_when_possible && !smime_only && autocrypt_keys(&d, &to) &&
	    pgp_can_encrypt_to(s->acct.address))
		what = CRYPTO_ENCRYPT;
	if (s->acct.sign_by_default) {
		if (what & (CRYPTO_SMIME_SIGN | CRYPTO_SMIME_ENCRYPT) || (what == 0 && smime_only))
			what |= CRYPTO_SMIME_SIGN;
		else
			what |= CRYPTO_SIGN;
	}
	int r = 0;
	if (what & CRYPTO_ENCRYPT)
		autocrypt_keys(&d, &to);
	strlist_add_unique(&to, s->acct.address);
	char *error = NULL;
	if (what != 0 && mime_crypto_protect(&d.cs, what, &to, msg, &error) < 0) {
		r = mail_fail("%s", error);
		free(error);
	}
	strlist_free(&to);
	dirs_free(&d);
	return r;
}

unsigned mail_crypto_read(struct mail_session *s, const char *msg, size_t len, buf *view, buf *status)
{
	struct crypto_dirs d;
	setup(s, &d);
	size_t end = header_end(msg, len);
	buf ac, from;
	buf_init(&ac);
	buf_init(&from);
	strlist senders;
	strlist_init(&senders);
	const char *bad;
	if (header_get(msg, end > 0 ? end : len, "Autocrypt", &ac) &&
	    header_get(msg, end > 0 ? end : len, "From", &from) &&
	    compose_addresses(from.data, &senders, &bad) == 0 && senders.count == 1)
		autocrypt_learn(d.autocrypt, senders.items[0], ac.data, ac.len);
	unsigned found = mime_crypto_open(&d.cs, msg, len, view, status);
	strlist_free(&senders);
	buf_free(&ac);
	buf_free(&from);
	dirs_free(&d);
	return found;
}

int mail_keys(struct mail_session *s, struct mail_opts *o)
{
	if (o->args.count != 0)
		return mail_fail("usage: keys") + 1;
	struct crypto_dirs d;
	setup(s, &d);
	buf out;
	buf_init(&out);
	buf_puts(&out, "OpenPGP keys (your GnuPG keyring):\n");
	pgp_list_keys(&out);
	buf_puts(&out, "Autocrypt peers:\n");
	autocrypt_list(d.autocrypt, &out);
	buf_puts(&out, "S/MIME certificates (collected from signed mail):\n");
	smime_list_certs(&d.cs.smime, &out);
	if (s->acct.smime_cert != NULL)
		buf_printf(&out, "Your S/MIME certificate: %s\n", s->acct.smime_cert);
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	dirs_free(&d);
	return 0;
}
