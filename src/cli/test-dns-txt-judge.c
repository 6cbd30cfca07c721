/* Tests for dns_txt_judge.c: what dns check makes of the TXT records it finds. */
#include "cli/dns_txt_judge.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static enum dns_verdict judge(enum dns_check_kind kind, const char *value, const char *ips,
			      char *const *found, size_t n, buf *detail)
{
	struct dns_record rec = { .owner = (char *)"example.org.", .type = "TXT", .check = kind,
				  .value = (char *)value };
	strlist addresses;
	strlist_init(&addresses);
	for (const char *p = ips; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, " ");
		char one[64];
		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		strlist_add(&addresses, one);
		p += len + (p[len] == ' ');
	}
	buf_clear(detail);
	enum dns_verdict v = dns_judge_txt(&rec, &addresses, found, n, detail);
	strlist_free(&addresses);
	return v;
}

static void test_spf(void **state)
{
	buf d;
	buf_init(&d);
	const char *want = "v=spf1 mx ip4:192.0.2.10 -all";
	char *other[] = { "google-site-verification=x" };
	assert_int_equal(judge(CHECK_SPF, want, "192.0.2.10", other, 1, &d), DNS_VERDICT_MISSING);
	char *mx[] = { "google-site-verification=x", "v=spf1 mx -all" };
	assert_int_equal(judge(CHECK_SPF, want, "192.0.2.10", mx, 2, &d), DNS_VERDICT_OK);
	assert_string_equal(d.data, "\"v=spf1 mx -all\"");
	char *net[] = { "V=SPF1 ip4:192.0.2.0/24 ~all" };
	assert_int_equal(judge(CHECK_SPF, want, "192.0.2.10", net, 1, &d), DNS_VERDICT_OK);
	char *elsewhere[] = { "v=spf1 ip4:198.51.100.0/24 -all" };
	assert_int_equal(judge(CHECK_SPF, want, "192.0.2.10 2001:db8::10", elsewhere, 1, &d),
			 DNS_VERDICT_DIFFERS);
	assert_non_null(strstr(d.data, "(it does not authorize 192.0.2.10, 2001:db8::10)"));
	char *include[] = { "v=spf1 include:_spf.provider.example -all" };
	assert_int_equal(judge(CHECK_SPF, want, "192.0.2.10", include, 1, &d), DNS_VERDICT_OK);
	assert_non_null(strstr(d.data, "not followed"));
	char *two[] = { "v=spf1 mx -all", "v=spf1 a -all" };
	assert_int_equal(judge(CHECK_SPF, want, "", two, 2, &d), DNS_VERDICT_DIFFERS);
	char *prefix[] = { "v=spf10 mx -all" };
	assert_int_equal(judge(CHECK_SPF, want, "", prefix, 1, &d), DNS_VERDICT_MISSING);
	buf_free(&d);
}

static void test_dkim(void **state)
{
	buf d;
	buf_init(&d);
	const char *want = "v=DKIM1; k=ed25519; p=AAAABBBB";
	char *spaced[] = { "k=ed25519;p=AAAA BBBB" };
	assert_int_equal(judge(CHECK_DKIM, want, "", spaced, 1, &d), DNS_VERDICT_OK);
	char *other[] = { "v=DKIM1; k=ed25519; p=CCCC" };
	assert_int_equal(judge(CHECK_DKIM, want, "", other, 1, &d), DNS_VERDICT_DIFFERS);
	assert_string_equal(d.data, "found \"v=DKIM1; k=ed25519; p=CCCC\", expected \"v=DKIM1; "
				    "k=ed25519; p=AAAABBBB\" (another key: receivers cannot verify the "
				    "signatures)");
	buf_free(&d);
}

static void test_tagged(void **state)
{
	buf d;
	buf_init(&d);
	const char *dmarc = "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org";
	char *reject[] = { "v=DMARC1;p=reject" };
	assert_int_equal(judge(CHECK_DMARC, dmarc, "", reject, 1, &d), DNS_VERDICT_OK);
	char *bad_policy[] = { "v=DMARC1; p=block" };
	assert_int_equal(judge(CHECK_DMARC, dmarc, "", bad_policy, 1, &d), DNS_VERDICT_DIFFERS);
	char *two[] = { "v=DMARC1; p=none", "v=DMARC1; p=reject" };
	assert_int_equal(judge(CHECK_DMARC, dmarc, "", two, 2, &d), DNS_VERDICT_DIFFERS);
	assert_non_null(strstr(d.data, "they are all ignored when there is more than one"));
	char *late_version[] = { "p=reject; v=DMARC1" };
	assert_int_equal(judge(CHECK_DMARC, dmarc, "", late_version, 1, &d), DNS_VERDICT_MISSING);
	char *sts[] = { "v=STSv1; id=20261204" };
	assert_int_equal(judge(CHECK_STS, "v=STSv1; id=20261204", "", sts, 1, &d), DNS_VERDICT_OK);
	assert_int_equal(judge(CHECK_STS, "v=STSv1; id=abc", "", sts, 1, &d), DNS_VERDICT_DIFFERS);
	char *no_rua[] = { "v=TLSRPTv1;" };
	assert_int_equal(judge(CHECK_TLSRPT, "v=TLSRPTv1; rua=mailto:a@b", "", no_rua, 1, &d),
			 DNS_VERDICT_DIFFERS);
	buf_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spf),
		cmocka_unit_test(test_dkim),
		cmocka_unit_test(test_tagged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
