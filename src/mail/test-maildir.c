/* Unit tests for maildir_name.c and dovecot_uidlist.c: the names Dovecot, mbsync and mutt
 * write (flags, keywords, S= and W=), names with no info or another version, and the lines of
 * dovecot-uidlist (versions 1 and 3) and dovecot-keywords, well-formed and not. */
#include "mail/dovecot_uidlist.h"
#include "mail/maildir_name.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static struct maildir_name parse(const char *name)
{
	struct maildir_name n;
	maildir_name_parse(name, strlen(name), &n);
	return n;
}

static void test_name_parse(void **state)
{
	struct maildir_name n = parse("1796406357.M966229P2907.vm,S=18,W=21:2,DRSabc");
	assert_int_equal(n.base_len, strlen("1796406357.M966229P2907.vm,S=18,W=21"));
	assert_int_equal(n.upper, MAILDIR_LETTER('D') | MAILDIR_LETTER('R') | MAILDIR_LETTER('S'));
	assert_int_equal(n.lower, 7);
	assert_int_equal(n.size, 18);
	assert_int_equal(n.vsize, 21);
	/* mbsync: ,U= in the base, P among the letters */
	n = parse("1700000000.123_4.host,U=12:2,FP");
	assert_int_equal(n.upper, MAILDIR_LETTER('F') | MAILDIR_LETTER('P'));
	assert_int_equal(n.size, 0);
	/* new/: no info at all */
	n = parse("1700000000.M1P2.host");
	assert_int_equal(n.base_len, strlen("1700000000.M1P2.host"));
	assert_int_equal(n.upper | n.lower, 0);
	/* another info version is left alone, and so are odd characters and fields */
	n = parse("base:1,S");
	assert_int_equal(n.base_len, 4);
	assert_int_equal(n.upper, 0);
	n = parse("b,S=12x,W=:2,S-z!");
	assert_int_equal(n.size, 0);
	assert_int_equal(n.vsize, 0);
	assert_int_equal(n.upper, MAILDIR_LETTER('S'));
	assert_int_equal(n.lower, 1u << 25);
	n = parse("b,S=99999999999999999999999:2,");
	assert_int_equal(n.size, 0);
}

static void test_name_format(void **state)
{
	buf b;
	buf_init(&b);
	maildir_name_format(&b, "1600000000.E4V7.estafeta", 18, 21,
			    MAILDIR_LETTER('S') | MAILDIR_LETTER('D'), 1u | 1u << 2);
	assert_string_equal(b.data, "1600000000.E4V7.estafeta,S=18,W=21:2,DSac");
	struct maildir_name n;
	maildir_name_parse(b.data, b.len, &n);
	assert_int_equal(n.upper, MAILDIR_LETTER('S') | MAILDIR_LETTER('D'));
	assert_int_equal(n.lower, 5);
	assert_int_equal(n.vsize, 21);
	buf_free(&b);
}

static void test_uidlist(void **state)
{
	struct uidlist_header h;
	const char *v3 = "3 V1796406349 N5 G69eaba064bfc126b300b000083ecc375";
	assert_int_equal(uidlist_header_parse(v3, strlen(v3), &h), 0);
	assert_int_equal(h.version, 3);
	assert_int_equal(h.uidvalidity, 1796406349u);
	assert_int_equal(h.uidnext, 5);
	assert_int_equal(uidlist_header_parse("1 1234 7", 8, &h), 0);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.uidvalidity, 1234);
	assert_int_equal(h.uidnext, 7);
	assert_int_equal(uidlist_header_parse("3 N5", 4, &h), -1);      /* no UIDVALIDITY */
	assert_int_equal(uidlist_header_parse("4 V1 N2", 7, &h), -1);   /* unknown version */
	assert_int_equal(uidlist_header_parse("3 V99999999999", 14, &h), -1);

	uint32_t uid;
	const char *base;
	size_t n;
	const char *e = "12 W1260 :1733334345.M1P2.host,S=1234,W=1260";
	assert_int_equal(uidlist_entry_parse(e, strlen(e), 3, &uid, &base, &n), 0);
	assert_int_equal(uid, 12);
	assert_int_equal(n, strlen("1733334345.M1P2.host,S=1234,W=1260"));
	assert_memory_equal(base, "1733334345.M1P2.host", 20);
	e = "1 :1796406357.M966229P2907.vm,S=18,W=21";
	assert_int_equal(uidlist_entry_parse(e, strlen(e), 3, &uid, &base, &n), 0);
	assert_int_equal(uid, 1);
	assert_memory_equal(base, "1796406357", 10);
	e = "7 1700000000.M1P2.host";
	assert_int_equal(uidlist_entry_parse(e, strlen(e), 1, &uid, &base, &n), 0);
	assert_int_equal(uid, 7);
	assert_int_equal(n, strlen("1700000000.M1P2.host"));
	assert_int_equal(uidlist_entry_parse("0 :x", 4, 3, &uid, &base, &n), -1);
	assert_int_equal(uidlist_entry_parse("5 W12", 5, 3, &uid, &base, &n), -1);
	assert_int_equal(uidlist_entry_parse("5 :", 3, 3, &uid, &base, &n), -1);
	assert_int_equal(uidlist_entry_parse("x :a", 4, 3, &uid, &base, &n), -1);
}

static void test_keywords(void **state)
{
	unsigned index;
	const char *kw;
	size_t n;
	assert_int_equal(keywords_line_parse("0 $Forwarded", 12, &index, &kw, &n), 0);
	assert_int_equal(index, 0);
	assert_int_equal(n, 10);
	assert_memory_equal(kw, "$Forwarded", 10);
	assert_int_equal(keywords_line_parse("25 Junk", 7, &index, &kw, &n), 0);
	assert_int_equal(index, 25);
	assert_int_equal(keywords_line_parse("26 Junk", 7, &index, &kw, &n), -1);
	assert_int_equal(keywords_line_parse("3 ", 2, &index, &kw, &n), -1);
	assert_int_equal(keywords_line_parse("Junk", 4, &index, &kw, &n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_parse),
		cmocka_unit_test(test_name_format),
		cmocka_unit_test(test_uidlist),
		cmocka_unit_test(test_keywords),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
