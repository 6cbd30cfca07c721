/* Unit tests for maildrop.c: the envelope read from a file's first part (every prefix asks
 * for more until the empty line, then the same answer as the whole), errors found as soon as
 * their line is complete, and the message check fed whole, byte by byte and in two pieces. */
#include "deliver/maildrop.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static const char file[] = "estafeta-maildrop 1\n"
			   "sender <Alice@Example.test>\n"
			   "recipient bob@example.test\n"
			   "recipient bob@example.test\n"
			   "recipient carol@x.test\n"
			   "\n"
			   "Subject: hi\r\n\r\nbody\r\n";

static void test_envelope_prefixes(void **state)
{
	size_t len = strlen(file), end = strstr(file, "\n\n") - file + 2;
	struct maildrop_envelope env;
	const char *error = NULL;
	for (size_t n = 0; n < end; n++) {
		assert_int_equal(maildrop_parse_envelope(file, n, &env, &error), 0);
		assert_int_equal(env.rcpts.count, 0);
	}
	for (size_t n = end; n <= len; n++) {
		assert_int_equal(maildrop_parse_envelope(file, n, &env, &error), 1);
		assert_int_equal(env.body_off, end);
		assert_string_equal(env.sender, "Alice@example.test");
		assert_int_equal(env.rcpts.count, 2);
		maildrop_envelope_free(&env);
	}
	assert_int_equal(maildrop_parse(file, len, &env, &error), 0);
	maildrop_envelope_free(&env);
}

static void test_envelope_errors_early(void **state)
{
	static const struct {
		const char *in;
		const char *error;
	} cases[] = {
		{ "estafeta-maildrop 2\n", "not a maildrop file" },
		{ "From alice Mon Jan 1", "not a maildrop file" },
		{ "estafeta-maildrop 1\nsender alice\n", "the sender line" },
		{ "estafeta-maildrop 1\nsender <>\nrecipient <bob@x.test>\n", "a recipient line" },
		{ "estafeta-maildrop 1\nsender <>\n\n", "no recipients" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct maildrop_envelope env;
		const char *error = NULL;
		assert_int_equal(maildrop_parse_envelope(cases[i].in, strlen(cases[i].in), &env, &error), -1);
		assert_non_null(strstr(error, cases[i].error));
	}
	struct maildrop_envelope env;
	const char *error = NULL;
	const char *open_ended = "estafeta-maildrop 1\nsender <>\nrecipient bob@x.test\n";
	assert_int_equal(maildrop_parse(open_ended, strlen(open_ended), &env, &error), -1);
	assert_string_equal(error, "the envelope does not end with an empty line");
}

static bool check_whole(const char *s, size_t len)
{
	struct maildrop_body b = { 0 };
	maildrop_body_feed(&b, s, len);
	return maildrop_body_valid(&b);
}

static bool check_bytes(const char *s, size_t len)
{
	struct maildrop_body b = { 0 };
	for (size_t i = 0; i < len; i++)
		maildrop_body_feed(&b, s + i, 1);
	return maildrop_body_valid(&b);
}

static void test_body(void **state)
{
	char long_line[1003];
	memset(long_line, 'x', 999);
	memcpy(long_line + 999, "\r\n", 3);
	char max_line[1002];
	memset(max_line, 'x', 998);
	memcpy(max_line + 998, "\r\n", 3);
	static const char *const good[] = { "", "a\r\n", "a\r\n\r\nb\r\n" };
	const char *const bad[] = { "a", "a\n", "a\rb\r\n", "a\r", "\r\r\n", long_line };
	for (size_t i = 0; i < 3; i++) {
		assert_true(check_whole(good[i], strlen(good[i])));
		assert_true(check_bytes(good[i], strlen(good[i])));
	}
	assert_true(check_whole(max_line, strlen(max_line)));
	assert_true(check_bytes(max_line, strlen(max_line)));
	for (size_t i = 0; i < 6; i++) {
		assert_false(check_whole(bad[i], strlen(bad[i])));
		assert_false(check_bytes(bad[i], strlen(bad[i])));
	}
	/* a CRLF split between two pieces */
	struct maildrop_body b = { 0 };
	maildrop_body_feed(&b, "a\r", 3 - 1);
	maildrop_body_feed(&b, "\n", 1);
	assert_true(maildrop_body_valid(&b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope_prefixes),
		cmocka_unit_test(test_envelope_errors_early),
		cmocka_unit_test(test_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
