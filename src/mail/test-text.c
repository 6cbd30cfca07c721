/* Unit tests for text.c (the decoded search text of a message) and header_date_day (the day
 * of a Date field, obsolete forms included). */
#include "mail/header.h"
#include "mail/text.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void check_text(const char *msg, const char *header, const char *body)
{
	buf h, b;
	buf_init(&h);
	buf_init(&b);
	message_text(msg, strlen(msg), &h, &b);
	assert_string_equal(h.data, header);
	assert_string_equal(b.data, body);
	buf_free(&h);
	buf_free(&b);
}

static void test_plain_and_encoded_words(void **state)
{
	check_text("Subject: =?UTF-8?B?4piD?= snow\r\nFrom: a@b\r\n\r\nhello\r\n",
		   "Subject: \xe2\x98\x83 snow\nFrom: a@b\n", "hello\r\n\n");
}

static void test_parts_decoded(void **state)
{
	check_text("Content-Type: multipart/alternative; boundary=z\r\n\r\n"
		   "--z\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
		   "Content-Transfer-Encoding: quoted-printable\r\n\r\nna=EFve=\r\n!\r\n"
		   "--z\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		   "PGI+Qm9sZDwvYj4gJmx0O3RhZyZndDs=\r\n"
		   "--z\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		   "aGlkZGVu\r\n--z--\r\n",
		   "Content-Type: multipart/alternative; boundary=z\n",
		   "na\xc3\xafve!\n" "Bold <tag>\n");
}

static void test_unlabelled_8bit(void **state)
{
	/* valid UTF-8 goes in as it is; other 8-bit text is read as Windows-1252 */
	check_text("\r\ncaf\xc3\xa9\r\n", "", "caf\xc3\xa9\r\n\n");
	check_text("\r\ncaf\xe9 \x80\r\n", "", "caf\xc3\xa9 \xe2\x82\xac\r\n\n");
}

static void test_date_day(void **state)
{
	const struct {
		const char *value;
		long day;
	} cases[] = {
		{ "Mon, 2 Mar 2026 10:00:00 +0100", 20260302 },
		{ "2 Mar 2026 10:00 +0100", 20260302 },              /* no day of week */
		{ " (a comment) Tue, 31 Dec 1999 23:59:59 GMT", 19991231 },
		{ "15 Jan 99 08:00 EST", 19990115 },                  /* 4.3: 50-99 are 19xx */
		{ "15 Jan 07 08:00 EST", 20070115 },                  /* 00-49 are 20xx */
		{ "15 Jan 107 08:00 EST", 20070115 },                 /* three digits: from 1900 */
		{ "Fri,\r\n 13\r\n Feb 2026 00:00:00 -0000", 20260213 }, /* folded */
		{ "13 Fbr 2026", -1 },
		{ "32 Jan 2026", -1 },
		{ "2 Mar -1", -1 },
		{ "", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long got = header_date_day(cases[i].value, strlen(cases[i].value));
		if (got != cases[i].day)
			fail_msg("\"%s\": got %ld, expected %ld", cases[i].value, got, cases[i].day);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_encoded_words),
		cmocka_unit_test(test_parts_decoded),
		cmocka_unit_test(test_unlabelled_8bit),
		cmocka_unit_test(test_date_day),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
