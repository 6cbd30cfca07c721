/* Unit tests for smtp_reply.c: replies of one and several lines, broken ones, the enhanced
 * status code, the one-line form, and the EHLO extensions; each reply is also fed line by
 * line as the client reads it. */
#include "queue/smtp_reply.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Feeds the CRLF-separated lines of text; returns the last feed result. */
static int feed_all(struct smtp_reply *r, const char *text)
{
	int res = 0;
	const char *p = text;
	while (*p != '\0') {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		res = smtp_reply_feed(r, p, len);
		if (res != 0)
			return res;
		p += len + (eol != NULL ? 2 : 0);
	}
	return res;
}

static const struct {
	const char *in;
	int result;
	int code;
	const char *status;
	const char *oneline;
} cases[] = {
	{ "250 OK", 1, 250, "2.0.0", "250 OK" },
	{ "250", 1, 250, "2.0.0", "250" },
	{ "550 5.1.1 <x@b.test>: no such user", 1, 550, "5.1.1", "550 5.1.1 <x@b.test>: no such user" },
	{ "451-4.3.0 first\r\n451 4.3.0 second", 1, 451, "4.3.0", "451 4.3.0 first 4.3.0 second" },
	{ "250-one\r\n", 0, 250, NULL, NULL },
	/* the class of the status code must match the reply's (RFC 2034 3) */
	{ "550 4.1.1 mismatch", 1, 550, "5.0.0", "550 4.1.1 mismatch" },
	{ "550 5.1.1x not a code", 1, 550, "5.0.0", "550 5.1.1x not a code" },
	{ "250 2.1234.0 too long", 1, 250, "2.0.0", "250 2.1234.0 too long" },
	{ "554 5.6.0 bad\x01\x80", 1, 554, "5.6.0", "554 5.6.0 bad??" },
	{ "250-a\r\n251 b", -1, 0, NULL, NULL },
	{ "25", -1, 0, NULL, NULL },
	{ "650 bad class", -1, 0, NULL, NULL },
	{ "260 bad second digit", -1, 0, NULL, NULL },
	{ "250xOK", -1, 0, NULL, NULL },
	{ "OK", -1, 0, NULL, NULL },
};

static void test_replies(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_reply r;
		smtp_reply_init(&r);
		int res = feed_all(&r, cases[i].in);
		if (res != cases[i].result)
			fail_msg("case %zu \"%s\": result %d, want %d", i, cases[i].in, res, cases[i].result);
		if (res == 1) {
			assert_int_equal(r.code, cases[i].code);
			char status[16];
			smtp_reply_status(&r, status, sizeof(status));
			assert_string_equal(status, cases[i].status);
			char *one = smtp_reply_oneline(&r);
			assert_string_equal(one, cases[i].oneline);
			free(one);
		}
		smtp_reply_free(&r);
	}
}

static void test_too_many_lines(void **state)
{
	struct smtp_reply r;
	smtp_reply_init(&r);
	for (int i = 0; i < SMTP_REPLY_LINES_MAX; i++)
		assert_int_equal(smtp_reply_feed(&r, "250-x", 5), 0);
	assert_int_equal(smtp_reply_feed(&r, "250 x", 5), -1);
	smtp_reply_clear(&r);
	assert_int_equal(smtp_reply_feed(&r, "220 again", 9), 1);
	assert_int_equal(r.code, 220);
	assert_string_equal(r.text.data, "again");
	smtp_reply_free(&r);
}

static void test_ehlo(void **state)
{
	struct smtp_reply r;
	struct smtp_ehlo e;
	smtp_reply_init(&r);
	assert_int_equal(feed_all(&r, "250-mx.b.test Hello client [127.0.0.1]\r\n250-PIPELINING\r\n"
				      "250-size 10240000\r\n250-8BITMIME\r\n250-STARTTLS\r\n"
				      "250-AUTH LOGIN PLAIN SCRAM-SHA-256\r\n250-ENHANCEDSTATUSCODES\r\n"
				      "250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING"), 1);
	smtp_ehlo_parse(&r, &e);
	assert_int_equal(e.ext, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE | SMTP_EXT_8BITMIME |
					SMTP_EXT_STARTTLS | SMTP_EXT_AUTH_PLAIN |
					SMTP_EXT_AUTH_SCRAM_SHA_256 | SMTP_EXT_ENHANCEDSTATUSCODES | SMTP_EXT_DSN |
					SMTP_EXT_SMTPUTF8 | SMTP_EXT_CHUNKING);
	assert_int_equal(e.size_max, 10240000);
	smtp_reply_clear(&r);
	/* The greeting line is never an extension; keywords match whole. */
	assert_int_equal(feed_all(&r, "250-PIPELINING\r\n250-AUTH LOGIN\r\n250-8BITMIMEX\r\n250 SIZE"), 1);
	smtp_ehlo_parse(&r, &e);
	assert_int_equal(e.ext, SMTP_EXT_SIZE);
	assert_int_equal(e.size_max, 0);
	smtp_reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_too_many_lines),
		cmocka_unit_test(test_ehlo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
