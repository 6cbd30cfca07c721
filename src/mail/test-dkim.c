/* Unit tests for dkim_canon.c, dkim_key.c, dkim_sign.c and dkim_tags.c: relaxed and simple
 * canonicalization on RFC 6376 3.4.5's example and its edges, the body given whole or in
 * pieces of every size down to one octet; the tag lists of signatures and key records; RFC 8463 appendix A's signed message, whose Ed25519 and
 * RSA signatures (made by another signer) must verify over our canonical forms; the public key
 * records of its keys; and our own signatures of that message, which verify the same way and
 * stop verifying when the body or a signed field changes. */
#include "core/base64.h"
#include "mail/dkim_canon.h"
#include "mail/dkim_key.h"
#include "mail/dkim_sign.h"
#include "mail/dkim_tags.h"
#include "mail/header.h"
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

static void append_piece(const char *data, size_t len, void *arg)
{
	buf_append(arg, data, len);
}

static char *canon_body(const char *body)
{
	buf out;
	buf_init(&out);
	dkim_canon_body(body, strlen(body), append_piece, &out);
	return buf_steal(&out);
}

static char *canon_headers(const char *hdr)
{
	buf out;
	buf_init(&out);
	size_t pos = 0;
	struct header_field f;
	while (header_next(hdr, strlen(hdr), &pos, &f) == 1)
		dkim_canon_header(f.name, f.name_len, f.value, f.value_len, &out);
	return buf_steal(&out);
}

/* RFC 6376 3.4.5 */
static void test_canon_rfc_example(void **state)
{
	char *h = canon_headers("A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n");
	assert_string_equal(h, "a:X\r\nb:Y Z\r\n");
	char *b = canon_body(" C \r\nD \t E\r\n\r\n\r\n");
	assert_string_equal(b, " C\r\nD E\r\n");
	free(h);
	free(b);
}

/* The canonical body of body given in pieces of step octets. */
static char *canon_pieces(const char *body, bool relaxed, size_t step)
{
	buf out;
	buf_init(&out);
	struct dkim_body_canon c;
	dkim_body_canon_init(&c, relaxed, append_piece, &out);
	for (size_t pos = 0, len = strlen(body); pos < len; pos += step)
		dkim_body_canon_update(&c, body + pos, len - pos < step ? len - pos : step);
	dkim_body_canon_finish(&c);
	buf_putc(&out, '\0');
	return buf_steal(&out);
}

static void test_canon_simple(void **state)
{
	static const char *const cases[][2] = {
		{ " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n" }, /* RFC 6376 3.4.5 */
		{ "", "\r\n" },                 /* an empty body is one CRLF (3.4.3) */
		{ "\r\n\r\n", "\r\n" },
		{ "abc", "abc\r\n" },
		{ "  \r\n\r\nx \r", "  \r\n\r\nx \r\r\n" }, /* spaces are text; a last bare CR too */
		{ "a\rb\n\r\n", "a\rb\n\r\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t step = 1; step <= strlen(cases[i][0]) + 1; step++) {
			char *b = canon_pieces(cases[i][0], false, step);
			assert_string_equal(b, cases[i][1]);
			free(b);
		}
	buf h;
	buf_init(&h);
	const char *v = " two\r\n  lines \t";
	dkim_canon_field(false, "SUBJECT", 7, v, strlen(v), &h);
	dkim_canon_field(true, "SUBJECT", 7, v, strlen(v), &h);
	buf_putc(&h, '\0');
	assert_string_equal(h.data, "SUBJECT: two\r\n  lines \t\r\nsubject:two lines\r\n");
	buf_free(&h);
}

/* Any piece sizes give what the whole body gives, both ways. */
static void test_canon_pieces(void **state)
{
	const char *body = "  lead\t \r\n\r\n \t\r\nmid  dle\r\r\n\rx\n\r\n\r\n \r\n";
	for (int relaxed = 0; relaxed < 2; relaxed++) {
		char *whole = canon_pieces(body, relaxed, strlen(body));
		for (size_t step = 1; step < strlen(body); step++) {
			char *p = canon_pieces(body, relaxed, step);
			assert_string_equal(p, whole);
			free(p);
		}
		free(whole);
	}
	char *r = canon_pieces(body, true, 1);
	assert_string_equal(r, " lead\r\n\r\n\r\nmid dle\r\r\n\rx\n\r\n");
	free(r);
}

static void test_canon_body_edges(void **state)
{
	static const char *const cases[][2] = {
		{ "", "" },                       /* an empty body stays empty (3.4.4) */
		{ "\r\n\r\n", "" },               /* empty lines only */
		{ "abc", "abc\r\n" },             /* a last line without CRLF gets one */
		{ "a  \r\n\r\nb\r\n", "a\r\n\r\nb\r\n" },
		{ " \t \r\nx", "\r\nx\r\n" },     /* a blank line before text stays, emptied */
		{ "x\t\r\n \r\n\t\r\n", "x\r\n" },
		{ "a\rb \n c\r\n", "a\rb \n c\r\n" }, /* bare CR and LF are ordinary octets */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *b = canon_body(cases[i][0]);
		assert_string_equal(b, cases[i][1]);
		free(b);
	}
	char *h = canon_headers("SUBJECT:  two\r\n   lines \t\r\nX-Empty:\r\n\r\n");
	assert_string_equal(h, "subject:two lines\r\nx-empty:\r\n");
	free(h);
}

/* The h= of the first signature of msg signed with an Ed25519 key, unfolded. */
static char *signed_names(const char *msg)
{
	EVP_PKEY *k = dkim_key_generate(DKIM_ED25519);
	struct dkim_signing_key key = { "x.example", "s", k };
	buf sig, names;
	buf_init(&sig);
	buf_init(&names);
	assert_int_equal(dkim_sign(msg, strlen(msg), &key, 1, 0, &sig), 0);
	const char *h = strstr(sig.data, "h=") + 2;
	for (; *h != ';'; h++)
		if (strchr(" \t\r\n", *h) == NULL)
			buf_putc(&names, *h);
	buf_free(&sig);
	EVP_PKEY_free(k);
	return buf_steal(&names);
}

static void test_signed_fields(void **state)
{
	/* every occurrence, in any case; Received and unknown fields left out; From once more */
	char *h = signed_names("Received: from a\r\nReceived: from b\r\nFrom: <a@x.example>\r\n"
			       "To: <b@y.example>\r\nX-Mailer: z\r\nSubject: s\r\nto: <c@y.example>\r\n"
			       "List-Unsubscribe: <https://x.example/u>\r\n\r\nbody\r\n");
	assert_string_equal(h, "from:from:subject:to:to:list-unsubscribe");
	free(h);
	h = signed_names("Subject: only\r\n\r\n");
	assert_string_equal(h, "from:subject");
	free(h);
}

/* ---- a verifier for the tests (the server's own verification is later work) ---- */

/* The value of tag name in the tag list of field (RFC 6376 3.2), whitespace removed. */
static char *tag_value(const char *field, const char *name)
{
	const char *p = strchr(field, ':') + 1;
	while (*p != '\0') {
		while (strchr(" \t\r\n;", *p) != NULL && *p != '\0')
			p++;
		const char *eq = strchr(p, '=');
		const char *end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if (eq != NULL && eq < end && (size_t)(eq - p) == strlen(name) &&
		    strncmp(p, name, strlen(name)) == 0) {
			buf v;
			buf_init(&v);
			for (const char *q = eq + 1; q < end; q++)
				if (strchr(" \t\r\n", *q) == NULL)
					buf_putc(&v, *q);
			return buf_steal(&v);
		}
		p = end;
	}
	return NULL;
}

/* Checks the first field of msg, a DKIM-Signature with b= last, against key (RFC 6376 6.1.3). */
static bool verify_first(const char *msg, EVP_PKEY *key)
{
	size_t len = strlen(msg), body = header_end(msg, len), pos = 0;
	struct header_field sig, fields[64];
	size_t count = 0;
	assert_int_equal(header_next(msg, body, &pos, &sig), 1);
	while (count < 64 && header_next(msg, body, &pos, &fields[count]) == 1)
		count++;
	char *sigtext = strndup(sig.raw, sig.raw_len);
	char *h = tag_value(sigtext, "h"), *bh = tag_value(sigtext, "bh"), *b = tag_value(sigtext, "b");
	bool ed25519 = strstr(sigtext, "a=ed25519-sha256") != NULL;
	/* the body hash */
	unsigned char md[SHA256_DIGEST_LENGTH];
	buf cb, data, sigbytes, hash64;
	buf_init(&cb);
	buf_init(&data);
	buf_init(&sigbytes);
	buf_init(&hash64);
	dkim_canon_body(msg + body, len - body, append_piece, &cb);
	SHA256((unsigned char *)cb.data, cb.len, md);
	base64_encode(md, sizeof(md), &hash64);
	bool ok = strcmp(hash64.data, bh) == 0;
	/* the header fields h= names, bottom-up, each used once */
	bool used[64] = { false };
	for (char *name = strtok(h, ":"); name != NULL; name = strtok(NULL, ":"))
		for (size_t i = count; i-- > 0;)
			if (!used[i] && fields[i].name_len == strlen(name) &&
			    strncasecmp(fields[i].name, name, fields[i].name_len) == 0) {
				used[i] = true;
				dkim_canon_header(fields[i].name, fields[i].name_len, fields[i].value,
						  fields[i].value_len, &data);
				break;
			}
	/* the signature's own field with b= empty: its value runs to the field's end */
	const char *bpos = sigtext;
	for (const char *p = sigtext; (p = strstr(p, "b=")) != NULL; p++)
		if (p[-1] != 'b')
			bpos = p + 2;
	dkim_canon_header(sig.name, sig.name_len, sig.value, (size_t)(bpos - sigtext) - (sig.value - sig.raw),
			  &data);
	data.len -= 2;
	assert_int_equal(base64_decode(b, strlen(b), &sigbytes), 0);
	unsigned char digest[SHA256_DIGEST_LENGTH];
	const unsigned char *in = (unsigned char *)data.data;
	size_t in_len = data.len;
	if (ed25519) {
		SHA256(in, in_len, digest);
		in = digest;
		in_len = sizeof(digest);
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ok = ok && EVP_DigestVerifyInit(ctx, NULL, ed25519 ? NULL : EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestVerify(ctx, (unsigned char *)sigbytes.data, sigbytes.len, in, in_len) == 1;
	EVP_MD_CTX_free(ctx);
	buf_free(&cb);
	buf_free(&data);
	buf_free(&sigbytes);
	buf_free(&hash64);
	free(sigtext);
	free(h);
	free(bh);
	free(b);
	return ok;
}

/* RFC 8463 appendix A */
static const char rfc_message[] =
	"From: Joe SixPack <joe@football.example.com>\r\n"
	"To: Suzie Q <suzie@shopping.example.net>\r\n"
	"Subject: Is dinner ready?\r\n"
	"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
	"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
	"\r\n"
	"Hi.\r\n"
	"\r\n"
	"We lost the game.  Are you hungry yet?\r\n"
	"\r\n"
	"Joe.\r\n"
	"\r\n";
static const char rfc_ed25519_signature[] =
	"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
	" d=football.example.com; i=@football.example.com;\r\n"
	" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
	" subject : date : message-id : from : subject : date;\r\n"
	" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
	" Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n";
static const char rfc_rsa_signature[] =
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
	" d=football.example.com; i=@football.example.com;\r\n"
	" q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
	" date : message-id : from : subject : date;\r\n"
	" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	" b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
	" DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
	" dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n";
static const char rfc_ed25519_seed[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static const char rfc_rsa_pem[] =
	"-----BEGIN RSA PRIVATE KEY-----\n"
	"MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
	"Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
	"KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
	"AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
	"6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
	"zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
	"6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
	"uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
	"WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
	"WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
	"licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
	"o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
	"uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
	"-----END RSA PRIVATE KEY-----\n";

static EVP_PKEY *rfc_ed25519_key(void)
{
	buf seed;
	buf_init(&seed);
	assert_int_equal(base64_decode(rfc_ed25519_seed, strlen(rfc_ed25519_seed), &seed), 0);
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, (unsigned char *)seed.data,
						   seed.len);
	buf_free(&seed);
	assert_non_null(k);
	return k;
}

static char *with(const char *first, const char *msg)
{
	buf m;
	buf_init(&m);
	buf_puts(&m, first);
	buf_puts(&m, msg);
	return buf_steal(&m);
}

static void test_rfc8463_signatures_verify(void **state)
{
	EVP_PKEY *ed = rfc_ed25519_key(), *rsa = dkim_key_from_pem(rfc_rsa_pem);
	assert_non_null(rsa);
	char *m1 = with(rfc_ed25519_signature, rfc_message), *m2 = with(rfc_rsa_signature, rfc_message);
	assert_true(verify_first(m1, ed));
	assert_true(verify_first(m2, rsa));
	assert_false(verify_first(m1, rsa)); /* the verifier does refuse */
	free(m1);
	free(m2);
	/* the records to publish are RFC 8463 A.2's */
	buf r;
	buf_init(&r);
	assert_int_equal(dkim_key_record(ed, &r), 0);
	assert_string_equal(r.data, "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	buf_clear(&r);
	assert_int_equal(dkim_key_record(rsa, &r), 0);
	assert_string_equal(r.data, "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR"
				    "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC"
				    "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3"
				    "Ip3G+2kryOTIKT+l/K4w3QIDAQAB");
	buf_free(&r);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa);
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	assert_non_null(p);
	buf out;
	buf_init(&out);
	buf_append(&out, s, (size_t)(p - s));
	buf_puts(&out, to);
	buf_puts(&out, p + strlen(from));
	return buf_steal(&out);
}

static void test_sign(void **state)
{
	EVP_PKEY *ed = rfc_ed25519_key(), *rsa = dkim_key_from_pem(rfc_rsa_pem);
	struct dkim_signing_key keys[2] = { { "football.example.com", "brisbane", ed },
					    { "football.example.com", "test", rsa } };
	buf sigs;
	buf_init(&sigs);
	assert_int_equal(dkim_sign(rfc_message, strlen(rfc_message), keys, 2, 1528637909, &sigs), 0);
	/* two fields, each relaxed/relaxed with the RFC's body hash, From over-signed */
	const char *second = strstr(sigs.data + 1, "DKIM-Signature:");
	assert_non_null(second);
	buf unfolded;
	buf_init(&unfolded);
	/* unfolded, a tag's ";" followed by one space */
	for (size_t i = 0; i < sigs.len; i++)
		if (strncmp(sigs.data + i, "\r\n\t", 3) == 0) {
			buf_puts(&unfolded, sigs.data[i - 1] == ';' ? " " : "");
			i += 2;
		} else {
			buf_putc(&unfolded, sigs.data[i]);
		}
	const char *u = unfolded.data;
	assert_non_null(strstr(u, "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; "
				  "d=football.example.com; s=brisbane; t=1528637909; "
				  "h=from:from:subject:date:message-id:to; "
				  "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b="));
	assert_non_null(strstr(u, "\r\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; "
				  "d=football.example.com; s=test; t=1528637909; "));
	assert_null(strstr(u, "l="));
	buf_free(&unfolded);
	/* no line of the fields is longer than 78 octets */
	for (const char *l = sigs.data; *l != '\0'; l = strstr(l, "\r\n") + 2)
		assert_true(strstr(l, "\r\n") - l <= 78);
	char *ed_msg = with(sigs.data, rfc_message);
	char *rsa_msg = with(second, rfc_message);
	assert_true(verify_first(ed_msg, ed));
	assert_true(verify_first(rsa_msg, rsa));
	/* a changed body or signed field, or an added From, breaks both */
	const char *changes[][2] = { { "hungry yet", "hungry now" }, { "dinner ready", "lunch ready" },
				     { "Subject:", "From: <boss@football.example.com>\r\nSubject:" } };
	for (size_t i = 0; i < 3; i++) {
		char *t1 = replace(ed_msg, changes[i][0], changes[i][1]);
		char *t2 = replace(rsa_msg, changes[i][0], changes[i][1]);
		assert_false(verify_first(t1, ed));
		assert_false(verify_first(t2, rsa));
		free(t1);
		free(t2);
	}
	/* an unsigned field and re-folded whitespace change nothing (relaxed) */
	char *t = replace(ed_msg, "Subject: Is dinner", "X-Note: added\r\nSubject:   Is\r\n dinner");
	assert_true(verify_first(t, ed));
	free(t);
	free(ed_msg);
	free(rsa_msg);
	/* no header section: nothing to sign */
	buf_clear(&sigs);
	assert_int_equal(dkim_sign("no header", 9, keys, 1, 0, &sigs), -1);
	buf_free(&sigs);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa);
}

static void test_keys(void **state)
{
	enum dkim_algorithm alg;
	assert_int_equal(dkim_algorithm_parse("ed25519", &alg), 0);
	assert_int_equal(alg, DKIM_ED25519);
	assert_int_equal(dkim_algorithm_parse("dsa", &alg), -1);
	EVP_PKEY *k = dkim_key_generate(DKIM_RSA);
	assert_int_equal(EVP_PKEY_get_bits(k), DKIM_RSA_BITS);
	char *pem = dkim_key_to_pem(k);
	assert_non_null(strstr(pem, "BEGIN PRIVATE KEY")); /* PKCS#8 */
	EVP_PKEY *back = dkim_key_from_pem(pem);
	assert_int_equal(EVP_PKEY_eq(k, back), 1);
	buf r, s;
	buf_init(&r);
	buf_init(&s);
	assert_int_equal(dkim_key_record(k, &r), 0);
	dkim_txt_strings(r.data, &s);
	/* 2048-bit RSA: 410 octets, two strings of at most 255 */
	assert_int_equal(s.data[0], '"');
	assert_int_equal(strchr(s.data + 1, '"') - s.data - 1, 255);
	assert_int_equal(s.len, r.len + 5);
	buf_clear(&s);
	dkim_txt_strings("", &s);
	assert_string_equal(s.data, "\"\"");
	buf_free(&r);
	buf_free(&s);
	free(pem);
	EVP_PKEY_free(k);
	EVP_PKEY_free(back);
	/* RSA under 1024 bits is refused (RFC 8301 3.2) */
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	assert_int_equal(dkim_key_algorithm(small), -1);
	pem = dkim_key_to_pem(small);
	assert_null(dkim_key_from_pem(pem));
	assert_null(dkim_key_from_pem("not a key"));
	free(pem);
	EVP_PKEY_free(small);
}

static void test_tag_list(void **state)
{
	const char *s = " a = 1 ;\r\n\tb_2=x y ; c=;";
	size_t pos = 0;
	struct dkim_tag t;
	assert_int_equal(dkim_tag_next(s, strlen(s), &pos, &t), 1);
	assert_true(t.name_len == 1 && t.value_len == 1 && t.value[0] == '1');
	assert_int_equal(dkim_tag_next(s, strlen(s), &pos, &t), 1);
	assert_true(t.name_len == 3 && t.value_len == 3 && strncmp(t.value, "x y", 3) == 0);
	assert_int_equal(dkim_tag_next(s, strlen(s), &pos, &t), 1);
	assert_true(t.name_len == 1 && t.value_len == 0 && t.span_start == t.span_end);
	assert_int_equal(dkim_tag_next(s, strlen(s), &pos, &t), 0);
	static const char *const bad[] = { "=1", "a", "a=1;;b=2", "1a=x", "a=\x80", "a=\x01" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;
		pos = 0;
		while ((r = dkim_tag_next(bad[i], strlen(bad[i]), &pos, &t)) == 1)
			;
		assert_int_equal(r, -1);
	}
}

static const char sig_ok[] =
	" v=1; a=rsa-sha256; c=relaxed; d=Example.ORG; s=sel; i=joe@mail.example.org;\r\n"
	" h=From : to:Subject; l=12; t=100; x=200; q=dns/txt; z=unknown|tag;\r\n"
	" bh=MTIz; b=YW\r\n Jj";

/* sig_ok with one tag replaced (or removed, with an empty to) */
static const char *sig_error(const char *from, const char *to)
{
	char *m = replace(sig_ok, from, to);
	struct dkim_sig_tags t;
	const char *error = NULL;
	assert_int_equal(dkim_sig_tags_parse(m, strlen(m), &t, &error), -1);
	dkim_sig_tags_free(&t);
	free(m);
	return error;
}

static void test_signature_tags(void **state)
{
	struct dkim_sig_tags t;
	const char *error = NULL;
	assert_int_equal(dkim_sig_tags_parse(sig_ok, strlen(sig_ok), &t, &error), 0);
	assert_int_equal(t.alg, DKIM_SIG_RSA_SHA256);
	assert_string_equal(t.domain, "example.org");
	assert_string_equal(t.selector, "sel");
	assert_string_equal(t.identity, "joe@mail.example.org");
	assert_true(t.header_relaxed && !t.body_relaxed);
	assert_int_equal(t.headers.count, 3);
	assert_string_equal(t.headers.items[2], "Subject");
	assert_true(t.has_length && t.length == 12 && t.timestamp == 100 && t.expiry == 200);
	assert_string_equal(t.b, "YWJj");
	assert_true(t.signature.len == 3 && memcmp(t.signature.data, "abc", 3) == 0);
	assert_true(t.body_hash.len == 3 && memcmp(t.body_hash.data, "123", 3) == 0);
	/* the span b= empties: its whole value, folding included */
	assert_int_equal(sig_ok[t.b_start - 1], '=');
	assert_int_equal(t.b_end, strlen(sig_ok));
	dkim_sig_tags_free(&t);
	/* no c=: simple/simple; an l= too large for 64 bits saturates */
	const char *plain = "v=1; a=ed25519-sha256; d=x.example; s=s; h=from; bh=MTIz; b=YWJj; "
			    "l=99999999999999999999999999";
	assert_int_equal(dkim_sig_tags_parse(plain, strlen(plain), &t, &error), 0);
	assert_true(!t.header_relaxed && !t.body_relaxed && t.alg == DKIM_SIG_ED25519_SHA256);
	assert_true(t.length == UINT64_MAX);
	dkim_sig_tags_free(&t);
	assert_string_equal(sig_error("v=1", "v=2"), "v= is not 1");
	assert_string_equal(sig_error(" s=sel;", ""), "no s= tag");
	assert_string_equal(sig_error("bh=MTIz", "bh=MTI"), "bh= is not base64");
	assert_string_equal(sig_error("From : ", ""), "h= does not sign From");
	assert_string_equal(sig_error("c=relaxed", "c=relaxed/loose"), "unknown canonicalization in c=");
	assert_string_equal(sig_error("q=dns/txt", "q=http"), "q= has no dns/txt");
	assert_string_equal(sig_error("joe@mail.example.org", "joe@badexample.org"),
			    "i= is not in the domain of d=");
	assert_string_equal(sig_error("x=200", "x=50"), "x= is before t=");
	assert_string_equal(sig_error("l=12", "l=1x"), "l= is not a number");
	assert_string_equal(sig_error("z=unknown", "a=rsa-sha256; z=unknown"), "a tag appears twice");
	assert_string_equal(sig_error("d=Example.ORG", "d=exa mple.org"), "d= is not a domain");
	/* what was read stays for the result, even when the list is refused */
	char *m = replace(sig_ok, "v=1", "v=9");
	assert_int_equal(dkim_sig_tags_parse(m, strlen(m), &t, &error), -1);
	assert_string_equal(t.domain, "example.org");
	assert_string_equal(t.algorithm, "rsa-sha256");
	dkim_sig_tags_free(&t);
	free(m);
}

static void test_arc_tags(void **state)
{
	struct dkim_sig_tags t;
	const char *error = NULL;
	const char *seal = "i=2; cv=pass; a=rsa-sha256; d=Fwd.Example; s=sel; t=17; b=YWJj";
	assert_int_equal(dkim_sig_tags_parse_kind(DKIM_SIG_ARC_SEAL, seal, strlen(seal), &t, &error), 0);
	assert_true(t.instance == 2 && t.cv == ARC_CV_PASS && t.header_relaxed);
	assert_string_equal(t.domain, "fwd.example");
	assert_null(t.identity);
	dkim_sig_tags_free(&t);
	/* a DKIM-Signature's reading refuses it, an ARC-Message-Signature's too */
	assert_int_equal(dkim_sig_tags_parse(seal, strlen(seal), &t, &error), -1);
	assert_string_equal(error, "no v= tag");
	dkim_sig_tags_free(&t);
	assert_int_equal(dkim_sig_tags_parse_kind(DKIM_SIG_ARC_MESSAGE, seal, strlen(seal), &t, &error), -1);
	assert_string_equal(error, "no bh= tag");
	dkim_sig_tags_free(&t);
	const char *ams = "i=1; a=rsa-sha256; c=relaxed/relaxed; d=fwd.example; s=sel; h=from:to; bh=MTIz; b=YWJj";
	assert_int_equal(dkim_sig_tags_parse_kind(DKIM_SIG_ARC_MESSAGE, ams, strlen(ams), &t, &error), 0);
	assert_true(t.instance == 1 && t.body_relaxed && t.headers.count == 2);
	assert_null(t.identity);
	dkim_sig_tags_free(&t);
	static const struct {
		enum dkim_sig_kind kind;
		const char *value, *error;
	} bad[] = {
		{ DKIM_SIG_ARC_SEAL, "i=51; cv=none; a=rsa-sha256; d=x.example; s=s; b=YWJj", "i= is not an ARC instance (1 to 50)" },
		{ DKIM_SIG_ARC_SEAL, "i=0; cv=none; a=rsa-sha256; d=x.example; s=s; b=YWJj", "i= is not an ARC instance (1 to 50)" },
		{ DKIM_SIG_ARC_SEAL, "i=1; cv=maybe; a=rsa-sha256; d=x.example; s=s; b=YWJj", "cv= is not none, pass or fail" },
		{ DKIM_SIG_ARC_SEAL, "i=1; a=rsa-sha256; d=x.example; s=s; b=YWJj", "no cv= tag" },
		{ DKIM_SIG_ARC_SEAL, "i=1; cv=none; a=rsa-sha256; d=x.example; s=s; h=from; b=YWJj", "an ARC-Seal has no h=" },
		{ DKIM_SIG_ARC_MESSAGE, "a=rsa-sha256; d=x.example; s=s; h=from; bh=MTIz; b=YWJj", "no i= tag" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dkim_sig_tags_parse_kind(bad[i].kind, bad[i].value, strlen(bad[i].value), &t, &error), -1);
		assert_string_equal(error, bad[i].error);
		dkim_sig_tags_free(&t);
	}
	size_t after = 0;
	const char *aar = " i=3; mx.example; dmarc=pass";
	assert_int_equal(arc_instance_of(aar, strlen(aar), &after), 3);
	assert_string_equal(aar + after, " mx.example; dmarc=pass");
	assert_int_equal(arc_instance_of("i=3 mx.example", 14, &after), 0);
	assert_int_equal(arc_instance_of("i=3", 3, &after), 0);
	assert_int_equal(arc_instance_of("s=3; x", 6, &after), 0);
	assert_int_equal(arc_instance_of("i=0050; x", 9, &after), 0);
}

static void test_key_tags(void **state)
{
	struct dkim_key_tags k;
	const char *error = NULL;
	const char *rec = "v=DKIM1; k=ed25519; h=sha1:sha256; s=email; t=y:s:x; n=note; p=YWJj";
	assert_int_equal(dkim_key_tags_parse(rec, strlen(rec), &k, &error), 0);
	assert_string_equal(k.key_type, "ed25519");
	assert_true(k.sha256 && k.email && k.testing && k.strict);
	assert_true(k.key.len == 3 && memcmp(k.key.data, "abc", 3) == 0);
	dkim_key_tags_free(&k);
	rec = "p=; h=sha1; s=tlsrpt";
	assert_int_equal(dkim_key_tags_parse(rec, strlen(rec), &k, &error), 0);
	assert_string_equal(k.key_type, "rsa"); /* the default */
	assert_true(k.key.len == 0 && !k.sha256 && !k.email && !k.testing && !k.strict);
	dkim_key_tags_free(&k);
	static const char *const bad[][2] = {
		{ "v=DKIM2; p=YWJj", "the key record's v= is not DKIM1" },
		{ "v=DKIM1; k=rsa", "the key record has no p=" },
		{ "p=YW Jj?", "the key record's p= is not base64" },
		{ "p=YWJj; p=YWJj", "a tag appears twice" },
		{ "v=spf1 -all", "the key record's v= is not DKIM1" },
		{ "not a record", "tag list syntax error" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dkim_key_tags_parse(bad[i][0], strlen(bad[i][0]), &k, &error), -1);
		assert_string_equal(error, bad[i][1]);
		dkim_key_tags_free(&k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon_rfc_example),
		cmocka_unit_test(test_canon_body_edges),
		cmocka_unit_test(test_canon_simple),
		cmocka_unit_test(test_canon_pieces),
		cmocka_unit_test(test_tag_list),
		cmocka_unit_test(test_signature_tags),
		cmocka_unit_test(test_key_tags),
		cmocka_unit_test(test_signed_fields),
		cmocka_unit_test(test_rfc8463_signatures_verify),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_arc_tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
