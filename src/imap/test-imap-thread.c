/* Unit tests for imap_thread.c: the THREAD response's shape (RFC 5256 4's examples), both
 * algorithms' rules (RFC 5256 3), and the normalised Message IDs. */
#include "imap/imap_thread.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* A message for the tests: number, minutes after a fixed date, base subject, reply, its
 * Message ID and its references (space-separated, "" for none). */
struct spec {
	uint32_t number;
	int minute;
	const char *subject;
	bool reply;
	const char *id, *refs;
};

static void check(enum thread_alg alg, const struct spec *specs, size_t n, const char *expected)
{
	struct thread_message *msgs = calloc(n + 1, sizeof(*msgs));
	strlist *refs = calloc(n + 1, sizeof(*refs));
	for (size_t i = 0; i < n; i++) {
		strlist_init(&refs[i]);
		thread_msgids(specs[i].refs, strlen(specs[i].refs), &refs[i]);
		msgs[i] = (struct thread_message){ specs[i].number, 1700000000 + 60 * specs[i].minute,
						   specs[i].subject, specs[i].reply, specs[i].id, &refs[i] };
	}
	buf out;
	buf_init(&out);
	imap_thread_write(alg, msgs, n, &out);
	for (size_t i = 0; i < n; i++)
		strlist_free(&refs[i]);
	free(refs);
	free(msgs);
	if (strcmp(out.data, expected) != 0)
		fail_msg("got %s, expected %s", out.data, expected);
	buf_free(&out);
}

/* RFC 5256 4: "(2)(3 6 (4 23)(44 7 96))", and "((3)(5))" for siblings whose parent is not
 * there */
static void test_rfc_examples(void **state)
{
	(void)state;
	const struct spec tree[] = {
		{ 2, 0, "a", false, "2@x", "" },
		{ 3, 1, "b", false, "3@x", "" },
		{ 4, 3, "b", true, "4@x", "<3@x> <6@x>" },
		{ 6, 2, "b", true, "6@x", "<3@x>" },
		{ 7, 6, "b", true, "7@x", "<44@x>" },
		{ 23, 4, "b", true, "23@x", "<4@x>" },
		{ 44, 5, "b", true, "44@x", "<6@x>" },
		{ 96, 7, "b", true, "96@x", "<3@x> <6@x> <44@x> <7@x>" },
	};
	check(THREAD_REFERENCES, tree, 8, "(2)(3 6 (4 23)(44 7 96))");
	const struct spec orphans[] = {
		{ 3, 0, "x", true, "3@x", "<gone@x>" },
		{ 5, 1, "y", true, "5@x", "<gone@x>" },
	};
	check(THREAD_REFERENCES, orphans, 2, "((3)(5))");
	check(THREAD_REFERENCES, orphans, 0, "");
}

/* ORDEREDSUBJECT: by base subject then date; the first is the parent of the others (no
 * grandchildren); threads by their first message's date */
static void test_orderedsubject(void **state)
{
	(void)state;
	const struct spec msgs[] = {
		{ 1, 5, "lunch", true, NULL, "" },
		{ 2, 1, "news", false, NULL, "" },
		{ 3, 0, "LUNCH", false, NULL, "" },
		{ 4, 9, "lunch", true, NULL, "" },
		{ 5, 2, "News", true, NULL, "" },
		{ 6, 9, "", false, NULL, "" },
	};
	check(THREAD_ORDEREDSUBJECT, msgs, 6, "(3 (1)(4))(2 5)(6)");
	const struct spec ties[] = { /* equal dates: mailbox order */
		{ 1, 0, "a", false, NULL, "" },
		{ 2, 0, "b", false, NULL, "" },
		{ 3, 0, "a", false, NULL, "" },
	};
	check(THREAD_ORDEREDSUBJECT, ties, 3, "(1 3)(2)");
}

/* REFERENCES (1): References first, a duplicate Message ID is the first message's only,
 * a link that would make a loop is not made */
static void test_references_links(void **state)
{
	(void)state;
	const struct spec dup[] = {
		{ 1, 0, "a", false, "same@x", "" },
		{ 2, 1, "b", false, "same@x", "" },
		{ 3, 2, "c", true, "3@x", "<same@x>" },
	};
	check(THREAD_REFERENCES, dup, 3, "(1 3)(2)");
	const struct spec loop[] = {
		{ 1, 0, "a", false, "1@x", "<2@x>" },
		{ 2, 1, "b", false, "2@x", "<1@x>" },
	};
	/* 1 names 2 its parent; 2 naming 1 would close a loop, so 2 stays the parent */
	check(THREAD_REFERENCES, loop, 2, "(2 1)");
	const struct spec self[] = { { 1, 0, "a", false, "1@x", "<1@x>" } };
	check(THREAD_REFERENCES, self, 1, "(1)");
	const struct spec truncated[] = { /* the last reference is the parent */
		{ 1, 0, "a", false, "1@x", "" },
		{ 2, 1, "a", true, "2@x", "<1@x>" },
		{ 3, 2, "a", true, "3@x", "<1@x>" },
		{ 4, 3, "a", true, "4@x", "<1@x> <3@x>" },
	};
	check(THREAD_REFERENCES, truncated, 4, "(1 (2)(3 4))");
}

/* REFERENCES (5): threads with one base subject gathered: under a message that is not a
 * reply, or under a new dummy when neither is */
static void test_references_subjects(void **state)
{
	(void)state;
	const struct spec reply[] = {
		{ 1, 0, "topic", false, "1@x", "" },
		{ 2, 1, "topic", true, "2@x", "" },
	};
	check(THREAD_REFERENCES, reply, 2, "(1 2)");
	const struct spec neither[] = {
		{ 1, 0, "topic", false, "1@x", "" },
		{ 2, 1, "topic", false, "2@x", "" },
		{ 3, 2, "", false, "3@x", "" }, /* an empty subject gathers nothing */
		{ 4, 3, "", false, "4@x", "" },
	};
	check(THREAD_REFERENCES, neither, 4, "((1)(2))(3)(4)");
	const struct spec into_dummy[] = {
		{ 1, 0, "topic", true, "1@x", "<gone@x>" },
		{ 2, 1, "topic", true, "2@x", "<gone@x>" },
		{ 3, 2, "topic", false, "3@x", "" },
	};
	check(THREAD_REFERENCES, into_dummy, 3, "((1)(2)(3))");
}

static void test_msgids(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		const char *ids;
	} cases[] = {
		{ "<\"01KF8JCEOCBS0045PS\"@xxx.yyy.com>", "01KF8JCEOCBS0045PS@xxx.yyy.com" },
		{ "<a@b> (comment <c@d>) <e@f>", "a@b e@f" },
		{ "<no-at> <@x> <x@> <ok@x>", "ok@x" },
		{ "<a@b", "" },
		{ "user@example.test <a\r\n @b>", "a@b" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strlist l;
		strlist_init(&l);
		thread_msgids(cases[i].value, strlen(cases[i].value), &l);
		buf got;
		buf_init(&got);
		for (size_t k = 0; k < l.count; k++)
			buf_printf(&got, k > 0 ? " %s" : "%s", l.items[k]);
		strlist_free(&l);
		if (strcmp(got.data, cases[i].ids) != 0)
			fail_msg("case %zu: %s, expected %s", i, got.data, cases[i].ids);
		buf_free(&got);
	}
}

static void test_collation(void **state)
{
	(void)state;
	assert_int_equal(imap_sort_strcmp("Lunch", "lUNCH"), 0);
	assert_true(imap_sort_strcmp("", "a") < 0);
	assert_true(imap_sort_strcmp("alpha", "[x]") < 0); /* letters fold to upper case */
	assert_true(imap_sort_strcmp("a", "ab") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_orderedsubject),
		cmocka_unit_test(test_references_links),
		cmocka_unit_test(test_references_subjects),
		cmocka_unit_test(test_msgids),
		cmocka_unit_test(test_collation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
