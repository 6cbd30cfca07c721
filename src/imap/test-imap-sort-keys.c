/* Unit tests for imap_sort_keys.c: what SORT and THREAD read from a header section. */
#include "imap/imap_sort_keys.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void read_keys(const char *hdr, struct sort_keys *k)
{
	sort_keys_read(hdr, strlen(hdr), k);
}

/* RFC 5256 3: the addr-mailbox of the first address; RFC 5957 3: the decoded display name,
 * else mailbox@host */
static void test_addresses(void **state)
{
	(void)state;
	struct sort_keys k;
	read_keys("From: =?UTF-8?Q?Andr=C3=A9?= <andre@x.test>, b@y.test\r\n"
		  "To: Team: carol@z.test, dave@z.test;, erin@z.test\r\n"
		  "Cc: \"\" <frank@z.test>\r\n", &k);
	assert_string_equal(k.from, "andre");
	assert_string_equal(k.display_from, "André");
	assert_string_equal(k.to, "carol");
	assert_string_equal(k.display_to, "carol@z.test");
	assert_string_equal(k.cc, "frank");
	sort_keys_free(&k);
	read_keys("Subject: none\r\n", &k);
	assert_string_equal(k.from, "");
	assert_string_equal(k.display_from, "");
	assert_string_equal(k.to, "");
	assert_string_equal(k.cc, "");
	sort_keys_free(&k);
}

/* The subject's base form and reply mark; the Date in UTC, or none */
static void test_subject_and_date(void **state)
{
	(void)state;
	struct sort_keys k;
	read_keys("Subject: Re: [list] =?UTF-8?Q?caf=C3=A9?=\r\n"
		  "Date: Sun, 31 Dec 2000 16:01:33 -0800\r\n", &k);
	assert_string_equal(k.subject, "café");
	assert_true(k.reply);
	assert_true(k.dated);
	assert_int_equal(k.sent, 978307293);
	sort_keys_free(&k);
	read_keys("Date: someday\r\n", &k);
	assert_string_equal(k.subject, "");
	assert_false(k.reply);
	assert_false(k.dated);
	sort_keys_free(&k);
}

/* RFC 5256 REFERENCES: References, else the first valid ID of In-Reply-To; the last
 * SORT_MAX_REFERENCES of a long References */
static void test_references(void **state)
{
	(void)state;
	struct sort_keys k;
	read_keys("Message-ID: <\"me\"@x>\r\nReferences: <a@x> junk <b@x>\r\nIn-Reply-To: <c@x>\r\n", &k);
	assert_string_equal(k.message_id, "me@x");
	assert_int_equal(k.refs.count, 2);
	assert_string_equal(k.refs.items[0], "a@x");
	assert_string_equal(k.refs.items[1], "b@x");
	sort_keys_free(&k);
	read_keys("Message-ID: no id\r\nReferences: nothing valid\r\n"
		  "In-Reply-To: <bad> <c@x> <d@x>\r\n", &k);
	assert_null(k.message_id);
	assert_int_equal(k.refs.count, 1);
	assert_string_equal(k.refs.items[0], "c@x");
	sort_keys_free(&k);
	buf h;
	buf_init(&h);
	buf_puts(&h, "References:");
	for (int i = 0; i < SORT_MAX_REFERENCES + 50; i++)
		buf_printf(&h, " <%d@x>", i);
	buf_puts(&h, "\r\n");
	read_keys(h.data, &k);
	assert_int_equal(k.refs.count, SORT_MAX_REFERENCES);
	assert_string_equal(k.refs.items[0], "50@x");
	char last[32];
	snprintf(last, sizeof(last), "%d@x", SORT_MAX_REFERENCES + 49);
	assert_string_equal(k.refs.items[SORT_MAX_REFERENCES - 1], last);
	sort_keys_free(&k);
	buf_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_subject_and_date),
		cmocka_unit_test(test_references),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
