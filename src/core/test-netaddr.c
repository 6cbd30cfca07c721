/* Tests for netaddr.c: networks of both families, and the groups addresses are counted in. */
#include "core/netaddr.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_networks(void **state)
{
	struct netaddr_net *nets;
	char *error = NULL;
	assert_int_equal(netaddr_networks_parse("10.0.0.0/8, 192.0.2.7 2001:db8::/32,fe80::/10",
						&nets, &error), 4);
	assert_true(netaddr_networks_contain(nets, 4, "10.200.1.1"));
	assert_false(netaddr_networks_contain(nets, 4, "11.0.0.1"));
	assert_true(netaddr_networks_contain(nets, 4, "192.0.2.7"));
	assert_false(netaddr_networks_contain(nets, 4, "192.0.2.8"));
	assert_true(netaddr_networks_contain(nets, 4, "::ffff:10.1.2.3")); /* IPv4-mapped */
	assert_true(netaddr_networks_contain(nets, 4, "2001:db8:ffff::1"));
	assert_false(netaddr_networks_contain(nets, 4, "2001:db9::1"));
	assert_true(netaddr_networks_contain(nets, 4, "febf::1"));  /* fe80::/10 ends at febf */
	assert_false(netaddr_networks_contain(nets, 4, "fec0::1"));
	assert_false(netaddr_networks_contain(nets, 4, "::a00:1")); /* 10.0.0.1's bits, not mapped */
	assert_false(netaddr_networks_contain(nets, 4, "unknown"));
	free(nets);

	assert_int_equal(netaddr_networks_parse("", &nets, &error), 0);
	assert_null(nets);
	assert_false(netaddr_networks_contain(nets, 0, "127.0.0.1"));
	assert_int_equal(netaddr_networks_parse("0.0.0.0/0", &nets, &error), 1);
	assert_true(netaddr_networks_contain(nets, 1, "203.0.113.9"));
	assert_false(netaddr_networks_contain(nets, 1, "2001:db8::1"));
	free(nets);

	static const char *const bad[] = { "10.0.0.1/8", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/",
					   "10.0.0.0/-1", "10.0.0.0/8x", "host.example", "2001:db8::1/64",
					   "10.0.0.0/8, nonsense" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(netaddr_networks_parse(bad[i], &nets, &error), -1);
		assert_non_null(strstr(error, "is not a network"));
		free(error);
		error = NULL;
	}
}

static void test_groups(void **state)
{
	char g[NETADDR_GROUP_MAX];
	assert_true(netaddr_group("192.0.2.7", g));
	assert_string_equal(g, "192.0.2.7");
	assert_true(netaddr_group("::ffff:192.0.2.7", g)); /* one client, one group */
	assert_string_equal(g, "192.0.2.7");
	assert_true(netaddr_group("2001:db8:1:2:aaaa:bbbb:cccc:dddd", g));
	assert_string_equal(g, "2001:db8:1:2::/64");
	assert_true(netaddr_group("2001:db8:1:2::1", g));
	assert_string_equal(g, "2001:db8:1:2::/64");
	assert_true(netaddr_group("::1", g));
	assert_string_equal(g, "::/64");
	assert_true(netaddr_group("2001:db8:1:2::/64", g)); /* what auth blocked prints */
	assert_string_equal(g, "2001:db8:1:2::/64");
	assert_true(netaddr_group("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", g));
	assert_string_equal(g, "ffff:ffff:ffff:ffff::/64");
	assert_false(netaddr_group("192.0.2.7/64", g));
	assert_false(netaddr_group("alice@example.org", g));
	assert_false(netaddr_group("unknown", g));
	assert_false(netaddr_group("", g));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
