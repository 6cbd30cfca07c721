/* Unit tests for mime.c: table-driven messages (single parts, nested multiparts, message/rfc822,
 * digests, broken MIME, RFC 2231 parameters) each checked against a one-line rendering of the
 * tree with every part's offsets, sizes and line counts; the fields BODYSTRUCTURE reports; the
 * limits; and RFC 2047 encoded words. */
#include "mail/mime.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Renders part idx and its children:
 * type/subtype hdr_off+hdr_len:body_off+body_len/lines [params] {children} */
static void render(const struct mime_tree *t, int idx, buf *out)
{
	const struct mime_part *p = &t->parts[idx];
	buf_printf(out, "%s/%s %zu+%zu:%zu+%zu/%zu", p->type, p->subtype, p->hdr_off, p->hdr_len,
		   p->body_off, p->body_len, p->body_lines);
	for (size_t i = 0; i < p->param_count; i++)
		buf_printf(out, " %s%s=%s", p->params[i].name, p->params[i].extended ? "*" : "",
			   p->params[i].value);
	if (p->first_child == MIME_NONE)
		return;
	buf_puts(out, " {");
	for (int c = p->first_child; c != MIME_NONE; c = t->parts[c].next_sibling) {
		assert_int_equal(t->parts[c].parent, idx);
		render(t, c, out);
		if (t->parts[c].next_sibling != MIME_NONE)
			buf_puts(out, " | ");
	}
	buf_puts(out, "}");
}

static void check(const char *msg, const char *expect, size_t line)
{
	struct mime_tree t;
	mime_parse(msg, strlen(msg), &mime_default_limits, &t);
	buf out;
	buf_init(&out);
	render(&t, 0, &out);
	if (strcmp(out.data, expect) != 0)
		fail_msg("line %zu:\n got    %s\n expect %s", line, out.data, expect);
	buf_free(&out);
	mime_tree_free(&t);
}

#define CHECK(msg, expect) check(msg, expect, __LINE__)

static void test_single(void **state)
{
	CHECK("Subject: x\r\n\r\nhello\r\n", "text/plain 0+14:14+7/1");
	CHECK("Subject: x\r\n\r\nhello", "text/plain 0+14:14+5/0");
	CHECK("Subject: x\r\n\r\n", "text/plain 0+14:14+0/0");
	CHECK("Subject: x\r\n", "text/plain 0+12:12+0/0");
	CHECK("", "text/plain 0+0:0+0/0");
	CHECK("\r\nbody\r\nmore\r\n", "text/plain 0+2:2+12/2");
	CHECK("A: b\n\nx\ny\n", "text/plain 0+6:6+4/2");
	CHECK("Content-Type: text/html; charset=\"utf-8\"\r\n\r\n<p>\r\n",
	      "text/html 0+44:44+5/1 charset=utf-8");
	CHECK("Content-Type: TEXT/Plain (comment) ; (c) charset = us-ascii (x)\r\n\r\n",
	      "TEXT/Plain 0+67:67+0/0 charset=us-ascii");
	/* folded over lines, a quoted pair, an unquoted value with a tspecial */
	CHECK("Content-type: application/pdf;\r\n name=\"a \\\"b\\\".pdf\";\r\n\tx=a/b\r\n\r\n",
	      "application/pdf 0+64:64+0/0 name=a \"b\".pdf x=a/b");
	/* an unreadable Content-Type keeps the default */
	CHECK("Content-Type: text\r\n\r\nx", "text/plain 0+22:22+1/0");
	/* only the first Content-Type counts */
	CHECK("Content-Type: text/html\r\nContent-Type: image/png\r\n\r\n", "text/html 0+52:52+0/0");
	/* junk parameters are skipped */
	CHECK("Content-Type: text/plain; ; =x; a; b=1;\r\n\r\n", "text/plain 0+43:43+0/0 b=1");
}

#define MP "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
static void test_multipart(void **state)
{
	/* preamble, two parts, epilogue; the CRLF before a delimiter belongs to it */
	CHECK(MP "pre\r\n--b\r\n\r\none\r\n--b\r\nContent-Type: text/html\r\n\r\ntwo\r\n--b--\r\nepi\r\n",
	      "multipart/mixed 0+47:47+66/10 boundary=b {text/plain 57+2:59+3/0 | "
	      "text/html 69+27:96+3/0}");
	/* no close delimiter: the last part runs to the end */
	CHECK(MP "--b\r\nA: 1\r\n\r\nx\r\n", "multipart/mixed 0+47:47+16/4 boundary=b {text/plain 52+8:60+3/1}");
	/* no delimiter at all: one empty part at the end, as Dovecot */
	CHECK(MP "just text\r\n", "multipart/mixed 0+47:47+11/1 boundary=b {text/plain 58+0:58+0/0}");
	/* no boundary parameter */
	CHECK("Content-Type: multipart/mixed\r\n\r\nx",
	      "multipart/mixed 0+33:33+1/0 {text/plain 34+0:34+0/0}");
	/* a line that only starts with the boundary is text; padding after a delimiter is fine */
	CHECK(MP "--b\r\n\r\n--bc\r\n--b \t\r\n\r\ny\r\n--b--",
	      "multipart/mixed 0+47:47+30/6 boundary=b {text/plain 52+2:54+4/0 | "
	      "text/plain 67+2:69+1/0}");
	/* a part with no empty line is all header */
	CHECK(MP "--b\r\nA: 1\r\n--b--\r\n",
	      "multipart/mixed 0+47:47+18/3 boundary=b {text/plain 52+4:56+0/0}");
	/* an empty part between two delimiters */
	CHECK(MP "--b\r\n--b--\r\n", "multipart/mixed 0+47:47+12/2 boundary=b {text/plain 52+0:52+0/0}");
	/* bare LF line ends */
	CHECK("Content-Type: multipart/alternative; boundary=zz\n\n--zz\n\na\n--zz\n\nb\n--zz--\n",
	      "multipart/alternative 0+50:50+23/7 boundary=zz {text/plain 55+1:56+1/0 | "
	      "text/plain 63+1:64+1/0}");
}

static void test_nested(void **state)
{
	const char *msg =
		"Content-Type: multipart/mixed; boundary=outer\r\n"
		"\r\n"
		"--outer\r\n"
		"Content-Type: multipart/alternative; boundary=inner\r\n"
		"\r\n"
		"--inner\r\n"
		"\r\n"
		"plain\r\n"
		"--inner\r\n"
		"Content-Type: text/html\r\n"
		"\r\n"
		"<b>html</b>\r\n"
		"--inner--\r\n"
		"--outer\r\n"
		"Content-Type: message/rfc822\r\n"
		"\r\n"
		"Subject: inside\r\n"
		"Content-Type: multipart/mixed; boundary=x\r\n"
		"\r\n"
		"--x\r\n"
		"\r\n"
		"deep\r\n"
		"--x--\r\n"
		"--outer--\r\n";
	CHECK(msg, "multipart/mixed 0+49:49+276/22 boundary=outer {"
		   "multipart/alternative 58+55:113+76/7 boundary=inner {text/plain 122+2:124+5/0 | "
		   "text/html 140+27:167+11/0} | "
		   "message/rfc822 200+32:232+80/6 {multipart/mixed 232+62:294+18/3 boundary=x "
		   "{text/plain 299+2:301+4/0}}}");
}

static void test_message(void **state)
{
	/* message/rfc822: one child, the embedded message */
	CHECK("Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody\r\n",
	      "message/rfc822 0+32:32+21/3 {text/plain 32+15:47+6/1}");
	/* base64 message/rfc822 is not looked into */
	CHECK("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdA==\r\n",
	      "message/rfc822 0+67:67+14/1");
	/* inside multipart/digest the default type is message/rfc822 */
	CHECK("Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nA: 1\r\n\r\nx\r\n--d--\r\n",
	      "multipart/digest 0+46:46+25/6 boundary=d {message/rfc822 51+2:53+9/2 "
	      "{text/plain 53+8:61+1/0}}");
}

static void test_rfc2231(void **state)
{
	/* continuations, in any order; the extended form keeps charset'lang' and %-encoding */
	CHECK("Content-Type: application/x; name*1=\"b\"; name*0=\"a\"; name*2=c\r\n\r\n",
	      "application/x 0+65:65+0/0 name=abc");
	CHECK("Content-Type: application/x; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A\r\n\r\n",
	      "application/x 0+88:88+0/0 title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A");
	CHECK("Content-Type: application/x; t*0*=us-ascii'en'This%20is%20even%20more%20;\r\n"
	      " t*1*=%2A%2A%2Afun%2A%2A%2A%20; t*2=\"isn't it!\"\r\n\r\n",
	      "application/x 0+126:126+0/0 t*=us-ascii'en'This%20is%20even%20more%20"
	      "%2A%2A%2Afun%2A%2A%2A%20isn%27t%20it!");
	/* a gap ends the value; a plain value beside sections gives way to them */
	CHECK("Content-Type: a/b; n*0=x; n*2=z; n=plain\r\n\r\n", "a/b 0+44:44+0/0 n=x");
	/* a parameter given twice: the first wins */
	CHECK("Content-Type: a/b; n=1; N=2\r\n\r\n", "a/b 0+31:31+0/0 n=1");
}

static void test_fields(void **state)
{
	const char *msg = "Content-Type: image/png; name=x.png\r\n"
			  "Content-ID:  <id@x>  \r\n"
			  "Content-Description: a\r\n picture\r\n"
			  "Content-Transfer-Encoding: BASE64\r\n"
			  "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
			  "Content-Disposition: attachment; filename*=utf-8''%C3%A9.png; size=3\r\n"
			  "Content-Language: en, fr\r\n"
			  "Content-Location: http://x/y\r\n"
			  "\r\n"
			  "AAAA\r\n";
	struct mime_tree t;
	mime_parse(msg, strlen(msg), &mime_default_limits, &t);
	const struct mime_part *p = &t.parts[0];
	assert_int_equal(t.count, 1);
	assert_true(p->type_given);
	assert_string_equal(p->id, "<id@x>");
	assert_string_equal(p->description, "a picture");
	assert_string_equal(p->encoding, "BASE64");
	assert_string_equal(p->md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
	assert_string_equal(p->language, "en, fr");
	assert_string_equal(p->location, "http://x/y");
	assert_string_equal(p->disposition.value, "attachment");
	assert_int_equal(p->disposition.param_count, 2);
	assert_string_equal(p->disposition.params[0].name, "filename");
	assert_true(p->disposition.params[0].extended);
	assert_string_equal(p->disposition.params[0].value, "utf-8''%C3%A9.png");
	assert_string_equal(mime_param_get(p->disposition.params, 2, "SIZE"), "3");
	assert_null(mime_param_get(p->params, p->param_count, "charset"));
	assert_true(mime_part_is(p, "IMAGE", "png"));
	assert_true(mime_part_is(p, "image", NULL));
	assert_false(mime_part_is(p, "image", "gif"));
	mime_tree_free(&t);
}

static void test_limits(void **state)
{
	/* message/rfc822 nested 30 deep: the parts beyond max_depth become octet-stream leaves */
	buf msg;
	buf_init(&msg);
	for (int i = 0; i < 30; i++)
		buf_puts(&msg, "Content-Type: message/rfc822\r\n\r\n");
	buf_puts(&msg, "\r\nx");
	struct mime_tree t;
	mime_parse(msg.data, msg.len, &mime_default_limits, &t);
	assert_true(t.truncated);
	assert_int_equal(t.count, mime_default_limits.max_depth + 1);
	assert_true(mime_part_is(&t.parts[t.count - 1], "application", "octet-stream"));
	mime_tree_free(&t);

	/* many parts: no more than max_parts */
	struct mime_limits lim = { 5, 4, 2 };
	buf_clear(&msg);
	buf_puts(&msg, "Content-Type: multipart/mixed; boundary=b; a=1; c=2; d=3\r\n\r\n");
	for (int i = 0; i < 10; i++)
		buf_puts(&msg, "--b\r\n\r\nx\r\n");
	mime_parse(msg.data, msg.len, &lim, &t);
	assert_true(t.truncated);
	assert_int_equal(t.count, 4);
	assert_int_equal(t.parts[0].child_count, 3);
	assert_int_equal(t.parts[0].param_count, 2);
	mime_tree_free(&t);

	struct mime_limits none = { 5, 0, 2 };
	mime_parse(msg.data, msg.len, &none, &t);
	assert_int_equal(t.count, 0);
	mime_tree_free(&t);
	buf_free(&msg);
}

static void test_header_decode(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain text", "plain text" },
		{ "=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard" },
		{ "=?utf-8?B?w6k=?=", "\xc3\xa9" },
		{ "(=?ISO-8859-1?Q?a?=)", "(a)" },
		{ "=?ISO-8859-1?Q?a?= b", "a b" },
		{ "=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab" },
		{ "=?ISO-8859-1?Q?a?=\r\n  =?ISO-8859-1?Q?b?=", "ab" },
		{ "=?ISO-8859-1?Q?a_b?=", "a b" },
		{ "=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore" },
		{ "=?utf-8?X?abc?=", "=?utf-8?X?abc?=" },
		{ "=?no-such-charset?Q?a?=", "=?no-such-charset?Q?a?=" },
		{ "=?utf-8?B?!!!?=", "=?utf-8?B?!!!?=" },
		{ "=?utf-8?Q?a=4?=", "=?utf-8?Q?a=4?=" },
		{ "=?utf-8?Q?a b?=", "=?utf-8?Q?a b?=" },
		{ "=?utf-8?Q?unclosed", "=?utf-8?Q?unclosed" },
		{ "a =?utf-8?Q?x?=", "a x" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf out;
		buf_init(&out);
		mime_header_decode(cases[i].in, strlen(cases[i].in), &out);
		if (strcmp(out.data, cases[i].out) != 0)
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, out.data, cases[i].out);
		buf_free(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_rfc2231),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_header_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
