/* Tests for dns.c's pure parts: the PTR query names of IPv4 and IPv6 addresses, the octets
 * of an address in text, and the records of a raw answer. */
#include "core/dns.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_ptr_names(void **state)
{
	char name[DNS_PTR_NAME_MAX];
	assert_true(dns_ptr_name("192.0.2.17", name));
	assert_string_equal(name, "17.2.0.192.in-addr.arpa");
	assert_true(dns_ptr_name("127.0.0.1", name));
	assert_string_equal(name, "1.0.0.127.in-addr.arpa");
	/* RFC 3596 2.5's example */
	assert_true(dns_ptr_name("4321:0:1:2:3:4:567:89ab", name));
	assert_string_equal(name, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa");
	assert_int_equal(strlen(name), DNS_PTR_NAME_MAX - 1);
	assert_true(dns_ptr_name("::1", name));
	assert_string_equal(name, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
	/* a client on an IPv6 socket that came over IPv4 */
	assert_true(dns_ptr_name("::ffff:198.51.100.5", name));
	assert_string_equal(name, "5.100.51.198.in-addr.arpa");
	static const char *const bad[] = { "", "unknown", "192.0.2", "192.0.2.256", "[192.0.2.1]",
					   "2001:db8::1%eth0", "mail.example" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(dns_ptr_name(bad[i], name));
}

static void test_address_octets(void **state)
{
	unsigned char a[16];
	assert_int_equal(dns_address_octets("192.0.2.17", a), 4);
	assert_memory_equal(a, "\xc0\x00\x02\x11", 4);
	assert_int_equal(dns_address_octets("2001:db8::1", a), 16);
	assert_memory_equal(a, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	/* IPv4-mapped: the IPv4 address */
	assert_int_equal(dns_address_octets("::ffff:198.51.100.5", a), 4);
	assert_memory_equal(a, "\xc6\x33\x64\x05", 4);
	assert_int_equal(dns_address_octets("192.0.2", a), 0);
	assert_int_equal(dns_address_octets("", a), 0);
}

/* An answer to "a.test TLSA": a CNAME, then two TLSA records, their owners compressed. */
static const unsigned char answer[] = {
	0x12, 0x34, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0,
	1, 'a', 4, 't', 'e', 's', 't', 0, 0, 52, 0, 1,
	0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 1, 'b', 0xc0, 0x0e,
	0xc0, 0x0c, 0, 52, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 3, 1, 1, 0xab,
	0xc0, 0x0c, 0, 52, 0, 1, 0, 0, 0x0e, 0x10, 0, 5, 2, 0, 1, 0xcd, 0xef,
};

static void test_answer_rdata(void **state)
{
	const unsigned char *rdata;
	int len;
	assert_true(dns_answer_rdata(answer, sizeof(answer), 52, 0, &rdata, &len));
	assert_int_equal(len, 4);
	assert_memory_equal(rdata, "\x03\x01\x01\xab", 4);
	assert_true(dns_answer_rdata(answer, sizeof(answer), 52, 1, &rdata, &len));
	assert_int_equal(len, 5);
	assert_int_equal(rdata[0], 2);
	assert_false(dns_answer_rdata(answer, sizeof(answer), 52, 2, &rdata, &len));
	assert_true(dns_answer_rdata(answer, sizeof(answer), 5, 0, &rdata, &len));
	assert_int_equal(len, 4);
	assert_false(dns_answer_rdata(answer, sizeof(answer), 16, 0, &rdata, &len));
	/* cut anywhere inside the last record: never read past the end */
	for (int cut = 0; cut < (int)sizeof(answer); cut++)
		assert_false(dns_answer_rdata(answer, cut, 52, 1, &rdata, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ptr_names),
		cmocka_unit_test(test_address_octets),
		cmocka_unit_test(test_answer_rdata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
