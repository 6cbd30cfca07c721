/* Unit tests for index_bound.c: the octet budget, the distinct-trigram budget (ASCII case
 * folded, repeated trigrams free), cuts at character boundaries, one budget over two texts. */
#include "store/index_bound.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static size_t take(struct index_bound *b, const char *s)
{
	return index_bound_take(b, s, strlen(s));
}

static void test_within_budget(void **state)
{
	(void)state;
	struct index_bound b;
	index_bound_init(&b, 100, 100);
	assert_int_equal(take(&b, "Hello, world"), 12);
	assert_false(b.cut);
	assert_int_equal(b.octets_left, 88);
	assert_int_equal(b.trigrams, 10);
	index_bound_free(&b);
}

static void test_octets(void **state)
{
	(void)state;
	struct index_bound b;
	index_bound_init(&b, 10, 1000);
	assert_int_equal(take(&b, "header"), 6);
	/* the body gets what the header left */
	assert_int_equal(take(&b, "body text"), 4);
	assert_true(b.cut);
	assert_int_equal(take(&b, "more"), 0);
	index_bound_free(&b);
}

static void test_character_boundary(void **state)
{
	(void)state;
	struct index_bound b;
	index_bound_init(&b, 4, 1000);
	/* "caf" and the two octets of é would be 5: é stays out whole */
	assert_int_equal(take(&b, "caf\xc3\xa9"), 3);
	assert_true(b.cut);
	index_bound_free(&b);
	index_bound_init(&b, 5, 1000);
	assert_int_equal(take(&b, "caf\xc3\xa9"), 5);
	assert_false(b.cut);
	index_bound_free(&b);
}

static void test_distinct_trigrams(void **state)
{
	(void)state;
	struct index_bound b;
	index_bound_init(&b, 1 << 20, 3);
	/* "abcab": abc, bca, cab; repeating them costs nothing, nor does another case */
	assert_int_equal(take(&b, "abcabcABCabc"), 12);
	assert_false(b.cut);
	/* "abcd": bcd is a fourth: the text stops before its last character */
	assert_int_equal(take(&b, "abcd"), 3);
	assert_true(b.cut);
	index_bound_free(&b);
}

static void test_many_distinct(void **state)
{
	(void)state;
	/* numbers written out have many distinct trigrams: the budget stops them */
	char text[20000];
	size_t len = 0;
	for (int i = 0; len < sizeof(text) - 16; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%d ", i * 7919);
	struct index_bound b;
	index_bound_init(&b, sizeof(text), 500);
	size_t kept = index_bound_take(&b, text, len);
	assert_true(kept < len);
	assert_true(b.cut);
	assert_int_equal(b.trigrams, 500);
	index_bound_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_within_budget),
		cmocka_unit_test(test_octets),
		cmocka_unit_test(test_character_boundary),
		cmocka_unit_test(test_distinct_trigrams),
		cmocka_unit_test(test_many_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
