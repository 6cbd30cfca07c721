/* Unit tests for dmarc_record.c: policy records (tags, defaults, invalid values, RFC 7489's
 * pct=0, records that are no DMARC record), the names of a tree walk (short and long
 * domains), the Organizational Domain chosen from what a walk found (the examples of
 * draft-ietf-dmarc-dmarcbis-41 4.10.2) and the Author Domain of a header section. */
#include "mail/dmarc_record.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_record(void **state)
{
	struct dmarc_record r;
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=reject; sp=quarantine; np=none; adkim=s; "
					    "aspf=r; rua=mailto:a@example.org!10m, https://x, "
					    "mailto:b@example.org; t=y; psd=N; x=unknown",
					    &r), 1);
	assert_true(r.applies);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.sp, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.np, DMARC_POLICY_NONE);
	assert_true(r.adkim_strict);
	assert_false(r.aspf_strict);
	assert_true(r.test);
	assert_int_equal(r.psd, 'n');
	assert_int_equal(r.rua.count, 2);
	assert_string_equal(r.rua.items[0], "mailto:a@example.org");
	assert_string_equal(r.rua.items[1], "mailto:b@example.org");
	dmarc_record_free(&r);

	/* Defaults, white space around the separators, a trailing separator. */
	assert_int_equal(dmarc_record_parse("v = DMARC1 ;\tp = Quarantine ;", &r), 1);
	assert_true(r.applies);
	assert_int_equal(r.p, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.sp, DMARC_POLICY_UNSET);
	assert_false(r.adkim_strict || r.aspf_strict || r.test);
	assert_int_equal(r.psd, 'u');
	dmarc_record_free(&r);

	/* RFC 7489's pct: 0 is test mode, any other value is ignored. */
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=reject; pct=0", &r), 1);
	assert_true(r.test);
	dmarc_record_free(&r);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=reject; pct=50", &r), 1);
	assert_false(r.test);
	dmarc_record_free(&r);

	/* No valid p: p=none when reports are asked for, else no DMARC processing. */
	assert_int_equal(dmarc_record_parse("v=DMARC1; rua=mailto:r@example.org", &r), 1);
	assert_true(r.applies);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	dmarc_record_free(&r);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=bogus", &r), 1);
	assert_false(r.applies);
	dmarc_record_free(&r);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=reject; sp=never", &r), 1);
	assert_false(r.applies);
	dmarc_record_free(&r);

	/* Not DMARC records: v must come first, exactly "DMARC1". */
	assert_int_equal(dmarc_record_parse("p=reject; v=DMARC1", &r), 0);
	assert_int_equal(dmarc_record_parse("v=dmarc1; p=reject", &r), 0);
	assert_int_equal(dmarc_record_parse("v=DMARC10; p=reject", &r), 0);
	assert_int_equal(dmarc_record_parse("v=spf1 -all", &r), 0);
	assert_int_equal(dmarc_record_parse("; v=DMARC1; p=reject", &r), 0);
	assert_int_equal(dmarc_record_parse("", &r), 0);
}

static void assert_walk(const char *domain, const char *const *expected, size_t count)
{
	size_t off[DMARC_WALK_MAX];
	assert_int_equal(dmarc_walk_names(domain, off), count);
	for (size_t i = 0; i < count; i++)
		assert_string_equal(domain + off[i], expected[i]);
}

static void test_walk_names(void **state)
{
	const char *const short_walk[] = { "a.mail.example.com", "mail.example.com", "example.com", "com" };
	assert_walk("a.mail.example.com", short_walk, 4);
	const char *const one[] = { "com" };
	assert_walk("com", one, 1);
	/* 4.10's example: eight queries for a name of thirteen labels. */
	const char *const long_walk[] = {
		"a.b.c.d.e.f.g.h.i.j.mail.example.com", "g.h.i.j.mail.example.com",
		"h.i.j.mail.example.com", "i.j.mail.example.com", "j.mail.example.com",
		"mail.example.com", "example.com", "com",
	};
	assert_walk("a.b.c.d.e.f.g.h.i.j.mail.example.com", long_walk, 8);
	const char *const eight[] = { "a.b.c.d.e.f.g.h", "b.c.d.e.f.g.h", "c.d.e.f.g.h", "d.e.f.g.h",
				      "e.f.g.h", "f.g.h", "g.h", "h" };
	assert_walk("a.b.c.d.e.f.g.h", eight, 8);
	size_t off[DMARC_WALK_MAX];
	assert_int_equal(dmarc_walk_names("", off), 0);
}

/* The Organizational Domain of "a.mail.example.com" when records are at the names listed in
 * found, with the psd tags given in psd ('u' when absent). */
static const char *org_of(const char *found, const char *psd)
{
	static const char *domain = "a.mail.example.com";
	size_t off[DMARC_WALK_MAX];
	size_t n = dmarc_walk_names(domain, off);
	struct dmarc_walk_step steps[DMARC_WALK_MAX];
	for (size_t i = 0; i < n; i++) {
		steps[i].offset = off[i];
		steps[i].record = found[i] == 'x';
		steps[i].psd = psd[i];
	}
	return domain + dmarc_org_domain(domain, steps, n);
}

static void test_org_domain(void **state)
{
	/* names: a.mail.example.com, mail.example.com, example.com, com */
	assert_string_equal(org_of("-xx-", "uuuu"), "example.com");
	assert_string_equal(org_of("-xx-", "unuu"), "mail.example.com");
	assert_string_equal(org_of("---x", "uuuy"), "example.com");
	assert_string_equal(org_of("----", "uuuu"), "a.mail.example.com");
	assert_string_equal(org_of("x---", "uuuu"), "a.mail.example.com");
	/* psd=y at the start does not count for step 2; the walk stops there. */
	assert_string_equal(org_of("x-x-", "yuuu"), "a.mail.example.com");
	/* The walk stops at psd=n: a record above it is not used. */
	assert_string_equal(org_of("-x-x", "unuu"), "mail.example.com");
	/* A record with no psd tag at the top-level domain has the fewest labels. */
	assert_string_equal(org_of("--xx", "uuuu"), "com");
}

static void assert_author(const char *hdr, const char *expected)
{
	buf d;
	buf_init(&d);
	bool ok = dmarc_author_domain(hdr, strlen(hdr), &d);
	if (expected == NULL) {
		assert_false(ok);
	} else {
		assert_true(ok);
		assert_string_equal(d.data, expected);
	}
	buf_free(&d);
}

static void test_author_domain(void **state)
{
	assert_author("Subject: x\r\nFrom: Bank <Info@Bank.Example>\r\n\r\n", "bank.example");
	assert_author("From: a@x.example, b@X.example\r\n\r\n", "x.example");
	assert_author("From: a@x.example, b@y.example\r\n\r\n", NULL);
	assert_author("From: a@x.example\r\nFrom: a@x.example\r\n\r\n", NULL);
	assert_author("Subject: no author\r\n\r\n", NULL);
	assert_author("From: undisclosed\r\n\r\n", NULL);
	assert_author("From: <u@b\xc3\xbc\x63her.example>\r\n\r\n", "xn--bcher-kva.example");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_walk_names),
		cmocka_unit_test(test_org_domain),
		cmocka_unit_test(test_author_domain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
