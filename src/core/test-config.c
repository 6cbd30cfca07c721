/* Unit tests for config.c: the checks `config set` and config_load share, one case per kind of
 * value, and the host:port parser the relayhost uses. */
#include "core/config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void check(const char *name, const char *value, const char *error_part)
{
	const struct setting *s = setting_find(name);
	assert_non_null(s);
	char *error = NULL;
	int r = setting_check(s, value, &error);
	if (error_part == NULL) {
		if (r != 0)
			fail_msg("%s = %s refused: %s", name, value, error);
	} else {
		assert_int_equal(r, -1);
		if (strstr(error, error_part) == NULL)
			fail_msg("%s = %s: \"%s\" lacks \"%s\"", name, value, error, error_part);
		free(error);
	}
}

static void test_values_the_server_refuses_are_refused(void **state)
{
	check("log.level", "debug", NULL);
	check("log.level", "debugg", "log.level must be debug, info, warn or error, not \"debugg\"");
	check("smtp.port", "2525", NULL);
	check("smtp.port", "65536", "port number from 0 to 65535");
	check("smtp.port", "-1", "port number");
	check("smtp.max_recipients", "x", "a whole number");
	check("smtp.expn", "true", "yes or no");
	check("smtp.max_message_size", "10Q", "a size");
	check("smtp.timeout", "5 min", "a duration");
	check("queue.retry_schedule", "5m,10m,1h", NULL);
	check("queue.retry_schedule", "5m,soon", "a list of at most 32 durations");
	check("queue.retry_schedule", "5m,0s", "durations above 0");
	check("queue.retry_schedule", "", "durations");
	check("listen", "127.0.0.1, ::1", NULL);
	check("listen", "localhost", "IPv4 or IPv6 addresses");
	check("dns.resolvers", "", NULL);
	check("dns.resolvers", "192.0.2.53,[2001:db8::53]:5353,127.0.0.1:5353", NULL);
	check("dns.resolvers", "dns.example", "IP, IP:port");
	check("relayhost", "", NULL);
	check("relayhost", "[smtp.example.org]:587", NULL);
	check("relayhost", "smtp.example.org:x", "host, host:port or [host]:port");
	check("relayhost", "[smtp.example.org", "host, host:port");
}

static void test_hostport(void **state)
{
	char *host = NULL, *error = NULL;
	int port;
	bool bracketed;
	assert_int_equal(parse_hostport("[mx.example]:2525", 25, &host, &port, &bracketed, &error), 0);
	assert_string_equal(host, "mx.example");
	assert_int_equal(port, 2525);
	assert_true(bracketed);
	free(host);
	assert_int_equal(parse_hostport("relay.example", 25, &host, &port, &bracketed, &error), 0);
	assert_string_equal(host, "relay.example");
	assert_int_equal(port, 25);
	assert_false(bracketed);
	free(host);
	assert_int_equal(parse_hostport(":25", 25, &host, &port, &bracketed, &error), -1);
	assert_non_null(strstr(error, "no host name"));
	free(error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_the_server_refuses_are_refused),
		cmocka_unit_test(test_hostport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
