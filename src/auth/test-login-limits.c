/* Tests for login_limits.c: each limit refuses only what it should, attempts count as they
 * start, a success takes back only its own account's failures, IPv6 counts by /64, known
 * addresses and trusted networks are exempt, and listing and unblocking say what is in force. */
#include "auth/login_limits.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const struct login_limit_settings settings = {
	.max_per_pair = 3,
	.max_accounts_per_ip = 4,
	.max_per_account = 6,
	.window = 100,
	.known_time = 1000,
};

static struct login_limits *limits(void)
{
	struct login_limits *l = login_limits_new();
	login_limits_set(l, &settings);
	return l;
}

/* n attempts for account from ip at now, each allowed (and so counted as failures). */
static void failures(struct login_limits *l, const char *ip, const char *account, int n, time_t now)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(login_limits_begin(l, ip, account, now), LOGIN_LIMIT_NONE);
}

static void test_pair_limit_spares_other_accounts(void **state)
{
	struct login_limits *l = limits();
	failures(l, "192.0.2.7", "alice@example.org", 3, 10);
	assert_int_equal(login_limits_begin(l, "192.0.2.7", "alice@example.org", 11), LOGIN_LIMIT_PAIR);
	assert_int_equal(login_limits_begin(l, "192.0.2.7", "ALICE@Example.org", 11), LOGIN_LIMIT_PAIR);
	/* the office's other users, and alice elsewhere, go on */
	assert_int_equal(login_limits_begin(l, "192.0.2.7", "bob@example.org", 11), LOGIN_LIMIT_NONE);
	login_limits_succeeded(l, "192.0.2.7", "bob@example.org", 11);
	assert_int_equal(login_limits_begin(l, "198.51.100.1", "alice@example.org", 11), LOGIN_LIMIT_NONE);
	assert_int_equal(login_limits_address_failures(l, "192.0.2.7", 11), 3);
	/* a refusal lasts the window after the pair's last failure, then all is forgotten */
	assert_int_equal(login_limits_begin(l, "192.0.2.7", "alice@example.org", 109), LOGIN_LIMIT_PAIR);
	assert_int_equal(login_limits_begin(l, "192.0.2.7", "alice@example.org", 110), LOGIN_LIMIT_NONE);
	assert_int_equal(login_limits_address_failures(l, "192.0.2.7", 110), 1);
	login_limits_free(&l);
	assert_null(l);
}

/* Parallel attempts: each counts when it starts, so only the limit's worth get checked. */
static void test_attempts_count_as_they_start(void **state)
{
	struct login_limits *l = limits();
	int allowed = 0;
	for (int i = 0; i < 50; i++)
		allowed += login_limits_begin(l, "192.0.2.7", "alice@example.org", 10) == LOGIN_LIMIT_NONE;
	assert_int_equal(allowed, 3);
	login_limits_free(&l);
}

/* A login to one's own account between guesses at another takes back only its own count. */
static void test_own_login_does_not_clear_guesses(void **state)
{
	struct login_limits *l = limits();
	int guesses = 0;
	for (int i = 0; i < 36; i++) {
		guesses += login_limits_begin(l, "192.0.2.7", "victim@example.org", 10) == LOGIN_LIMIT_NONE;
		assert_int_equal(login_limits_begin(l, "192.0.2.7", "me@example.org", 10), LOGIN_LIMIT_NONE);
		login_limits_succeeded(l, "192.0.2.7", "me@example.org", 10);
	}
	assert_int_equal(guesses, 3);
	/* a success clears that pair's own earlier failures too */
	failures(l, "192.0.2.7", "carol@example.org", 2, 10);
	login_limits_succeeded(l, "192.0.2.7", "carol@example.org", 10);
	failures(l, "192.0.2.7", "carol@example.org", 3, 10);
	login_limits_free(&l);
}

static void test_ipv6_counts_by_64(void **state)
{
	struct login_limits *l = limits();
	failures(l, "2001:db8:1:2::1", "alice@example.org", 1, 10);
	failures(l, "2001:db8:1:2::2", "alice@example.org", 1, 10);
	failures(l, "2001:db8:1:2:ffff:ffff:ffff:ffff", "alice@example.org", 1, 10);
	assert_int_equal(login_limits_begin(l, "2001:db8:1:2:1234::9", "alice@example.org", 10),
			 LOGIN_LIMIT_PAIR);
	assert_int_equal(login_limits_begin(l, "2001:db8:1:3::1", "alice@example.org", 10),
			 LOGIN_LIMIT_NONE);
	assert_int_equal(login_limits_address_failures(l, "2001:db8:1:2::77", 10), 3);
	login_limits_free(&l);
}

static void test_many_accounts_from_one_address(void **state)
{
	struct login_limits *l = limits();
	/* dave logged in from here before the spraying began */
	failures(l, "192.0.2.7", "dave@example.org", 1, 5);
	login_limits_succeeded(l, "192.0.2.7", "dave@example.org", 5);
	const char *sprayed[] = { "a@example.org", "b@example.org", "c@example.org", "d@example.org" };
	for (int i = 0; i < 4; i++)
		failures(l, "192.0.2.7", sprayed[i], 1, 10);
	assert_int_equal(login_limits_begin(l, "192.0.2.7", "e@example.org", 10), LOGIN_LIMIT_ADDRESS);
	/* accounts already failing go on to their own limit; a known one is not refused */
	failures(l, "192.0.2.7", "a@example.org", 2, 10);
	assert_int_equal(login_limits_begin(l, "192.0.2.7", "a@example.org", 10), LOGIN_LIMIT_PAIR);
	assert_int_equal(login_limits_begin(l, "192.0.2.7", "dave@example.org", 10), LOGIN_LIMIT_NONE);
	/* another address is not concerned */
	assert_int_equal(login_limits_begin(l, "192.0.2.8", "e@example.org", 10), LOGIN_LIMIT_NONE);
	login_limits_free(&l);
}

/* Guesses at one account from many addresses refuse it only where it has not logged in. */
static void test_account_limit_spares_known_addresses(void **state)
{
	struct login_limits *l = limits();
	login_limits_succeeded(l, "2001:db8:5:5::10", "alice@example.org", 1);
	char ip[32];
	for (int i = 0; i < 6; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		failures(l, ip, "alice@example.org", 1, 10);
	}
	assert_int_equal(login_limits_begin(l, "203.0.113.99", "alice@example.org", 10),
			 LOGIN_LIMIT_ACCOUNT);
	assert_int_equal(login_limits_begin(l, "2001:db8:5:5::11", "alice@example.org", 10),
			 LOGIN_LIMIT_NONE);
	login_limits_succeeded(l, "2001:db8:5:5::11", "alice@example.org", 10);
	/* known addresses are forgotten after known_time */
	for (int i = 0; i < 6; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
		failures(l, ip, "alice@example.org", 1, 1005);
	}
	assert_int_equal(login_limits_begin(l, "2001:db8:5:5::11", "alice@example.org", 1005),
			 LOGIN_LIMIT_NONE);
	assert_int_equal(login_limits_begin(l, "2001:db8:5:5::11", "alice@example.org", 1011),
			 LOGIN_LIMIT_ACCOUNT);
	login_limits_free(&l);
}

static void test_trusted_networks(void **state)
{
	struct login_limits *l = limits();
	char *error = NULL;
	assert_int_equal(login_limits_trust(l, "10.0.0.0/8, fd00::/8", &error), 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(login_limits_begin(l, "10.1.2.3", "alice@example.org", 10), LOGIN_LIMIT_NONE);
		assert_int_equal(login_limits_begin(l, "fd12::1", "alice@example.org", 10), LOGIN_LIMIT_NONE);
	}
	assert_int_equal(login_limits_address_failures(l, "10.1.2.3", 10), 0);
	/* nor did they count against the account */
	failures(l, "192.0.2.7", "alice@example.org", 3, 10);
	assert_int_equal(login_limits_trust(l, "10.0.0.0/8, bogus", &error), -1);
	free(error);
	for (int i = 0; i < 5; i++) /* the old networks stay */
		assert_int_equal(login_limits_begin(l, "10.1.2.3", "alice@example.org", 10), LOGIN_LIMIT_NONE);
	assert_int_equal(login_limits_trust(l, "", &error), 0);
	failures(l, "10.1.2.3", "alice@example.org", 3, 10);
	assert_int_equal(login_limits_begin(l, "10.1.2.3", "alice@example.org", 10), LOGIN_LIMIT_PAIR);
	login_limits_free(&l);
}

static void test_list_and_unblock(void **state)
{
	struct login_limits *l = limits();
	failures(l, "192.0.2.7", "alice@example.org", 3, 10);
	failures(l, "2001:db8:1:2::1", "a@example.org", 1, 10);
	failures(l, "2001:db8:1:2::1", "b@example.org", 1, 20);
	failures(l, "2001:db8:1:2::1", "c@example.org", 1, 30);
	failures(l, "2001:db8:1:2::1", "d@example.org", 1, 40);
	for (int i = 0; i < 3; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		failures(l, ip, "bob@example.org", 2, 50);
	}
	buf out;
	buf_init(&out);
	login_limits_list(l, 60, &out);
	assert_non_null(strstr(out.data, "ip=192.0.2.7 account=alice@example.org failures=3 left=50s\n"));
	/* four accounts; the first to expire brings it under the limit */
	assert_non_null(strstr(out.data, "ip=2001:db8:1:2::/64 accounts=4 failures=4 left=50s\n"));
	assert_non_null(strstr(out.data, "account=bob@example.org failures=6 left=90s\n"));
	size_t lines = 0; /* and nothing else: alice's account sum is under its limit */
	for (size_t i = 0; i < out.len; i++)
		lines += out.data[i] == '\n';
	assert_int_equal(lines, 3);

	assert_int_equal(login_limits_unblock(l, "192.0.2.7", 60), 1);
	assert_int_equal(login_limits_begin(l, "192.0.2.7", "alice@example.org", 60), LOGIN_LIMIT_NONE);
	assert_int_equal(login_limits_unblock(l, "2001:db8:1:2::/64", 60), 4);
	assert_int_equal(login_limits_begin(l, "2001:db8:1:2::9", "e@example.org", 60), LOGIN_LIMIT_NONE);
	assert_int_equal(login_limits_unblock(l, "BOB@example.org", 60), 3);
	assert_int_equal(login_limits_begin(l, "203.0.113.1", "bob@example.org", 60), LOGIN_LIMIT_NONE);
	assert_int_equal(login_limits_unblock(l, "nobody@example.org", 60), 0);
	buf_clear(&out);
	login_limits_list(l, 60, &out);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	login_limits_free(&l);
}

/* Memory stays bounded whatever names clients try: past the cap the oldest pair goes, its
 * failures out of the sums with it. */
static void test_bounded(void **state)
{
	struct login_limits *l = login_limits_new();
	struct login_limit_settings unlimited = { .window = 100, .known_time = 100 };
	login_limits_set(l, &unlimited);
	char name[64];
	for (int i = 0; i < 70000; i++) {
		snprintf(name, sizeof(name), "user%d@example.org", i);
		assert_int_equal(login_limits_begin(l, "192.0.2.7", name, 10), LOGIN_LIMIT_NONE);
	}
	assert_int_equal(login_limits_address_failures(l, "192.0.2.7", 10), 65536);
	assert_int_equal(login_limits_unblock(l, "user0@example.org", 10), 0);
	assert_int_equal(login_limits_unblock(l, "user69999@example.org", 10), 1);
	assert_int_equal(login_limits_unblock(l, "192.0.2.7", 10), 65535);
	assert_int_equal(login_limits_address_failures(l, "192.0.2.7", 10), 0);
	login_limits_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_limit_spares_other_accounts),
		cmocka_unit_test(test_attempts_count_as_they_start),
		cmocka_unit_test(test_own_login_does_not_clear_guesses),
		cmocka_unit_test(test_ipv6_counts_by_64),
		cmocka_unit_test(test_many_accounts_from_one_address),
		cmocka_unit_test(test_account_limit_spares_known_addresses),
		cmocka_unit_test(test_trusted_networks),
		cmocka_unit_test(test_list_and_unblock),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
