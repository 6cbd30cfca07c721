/* Unit tests for smtp_parse.c: the command split, MAIL and RCPT with every parameter we take
 * (good values, bad values, duplicates, unknown ones), BDAT and xtext. Each table row gives
 * the argument, the expected error and, on success, a one-line summary of what was parsed. */
#include "smtp/smtp_parse.h"
#include "core/buf.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

struct parse_case {
	const char *arg;
	bool utf8; /* RCPT only: MAIL gave SMTPUTF8 */
	enum smtp_parse_error err;
	const char *summary; /* on success */
};

/* "<address>" as formatted, or "<>". */
static void put_address(buf *b, const char *name, const struct address *a)
{
	char text[4 * ADDRESS_MAX_LOCAL + 1 + ADDRESS_MAX_DOMAIN + 3];
	assert_true(address_format(a, text, sizeof(text)) >= 0);
	buf_printf(b, "%s=<%s>", name, text);
}

static void summarize_mail(const struct smtp_mail_args *m, buf *b)
{
	static const char *const body[] = { "", " body=7BIT", " body=8BITMIME" };
	static const char *const ret[] = { "", " ret=FULL", " ret=HDRS" };

	put_address(b, "from", &m->from);
	if (m->has_size)
		buf_printf(b, " size=%llu", (unsigned long long)m->size);
	buf_printf(b, "%s%s%s", body[m->body], m->smtputf8 ? " smtputf8" : "", ret[m->ret]);
	if (m->envid[0] != '\0')
		buf_printf(b, " envid=%s", m->envid);
}

static void summarize_rcpt(const struct smtp_rcpt_args *r, buf *b)
{
	put_address(b, "to", &r->to);
	if (r->notify != 0)
		buf_printf(b, " notify=%s%s%s%s", r->notify & SMTP_NOTIFY_NEVER ? "N" : "",
			   r->notify & SMTP_NOTIFY_SUCCESS ? "S" : "",
			   r->notify & SMTP_NOTIFY_FAILURE ? "F" : "",
			   r->notify & SMTP_NOTIFY_DELAY ? "D" : "");
	if (r->orcpt[0] != '\0')
		buf_printf(b, " orcpt=%s", r->orcpt);
}

static const struct parse_case mail_cases[] = {
	/* FROM: and the path */
	{ "FROM:<a@b.c>", false, SMTP_PARSE_OK, "from=<a@b.c>" },
	{ "from:<a@b.c>", false, SMTP_PARSE_OK, "from=<a@b.c>" },
	{ "FrOm:<A@B.C>", false, SMTP_PARSE_OK, "from=<A@b.c>" },
	{ "FROM: <a@b.c>", false, SMTP_PARSE_OK, "from=<a@b.c>" },
	{ "FROM:<>", false, SMTP_PARSE_OK, "from=<>" },
	{ "FROM:<@r1,@r2:a@b.c>", false, SMTP_PARSE_OK, "from=<a@b.c>" },
	{ "FROM:<\"a b\"@b.c>", false, SMTP_PARSE_OK, "from=<\"a b\"@b.c>" },
	{ "FROM:<a@b.c> ", false, SMTP_PARSE_OK, "from=<a@b.c>" },
	{ "FROM:<a@b.c>  SIZE=1   BODY=7BIT  ", false, SMTP_PARSE_OK,
	  "from=<a@b.c> size=1 body=7BIT" },
	{ "", false, SMTP_PARSE_ARG_SYNTAX, NULL },
	{ "<a@b.c>", false, SMTP_PARSE_ARG_SYNTAX, NULL },
	{ "FROM<a@b.c>", false, SMTP_PARSE_ARG_SYNTAX, NULL },
	{ "FROM :<a@b.c>", false, SMTP_PARSE_ARG_SYNTAX, NULL },
	{ " FROM:<a@b.c>", false, SMTP_PARSE_ARG_SYNTAX, NULL },
	{ "TO:<a@b.c>", false, SMTP_PARSE_ARG_SYNTAX, NULL },
	{ "FRO", false, SMTP_PARSE_ARG_SYNTAX, NULL },
	{ "FROM:", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "FROM: ", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "FROM:  <a@b.c>", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "FROM:\t<a@b.c>", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "FROM:a@b.c", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "FROM:<a@b.c>x", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "FROM:<a@b.c>SIZE=1", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "FROM:<a@b.c>\tSIZE=1", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "FROM:<a b@c>", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "FROM:<\xC0\xAF@x> SMTPUTF8", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	/* SMTPUTF8 (RFC 6531) */
	{ "FROM:<a@b.c> SMTPUTF8", false, SMTP_PARSE_OK, "from=<a@b.c> smtputf8" },
	{ "FROM:<a@b.c> smtputf8", false, SMTP_PARSE_OK, "from=<a@b.c> smtputf8" },
	{ "FROM:<用户@例子.广告> SMTPUTF8", false, SMTP_PARSE_OK, "from=<用户@例子.广告> smtputf8" },
	{ "FROM:<josé@example.com>", false, SMTP_PARSE_NEEDS_UTF8, NULL },
	{ "FROM:<jose@exämple.com> BODY=8BITMIME", false, SMTP_PARSE_NEEDS_UTF8, NULL },
	{ "FROM:<a@b.c> SMTPUTF8=yes", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> SMTPUTF8=", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	/* SIZE (RFC 1870) */
	{ "FROM:<a@b.c> SIZE=1000", false, SMTP_PARSE_OK, "from=<a@b.c> size=1000" },
	{ "FROM:<a@b.c> size=0", false, SMTP_PARSE_OK, "from=<a@b.c> size=0" },
	{ "FROM:<a@b.c> SIZE=00000000000000000001", false, SMTP_PARSE_OK, "from=<a@b.c> size=1" },
	{ "FROM:<a@b.c> SIZE=18446744073709551615", false, SMTP_PARSE_OK,
	  "from=<a@b.c> size=18446744073709551615" },
	{ "FROM:<a@b.c> SIZE=99999999999999999999", false, SMTP_PARSE_OK,
	  "from=<a@b.c> size=18446744073709551615" },
	{ "FROM:<a@b.c> SIZE=123456789012345678901", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> SIZE", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> SIZE=", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> SIZE=abc", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> SIZE=-1", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> SIZE=+1", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> SIZE=1.5", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> SIZE=1k", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	/* BODY (RFC 6152; BINARYMIME of RFC 3030 is not offered) */
	{ "FROM:<a@b.c> BODY=8BITMIME", false, SMTP_PARSE_OK, "from=<a@b.c> body=8BITMIME" },
	{ "FROM:<a@b.c> body=7bit", false, SMTP_PARSE_OK, "from=<a@b.c> body=7BIT" },
	{ "FROM:<a@b.c> BODY=BINARYMIME", false, SMTP_PARSE_PARAM_UNKNOWN, NULL },
	{ "FROM:<a@b.c> BODY=8BIT", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> BODY", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	/* RET and ENVID (RFC 3461) */
	{ "FROM:<a@b.c> RET=FULL", false, SMTP_PARSE_OK, "from=<a@b.c> ret=FULL" },
	{ "FROM:<a@b.c> ret=hdrs", false, SMTP_PARSE_OK, "from=<a@b.c> ret=HDRS" },
	{ "FROM:<a@b.c> RET=NONE", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> RET", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> ENVID=QQ314159", false, SMTP_PARSE_OK, "from=<a@b.c> envid=QQ314159" },
	{ "FROM:<a@b.c> ENVID=a+2Bb+3Dc+20d", false, SMTP_PARSE_OK, "from=<a@b.c> envid=a+b=c d" },
	{ "FROM:<a@b.c> ENVID=a+2bb", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> ENVID=a+2", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> ENVID=a+0Ab", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> ENVID=+00", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> ENVID=+C3+A9", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> ENVID=\xC3\xA9", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> ENVID", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	/* AUTH (RFC 4954 5): checked, then ignored */
	{ "FROM:<e=mc2@example.com> AUTH=e+3Dmc2@example.com", false, SMTP_PARSE_OK,
	  "from=<e=mc2@example.com>" },
	{ "FROM:<john+@example.org> AUTH=<>", false, SMTP_PARSE_OK, "from=<john+@example.org>" },
	{ "FROM:<a@b.c> AUTH", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> AUTH=", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> AUTH=a+zz", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	/* everything at once */
	{ "FROM:<a@b.c> SIZE=10 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x AUTH=<>", false,
	  SMTP_PARSE_OK, "from=<a@b.c> size=10 body=8BITMIME smtputf8 ret=HDRS envid=x" },
	/* duplicates, in any case */
	{ "FROM:<a@b.c> SIZE=1 SIZE=2", false, SMTP_PARSE_PARAM_DUPLICATE, NULL },
	{ "FROM:<a@b.c> size=1 SIZE=1", false, SMTP_PARSE_PARAM_DUPLICATE, NULL },
	{ "FROM:<a@b.c> BODY=7BIT body=8BITMIME", false, SMTP_PARSE_PARAM_DUPLICATE, NULL },
	{ "FROM:<a@b.c> SMTPUTF8 SMTPUTF8", false, SMTP_PARSE_PARAM_DUPLICATE, NULL },
	{ "FROM:<a@b.c> RET=FULL RET=HDRS", false, SMTP_PARSE_PARAM_DUPLICATE, NULL },
	{ "FROM:<a@b.c> ENVID=a SIZE=1 ENVID=b", false, SMTP_PARSE_PARAM_DUPLICATE, NULL },
	{ "FROM:<a@b.c> AUTH=<> AUTH=<>", false, SMTP_PARSE_PARAM_DUPLICATE, NULL },
	/* unknown, or not on MAIL */
	{ "FROM:<a@b.c> FOO=bar", false, SMTP_PARSE_PARAM_UNKNOWN, NULL },
	{ "FROM:<a@b.c> XVERP", false, SMTP_PARSE_PARAM_UNKNOWN, NULL },
	{ "FROM:<a@b.c> X-FOO=ü", false, SMTP_PARSE_PARAM_UNKNOWN, NULL },
	{ "FROM:<a@b.c> SIZES=1", false, SMTP_PARSE_PARAM_UNKNOWN, NULL },
	{ "FROM:<a@b.c> NOTIFY=NEVER", false, SMTP_PARSE_PARAM_UNKNOWN, NULL },
	{ "FROM:<a@b.c> ORCPT=rfc822;a@b.c", false, SMTP_PARSE_PARAM_UNKNOWN, NULL },
	/* not esmtp-param syntax */
	{ "FROM:<a@b.c> =foo", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> -A=1", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> A_B=1", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> SIZE==1", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> FOO=a=b", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> FOO=\x7f", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "FROM:<a@b.c> SIZE=1\t", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
};

static const struct parse_case rcpt_cases[] = {
	{ "TO:<a@b.c>", false, SMTP_PARSE_OK, "to=<a@b.c>" },
	{ "to:<a@b.c>", false, SMTP_PARSE_OK, "to=<a@b.c>" },
	{ "TO: <a@b.c>", false, SMTP_PARSE_OK, "to=<a@b.c>" },
	{ "TO:<@hosta.int,@jkl.org:userc@d.bar.org>", false, SMTP_PARSE_OK, "to=<userc@d.bar.org>" },
	{ "TO:<用户@例子.广告>", true, SMTP_PARSE_OK, "to=<用户@例子.广告>" },
	{ "TO:<用户@例子.广告>", false, SMTP_PARSE_NEEDS_UTF8, NULL },
	{ "TO:<>", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "", false, SMTP_PARSE_ARG_SYNTAX, NULL },
	{ "FROM:<a@b.c>", false, SMTP_PARSE_ARG_SYNTAX, NULL },
	{ "TO", false, SMTP_PARSE_ARG_SYNTAX, NULL },
	{ "TO:", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "TO:<a@b.c>x", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	/* Postmaster (RFC 5321 4.1.1.3) */
	{ "TO:<Postmaster>", false, SMTP_PARSE_OK, "to=<Postmaster>" },
	{ "TO:<postmaster>", false, SMTP_PARSE_OK, "to=<Postmaster>" },
	{ "to: <POSTMASTER> NOTIFY=NEVER", false, SMTP_PARSE_OK, "to=<Postmaster> notify=N" },
	{ "TO:<Postmaster@Example.com>", false, SMTP_PARSE_OK, "to=<Postmaster@example.com>" },
	{ "TO:<Postmaster", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "TO:<Postmaster>x", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "TO:<Postmaster >", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "TO:<\"Postmaster\">", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "TO:<@r:Postmaster>", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	{ "TO:<webmaster>", false, SMTP_PARSE_PATH_SYNTAX, NULL },
	/* NOTIFY (RFC 3461 4.1) */
	{ "TO:<a@b.c> NOTIFY=NEVER", false, SMTP_PARSE_OK, "to=<a@b.c> notify=N" },
	{ "TO:<a@b.c> notify=never", false, SMTP_PARSE_OK, "to=<a@b.c> notify=N" },
	{ "TO:<a@b.c> NOTIFY=SUCCESS,FAILURE,DELAY", false, SMTP_PARSE_OK, "to=<a@b.c> notify=SFD" },
	{ "TO:<a@b.c> NOTIFY=delay,Success", false, SMTP_PARSE_OK, "to=<a@b.c> notify=SD" },
	{ "TO:<a@b.c> NOTIFY=FAILURE", false, SMTP_PARSE_OK, "to=<a@b.c> notify=F" },
	{ "TO:<a@b.c> NOTIFY=SUCCESS,,DELAY,", false, SMTP_PARSE_OK, "to=<a@b.c> notify=SD" },
	{ "TO:<a@b.c> NOTIFY=SUCCESS,SUCCESS", false, SMTP_PARSE_OK, "to=<a@b.c> notify=S" },
	{ "TO:<a@b.c> NOTIFY=NEVER,SUCCESS", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> NOTIFY=SUCCESS,NEVER", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> NOTIFY=NEVERMORE", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> NOTIFY=SUCCESS;DELAY", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> NOTIFY=,", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> NOTIFY=", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> NOTIFY", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	/* ORCPT (RFC 3461 4.2) */
	{ "TO:<a@b.c> ORCPT=rfc822;a@b.c", false, SMTP_PARSE_OK, "to=<a@b.c> orcpt=rfc822;a@b.c" },
	{ "TO:<a@b.c> ORCPT=rfc822;e+3Dmc2@example.com", false, SMTP_PARSE_OK,
	  "to=<a@b.c> orcpt=rfc822;e=mc2@example.com" },
	{ "TO:<a@b.c> orcpt=utf-8;a+20b@c", false, SMTP_PARSE_OK, "to=<a@b.c> orcpt=utf-8;a b@c" },
	{ "TO:<a@b.c> ORCPT=rfc822;a;b", false, SMTP_PARSE_OK, "to=<a@b.c> orcpt=rfc822;a;b" },
	{ "TO:<a@b.c> ORCPT=rfc822;", false, SMTP_PARSE_OK, "to=<a@b.c> orcpt=rfc822;" },
	{ "TO:<a@b.c> ORCPT=rfc822", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> ORCPT=;a@b.c", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> ORCPT=rf(c;a@b.c", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> ORCPT=rfc822;a+0Ab", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> ORCPT=rfc822;a+2", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> ORCPT=rfc822;\xC3\xA9@b.c", true, SMTP_PARSE_PARAM_SYNTAX, NULL },
	{ "TO:<a@b.c> ORCPT", false, SMTP_PARSE_PARAM_SYNTAX, NULL },
	/* both, duplicates, and parameters that belong to MAIL */
	{ "TO:<a@b.c> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;x@y", false, SMTP_PARSE_OK,
	  "to=<a@b.c> notify=SD orcpt=rfc822;x@y" },
	{ "TO:<a@b.c> NOTIFY=NEVER NOTIFY=NEVER", false, SMTP_PARSE_PARAM_DUPLICATE, NULL },
	{ "TO:<a@b.c> ORCPT=rfc822;a ORCPT=rfc822;b", false, SMTP_PARSE_PARAM_DUPLICATE, NULL },
	{ "TO:<a@b.c> SIZE=1", false, SMTP_PARSE_PARAM_UNKNOWN, NULL },
	{ "TO:<a@b.c> BODY=7BIT", false, SMTP_PARSE_PARAM_UNKNOWN, NULL },
	{ "TO:<a@b.c> SMTPUTF8", true, SMTP_PARSE_PARAM_UNKNOWN, NULL },
	{ "TO:<a@b.c> AUTH=<>", false, SMTP_PARSE_PARAM_UNKNOWN, NULL },
	{ "TO:<a@b.c> RET=FULL", false, SMTP_PARSE_PARAM_UNKNOWN, NULL },
};

/* Runs one table through parse_and_summarize, which returns the error and fills the summary
 * on success. */
static void run_table(const struct parse_case *cases, size_t count,
		      enum smtp_parse_error (*parse_and_summarize)(const struct parse_case *, buf *))
{
	buf b;
	buf_init(&b);
	for (size_t i = 0; i < count; i++) {
		buf_clear(&b);
		enum smtp_parse_error err = parse_and_summarize(&cases[i], &b);
		if (err != cases[i].err)
			fail_msg("\"%s\": error %d, expected %d", cases[i].arg, err, cases[i].err);
		if (err == SMTP_PARSE_OK && strcmp(b.data, cases[i].summary) != 0)
			fail_msg("\"%s\": got \"%s\", expected \"%s\"", cases[i].arg, b.data,
				 cases[i].summary);
	}
	buf_free(&b);
}

static enum smtp_parse_error mail_summary(const struct parse_case *c, buf *b)
{
	struct smtp_mail_args m;
	enum smtp_parse_error err = smtp_parse_mail(c->arg, strlen(c->arg), &m);
	if (err == SMTP_PARSE_OK)
		summarize_mail(&m, b);
	return err;
}

static enum smtp_parse_error rcpt_summary(const struct parse_case *c, buf *b)
{
	struct smtp_rcpt_args r;
	enum smtp_parse_error err = smtp_parse_rcpt(c->arg, strlen(c->arg), c->utf8, &r);
	if (err == SMTP_PARSE_OK)
		summarize_rcpt(&r, b);
	return err;
}

static void test_mail_table(void **state)
{
	run_table(mail_cases, sizeof(mail_cases) / sizeof(mail_cases[0]), mail_summary);
}

static void test_rcpt_table(void **state)
{
	run_table(rcpt_cases, sizeof(rcpt_cases) / sizeof(rcpt_cases[0]), rcpt_summary);
}

/* Repeats c n times after prefix, into a buf. */
static void build(buf *b, const char *prefix, char c, size_t n, const char *suffix)
{
	buf_clear(b);
	buf_puts(b, prefix);
	for (size_t i = 0; i < n; i++)
		buf_putc(b, c);
	buf_puts(b, suffix);
}

/* The length limits: path 256 (RFC 5321), ENVID 100 and ORCPT 500 (RFC 3461). */
static void test_limits(void **state)
{
	struct smtp_mail_args m;
	struct smtp_rcpt_args r;
	buf b;

	buf_init(&b);
	build(&b, "FROM:<", 'l', 65, "@x>");
	assert_int_equal(smtp_parse_mail(b.data, b.len, &m), SMTP_PARSE_PATH_TOO_LONG);
	build(&b, "TO:<", 'l', 65, "@x>");
	assert_int_equal(smtp_parse_rcpt(b.data, b.len, false, &r), SMTP_PARSE_PATH_TOO_LONG);

	build(&b, "FROM:<a@b> ENVID=", 'e', 100, "");
	assert_int_equal(smtp_parse_mail(b.data, b.len, &m), SMTP_PARSE_OK);
	assert_int_equal(strlen(m.envid), 100);
	build(&b, "FROM:<a@b> ENVID=", 'e', 101, "");
	assert_int_equal(smtp_parse_mail(b.data, b.len, &m), SMTP_PARSE_PARAM_SYNTAX);

	build(&b, "TO:<a@b> ORCPT=rfc822;", 'o', 500 - 7, "");
	assert_int_equal(smtp_parse_rcpt(b.data, b.len, false, &r), SMTP_PARSE_OK);
	assert_int_equal(strlen(r.orcpt), 500);
	build(&b, "TO:<a@b> ORCPT=rfc822;", 'o', 500 - 6, "");
	assert_int_equal(smtp_parse_rcpt(b.data, b.len, false, &r), SMTP_PARSE_PARAM_SYNTAX);
	buf_free(&b);
}

/* The parsers read only len octets: what lies beyond is not theirs. */
static void test_length_bounds(void **state)
{
	struct smtp_mail_args m;
	struct smtp_rcpt_args r;
	uint64_t size;
	bool last;
	const char *mail = "FROM:<a@b.c> SIZE=12xx";
	const char *rcpt = "TO:<Postmaster>";

	assert_int_equal(smtp_parse_mail(mail, strlen(mail) - 2, &m), SMTP_PARSE_OK);
	assert_int_equal(m.size, 12);
	assert_int_equal(smtp_parse_mail(mail, 11, &m), SMTP_PARSE_PATH_SYNTAX);
	assert_int_equal(smtp_parse_rcpt(rcpt, strlen(rcpt) - 1, false, &r), SMTP_PARSE_PATH_SYNTAX);
	assert_int_equal(smtp_parse_bdat("100 LAST", 3, &size, &last), SMTP_PARSE_OK);
	assert_int_equal(size, 100);
	assert_false(last);
}

struct bdat_case {
	const char *arg;
	enum smtp_parse_error err;
	uint64_t size;
	bool last;
};

static void test_bdat(void **state)
{
	static const struct bdat_case cases[] = {
		{ "0", SMTP_PARSE_OK, 0, false },
		{ "1000", SMTP_PARSE_OK, 1000, false },
		{ "1000 LAST", SMTP_PARSE_OK, 1000, true },
		{ "0 last", SMTP_PARSE_OK, 0, true },
		{ "00001 Last", SMTP_PARSE_OK, 1, true },
		{ "18446744073709551615", SMTP_PARSE_OK, UINT64_MAX, false },
		{ "18446744073709551616", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "99999999999999999999 LAST", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "000000000000000000001", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ " 1000", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "1000 ", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "1000  LAST", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "1000 LAST ", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "1000 LASTX", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "1000 FIRST", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "1000\tLAST", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "LAST", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "-1", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "+1", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "1e3", SMTP_PARSE_ARG_SYNTAX, 0, false },
		{ "0x10", SMTP_PARSE_ARG_SYNTAX, 0, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t size = 7;
		bool last = false;
		enum smtp_parse_error err =
			smtp_parse_bdat(cases[i].arg, strlen(cases[i].arg), &size, &last);
		if (err != cases[i].err)
			fail_msg("BDAT \"%s\": error %d, expected %d", cases[i].arg, err, cases[i].err);
		if (err == SMTP_PARSE_OK) {
			assert_true(size == cases[i].size);
			assert_int_equal(last, cases[i].last);
		}
	}
}

static void test_command_split(void **state)
{
	static const struct {
		const char *line;
		int ret;
		const char *verb, *arg;
	} cases[] = {
		{ "MAIL FROM:<a@b>", 0, "MAIL", "FROM:<a@b>" },
		{ "mail from:<>", 0, "MAIL", "from:<>" },
		{ "QUIT", 0, "QUIT", "" },
		{ "NOOP ", 0, "NOOP", "" },
		{ "NOOP  x", 0, "NOOP", " x" },
		{ "StartTLS", 0, "STARTTLS", "" },
		{ "ABCDEFGHIJKLMNOP", 0, "ABCDEFGHIJKLMNOP", "" },
		{ "ABCDEFGHIJKLMNOP x", 0, "ABCDEFGHIJKLMNOP", "x" },
		{ "ABCDEFGHIJKLMNOPQ", -1, NULL, NULL },
		{ "", -1, NULL, NULL },
		{ " QUIT", -1, NULL, NULL },
		{ "QUIT\t", -1, NULL, NULL },
		{ "QU1T", -1, NULL, NULL },
		{ "MAIL:FROM", -1, NULL, NULL },
		{ "\xc3\x89HLO x", -1, NULL, NULL },
		{ "HELO\r", -1, NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_command cmd;
		int ret = smtp_command_split(cases[i].line, strlen(cases[i].line), &cmd);
		if (ret != cases[i].ret)
			fail_msg("\"%s\": %d, expected %d", cases[i].line, ret, cases[i].ret);
		if (ret == 0) {
			assert_string_equal(cmd.verb, cases[i].verb);
			assert_int_equal(cmd.arg_len, strlen(cases[i].arg));
			assert_memory_equal(cmd.arg, cases[i].arg, cmd.arg_len);
		}
	}
	/* only len counts */
	struct smtp_command cmd;
	assert_int_equal(smtp_command_split("QUITX", 4, &cmd), 0);
	assert_string_equal(cmd.verb, "QUIT");
	assert_int_equal(cmd.arg_len, 0);
}

static void test_xtext(void **state)
{
	char out[8];

	assert_int_equal(xtext_decode("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(xtext_decode("a+2Bb", 5, out, sizeof(out)), 3);
	assert_string_equal(out, "a+b");
	assert_int_equal(xtext_decode("+41+7E", 6, out, sizeof(out)), 2);
	assert_string_equal(out, "A~");
	assert_int_equal(xtext_decode("<>!~", 4, out, sizeof(out)), 4);
	assert_int_equal(xtext_decode("+00", 3, out, sizeof(out)), 1);
	assert_int_equal(out[0], '\0');
	assert_int_equal(xtext_decode("+FF", 3, out, sizeof(out)), 1);
	assert_int_equal((unsigned char)out[0], 0xFF);
	const char *bad[] = { "+2b", "+", "+4", "+4G", "a=b", "a b", "\x7f", "\x80", "\x01" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xtext_decode(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
	/* outlen counts the NUL */
	assert_int_equal(xtext_decode("1234567", 7, out, 8), 7);
	assert_int_equal(xtext_decode("12345678", 8, out, 8), -1);
	assert_int_equal(xtext_decode("+41", 3, out, 1), -1);
	assert_int_equal(xtext_decode("", 0, out, 0), -1);
	/* a hexchar cut by len is malformed */
	assert_int_equal(xtext_decode("+41", 2, out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_table),    cmocka_unit_test(test_rcpt_table),
		cmocka_unit_test(test_limits),        cmocka_unit_test(test_length_bounds),
		cmocka_unit_test(test_bdat),          cmocka_unit_test(test_command_split),
		cmocka_unit_test(test_xtext),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
