/* Unit tests for imap_string.c: which strings may go quoted (RFC 9051 4.3: no CR, LF, NUL
 * or 8-bit octets), escapes, and literals, whose NULs only BINARY's literal8 keeps. */
#include "imap/imap_string.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

struct string_case {
	const char *in;
	size_t len;
	const char *expect;
	size_t expect_len;
};

#define CASE(in, out) { in, sizeof(in) - 1, out, sizeof(out) - 1 }

static void test_strings(void **state)
{
	static const struct string_case cases[] = {
		CASE("", "\"\""),
		CASE("Subject line", "\"Subject line\""),
		CASE("a \"b\" \\c", "\"a \\\"b\\\" \\\\c\""),
		CASE("two\r\nlines", "{10}\r\ntwo\r\nlines"),
		CASE("lf\nonly", "{7}\r\nlf\nonly"),
		CASE("cr\r", "{3}\r\ncr\r"),
		CASE("tab\t", "{4}\r\ntab\t"),
		CASE("caf\xc3\xa9", "{5}\r\ncaf\xc3\xa9"),
		CASE("\x7f", "{1}\r\n\x7f"),
		CASE("a\0b", "{3}\r\na\x80" "b"),
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf out;
		buf_init(&out);
		imap_write_string(&out, cases[i].in, cases[i].len);
		if (out.len != cases[i].expect_len || memcmp(out.data, cases[i].expect, out.len) != 0)
			fail_msg("case %zu: got \"%s\"", i, out.data);
		buf_free(&out);
	}
}

/* A long string goes as a literal, however plain. */
static void test_long_string(void **state)
{
	char s[1024];
	memset(s, 'x', sizeof(s));
	buf out;
	buf_init(&out);
	imap_write_string(&out, s, sizeof(s) - 1);
	assert_int_equal(out.data[0], '"');
	buf_clear(&out);
	imap_write_string(&out, s, sizeof(s));
	assert_memory_equal(out.data, "{1024}\r\nxxx", 11);
	assert_int_equal(out.len, 8 + sizeof(s));
	buf_free(&out);
}

static void test_literals(void **state)
{
	buf out;
	buf_init(&out);
	imap_write_literal(&out, "a\0\0b", 4, true);
	assert_int_equal(out.len, 10);
	assert_memory_equal(out.data, "~{4}\r\na\0\0b", 10);
	buf_clear(&out);
	imap_write_literal(&out, "a\0\0b", 4, false);
	assert_memory_equal(out.data, "{4}\r\na\x80\x80" "b", 9);
	buf_clear(&out);
	imap_write_literal(&out, "line\r\n\xff", 7, true); /* no NUL: a plain literal */
	assert_memory_equal(out.data, "{7}\r\nline\r\n\xff", 12);
	buf_clear(&out);
	imap_write_literal(&out, "", 0, true);
	assert_string_equal(out.data, "{0}\r\n");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_long_string),
		cmocka_unit_test(test_literals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
