/* Unit tests for header.c: the end of the header section, walking fields with folded lines
 * and lines that are no field, testing for and removing fields (Bcc with its continuation
 * lines), the RFC 5322 date, and the authors' addresses (From and Sender). */
#include "mail/address_list.h"
#include "mail/header.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_end(void **state)
{
	static const struct {
		const char *msg;
		size_t end;
	} cases[] = {
		{ "A: b\r\n\r\nbody", 8 },
		{ "\r\nbody", 2 },
		{ "\nbody", 1 },
		{ "\r\n", 2 },
		{ "A: b\n\nbody", 6 },
		{ "A: b\r\n\nbody", 7 },
		{ "A: b\r\n \r\n\r\nx", 11 },
		{ "A: b\r\r\n\r\n", 9 },
		{ "A: b\r\n\r\n\r\n", 8 },
		{ "A: b\r\n", 0 },
		{ "A: b\r\n\r", 0 },
		{ "A: b\r\n\rX\r\n", 0 },
		{ "", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (header_end(cases[i].msg, strlen(cases[i].msg)) != cases[i].end)
			fail_msg("header_end case %zu: %zu, expected %zu", i,
				 header_end(cases[i].msg, strlen(cases[i].msg)), cases[i].end);
	/* len bounds the search */
	assert_int_equal(header_end("A: b\r\n\r\n", 7), 0);
}

/* Walks hdr and writes "[name][value]" for each field, "!" for each line that is no field,
 * then "." and the offset where the walk stopped. */
static void walk(const char *hdr, buf *b)
{
	size_t pos = 0, len = strlen(hdr);
	struct header_field f;
	int r;

	while ((r = header_next(hdr, len, &pos, &f)) != 0) {
		if (r < 0) {
			buf_putc(b, '!');
			continue;
		}
		buf_putc(b, '[');
		buf_append(b, f.name, f.name_len);
		buf_puts(b, "][");
		buf_append(b, f.value, f.value_len);
		buf_putc(b, ']');
		/* raw runs from the name to the field's line end */
		assert_ptr_equal(f.raw, f.name);
		assert_true(f.value + f.value_len <= f.raw + f.raw_len);
	}
	buf_printf(b, ".%zu", pos);
}

static void test_next(void **state)
{
	static const struct {
		const char *hdr, *walk;
	} cases[] = {
		{ "From: a@b\r\nTo: c@d\r\n\r\nbody", "[From][ a@b][To][ c@d].20" },
		{ "Subject: one\r\n two\r\n\tthree\r\nX: y\r\n\r\n",
		  "[Subject][ one\r\n two\r\n\tthree][X][ y].34" },
		{ "A: 1\nB: 2\n\n", "[A][ 1][B][ 2].10" },
		{ "A: 1\r\nnocolon\r\nB: 2\r\n\r\n", "[A][ 1]![B][ 2].21" },
		{ " cont\r\nA: 1\r\n\r\n", "![A][ 1].13" },
		{ "A: 1\r\n\r\n B: 2", "[A][ 1].6" },
		{ "Subject : hi\r\n", "[Subject][ hi].14" },
		{ "Subject\t: hi\r\n", "[Subject][ hi].14" },
		{ "A: 1", "[A][ 1].4" },
		{ "A: 1\r\n 2", "[A][ 1\r\n 2].8" },
		{ "A:\r\n", "[A][].4" },
		{ "A:", "[A][].2" },
		{ "A: b:c\r\n", "[A][ b:c].8" },
		{ ":x\r\n", "!.4" },
		{ "A B: c\r\n", "!.8" },
		{ "A\x01: c\r\n", "!.7" },
		{ "\xc3\xa9: c\r\n", "!.7" },
		{ "nocolon\r\n more\r\n\r\n", "!!.16" },
		{ "A: 1\r\n\rB: 2\r\n\r\n", "[A][ 1]!.13" },
		{ "A: 1\r\r\n", "[A][ 1\r].7" },
		{ "\r\nA: 1", ".0" },
		{ "", ".0" },
	};
	buf b;
	buf_init(&b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_clear(&b);
		walk(cases[i].hdr, &b);
		if (strcmp(b.data, cases[i].walk) != 0)
			fail_msg("header_next case %zu: \"%s\", expected \"%s\"", i, b.data,
				 cases[i].walk);
	}
	buf_free(&b);

	/* raw holds the whole field with its folded lines and final line end */
	const char *hdr = "Bcc: a@b,\r\n c@d\r\nTo: x\r\n";
	size_t pos = 0;
	struct header_field f;
	assert_int_equal(header_next(hdr, strlen(hdr), &pos, &f), 1);
	assert_int_equal(f.raw_len, 17);
	assert_memory_equal(f.raw, "Bcc: a@b,\r\n c@d\r\n", 17);
	assert_int_equal(pos, 17);
}

static void test_has(void **state)
{
	const char *hdr = "From: a\r\nbcc: x\r\n y\r\nSubject : s\r\n\r\nTo: body\r\n";
	size_t len = strlen(hdr);

	assert_true(header_has(hdr, len, "From"));
	assert_true(header_has(hdr, len, "BCC"));
	assert_true(header_has(hdr, len, "subject"));
	assert_false(header_has(hdr, len, "To"));
	assert_false(header_has(hdr, len, "Fro"));
	assert_false(header_has(hdr, len, "From:"));
	assert_false(header_has(hdr, len, "y"));
	assert_false(header_has("", 0, "From"));
	assert_false(header_has("junk\r\n", 6, "junk"));
}

static void test_remove(void **state)
{
	static const struct {
		const char *hdr, *name, *out;
	} cases[] = {
		{ "From: a\r\nBcc: x@y,\r\n z@w\r\nTo: b\r\nbcc: q\r\n\r\nBcc: in body\r\n", "Bcc",
		  "From: a\r\nTo: b\r\n\r\nBcc: in body\r\n" },
		{ "A: 1\nBcc: x\n y\n\nbody", "bcc", "A: 1\n\nbody" },
		{ "junk\r\nBcc: x\r\n\r\n", "Bcc", "junk\r\n\r\n" },
		{ " cont\r\nBcc: x\r\n", "Bcc", " cont\r\n" },
		{ "Bcc: x\r\nA: 1", "Bcc", "A: 1" },
		{ "Bcc: x", "Bcc", "" },
		{ "Bcc : x\r\n\tmore\r\n", "Bcc", "" },
		{ "A: 1\r\nB: 2\r\n\r\n", "Bcc", "A: 1\r\nB: 2\r\n\r\n" },
		{ "Bccx: 1\r\nBc: 2\r\n", "Bcc", "Bccx: 1\r\nBc: 2\r\n" },
		{ "", "Bcc", "" },
	};
	buf b;
	buf_init(&b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_clear(&b);
		header_remove(cases[i].hdr, strlen(cases[i].hdr), cases[i].name, &b);
		if (strcmp(b.data, cases[i].out) != 0)
			fail_msg("header_remove case %zu: \"%s\", expected \"%s\"", i, b.data,
				 cases[i].out);
	}
	/* it appends */
	buf_clear(&b);
	buf_puts(&b, "X: 0\r\n");
	header_remove("Bcc: 1\r\nY: 2\r\n", 15, "Bcc", &b);
	assert_string_equal(b.data, "X: 0\r\nY: 2\r\n");
	buf_free(&b);
}

static void check_date(const char *tz, time_t t, const char *expected)
{
	char out[40];

	setenv("TZ", tz, 1);
	tzset();
	header_date(t, out, sizeof(out));
	assert_string_equal(out, expected);
}

static void test_date(void **state)
{
	check_date("UTC0", 0, "Thu, 1 Jan 1970 00:00:00 +0000");
	check_date("UTC0", 1795396341, "Mon, 23 Nov 2026 01:12:21 +0000");
	check_date("XST-5:45", 1795396341, "Mon, 23 Nov 2026 06:57:21 +0545");
	check_date("ABC+3", 1795396341, "Sun, 22 Nov 2026 22:12:21 -0300");
	check_date("ABC+3:30", 0, "Wed, 31 Dec 1969 20:30:00 -0330");
	/* a short buffer gets a truncated, terminated string */
	char small[6];
	header_date(0, small, sizeof(small));
	assert_string_equal(small, "Wed, ");
}

/* The sent date of RFC 5256 2.2: in UTC, an invalid zone as UTC, an invalid time as
 * 00:00:00, no date at all as none */
static void test_date_time(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		bool valid;
		time_t t;
	} cases[] = {
		{ "Sun, 31 Dec 2000 16:01:33 -0800", true, 978307293 },  /* 1 Jan 2001 00:01:33 UTC */
		{ "1 Jan 2001 00:01:33 +0000", true, 978307293 },
		{ "1 Jan 2001 05:31:33 +0530 (IST)", true, 978307293 },
		{ "1 Jan 2001 00:01:33 EST", true, 978307293 },           /* obsolete zone: UTC */
		{ "1 Jan 2001 00:01 +0000", true, 978307260 },            /* no seconds */
		{ "1 Jan 2001 99:99 +0100", true, 978307200 },            /* bad time: midnight */
		{ "1 Jan 01", true, 978307200 },
		{ "29 Feb 2024 12:00:00 +0000", true, 1709208000 },
		{ "1 Jan 1969 00:00:00 +0000", true, -31536000 },
		{ "tomorrow", false, 0 },
		{ "", false, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = 0;
		bool valid = header_date_time(cases[i].value, strlen(cases[i].value), &t);
		if (valid != cases[i].valid || (valid && t != cases[i].t))
			fail_msg("\"%s\": valid=%d %lld, expected valid=%d %lld", cases[i].value, valid,
				 (long long)t, cases[i].valid, (long long)cases[i].t);
	}
}

static void test_authors(void **state)
{
	static const char hdr[] =
		"Received: from x\r\n"
		"from: \"Alice A.\" <alice+tag@Example.test>, bob@example.test\r\n"
		"To: carol@example.test\r\n"
		"Reply-To: dave@example.test\r\n"
		"Sender: (the secretary) eve@example.test,\r\n\tundisclosed\r\n"
		"From: Team: alice+tag@Example.test, frank@x.test;\r\n"
		"\r\n"
		"From: not@a.header\r\n";
	strlist l;
	strlist_init(&l);
	address_list_authors(hdr, sizeof(hdr) - 1, &l);
	static const char *const want[] = { "alice+tag@Example.test", "bob@example.test",
					    "eve@example.test", "undisclosed", "frank@x.test" };
	assert_int_equal(l.count, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(l.items[i], want[i]);
	strlist_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_end),    cmocka_unit_test(test_next),
		cmocka_unit_test(test_has),    cmocka_unit_test(test_remove),
		cmocka_unit_test(test_date),   cmocka_unit_test(test_authors),
		cmocka_unit_test(test_date_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
