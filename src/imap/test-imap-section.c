/* Unit tests for imap_section.c and imap_envelope.c: section texts that parse and those that
 * must give BAD, the octets each section names in a nested message, header field subsets,
 * and ENVELOPE / BODYSTRUCTURE of small messages. */
#include "imap/imap_envelope.h"
#include "imap/imap_section.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const char msg[] =
	"From: a@b.test\r\n"
	"Subject: s\r\n"
	"Content-Type: multipart/mixed; boundary=x\r\n"
	"\r\n"
	"--x\r\n"
	"\r\n"
	"one\r\n"
	"--x\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: in\r\n"
	"\r\n"
	"inner\r\n"
	"--x--\r\n";

static void extract(const char *spec, const char *partial, const char *expect)
{
	struct imap_section sec;
	assert_int_equal(imap_section_parse(spec, strlen(spec), partial, &sec), 0);
	struct mime_tree t;
	mime_parse(msg, strlen(msg), &mime_default_limits, &t);
	buf out;
	buf_init(&out);
	imap_section_extract(&sec, msg, strlen(msg), &t, &out);
	if (strcmp(out.data, expect) != 0)
		fail_msg("[%s]: got \"%s\", expected \"%s\"", spec, out.data, expect);
	buf_free(&out);
	mime_tree_free(&t);
	imap_section_free(&sec);
}

static void test_extract(void **state)
{
	extract("", NULL, msg);
	extract("1", NULL, "one");
	extract("2", NULL, "Subject: in\r\n\r\ninner");
	extract("2.HEADER", NULL, "Subject: in\r\n\r\n");
	extract("2.TEXT", NULL, "inner");
	extract("2.1", NULL, "inner");
	extract("2.MIME", NULL, "Content-Type: message/rfc822\r\n\r\n");
	extract("1.HEADER", NULL, "");
	extract("3", NULL, "");
	extract("1.1", NULL, "");
	extract("HEADER.FIELDS (subject \"From\")", NULL, "From: a@b.test\r\nSubject: s\r\n\r\n");
	extract("HEADER.FIELDS.NOT (Content-Type FROM)", NULL, "Subject: s\r\n\r\n");
	extract("TEXT", "<0.5>", "--x\r\n\r\none\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n"
				 "Subject: in\r\n\r\ninner\r\n--x--\r\n");
}

static void test_parse(void **state)
{
	static const char *const good[] = { "", "1", "1.2.3", "HEADER", "TEXT", "1.MIME", "1.TEXT",
					    "header.fields (a)", "HEADER.FIELDS.NOT (a b)" };
	static const char *const bad[] = { "0", "1.", ".1", "MIME", "X", "1.X", "HEADER.FIELDS",
					   "HEADER.FIELDS ()", "HEADER.FIELDS (a", "HEADER.FIELDS (a:)",
					   "HEADER.FIELDS(a)", "99999999999" };
	struct imap_section sec;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (imap_section_parse(good[i], strlen(good[i]), NULL, &sec) != 0)
			fail_msg("[%s] refused", good[i]);
		imap_section_free(&sec);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (imap_section_parse(bad[i], strlen(bad[i]), NULL, &sec) == 0)
			fail_msg("[%s] accepted", bad[i]);
		imap_section_free(&sec);
	}
	assert_int_equal(imap_section_parse("", 0, "<10.20>", &sec), 0);
	assert_true(sec.partial);
	assert_int_equal(sec.offset, 10);
	assert_int_equal(sec.length, 20);
	imap_section_free(&sec);
	static const char *const bad_partial[] = { "<1>", "<1.0>", "<a.1>", "<1.2", "1.2>" };
	for (size_t i = 0; i < sizeof(bad_partial) / sizeof(bad_partial[0]); i++) {
		if (imap_section_parse("", 0, bad_partial[i], &sec) == 0)
			fail_msg("%s accepted", bad_partial[i]);
		imap_section_free(&sec);
	}
}

static void test_structure(void **state)
{
	struct mime_tree t;
	mime_parse(msg, strlen(msg), &mime_default_limits, &t);
	buf out;
	buf_init(&out);
	imap_bodystructure_write(&t, 0, msg, false, &out);
	assert_string_equal(out.data,
			    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0)"
			    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 20 (NIL \"in\" NIL NIL NIL NIL "
			    "NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
			    "\"7bit\" 5 0) 2) \"mixed\")");
	buf_clear(&out);
	imap_envelope_write(msg, t.parts[0].hdr_len, &out);
	assert_string_equal(out.data, "(NIL \"s\" ((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"a\" "
				      "\"b.test\")) ((NIL NIL \"a\" \"b.test\")) NIL NIL NIL NIL NIL)");
	buf_free(&out);
	mime_tree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_structure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
