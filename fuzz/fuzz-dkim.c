/* libFuzzer target for dkim_canon.c and dkim_sign.c: both body canonicalizations give the
 * same whatever pieces the body comes in (one octet at a time, or cut where the input says);
 * the relaxed body has no space or tab
 * before a line end, no run of two, no tab, no empty line at its end, ends in CRLF unless
 * empty, and is its own canonical form; each relaxed header field is one line, its name in
 * lower case, and canonical already; signing any message with an Ed25519 key gives, exactly
 * when the message has a header section, one DKIM-Signature field of CRLF lines whose
 * continuation lines start with a tab. */
#include "mail/dkim_canon.h"
#include "mail/dkim_sign.h"
#include "mail/header.h"
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void append_piece(const char *data, size_t len, void *arg)
{
	buf_append(arg, data, len);
}

static void check_body(const char *body, size_t len)
{
	buf c, again;
	buf_init(&c);
	buf_init(&again);
	dkim_canon_body(body, len, append_piece, &c);
	if (c.len > 0 && (c.len < 2 || memcmp(c.data + c.len - 2, "\r\n", 2) != 0 ||
			  (c.len >= 4 && memcmp(c.data + c.len - 4, "\r\n\r\n", 4) == 0)))
		abort();
	if (memchr(c.data, '\t', c.len) != NULL || memmem(c.data, c.len, "  ", 2) != NULL ||
	    memmem(c.data, c.len, " \r\n", 3) != NULL)
		abort();
	dkim_canon_body(c.data, c.len, append_piece, &again);
	if (again.len != c.len || memcmp(again.data, c.data, c.len) != 0)
		abort();
	buf_free(&c);
	buf_free(&again);
}

static void canon_in_pieces(const char *body, size_t len, bool relaxed, size_t step, buf *out)
{
	struct dkim_body_canon c;
	dkim_body_canon_init(&c, relaxed, append_piece, out);
	for (size_t pos = 0; pos < len; pos += step)
		dkim_body_canon_update(&c, body + pos, len - pos < step ? len - pos : step);
	dkim_body_canon_finish(&c);
}

static void check_pieces(const char *body, size_t len, size_t step)
{
	for (int relaxed = 0; relaxed < 2; relaxed++) {
		buf whole, ones, cut;
		buf_init(&whole);
		buf_init(&ones);
		buf_init(&cut);
		canon_in_pieces(body, len, relaxed, len > 0 ? len : 1, &whole);
		canon_in_pieces(body, len, relaxed, 1, &ones);
		canon_in_pieces(body, len, relaxed, step, &cut);
		if (ones.len != whole.len || cut.len != whole.len ||
		    memcmp(ones.data, whole.data, whole.len) != 0 || memcmp(cut.data, whole.data, whole.len) != 0)
			abort();
		if (!relaxed && (whole.len < 2 || memcmp(whole.data + whole.len - 2, "\r\n", 2) != 0))
			abort(); /* simple always ends in CRLF */
		buf_free(&whole);
		buf_free(&ones);
		buf_free(&cut);
	}
}

static void check_headers(const char *hdr, size_t len)
{
	size_t pos = 0;
	struct header_field f;
	int r;
	buf c, again;
	buf_init(&c);
	buf_init(&again);
	while ((r = header_next(hdr, len, &pos, &f)) != 0) {
		if (r < 0)
			continue;
		buf_clear(&c);
		dkim_canon_header(f.name, f.name_len, f.value, f.value_len, &c);
		const char *colon = memchr(c.data, ':', c.len);
		if (colon == NULL || (size_t)(colon - c.data) != f.name_len ||
		    memcmp(c.data + c.len - 2, "\r\n", 2) != 0)
			abort();
		for (const char *p = c.data; p < colon; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
		buf_clear(&again);
		dkim_canon_header(c.data, f.name_len, colon + 1, c.len - f.name_len - 3, &again);
		if (again.len != c.len || memcmp(again.data, c.data, c.len) != 0)
			abort();
	}
	buf_free(&c);
	buf_free(&again);
}

static EVP_PKEY *fixed_key(void)
{
	static EVP_PKEY *key;
	static const unsigned char seed[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	if (key == NULL)
		key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	return key;
}

static void check_sign(const char *msg, size_t len)
{
	struct dkim_signing_key k = { "example.org", "fuzz", fixed_key() };
	buf out;
	buf_init(&out);
	int r = dkim_sign(msg, len, &k, 1, 1700000000, &out);
	if ((r == 0) != (header_end(msg, len) > 0))
		abort();
	if (r == 0) {
		size_t pos = 0;
		struct header_field f;
		if (strncmp(out.data, "DKIM-Signature: v=1; ", 21) != 0 ||
		    header_next(out.data, out.len, &pos, &f) != 1 || pos != out.len)
			abort();
		for (const char *p = out.data; (p = strstr(p, "\r\n")) != NULL && p + 2 < out.data + out.len; p += 2)
			if (p[2] != '\t')
				abort();
	}
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	size_t end = header_end(msg, size);
	check_headers(msg, end > 0 ? end : size);
	check_body(msg + end, size - end);
	check_pieces(msg + end, size - end, size > 0 ? (size_t)data[0] % 17 + 1 : 1);
	check_sign(msg, size);
	return 0;
}
