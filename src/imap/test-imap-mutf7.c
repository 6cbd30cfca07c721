/* Unit tests for imap_mutf7.c: the examples of RFC 3501 5.1.3, characters outside the BMP,
 * round trips, and the names a server must refuse. */
#include "imap/imap_mutf7.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void pair(const char *utf8, const char *mutf7)
{
	buf out;
	buf_init(&out);
	assert_int_equal(imap_mutf7_encode(utf8, &out), 0);
	assert_string_equal(out.data, mutf7);
	buf_clear(&out);
	assert_int_equal(imap_mutf7_decode(mutf7, &out), 0);
	assert_string_equal(out.data, utf8);
	buf_free(&out);
}

static void test_examples(void **state)
{
	/* RFC 3501 5.1.3: "~peter/mail/台北/日本語" */
	pair("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	     "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
	pair("Entw\xc3\xbc" "rfe", "Entw&APw-rfe");
	pair("A&B", "A&-B");
	pair("INBOX", "INBOX");
	pair("", "");
	pair("\xf0\x9f\x93\xa7 Mail", "&2D3c5w- Mail"); /* U+1F4E7, a surrogate pair */
	pair("tab\there", "tab&AAk-here");
}

static void refused(const char *mutf7)
{
	buf out;
	buf_init(&out);
	buf_puts(&out, "kept");
	if (imap_mutf7_decode(mutf7, &out) != -1)
		fail_msg("\"%s\" should be refused, gave \"%s\"", mutf7, out.data);
	assert_string_equal(out.data, "kept");
	buf_free(&out);
}

static void test_refused(void **state)
{
	refused("&U,BTFw");        /* not closed */
	refused("&-&");            /* "&" at the end */
	refused("&AGE-");          /* "a": printable ASCII encoded */
	refused("&ZeVnLIqe-&U,BTFw-"); /* two runs that should be one */
	refused("&2D0-");          /* a lone high surrogate */
	refused("&3,c-");          /* a lone low surrogate */
	refused("&U,BTF-");        /* bits left over */
	refused("&U/BTFw-");       /* "/" is not in the alphabet */
	refused("&AAA-");          /* NUL */
	refused("caf\xc3\xa9");    /* 8-bit */
}

static void test_encode_refuses_bad_utf8(void **state)
{
	buf out;
	buf_init(&out);
	assert_int_equal(imap_mutf7_encode("bad\xc3", &out), -1);
	assert_int_equal(imap_mutf7_encode("\xc0\xaf", &out), -1);        /* overlong */
	assert_int_equal(imap_mutf7_encode("\xed\xa0\x80", &out), -1);    /* a surrogate */
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_encode_refuses_bad_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
