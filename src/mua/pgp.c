/* OpenPGP through GPGME; see pgp.h. */
#include "mua/pgp.h"
#include "core/xalloc.h"
#include <gpgme.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

static gpgme_ctx_t context(char **error_r)
{
	static bool initialized;
	if (!initialized) {
		gpgme_check_version(NULL);
		gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));
		initialized = true;
	}
	gpgme_ctx_t ctx;
	gpgme_error_t err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
	if (err == 0)
		err = gpgme_new(&ctx);
	if (err != 0) {
		if (error_r != NULL)
			*error_r = xasprintf("cannot use GnuPG: %s (is gnupg installed?)", gpgme_strerror(err));
		return NULL;
	}
	gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
	return ctx;
}

/* Takes what a data object holds (and releases it) into out. */
static void drain(gpgme_data_t d, buf *out)
{
	size_t n;
	char *mem = gpgme_data_release_and_get_mem(d, &n);
	if (mem != NULL)
		buf_append(out, mem, n);
	gpgme_free(mem);
}

/* The first key matching pattern ("<addr>" for an address) usable for the purpose. */
static gpgme_key_t find_key(gpgme_ctx_t ctx, const char *pattern, bool secret, bool encrypt)
{
	char *query = strchr(pattern, '@') != NULL && pattern[0] != '<' ? xasprintf("<%s>", pattern)
									: xstrdup(pattern);
	gpgme_key_t key = NULL, found = NULL;
	if (gpgme_op_keylist_start(ctx, query, secret) == 0) {
		while (found == NULL && gpgme_op_keylist_next(ctx, &key) == 0) {
			bool usable = !key->revoked && !key->expired && !key->disabled && !key->invalid &&
				      (encrypt ? key->can_encrypt : key->can_sign);
			if (usable)
				found = key;
			else
				gpgme_key_unref(key);
		}
		gpgme_op_keylist_end(ctx);
	}
	free(query);
	return found;
}

int pgp_sign(const char *signer, const char *data, size_t len, buf *sig, char **micalg_r, char **error_r)
{
	gpgme_ctx_t ctx = context(error_r);
	if (ctx == NULL)
		return -1;
	gpgme_key_t key = find_key(ctx, signer, true, false);
	gpgme_data_t in = NULL, out = NULL;
	gpgme_error_t err = 0;
	int r = -1;
	if (key == NULL) {
		*error_r = xasprintf("no OpenPGP secret key for %s to sign with (see: gpg --list-secret-keys; "
				     "pgp_key in mail.conf)", signer);
		goto done;
	}
	gpgme_set_armor(ctx, 1);
	gpgme_signers_add(ctx, key);
	if ((err = gpgme_data_new_from_mem(&in, data, len, 0)) == 0 && (err = gpgme_data_new(&out)) == 0)
		err = gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_DETACH);
	gpgme_sign_result_t res = err == 0 ? gpgme_op_sign_result(ctx) : NULL;
	if (res == NULL || res->signatures == NULL) {
		*error_r = xasprintf("cannot sign with %s: %s", signer, gpgme_strerror(err));
		goto done;
	}
	const char *hash = gpgme_hash_algo_name(res->signatures->hash_algo);
	buf m;
	buf_init(&m);
	buf_printf(&m, "pgp-%s", hash != NULL ? hash : "sha256");
	for (char *p = m.data; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	*micalg_r = buf_steal(&m);
	drain(out, sig);
	out = NULL;
	r = 0;
done:
	gpgme_data_release(in);
	gpgme_data_release(out);
	gpgme_key_unref(key);
	gpgme_release(ctx);
	return r;
}

int pgp_encrypt(const char *signer, const strlist *rcpts, const char *data, size_t len, buf *out,
		char **error_r)
{
	gpgme_ctx_t ctx = context(error_r);
	if (ctx == NULL)
		return -1;
	gpgme_key_t *keys = xcalloc(rcpts->count + 1, sizeof(*keys));
	size_t n = 0;
	buf missing;
	buf_init(&missing);
	for (size_t i = 0; i < rcpts->count; i++) {
		gpgme_key_t k = find_key(ctx, rcpts->items[i], false, true);
		if (k != NULL)
			keys[n++] = k;
		else
			buf_printf(&missing, "%s%s", missing.len > 0 ? ", " : "", rcpts->items[i]);
	}
	gpgme_key_t sign_key = signer != NULL ? find_key(ctx, signer, true, false) : NULL;
	int r = -1;
	gpgme_data_t in = NULL, cipher = NULL;
	if (missing.len > 0) {
		*error_r = xasprintf("no OpenPGP key for %s: import it (gpg --import) or send without "
				     "--encrypt; nothing sent", missing.data);
		goto done;
	}
	if (signer != NULL && sign_key == NULL) {
		*error_r = xasprintf("no OpenPGP secret key for %s to sign with", signer);
		goto done;
	}
	gpgme_set_armor(ctx, 1);
	if (sign_key != NULL)
		gpgme_signers_add(ctx, sign_key);
	/* the keys are the user's choice (the keyring, Autocrypt): no web of trust asked */
	gpgme_error_t err = gpgme_data_new_from_mem(&in, data, len, 0);
	if (err == 0)
		err = gpgme_data_new(&cipher);
	if (err == 0)
		err = sign_key != NULL ? gpgme_op_encrypt_sign(ctx, keys, GPGME_ENCRYPT_ALWAYS_TRUST, in, cipher)
				       : gpgme_op_encrypt(ctx, keys, GPGME_ENCRYPT_ALWAYS_TRUST, in, cipher);
	if (err != 0) {
		*error_r = xasprintf("cannot encrypt: %s", gpgme_strerror(err));
		goto done;
	}
	drain(cipher, out);
	cipher = NULL;
	r = 0;
done:
	gpgme_data_release(in);
	gpgme_data_release(cipher);
	for (size_t i = 0; i < n; i++)
		gpgme_key_unref(keys[i]);
	free(keys);
	gpgme_key_unref(sign_key);
	buf_free(&missing);
	gpgme_release(ctx);
	return r;
}

bool pgp_can_encrypt_to(const char *addr)
{
	gpgme_ctx_t ctx = context(NULL);
	if (ctx == NULL)
		return false;
	gpgme_key_t k = find_key(ctx, addr, false, true);
	gpgme_key_unref(k);
	gpgme_release(ctx);
	return k != NULL;
}

static const char *key_id(const char *fpr)
{
	size_t n = fpr != NULL ? strlen(fpr) : 0;
	return n > 16 ? fpr + n - 16 : (fpr != NULL ? fpr : "unknown");
}

/* One line per signature found. */
static void report_signatures(gpgme_ctx_t ctx, gpgme_verify_result_t res, buf *status)
{
	if (res == NULL || res->signatures == NULL) {
		buf_puts(status, "BAD signature: no signature could be read\n");
		return;
	}
	for (gpgme_signature_t s = res->signatures; s != NULL; s = s->next) {
		gpgme_key_t key = NULL;
		gpgme_get_key(ctx, s->fpr, &key, 0);
		const char *name = key != NULL && key->uids != NULL ? key->uids->name : NULL;
		const char *email = key != NULL && key->uids != NULL ? key->uids->email : NULL;
		char *who = xasprintf("%s%s<%s>", name != NULL ? name : "", name != NULL && *name ? " " : "",
				      email != NULL ? email : "?");
		gpgme_err_code_t code = gpg_err_code(s->status);
		if (code == GPG_ERR_NO_PUBKEY)
			buf_printf(status, "Signed by a key not in your keyring (key ID %s)\n", key_id(s->fpr));
		else if (code == GPG_ERR_BAD_SIGNATURE || (s->summary & GPGME_SIGSUM_RED))
			buf_printf(status, "BAD signature from %s (key ID %s)\n", who, key_id(s->fpr));
		else if (code == GPG_ERR_NO_ERROR || code == GPG_ERR_KEY_EXPIRED || code == GPG_ERR_SIG_EXPIRED)
			buf_printf(status, "Good signature from %s (key ID %s, %s%s)\n", who, key_id(s->fpr),
				   s->validity >= GPGME_VALIDITY_FULL ? "trusted" : "untrusted",
				   code == GPG_ERR_NO_ERROR ? "" : ", expired");
		else
			buf_printf(status, "Signature not checked (key ID %s): %s\n", key_id(s->fpr),
				   gpgme_strerror(s->status));
		free(who);
		gpgme_key_unref(key);
	}
}

void pgp_verify(const char *data, size_t len, const char *sig, size_t sig_len, buf *status)
{
	char *error = NULL;
	gpgme_ctx_t ctx = context(&error);
	if (ctx == NULL) {
		buf_printf(status, "Signature not checked: %s\n", error);
		free(error);
		return;
	}
	gpgme_data_t text = NULL, signature = NULL;
	gpgme_error_t err = gpgme_data_new_from_mem(&text, data, len, 0);
	if (err == 0)
		err = gpgme_data_new_from_mem(&signature, sig, sig_len, 0);
	if (err == 0)
		err = gpgme_op_verify(ctx, signature, text, NULL);
	if (err != 0 && gpg_err_code(err) != GPG_ERR_BAD_SIGNATURE)
		buf_printf(status, "BAD signature: %s\n", gpgme_strerror(err));
	else
		report_signatures(ctx, gpgme_op_verify_result(ctx), status);
	gpgme_data_release(text);
	gpgme_data_release(signature);
	gpgme_release(ctx);
}

int pgp_decrypt(const char *data, size_t len, buf *plain, buf *status)
{
	char *error = NULL;
	gpgme_ctx_t ctx = context(&error);
	if (ctx == NULL) {
		buf_printf(status, "Encrypted; not decrypted: %s\n", error);
		free(error);
		return -1;
	}
	gpgme_data_t in = NULL, out = NULL;
	gpgme_error_t err = gpgme_data_new_from_mem(&in, data, len, 0);
	if (err == 0)
		err = gpgme_data_new(&out);
	if (err == 0)
		err = gpgme_op_decrypt_verify(ctx, in, out);
	int r = -1;
	if (gpg_err_code(err) == GPG_ERR_NO_SECKEY) {
		buf_puts(status, "Encrypted, but not to any key you have\n");
	} else if (err != 0) {
		buf_printf(status, "Encrypted; not decrypted: %s\n", gpgme_strerror(err));
	} else {
		buf_puts(status, "Encrypted to you\n");
		gpgme_verify_result_t v = gpgme_op_verify_result(ctx);
		if (v != NULL && v->signatures != NULL)
			report_signatures(ctx, v, status);
		drain(out, plain);
		out = NULL;
		r = 0;
	}
	gpgme_data_release(in);
	gpgme_data_release(out);
	gpgme_release(ctx);
	return r;
}

int pgp_export_minimal(const char *signer, buf *keydata, char **error_r)
{
	gpgme_ctx_t ctx = context(error_r);
	if (ctx == NULL)
		return -1;
	gpgme_key_t key = find_key(ctx, signer, true, false);
	gpgme_data_t out = NULL;
	int r = -1;
	if (key == NULL)
		*error_r = xasprintf("no OpenPGP secret key for %s", signer);
	else if (gpgme_data_new(&out) == 0 &&
		 gpgme_op_export(ctx, key->fpr, GPGME_EXPORT_MODE_MINIMAL, out) == 0) {
		drain(out, keydata);
		out = NULL;
		r = keydata->len > 0 ? 0 : -1;
		if (r < 0)
			*error_r = xasprintf("cannot export the key of %s", signer);
	} else {
		*error_r = xasprintf("cannot export the key of %s", signer);
	}
	gpgme_data_release(out);
	gpgme_key_unref(key);
	gpgme_release(ctx);
	return r;
}

int pgp_import(const char *keydata, size_t len)
{
	gpgme_ctx_t ctx = context(NULL);
	if (ctx == NULL)
		return -1;
	gpgme_data_t in = NULL;
	int r = -1;
	if (gpgme_data_new_from_mem(&in, keydata, len, 0) == 0 && gpgme_op_import(ctx, in) == 0) {
		gpgme_import_result_t res = gpgme_op_import_result(ctx);
		r = res != NULL && res->considered > 0 && res->not_imported < res->considered ? 0 : -1;
	}
	gpgme_data_release(in);
	gpgme_release(ctx);
	return r;
}

void pgp_list_keys(buf *out)
{
	gpgme_ctx_t ctx = context(NULL);
	if (ctx == NULL)
		return;
	strlist secret;
	strlist_init(&secret);
	gpgme_key_t key;
	for (int pass = 1; pass >= 0; pass--) {
		if (gpgme_op_keylist_start(ctx, NULL, pass) != 0)
			continue;
		while (gpgme_op_keylist_next(ctx, &key) == 0) {
			if (pass == 1)
				strlist_add(&secret, key->fpr);
			else
				for (gpgme_user_id_t u = key->uids; u != NULL; u = u->next)
					buf_printf(out, "  %s  %s%s%s\n", key->fpr, u->uid,
						   strlist_contains(&secret, key->fpr) ? "  (yours)" : "",
						   key->revoked || key->expired ? "  (not usable)" : "");
			gpgme_key_unref(key);
		}
		gpgme_op_keylist_end(ctx);
	}
	strlist_free(&secret);
	gpgme_release(ctx);
}
