/* Unit tests for qp.c and downgrade.c: quoted-printable by RFC 2045 6.7's rules (soft breaks
 * at 76, trailing whitespace, "="), lenient decoding, round trips of any octets; and the
 * 8-bit to 7-bit conversion of whole messages (only the 8-bit parts change, headers with
 * 8-bit octets cannot be converted). */
#include "mail/downgrade.h"
#include "mail/mime.h"
#include "mail/qp.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static char *encode(const char *s)
{
	buf out;
	buf_init(&out);
	qp_encode(s, strlen(s), &out);
	return buf_steal(&out);
}

static char *decode(const char *s)
{
	buf out;
	buf_init(&out);
	qp_decode(s, strlen(s), &out);
	return buf_steal(&out);
}

static void check_encode(const char *in, const char *expect)
{
	char *got = encode(in);
	assert_string_equal(got, expect);
	free(got);
}

static void check_decode(const char *in, const char *expect)
{
	char *got = decode(in);
	assert_string_equal(got, expect);
	free(got);
}

static void test_encode(void **state)
{
	check_encode("plain text\r\n", "plain text\r\n");
	check_encode("caf\xc3\xa9 = 1\r\n", "caf=C3=A9 =3D 1\r\n");
	check_encode("trailing space \r\nand tab\t\n", "trailing space=20\r\nand tab=09\r\n");
	check_encode("end with space ", "end with space=20");
	check_encode("lone\rCR", "lone=0DCR");
	/* 80 letters: a soft break keeps lines within 76 octets, "=" included */
	char line[81];
	memset(line, 'a', 80);
	line[80] = '\0';
	char *got = encode(line);
	assert_int_equal(strlen(got), 80 + 3);
	assert_memory_equal(got + 75, "=\r\n", 3);
	free(got);
	/* an escape is never split by a soft break */
	char esc[100];
	memset(esc, 'b', 74);
	strcpy(esc + 74, "\xff");
	got = encode(esc);
	assert_string_equal(got + 74, "=\r\n=FF");
	free(got);
}

static void test_decode(void **state)
{
	check_decode("caf=C3=A9 =3d 1\r\n", "caf\xc3\xa9 = 1\r\n");
	check_decode("soft=\r\nbreak\r\n", "softbreak\r\n");
	check_decode("soft= \r\nbreak", "softbreak");         /* whitespace after the "=" */
	check_decode("spaces   \r\nnext", "spaces\r\nnext");   /* 6.7 rule 3 */
	check_decode("bad =ZZ and =4", "bad =ZZ and =4");      /* kept as written */
	check_decode("lf only\nline", "lf only\r\nline");
}

static void test_round_trip(void **state)
{
	/* every octet but the line-end ones comes back exactly, through 7-bit text */
	unsigned char all[2 * 254];
	size_t n = 0;
	for (int round = 0; round < 2; round++)
		for (int c = 0; c < 256; c++)
			if (c != '\r' && c != '\n')
				all[n++] = (unsigned char)c;
	buf enc, dec;
	buf_init(&enc);
	buf_init(&dec);
	qp_encode((const char *)all, n, &enc);
	for (size_t i = 0; i < enc.len; i++)
		assert_true((unsigned char)enc.data[i] < 128);
	qp_decode(enc.data, enc.len, &dec);
	assert_int_equal(dec.len, n);
	assert_memory_equal(dec.data, all, n);
	buf_free(&enc);
	buf_free(&dec);
	const char *text = "Gr\xc3\xbc\xc3\x9f" "e\r\n \r\n\t\r\n=\r\nline " "\xe2\x98\x83\r\n";
	char *e = encode(text), *d = decode(e);
	assert_string_equal(d, text);
	free(e);
	free(d);
}

static char *downgrade(const char *msg, int expect)
{
	buf out;
	buf_init(&out);
	assert_int_equal(mime_downgrade(msg, strlen(msg), &out), expect);
	for (size_t i = 0; expect == 0 && i < out.len; i++)
		assert_true((unsigned char)out.data[i] < 128);
	return buf_steal(&out);
}

static void test_downgrade_plain(void **state)
{
	char *got = downgrade("Subject: hi\r\n\r\nGr\xc3\xbc\xc3\x9f" "e\r\n", 0);
	assert_string_equal(got, "Subject: hi\r\n"
				 "MIME-Version: 1.0\r\n"
				 "Content-Type: text/plain; charset=unknown-8bit\r\n"
				 "Content-Transfer-Encoding: quoted-printable\r\n"
				 "\r\n"
				 "Gr=C3=BC=C3=9Fe\r\n");
	free(got);
}

static void test_downgrade_multipart(void **state)
{
	const char *msg =
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=b\r\n"
		"Content-Transfer-Encoding: 8bit\r\n"
		"\r\n"
		"--b\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: 8bit\r\n"
		"\r\n"
		"caf\xc3\xa9\r\n"
		"--b\r\n"
		"Content-Type: text/plain\r\n"
		"\r\n"
		"ascii only\r\n"
		"--b\r\n"
		"Content-Type: message/rfc822\r\n"
		"Content-Transfer-Encoding: 8bit\r\n"
		"\r\n"
		"Subject: inner\r\n"
		"\r\n"
		"na\xc3\xafve\r\n"
		"--b--\r\n";
	char *got = downgrade(msg, 0);
	assert_string_equal(got,
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=b\r\n"
		"Content-Transfer-Encoding: 7bit\r\n"
		"\r\n"
		"--b\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n"
		"\r\n"
		"caf=C3=A9\r\n"
		"--b\r\n"
		"Content-Type: text/plain\r\n"
		"\r\n"
		"ascii only\r\n"
		"--b\r\n"
		"Content-Type: message/rfc822\r\n"
		"Content-Transfer-Encoding: 7bit\r\n"
		"\r\n"
		"Subject: inner\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=unknown-8bit\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n"
		"\r\n"
		"na=C3=AFve\r\n"
		"--b--\r\n");
	/* the result is still the same tree */
	struct mime_tree t;
	mime_parse(got, strlen(got), &mime_default_limits, &t);
	assert_int_equal(t.count, 5); /* root, three parts, the inner message */
	mime_tree_free(&t);
	free(got);
}

static void test_downgrade_refused(void **state)
{
	free(downgrade("Subject: caf\xc3\xa9\r\n\r\nbody\r\n", -1));
	free(downgrade("Content-Transfer-Encoding: base64\r\n\r\n\xff\xfe\r\n", -1));
	/* nothing 8-bit: nothing changes */
	char *same = downgrade("Subject: a\r\n\r\nb\r\n", 0);
	assert_string_equal(same, "Subject: a\r\n\r\nb\r\n");
	free(same);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_downgrade_plain),
		cmocka_unit_test(test_downgrade_multipart),
		cmocka_unit_test(test_downgrade_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
