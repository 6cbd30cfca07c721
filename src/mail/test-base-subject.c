/* Unit tests for base_subject.c: each step of RFC 5256 2.1 and the grammar of its section 5,
 * and which removals make a message a reply or forward. */
#include "mail/base_subject.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void check(const char *subject, const char *base, bool reply)
{
	buf out;
	buf_init(&out);
	bool r = base_subject(subject, strlen(subject), &out);
	if (strcmp(out.data, base) != 0 || r != reply)
		fail_msg("\"%s\": \"%s\" reply=%d, expected \"%s\" reply=%d", subject, out.data, r,
			 base, reply);
	buf_free(&out);
}

/* (1) encoded words decoded, tabs, folding and runs of spaces made one space */
static void test_step1_decode_and_spaces(void **state)
{
	(void)state;
	check("=?UTF-8?Q?caf=C3=A9?= au lait", "café au lait", false);
	check("=?ISO-8859-1?Q?Re=3A_x?=", "x", true);  /* the prefix inside an encoded word */
	check("a\t\tb\r\n  c", "a b c", false);
	check("", "", false);
}

/* (2) subj-trailer = "(fwd)" / WSP, repeated */
static void test_step2_trailers(void **state)
{
	(void)state;
	check("report (fwd)", "report", true);
	check("report (FWD) (fwd)  ", "report", true);
	check("report   ", "report", false);
	check("report(fwd)x", "report(fwd)x", false);
}

/* (3) subj-leader = (*subj-blob subj-refwd) / WSP; subj-refwd = ("re" / ("fw" ["d"]))
 * *WSP [subj-blob] ":" */
static void test_step3_leaders(void **state)
{
	(void)state;
	check("Re: lunch", "lunch", true);
	check("RE:Re: re : lunch", "lunch", true);
	check("Fw: lunch", "lunch", true);
	check("FWD: lunch", "lunch", true);
	check("re[2]: lunch", "lunch", true);
	check("Re [list]: lunch", "lunch", true);
	check("[list] Re: lunch", "lunch", true);
	check("[a][b] fwd: lunch", "lunch", true);
	check("Ref: lunch", "Ref: lunch", false);     /* "re" must be followed by WSP, blob or ":" */
	check("Reply lunch", "Reply lunch", false);
}

/* (4) a leading subj-blob goes when something is left after it; (5) repeated with (3) */
static void test_step4_blobs(void **state)
{
	(void)state;
	check("[list] lunch", "lunch", false);
	check("[a] [b] Re: [c] lunch", "lunch", true);
	check("[only]", "[only]", false);
	check("[a] [only]", "[only]", false);
	check("[unclosed lunch", "[unclosed lunch", false);
}

/* (6) "[fwd:" ... "]" unwrapped, then again from (2) */
static void test_step6_fwd_wrapper(void **state)
{
	(void)state;
	check("[Fwd: lunch]", "lunch", true);
	check("[fwd: Re: lunch (fwd)]", "lunch", true);
	check("[fwd: [fwd: lunch]]", "lunch", true);
	check("Re: [fwd: lunch] (fwd)", "lunch", true);
	check("[fwd: lunch", "[fwd: lunch", false);
	check("[fwd:]", "", true); /* the wrapper around an empty subject */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step1_decode_and_spaces),
		cmocka_unit_test(test_step2_trailers),
		cmocka_unit_test(test_step3_leaders),
		cmocka_unit_test(test_step4_blobs),
		cmocka_unit_test(test_step6_fwd_wrapper),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
