/* Unit tests for mbox.c and line_ends.c: From_ lines as mutt, Dovecot, qmail and old mailers
 * write them (and lines that only look like one), splitting a file into messages with the
 * separating empty line dropped, unquoting for mboxrd and mboxo, the state fields read and
 * removed, and the two line-end conversions. */
#include "mail/line_ends.h"
#include "mail/mbox.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static bool from(const char *line, struct mbox_date *d)
{
	return mbox_from_line(line, strlen(line), d);
}

static void test_from_line(void **state)
{
	struct mbox_date d;
	assert_true(from("From alice@example.com Mon Jan  1 10:00:00 2024", &d));
	assert_int_equal(d.tm.tm_year, 124);
	assert_int_equal(d.tm.tm_mon, 0);
	assert_int_equal(d.tm.tm_mday, 1);
	assert_int_equal(d.tm.tm_hour, 10);
	assert_false(d.zoned);
	assert_true(from("From MAILER-DAEMON Fri Jul  8 12:08:34 2011 +0200", &d));
	assert_true(d.zoned);
	assert_int_equal(d.offset, 7200);
	assert_true(from("From bob Tue Feb 3 04:05 UTC 1998 remote from host", &d));
	assert_true(d.zoned);
	assert_int_equal(d.offset, 0);
	assert_int_equal(d.tm.tm_sec, 0);
	assert_true(from("From x Wed Mar  3 03:03:03 2021 UTC", &d));
	assert_true(d.zoned);
	assert_true(from("From x Wed Mar  3 03:03:03 2021 remote from y", &d));
	assert_false(d.zoned);
	assert_true(from("From \"a b\"@example.com Wed Mar 15 23:59:60 2023", &d));
	assert_true(from("From  Wed Mar 15 23:59:59 2023", &d)); /* no sender */
	assert_true(from("From x Wed Mar 15 23:59:59 CET 2023", &d));
	assert_false(d.zoned);
	assert_false(from("From here on, the text says so", &d));
	assert_false(from("From x Wed Foo 15 23:59:59 2023", &d));
	assert_false(from("From x Wed Mar 32 23:59:59 2023", &d));
	assert_false(from("From x Wed Mar 15 24:00:00 2023", &d));
	assert_false(from("From x Wed Mar 15 23:59:59", &d));
	assert_false(from("from x Wed Mar 15 23:59:59 2023", &d));
	assert_false(from(">From x Wed Mar 15 23:59:59 2023", &d));
}

static void test_split(void **state)
{
	const char *file = "junk before\n"
			   "From a@b Mon Jan  1 10:00:00 2024\n"
			   "Subject: one\n\nFrom here on it is the body.\n\n"
			   "From c@d Mon Jan  1 11:00:00 2024\r\n"
			   "Subject: two\r\n\r\nbody\r\n\r\n"
			   "From e@f Mon Jan  1 12:00:00 2024\n"
			   "Subject: three\n\nno empty line at the end";
	size_t len = strlen(file), pos = 0;
	struct mbox_message m;
	assert_true(mbox_next(file, len, &pos, &m));
	assert_int_equal(m.from_len, strlen("From a@b Mon Jan  1 10:00:00 2024"));
	const char *one = "Subject: one\n\nFrom here on it is the body.\n";
	assert_int_equal(m.raw_len, strlen(one));
	assert_memory_equal(m.raw, one, m.raw_len);
	assert_true(mbox_next(file, len, &pos, &m));
	assert_int_equal(m.from_len, strlen("From c@d Mon Jan  1 11:00:00 2024"));
	const char *two = "Subject: two\r\n\r\nbody\r\n";
	assert_int_equal(m.raw_len, strlen(two));
	assert_memory_equal(m.raw, two, m.raw_len);
	assert_true(mbox_next(file, len, &pos, &m));
	assert_int_equal(m.raw_len, strlen("Subject: three\n\nno empty line at the end"));
	assert_false(mbox_next(file, len, &pos, &m));
	pos = 0;
	assert_false(mbox_next("no mbox\n", 8, &pos, &m));
	/* an empty message */
	const char *empty = "From a Mon Jan  1 10:00:00 2024\n\nFrom b Mon Jan  1 10:00:00 2024\nX: y\n";
	pos = 0;
	assert_true(mbox_next(empty, strlen(empty), &pos, &m));
	assert_int_equal(m.raw_len, 0);
	assert_true(mbox_next(empty, strlen(empty), &pos, &m));
	assert_int_equal(m.raw_len, 5);
}

static void build(const char *raw, enum mbox_format f, const char *expect, uint32_t flags,
		  const char *keywords)
{
	buf out, kw;
	buf_init(&out);
	buf_init(&kw);
	uint32_t got;
	mbox_message_build(raw, strlen(raw), f, &out, &got, &kw);
	assert_string_equal(out.data, expect);
	assert_int_equal(got, flags);
	assert_string_equal(kw.data, keywords);
	buf_free(&out);
	buf_free(&kw);
}

static void test_build(void **state)
{
	const char *quoted = "Subject: q\n\n>From one\n>>From two\n>>>From three\n> From no\nFrom x\n";
	build(quoted, MBOX_RD, "Subject: q\n\nFrom one\n>From two\n>>From three\n> From no\nFrom x\n", 0, "");
	build(quoted, MBOX_O, "Subject: q\n\nFrom one\n>>From two\n>>>From three\n> From no\nFrom x\n", 0, "");
	/* the state fields (any case, folded) go, their state stays; others are kept */
	build("From: a@b\r\nStatus: RO\r\nX-Status: AF\r\nX-Keywords: $Forwarded,Junk\r\n  Work\r\n"
	      "X-UID: 5\r\nX-IMAPbase: 1 2\r\ncontent-length: 3\r\nSubject: s\r\n\r\nStatus: R\r\n",
	      MBOX_RD, "From: a@b\r\nSubject: s\r\n\r\nStatus: R\r\n",
	      MBOX_SEEN | MBOX_ANSWERED | MBOX_FLAGGED, "$Forwarded Junk Work");
	build("X-Status: TD\nStatus: O\n\nbody", MBOX_O, "\nbody", MBOX_DRAFT | MBOX_DELETED, "");
	build("Subject: x\n X-Status: A\n", MBOX_RD, "Subject: x\n X-Status: A\n", 0, "");
	build("", MBOX_RD, "", 0, "");
}

static void test_line_ends(void **state)
{
	const char *in = "a\nb\r\nc\rd\n\ne";
	buf out;
	buf_init(&out);
	line_ends_crlf(in, strlen(in), &out);
	assert_string_equal(out.data, "a\r\nb\r\nc\rd\r\n\r\ne");
	assert_int_equal(line_ends_crlf_len(in, strlen(in)), out.len);
	buf_clear(&out);
	line_ends_lf("a\r\nb\r\r\nc\n\r", 11, &out);
	assert_string_equal(out.data, "a\nb\r\nc\n\r");
	buf_clear(&out);
	line_ends_crlf("\n", 1, &out);
	assert_string_equal(out.data, "\r\n");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_line),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_line_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
