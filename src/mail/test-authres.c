/* Unit tests for authres.c: the field written from method results (syntax, folding within
 * 78 columns, escaped comments, "none"), the authserv-id and version read back, and the
 * removal of the fields that claim our identifier while the others stay. */
#include "mail/authres.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Every line of s within 78 columns (a tab counted as one), each ended by CRLF. */
static void assert_folded(const char *s)
{
	size_t col = 0;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\r') {
			assert_int_equal(p[1], '\n');
			assert_true(col <= 78);
			col = 0;
			p++;
		} else {
			col++;
		}
	}
	assert_int_equal(col, 0);
}

static void test_write(void **state)
{
	buf out;
	buf_init(&out);
	struct authres_result iprev = { "iprev", "pass", NULL, "client.example",
		{ { "policy", "iprev", "192.0.2.7" } }, 1 };
	authres_write(&out, "mx.example.org", &iprev, 1);
	assert_string_equal(out.data, "Authentication-Results: mx.example.org;\r\n"
				      "\tiprev=pass (client.example) policy.iprev=192.0.2.7\r\n");
	assert_folded(out.data);

	buf_clear(&out);
	authres_write(&out, "mx.example.org", NULL, 0);
	assert_string_equal(out.data, "Authentication-Results: mx.example.org; none\r\n");

	/* two results, a reason, a comment that must fold and that holds specials */
	buf_clear(&out);
	struct authres_result two[2] = {
		{ "iprev", "fail", NULL,
		  "no name of 203.0.113.5 leads back to it; HELO (bad)\\name does not resolve either "
		  "and this comment goes on long enough to fold",
		  { { "policy", "iprev", "203.0.113.5" } }, 1 },
		{ "spf", "softfail", "not \"listed\"", NULL,
		  { { "smtp", "mailfrom", "user@example.com" }, { "smtp", "helo", "mail.example.com" } }, 2 },
	};
	authres_write(&out, "mx.example.org", two, 2);
	assert_folded(out.data);
	assert_non_null(strstr(out.data, "HELO \\(bad\\)\\\\name"));
	assert_non_null(strstr(out.data, "reason=\"not \\\"listed\\\"\""));
	assert_non_null(strstr(out.data, "policy.iprev=203.0.113.5;\r\n\tspf=softfail"));
	assert_non_null(strstr(out.data, "smtp.helo=mail.example.com\r\n"));
	assert_int_equal(out.data[out.len - 3], 'm'); /* no ";" after the last result */

	/* octets that have no place in a header become "?" */
	buf_clear(&out);
	struct authres_result odd = { "iprev", "permerror", NULL, "HELO caf\xc3\xa9\x01", { { 0 } }, 0 };
	authres_write(&out, "mx", &odd, 1);
	assert_string_equal(out.data, "Authentication-Results: mx;\r\n\tiprev=permerror (HELO caf??" "?)\r\n");
	buf_free(&out);
}

static void test_parse_id(void **state)
{
	static const struct {
		const char *value;
		bool ok;
		const char *id;
		unsigned long version;
	} cases[] = {
		{ " mx.example.org; iprev=pass", true, "mx.example.org", 1 },
		{ " MX.Example.ORG 1; none", true, "MX.Example.ORG", 1 },
		{ " (comment) mx.example.org (x) 2 (y); spf=pass", true, "mx.example.org", 2 },
		{ "\r\n\t\"mx.example.org\";\r\n\tdkim=pass", true, "mx.example.org", 1 },
		{ " mx.example.org(hidden); iprev=pass", true, "mx.example.org", 1 },
		{ " mx.example.org", false, "mx.example.org", 1 },
		{ " mx.example.org iprev=pass", false, "mx.example.org", 1 },
		{ " ; iprev=pass", false, "", 1 },
		{ "", false, "", 1 },
		{ " (unclosed; x", false, "", 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf id;
		buf_init(&id);
		unsigned long version = 0;
		bool ok = authres_parse_id(cases[i].value, strlen(cases[i].value), &id, &version);
		if (ok != cases[i].ok || strcmp(id.data, cases[i].id) != 0 ||
		    (ok && version != cases[i].version))
			fail_msg("case %zu: ok=%d id=\"%s\" version=%lu", i, ok, id.data, version);
		buf_free(&id);
	}
}

static void test_reports(void **state)
{
	static const struct {
		const char *value, *method, *result;
		bool reported;
	} cases[] = {
		{ " mx.example; spf=pass smtp.mailfrom=a.example; dmarc=pass header.from=a.example", "dmarc", "pass", true },
		{ " mx.example; spf=pass; dmarc=fail (p=reject; \"dmarc=pass\") header.from=a", "dmarc", "pass", false },
		{ " mx.example; DMARC/1 = Pass header.from=a", "dmarc", "pass", true },
		{ " \"id; dmarc=pass\"; none", "dmarc", "pass", false },
		{ " mx.example (dmarc=pass); dkim=pass reason=\"x; dmarc=pass\"", "dmarc", "pass", false },
		{ " mx.example; dkim=fail; dkim=pass header.d=a", "dkim", "pass", true },
		{ "; dmarc=pass", "dmarc", "pass", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(authres_reports(cases[i].value, strlen(cases[i].value), cases[i].method,
						 cases[i].result), cases[i].reported);
}

static void test_remove_ours(void **state)
{
	const char *hdr = "Authentication-Results: mx.example.org; iprev=pass\r\n"
			  "Received: from a by b; Mon, 1 Jan 2026 00:00:00 +0000\r\n"
			  "Authentication-Results: other.example; spf=pass\r\n\tsmtp.mailfrom=x@y\r\n"
			  "authentication-results: (x) MX.EXAMPLE.ORG;\r\n\tdkim=pass\r\n"
			  "Authentication-Results: other.example 2; spf=pass\r\n"
			  "Authentication-Results: nonsense\r\n"
			  "Subject: hi\r\n"
			  "\r\n";
	buf out;
	buf_init(&out);
	assert_int_equal(authres_remove_ours(hdr, strlen(hdr), "mx.example.org", &out), 4);
	assert_string_equal(out.data, "Received: from a by b; Mon, 1 Jan 2026 00:00:00 +0000\r\n"
				      "Authentication-Results: other.example; spf=pass\r\n\tsmtp.mailfrom=x@y\r\n"
				      "Subject: hi\r\n"
				      "\r\n");
	buf_clear(&out);
	const char *none = "Subject: hi\r\nFrom: a@b\r\n";
	assert_int_equal(authres_remove_ours(none, strlen(none), "mx.example.org", &out), 0);
	assert_string_equal(out.data, none);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test(test_remove_ours),
		cmocka_unit_test(test_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
