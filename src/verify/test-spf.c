/* Tests for SPF: the record parser (RFC 7208 4.6, 5, 6), the macros with the examples of 7.4,
 * the result names RFC 8601 registers, and a check's life on the loop: its result always
 * comes from the loop, and a check freed while its lookup is out ends quietly. (The
 * evaluation against DNS data is tests/integration/test_spf.py's.) */
#include "verify/spf.h"
#include "verify/spf_record.h"
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

static void test_is_spf(void **state)
{
	assert_true(spf_record_is_spf("v=spf1"));
	assert_true(spf_record_is_spf("v=spf1 -all"));
	assert_true(spf_record_is_spf("V=SPF1 ~all"));
	assert_false(spf_record_is_spf("v=spf10 -all"));
	assert_false(spf_record_is_spf("v=spf1\t-all"));
	assert_false(spf_record_is_spf(" v=spf1 -all"));
	assert_false(spf_record_is_spf("v=DKIM1; p=abc"));
}

static void test_parse_terms(void **state)
{
	struct spf_record r;
	char *error = NULL;
	assert_int_equal(spf_record_parse("v=spf1  +a  -mx:mail.example.com/24//64 ~ip4:192.0.2.0/24 "
					  "?ip6:2001:db8::/32 include:_spf.example.net ptr exists:%{i}._spf.%{d} "
					  "A//96 IP4:198.51.100.7 all moo=bar moo=baz redirect=%{d2} exp=why.%{d} ",
					  &r, &error), 0);
	assert_int_equal(r.count, 10);
	assert_int_equal(r.terms[0].mechanism, SPF_A);
	assert_int_equal(r.terms[0].qualifier, '+');
	assert_null(r.terms[0].domain_spec);
	assert_int_equal(r.terms[0].cidr4, 32);
	assert_int_equal(r.terms[0].cidr6, 128);
	assert_int_equal(r.terms[1].mechanism, SPF_MX);
	assert_int_equal(r.terms[1].qualifier, '-');
	assert_string_equal(r.terms[1].domain_spec, "mail.example.com");
	assert_int_equal(r.terms[1].cidr4, 24);
	assert_int_equal(r.terms[1].cidr6, 64);
	assert_int_equal(r.terms[2].mechanism, SPF_IP4);
	assert_int_equal(r.terms[2].qualifier, '~');
	assert_int_equal(r.terms[2].cidr4, 24);
	assert_memory_equal(r.terms[2].network, "\xc0\x00\x02\x00", 4);
	assert_int_equal(r.terms[3].mechanism, SPF_IP6);
	assert_int_equal(r.terms[3].qualifier, '?');
	assert_int_equal(r.terms[3].cidr6, 32);
	assert_memory_equal(r.terms[3].network, "\x20\x01\x0d\xb8\0\0", 6);
	assert_int_equal(r.terms[4].mechanism, SPF_INCLUDE);
	assert_string_equal(r.terms[4].domain_spec, "_spf.example.net");
	assert_int_equal(r.terms[5].mechanism, SPF_PTR);
	assert_null(r.terms[5].domain_spec);
	assert_int_equal(r.terms[6].mechanism, SPF_EXISTS);
	assert_string_equal(r.terms[6].domain_spec, "%{i}._spf.%{d}");
	assert_int_equal(r.terms[7].mechanism, SPF_A);
	assert_int_equal(r.terms[7].cidr4, 32);
	assert_int_equal(r.terms[7].cidr6, 96);
	assert_int_equal(r.terms[8].mechanism, SPF_IP4);
	assert_int_equal(r.terms[9].mechanism, SPF_ALL);
	assert_string_equal(r.terms[9].text, "all");
	assert_string_equal(r.redirect, "%{d2}");
	assert_string_equal(r.exp, "why.%{d}");
	spf_record_free(&r);

	assert_int_equal(spf_record_parse("v=spf1", &r, &error), 0);
	assert_int_equal(r.count, 0);
	assert_null(r.redirect);
	spf_record_free(&r);
	/* a top label with a hyphen may be all digits; a trailing dot is allowed */
	assert_int_equal(spf_record_parse("v=spf1 a:foo.1-2 a:example.com. ptr:example.org ip4:0.0.0.0/0 ip6:::/0", &r, &error), 0);
	assert_int_equal(r.count, 5);
	assert_int_equal(r.terms[3].cidr4, 0);
	spf_record_free(&r);
}

static void test_parse_errors(void **state)
{
	static const char *const bad[] = {
		"v=spf1 foo:bar",            /* unknown mechanism */
		"v=spf1 -all/24",            /* all takes nothing */
		"v=spf1 ip4:192.0.2.1/33",   /* beyond 32 */
		"v=spf1 ip4:192.0.2.1/024",  /* a leading zero */
		"v=spf1 ip4:01.2.3.4",       /* qnum without leading zeros */
		"v=spf1 ip4:192.0.2",
		"v=spf1 ip4",
		"v=spf1 ip4:2001:db8::1",
		"v=spf1 ip6:2001:db8::/129",
		"v=spf1 ip6:192.0.2.1",
		"v=spf1 a/",
		"v=spf1 a:example.com/",
		"v=spf1 a:example.com//",
		"v=spf1 a:example.com/24/64",
		"v=spf1 a:",
		"v=spf1 a:museum",           /* a domain-spec ends in a dot and a top label */
		"v=spf1 a:museum.",
		"v=spf1 a:example.123",      /* a top label is not all digits */
		"v=spf1 a:example.-com",
		"v=spf1 include",
		"v=spf1 include:",
		"v=spf1 exists",
		"v=spf1 exists:example.com/24", /* no CIDR length on exists */
		"v=spf1 ptr/24",
		"v=spf1 redirect=a.example redirect=b.example",
		"v=spf1 exp=a.example exp=b.example",
		"v=spf1 redirect=",
		"v=spf1 -redirect=a.example",
		"v=spf1 moo=%{x}",           /* an unknown modifier's value is still a macro-string */
		"v=spf1 a:%{x}.example.com",
		"v=spf1 a:%{c}.example.com", /* c, r and t only in explanations */
		"v=spf1 a:%{d0}.example.com",
		"v=spf1 a:%{d.example.com",
		"v=spf1 a:50%.example.com",
		"v=spf1 -all\t",
		"v=spf1 a:ex\x01.com",
		"v=spf10",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spf_record r;
		char *error = NULL;
		if (spf_record_parse(bad[i], &r, &error) != -1)
			fail_msg("parsed: %s", bad[i]);
		assert_non_null(error);
		assert_int_equal(r.count, 0);
		free(error);
	}
}

static const struct spf_macro_env *example_env(const char *ip)
{
	static struct spf_macro_env env;
	memset(&env, 0, sizeof(env));
	env.sender = "strong-bad@email.example.com";
	env.domain = "email.example.com";
	env.helo = "mx.example.org";
	env.receiver = "mx.example.net";
	env.validated = "mx.example.org";
	env.now = 1700000000;
	env.family = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
	inet_pton(env.family, ip, env.ip);
	return &env;
}

static void assert_expands(const char *spec, const struct spf_macro_env *env, bool explanation,
			   const char *want)
{
	buf b;
	buf_init(&b);
	assert_int_equal(spf_macro_expand(spec, env, explanation, &b), 0);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void test_macros(void **state)
{
	const struct spf_macro_env *env = example_env("192.0.2.3");
	static const char *const rfc[][2] = { /* 7.4 */
		{ "%{s}", "strong-bad@email.example.com" },
		{ "%{o}", "email.example.com" },
		{ "%{d}", "email.example.com" },
		{ "%{d4}", "email.example.com" },
		{ "%{d3}", "email.example.com" },
		{ "%{d2}", "example.com" },
		{ "%{d1}", "com" },
		{ "%{dr}", "com.example.email" },
		{ "%{d2r}", "example.email" },
		{ "%{l}", "strong-bad" },
		{ "%{l-}", "strong.bad" },
		{ "%{lr}", "strong-bad" },
		{ "%{lr-}", "bad.strong" },
		{ "%{l1r-}", "strong" },
		{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
		{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
		{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
		{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com" },
		{ "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net" },
	};
	for (size_t i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++)
		assert_expands(rfc[i][0], env, false, rfc[i][1]);
	/* upper case escapes (7.3), the escapes of %, space and %20, several delimiters, more parts
	 * asked than there are */
	assert_expands("%{S}", env, false, "strong-bad%40email.example.com");
	assert_expands("%{L}", env, false, "strong-bad");
	assert_expands("a%%b%_c%-d", env, false, "a%b c%20d");
	assert_expands("%{s-.}", env, false, "strong.bad@email.example.com");
	assert_expands("%{s2r-.}", env, false, "bad@email.strong");
	assert_expands("%{d9r}", env, false, "com.example.email");
	assert_expands("%{D2R}", env, false, "example.email");
	assert_expands("%{p}.%{h}", env, false, "mx.example.org.mx.example.org");
	assert_expands("%{i}", env, false, "192.0.2.3");
	/* explanations: c, r, t and spaces */
	assert_expands("%{c} is not one of %{d}'s senders (%{r} at %{t})", env, true,
		       "192.0.2.3 is not one of email.example.com's senders (mx.example.net at 1700000000)");
	env = example_env("2001:db8::cb01");
	assert_expands("%{ir}.%{v}._spf.%{d2}", env, false,
		       "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
	assert_expands("%{c}", env, true, "2001:db8::cb01");
	struct spf_macro_env unknown = *env;
	unknown.validated = NULL;
	unknown.helo = NULL;
	assert_expands("%{p} %{h}", &unknown, true, "unknown unknown");

	static const char *const bad[] = { "%", "%a", "%{", "%{}", "%{x}", "%{d0}", "%{d", "%{c}", "%{t}", "a b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf b;
		buf_init(&b);
		assert_int_equal(spf_macro_expand(bad[i], env, false, &b), -1);
		buf_free(&b);
	}
	assert_int_equal(spf_macro_expand("%{c} %{r} %{t}", NULL, true, NULL), 0);
	assert_true(spf_macro_uses_p("%{p}.example.com"));
	assert_true(spf_macro_uses_p("%{P2r}.example.com"));
	assert_false(spf_macro_uses_p("%%{p}.example.com"));
}

static void test_domain_truncation(void **state)
{
	struct spf_macro_env env = *example_env("192.0.2.3");
	char sender[200];
	memset(sender, 'a', 60);
	strcpy(sender + 60, ".");
	memset(sender + 61, 'b', 60);
	strcpy(sender + 121, "@example.com");
	env.sender = sender;
	buf b;
	buf_init(&b);
	/* 121 + 1 + 121 + 1 + 17 octets: the first labels go until it fits in 253 */
	assert_int_equal(spf_domain_expand("%{l}.%{l}.%{d}", &env, &b), 0);
	assert_int_equal(strncmp(b.data, "bbbb", 4), 0);
	assert_true(b.len <= 253);
	assert_int_equal(strcmp(b.data + b.len - 18, ".email.example.com"), 0);
	buf_free(&b);
}

static void test_result_names(void **state)
{
	assert_string_equal(spf_result_name(SPF_NONE), "none");
	assert_string_equal(spf_result_name(SPF_NEUTRAL), "neutral");
	assert_string_equal(spf_result_name(SPF_PASS), "pass");
	assert_string_equal(spf_result_name(SPF_FAIL), "fail");
	assert_string_equal(spf_result_name(SPF_SOFTFAIL), "softfail");
	assert_string_equal(spf_result_name(SPF_TEMPERROR), "temperror");
	assert_string_equal(spf_result_name(SPF_PERMERROR), "permerror");
}

struct outcome_seen {
	int calls;
	enum spf_result result;
	char reason[200];
};

static void on_done(const struct spf_outcome *o, void *arg)
{
	struct outcome_seen *seen = arg;
	seen->calls++;
	seen->result = o->result;
	snprintf(seen->reason, sizeof(seen->reason), "%s", o->reason);
}

/* A resolver whose server never answers: a UDP socket on loopback nobody reads. */
static struct dns *silent_dns(struct event_base *base, int *fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	*fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&sa, &len), 0);
	char servers[64], *error = NULL;
	snprintf(servers, sizeof(servers), "127.0.0.1:%u", ntohs(sa.sin_port));
	struct dns *d = dns_new(base, servers, &error);
	assert_non_null(d);
	return d;
}

static void test_result_comes_on_the_loop(void **state)
{
	struct event_base *base = event_base_new();
	int fd;
	struct dns *d = silent_dns(base, &fd);
	struct outcome_seen seen = { 0 };
	/* 4.3: a name of one label has no record to look for */
	struct spf_check *c = spf_check_start(d, "192.0.2.1", "localhost", "x@localhost", NULL, NULL, on_done, &seen);
	assert_int_equal(seen.calls, 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.result, SPF_NONE);
	spf_check_free(&c);
	assert_null(c);
	memset(&seen, 0, sizeof(seen));
	c = spf_check_start(d, "192.0.2", "example.com", "", NULL, NULL, on_done, &seen);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.result, SPF_PERMERROR);
	spf_check_free(&c);
	/* freed before the loop runs: done never does */
	memset(&seen, 0, sizeof(seen));
	c = spf_check_start(d, "192.0.2.1", "localhost", "", NULL, NULL, on_done, &seen);
	spf_check_free(&c);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(seen.calls, 0);
	dns_free(&d);
	close(fd);
	event_base_free(base);
}

static void test_free_while_lookup_out(void **state)
{
	struct event_base *base = event_base_new();
	int fd;
	struct dns *d = silent_dns(base, &fd);
	struct outcome_seen seen = { 0 };
	struct spf_check *c = spf_check_start(d, "2001:db8::1", "example.com", "x@example.com", "h.example",
					      "mx.example", on_done, &seen);
	event_base_loop(base, EVLOOP_NONBLOCK);
	spf_check_free(&c);
	dns_free(&d); /* the record's lookup ends now, into a check that is gone */
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(seen.calls, 0);
	close(fd);
	event_base_free(base);
}

static void test_resolver_gone_is_temperror(void **state)
{
	struct event_base *base = event_base_new();
	int fd;
	struct dns *d = silent_dns(base, &fd);
	struct outcome_seen seen = { 0 };
	struct spf_check *c = spf_check_start(d, "192.0.2.1", "example.com", "x@example.com", NULL, NULL,
					      on_done, &seen);
	dns_free(&d);
	assert_int_equal(seen.calls, 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.result, SPF_TEMPERROR);
	assert_non_null(strstr(seen.reason, "example.com"));
	spf_check_free(&c);
	close(fd);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_spf),
		cmocka_unit_test(test_parse_terms),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_domain_truncation),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_result_comes_on_the_loop),
		cmocka_unit_test(test_free_while_lookup_out),
		cmocka_unit_test(test_resolver_gone_is_temperror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
