/* Unit tests for mta_sts.c: TXT records (RFC 8461 3.1), policy files with their required
 * fields, duplicates and unknown fields (3.2), and MX patterns with wildcards (4.1). */
#include "mail/mta_sts.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_record(void **state)
{
	char id[33];
	assert_true(mta_sts_record_id("v=STSv1; id=20160831085700Z;", id));
	assert_string_equal(id, "20160831085700Z");
	assert_true(mta_sts_record_id("v=STSv1;id=abc", id));
	assert_string_equal(id, "abc");
	assert_true(mta_sts_record_id("v=STSv1; ext_1=x; id=A1 ; ", id));
	assert_string_equal(id, "A1");
	assert_true(mta_sts_record_id("v=STSv1; id=12345678901234567890123456789012", id));
	assert_false(mta_sts_record_id("v=STSv1; id=123456789012345678901234567890123", id));
	assert_false(mta_sts_record_id("v=STSv1", id));
	assert_false(mta_sts_record_id("v=STSv1;", id));
	assert_false(mta_sts_record_id("v=STSv1; ext=1", id));
	assert_false(mta_sts_record_id("id=abc; v=STSv1", id));
	assert_false(mta_sts_record_id("v=STSv2; id=abc", id));
	assert_false(mta_sts_record_id("v=STSv1; id=ab-c", id));
	assert_false(mta_sts_record_id("v=STSv1; id=abc extra", id));
	assert_false(mta_sts_record_id("v=spf1 -all", id));
}

static bool parse(const char *text, struct mta_sts_policy *p)
{
	return mta_sts_policy_parse(text, strlen(text), p);
}

static void test_policy(void **state)
{
	struct mta_sts_policy p;
	assert_true(parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
			  "mx: *.Example.NET\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n", &p));
	assert_int_equal(p.mode, MTA_STS_ENFORCE);
	assert_int_equal(p.max_age, 604800);
	assert_int_equal(p.mx.count, 3);
	assert_string_equal(p.mx.items[1], "*.example.net");
	mta_sts_policy_free(&p);

	/* LF line ends, no final line end, white space after values, unknown fields, a duplicate. */
	assert_true(parse("version: STSv1\nmode: testing  \nmode: enforce\nfoo: bar baz\n"
			  "max_age:86400\nmx: mx.example.org", &p));
	assert_int_equal(p.mode, MTA_STS_TESTING);
	assert_int_equal(p.max_age, 86400);
	mta_sts_policy_free(&p);

	/* mode none needs no mx; max_age is capped at a year. */
	assert_true(parse("version: STSv1\nmode: none\nmax_age: 99999999999\n", &p) == false);
	assert_true(parse("version: STSv1\nmode: none\nmax_age: 9999999999\n", &p));
	assert_int_equal(p.max_age, MTA_STS_MAX_AGE_LIMIT);
	mta_sts_policy_free(&p);

	assert_false(parse("mode: enforce\nmx: a.example\nmax_age: 1\n", &p));
	assert_false(parse("version: STSv1\nmode: enforce\nmax_age: 1\n", &p));
	assert_false(parse("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n", &p));
	assert_false(parse("version: STSv1\nmode: enforce\nmx: a.example\n", &p));
	assert_false(parse("version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", &p));
	assert_false(parse("version: STSv1\nmode: enforce\nmx: *a.example\nmax_age: 1\n", &p));
	assert_false(parse("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", &p));
	assert_false(parse("version: STSv1\n\nmode: enforce\nmx: a.example\nmax_age: 1\n", &p));
	assert_false(parse("<html>version: STSv1</html>\n", &p));
}

static void test_mx_match(void **state)
{
	struct mta_sts_policy p;
	assert_true(parse("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
			  "max_age: 60\n", &p));
	assert_true(mta_sts_mx_matches(&p, "mail.example.com"));
	assert_true(mta_sts_mx_matches(&p, "MAIL.example.com."));
	assert_true(mta_sts_mx_matches(&p, "mx1.example.net"));
	assert_false(mta_sts_mx_matches(&p, "example.net"));
	assert_false(mta_sts_mx_matches(&p, "foo.bar.example.net"));
	assert_false(mta_sts_mx_matches(&p, "other.example.com"));
	assert_false(mta_sts_mx_matches(&p, ".example.net"));
	mta_sts_policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_mx_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
