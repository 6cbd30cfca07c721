/* Unit tests for data_reader.c: dot-unstuffing, the end of data, SMTP smuggling attempts
 * (bare CR and LF never end the data), long lines; every case is fed whole, byte by byte
 * and in every split into two and three pieces, and must give the same result each time. */
#include "smtp/data_reader.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define LINE_MAX_DEFAULT 998

struct data_case {
	const char *in;
	size_t in_len;    /* 0: strlen(in) */
	size_t max_line;  /* 0: LINE_MAX_DEFAULT */
	int done;         /* the expected return of the feed that ends */
	size_t consumed;  /* of the whole input, when done */
	const char *out;
	size_t out_len;   /* 0: strlen(out) */
	bool bare, too_long;
};

struct result {
	int done;
	size_t consumed;
	buf out;
	bool bare, too_long;
};

static const struct data_case cases[] = {
	/* the end of data, and dot-unstuffing (RFC 5321 4.5.2) */
	{ ".\r\n", 0, 0, 1, 3, "", 0, false, false },
	{ "Hello\r\n.\r\n", 0, 0, 1, 10, "Hello\r\n", 0, false, false },
	{ "Hello\r\n.\r\nQUIT\r\n", 0, 0, 1, 10, "Hello\r\n", 0, false, false },
	{ "..dot\r\n.\r\n", 0, 0, 1, 10, ".dot\r\n", 0, false, false },
	{ "...\r\n.\r\n", 0, 0, 1, 8, "..\r\n", 0, false, false },
	{ "..\r\n.\r\n", 0, 0, 1, 7, ".\r\n", 0, false, false },
	{ ".x\r\n.\r\n", 0, 0, 1, 7, "x\r\n", 0, false, false },
	{ ". \r\n.\r\n", 0, 0, 1, 7, " \r\n", 0, false, false },
	{ "a\r\n\r\n.\r\n", 0, 0, 1, 8, "a\r\n\r\n", 0, false, false },
	{ "\r\n.\r\n", 0, 0, 1, 5, "\r\n", 0, false, false },
	{ "a.\r\n.b\r\n.\r\n", 0, 0, 1, 11, "a.\r\nb\r\n", 0, false, false },
	{ "a\0b\r\n.\r\n", 8, 0, 1, 8, "a\0b\r\n", 5, false, false },
	{ "\xff\xfe\r\n.\r\n", 0, 0, 1, 7, "\xff\xfe\r\n", 0, false, false },
	/* not (yet) the end */
	{ "", 0, 0, 0, 0, "", 0, false, false },
	{ "Hello\r\n.", 0, 0, 0, 0, "Hello\r\n", 0, false, false },
	{ "Hello\r\n.\r", 0, 0, 0, 0, "Hello\r\n", 0, false, false },
	{ "Hello\r\n", 0, 0, 0, 0, "Hello\r\n", 0, false, false },
	{ "Hello\r", 0, 0, 0, 0, "Hello", 0, false, false },
	{ "Hello\r\n.\r\r\n", 0, 0, 0, 0, "Hello\r\n\r\r\n", 0, true, false },
	/* SMTP smuggling: a bare LF or CR is no line end, so these never end the data */
	{ "\n.\n", 0, 0, 0, 0, "\n.\n", 0, true, false },
	{ "\r.\r", 0, 0, 0, 0, "\r.", 0, true, false },
	{ "a\n.\nb\r\n.\r\n", 0, 0, 1, 10, "a\n.\nb\r\n", 0, true, false },
	{ "a\r.\rb\r\n.\r\n", 0, 0, 1, 10, "a\r.\rb\r\n", 0, true, false },
	{ "a\n.\r\nb\r\n.\r\n", 0, 0, 1, 11, "a\n.\r\nb\r\n", 0, true, false },
	{ "a\r\n.\nb\r\n.\r\n", 0, 0, 1, 11, "a\r\n\nb\r\n", 0, true, false },
	{ "a\r\n.\r.\r\n.\r\n", 0, 0, 1, 11, "a\r\n\r.\r\n", 0, true, false },
	{ "a\r\n.\r\r\n.\r\n", 0, 0, 1, 10, "a\r\n\r\r\n", 0, true, false },
	{ "a\n\r\n.\r\n", 0, 0, 1, 7, "a\n\r\n", 0, true, false },
	{ "a\r\r\n.\r\n", 0, 0, 1, 7, "a\r\r\n", 0, true, false },
	{ "a\rb\r\n.\r\n", 0, 0, 1, 8, "a\rb\r\n", 0, true, false },
	{ "\n.\r\n", 0, 0, 0, 0, "\n.\r\n", 0, true, false },
	{ ".\n", 0, 0, 0, 0, "\n", 0, true, false },
	{ ".\r.\r\n", 0, 0, 0, 0, "\r.\r\n", 0, true, false },
	/* long lines: CRLF and the stuffing dot do not count (RFC 5321 4.5.3.1.6), a bare CR does */
	{ "12345\r\n.\r\n", 0, 5, 1, 10, "12345\r\n", 0, false, false },
	{ "123456\r\n.\r\n", 0, 5, 1, 11, "123456\r\n", 0, false, true },
	{ "..234\r\n.\r\n", 0, 5, 1, 10, ".234\r\n", 0, false, false },
	{ "..2345\r\n.\r\n", 0, 5, 1, 11, ".2345\r\n", 0, false, false },
	{ "..23456\r\n.\r\n", 0, 5, 1, 12, ".23456\r\n", 0, false, true },
	{ ".123456\r\n.\r\n", 0, 5, 1, 12, "123456\r\n", 0, false, true },
	{ ".12345\r\n.\r\n", 0, 5, 1, 11, "12345\r\n", 0, false, false },
	{ ".\r\n", 0, 1, 1, 3, "", 0, false, false },
	{ "1234\r5\r\n.\r\n", 0, 5, 1, 11, "1234\r5\r\n", 0, true, true },
	{ "12345\r\n12345\r\n.\r\n", 0, 5, 1, 17, "12345\r\n12345\r\n", 0, false, false },
	{ "123456", 0, 5, 0, 0, "123456", 0, false, true },
};

/* Feeds in[0..len) cut at the offsets in cuts (ascending, within the input), stopping at
 * the feed that returns 1, as the session does. */
static void feed_pieces(const char *in, size_t len, size_t max_line, const size_t *cuts,
			size_t ncuts, struct result *res)
{
	struct data_reader r;
	size_t start = 0;

	data_reader_init(&r, max_line);
	buf_init(&res->out);
	res->done = 0;
	res->consumed = 0;
	for (size_t i = 0; i <= ncuts && res->done == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		size_t used = 0;
		res->done = data_reader_feed(&r, in + start, end - start, &res->out, &used);
		assert_true(used <= end - start);
		if (res->done == 0)
			assert_int_equal(used, end - start);
		else
			res->consumed = start + used;
		start = end;
	}
	res->bare = r.bare_newline;
	res->too_long = r.line_too_long;
}

static void check(size_t k, const struct result *res, const char *how)
{
	const struct data_case *c = &cases[k];
	size_t out_len = c->out_len ? c->out_len : strlen(c->out);

	if (res->done != c->done || (c->done && res->consumed != c->consumed) ||
	    res->out.len != out_len || memcmp(res->out.data, c->out, out_len) != 0 ||
	    res->bare != c->bare || res->too_long != c->too_long)
		fail_msg("case %zu (%s): done %d consumed %zu out length %zu bare %d long %d", k,
			 how, res->done, res->consumed, res->out.len, res->bare, res->too_long);
}

static void test_cases(void **state)
{
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct data_case *c = &cases[k];
		size_t len = c->in_len ? c->in_len : strlen(c->in);
		size_t max_line = c->max_line ? c->max_line : LINE_MAX_DEFAULT;
		size_t cuts[64];
		struct result res;

		/* whole */
		feed_pieces(c->in, len, max_line, NULL, 0, &res);
		check(k, &res, "whole");
		buf_free(&res.out);
		/* byte by byte, with an empty piece before each byte too */
		assert_true(2 * len <= sizeof(cuts) / sizeof(cuts[0]));
		for (size_t i = 0; i < len; i++) {
			cuts[2 * i] = i;
			cuts[2 * i + 1] = i + 1;
		}
		feed_pieces(c->in, len, max_line, cuts, 2 * len, &res);
		check(k, &res, "byte by byte");
		buf_free(&res.out);
		/* every cut into three pieces (two of them possibly empty) */
		for (size_t i = 0; i <= len; i++) {
			for (size_t j = i; j <= len; j++) {
				cuts[0] = i;
				cuts[1] = j;
				feed_pieces(c->in, len, max_line, cuts, 2, &res);
				check(k, &res, "three pieces");
				buf_free(&res.out);
			}
		}
	}
}

/* Once the end was found the reader takes nothing more: the rest is the next command. */
static void test_after_end(void **state)
{
	struct data_reader r;
	buf out;
	size_t used = 99;

	buf_init(&out);
	data_reader_init(&r, LINE_MAX_DEFAULT);
	assert_int_equal(data_reader_feed(&r, "x\r\n.\r\nQUIT\r\n", 12, &out, &used), 1);
	assert_int_equal(used, 6);
	assert_int_equal(data_reader_feed(&r, "QUIT\r\n", 6, &out, &used), 1);
	assert_int_equal(used, 0);
	assert_string_equal(out.data, "x\r\n");
	/* init starts a new message */
	data_reader_init(&r, LINE_MAX_DEFAULT);
	buf_clear(&out);
	assert_int_equal(data_reader_feed(&r, ".\r\n", 3, &out, &used), 1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

/* A larger message, with stuffed dots, bare octets and long lines, cut at pseudo-random
 * places: every cutting gives the one-shot result. */
static void test_random_pieces(void **state)
{
	static const char *const lines[] = { "Subject: x\r\n", "..stuffed\r\n", ".\n", "\r.\r",
					     "plain text line\r\n", "\r\n", "a\rb\n" };
	buf msg;
	struct result whole, cut;
	uint32_t seed = 12345;

	buf_init(&msg);
	for (size_t i = 0; i < 2000; i++) {
		seed = seed * 1103515245 + 12345;
		buf_puts(&msg, lines[(seed >> 16) % (sizeof(lines) / sizeof(lines[0]))]);
	}
	buf_puts(&msg, "\r\n.\r\nRSET\r\n");
	feed_pieces(msg.data, msg.len, 40, NULL, 0, &whole);
	assert_int_equal(whole.done, 1);
	assert_int_equal(whole.consumed, msg.len - 6);
	for (int round = 0; round < 50; round++) {
		size_t cuts[256], n = 0, at = 0;
		while (n < 256) {
			seed = seed * 1103515245 + 12345;
			at += (seed >> 16) % 97;
			if (at > msg.len)
				break;
			cuts[n++] = at;
		}
		feed_pieces(msg.data, msg.len, 40, cuts, n, &cut);
		assert_int_equal(cut.done, whole.done);
		assert_int_equal(cut.consumed, whole.consumed);
		assert_int_equal(cut.out.len, whole.out.len);
		assert_memory_equal(cut.out.data, whole.out.data, whole.out.len);
		assert_int_equal(cut.bare, whole.bare);
		assert_int_equal(cut.too_long, whole.too_long);
		buf_free(&cut.out);
	}
	buf_free(&whole.out);
	buf_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_after_end),
		cmocka_unit_test(test_random_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
