/* Unit tests for address.c: RFC 5321 paths and mailboxes, address literals, UTF-8, the size
 * limits of 4.5.3.1, and the canonical form (which must parse back to the same address). */
#include "mail/address.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define FORMAT_MAX (4 * ADDRESS_MAX_LOCAL + 1 + ADDRESS_MAX_DOMAIN + 3)

struct path_case {
	const char *in;
	bool allow_null, allow_utf8;
	enum address_error err;
	const char *local;     /* expected on success */
	const char *domain;
	const char *formatted; /* address_format of the result */
};

/* Formats a, checks the text, and checks that it parses back to the same address. */
static void check_format(const struct address *a, const char *formatted)
{
	char text[FORMAT_MAX];
	struct address back;

	assert_int_equal(address_format(a, text, sizeof(text)), strlen(formatted));
	assert_string_equal(text, formatted);
	if (a->null)
		return;
	assert_int_equal(address_parse_mailbox(text, strlen(text), a->utf8, &back), ADDRESS_OK);
	assert_string_equal(back.local, a->local);
	assert_string_equal(back.domain, a->domain);
}

static const struct path_case path_cases[] = {
	/* plain, null, case */
	{ "<>", true, false, ADDRESS_OK, "", "", "" },
	{ "<user@example.com>", true, false, ADDRESS_OK, "user", "example.com", "user@example.com" },
	{ "<User@Example.COM>", false, false, ADDRESS_OK, "User", "example.com", "User@example.com" },
	{ "<first.last@sub.example.org>", false, false, ADDRESS_OK, "first.last", "sub.example.org",
	  "first.last@sub.example.org" },
	{ "<a!#$%&'*+-/=?^_`{|}~@x.y>", false, false, ADDRESS_OK, "a!#$%&'*+-/=?^_`{|}~", "x.y",
	  "a!#$%&'*+-/=?^_`{|}~@x.y" },
	{ "<u@a-b.c0>", false, false, ADDRESS_OK, "u", "a-b.c0", "u@a-b.c0" },
	{ "<u@1.2.3.4>", false, false, ADDRESS_OK, "u", "1.2.3.4", "u@1.2.3.4" },
	{ "<u@localhost>", false, false, ADDRESS_OK, "u", "localhost", "u@localhost" },
	/* quoted local parts: kept unquoted, formatted with the least quoting */
	{ "<\"john doe\"@example.com>", false, false, ADDRESS_OK, "john doe", "example.com",
	  "\"john doe\"@example.com" },
	{ "<\"john\"@example.com>", false, false, ADDRESS_OK, "john", "example.com",
	  "john@example.com" },
	{ "<\"a\\\"b\"@x>", false, false, ADDRESS_OK, "a\"b", "x", "\"a\\\"b\"@x" },
	{ "<\"a\\\\b\"@x>", false, false, ADDRESS_OK, "a\\b", "x", "\"a\\\\b\"@x" },
	{ "<\"\\j\\ \"@x>", false, false, ADDRESS_OK, "j ", "x", "\"j \"@x" },
	{ "<\"\"@x>", false, false, ADDRESS_OK, "", "x", "\"\"@x" },
	{ "<\"a..b\"@x>", false, false, ADDRESS_OK, "a..b", "x", "\"a..b\"@x" },
	{ "<\".a\"@x>", false, false, ADDRESS_OK, ".a", "x", "\".a\"@x" },
	{ "<\"a.\"@x>", false, false, ADDRESS_OK, "a.", "x", "\"a.\"@x" },
	{ "<\"a@b\"@x>", false, false, ADDRESS_OK, "a@b", "x", "\"a@b\"@x" },
	{ "<\"a>b\"@x>", false, false, ADDRESS_OK, "a>b", "x", "\"a>b\"@x" },
	{ "<\"a.b\"@x>", false, false, ADDRESS_OK, "a.b", "x", "a.b@x" },
	/* address literals */
	{ "<u@[192.0.2.1]>", false, false, ADDRESS_OK, "u", "[192.0.2.1]", "u@[192.0.2.1]" },
	{ "<u@[0.0.0.0]>", false, false, ADDRESS_OK, "u", "[0.0.0.0]", "u@[0.0.0.0]" },
	{ "<u@[255.255.255.255]>", false, false, ADDRESS_OK, "u", "[255.255.255.255]",
	  "u@[255.255.255.255]" },
	{ "<u@[IPv6:2001:db8::1]>", false, false, ADDRESS_OK, "u", "[IPv6:2001:db8::1]",
	  "u@[IPv6:2001:db8::1]" },
	{ "<u@[ipv6:2001:DB8::1]>", false, false, ADDRESS_OK, "u", "[IPv6:2001:db8::1]",
	  "u@[IPv6:2001:db8::1]" },
	{ "<u@[IPv6:1:2:3:4:5:6:7:8]>", false, false, ADDRESS_OK, "u", "[IPv6:1:2:3:4:5:6:7:8]",
	  "u@[IPv6:1:2:3:4:5:6:7:8]" },
	{ "<u@[IPv6:::]>", false, false, ADDRESS_OK, "u", "[IPv6:::]", "u@[IPv6:::]" },
	{ "<u@[IPv6:::1]>", false, false, ADDRESS_OK, "u", "[IPv6:::1]", "u@[IPv6:::1]" },
	{ "<u@[IPv6:1::]>", false, false, ADDRESS_OK, "u", "[IPv6:1::]", "u@[IPv6:1::]" },
	{ "<u@[IPv6:1:2:3::4:5:6]>", false, false, ADDRESS_OK, "u", "[IPv6:1:2:3::4:5:6]",
	  "u@[IPv6:1:2:3::4:5:6]" },
	{ "<u@[IPv6:1:2:3:4:5:6:1.2.3.4]>", false, false, ADDRESS_OK, "u",
	  "[IPv6:1:2:3:4:5:6:1.2.3.4]", "u@[IPv6:1:2:3:4:5:6:1.2.3.4]" },
	{ "<u@[IPv6:::ffff:192.0.2.1]>", false, false, ADDRESS_OK, "u", "[IPv6:::ffff:192.0.2.1]",
	  "u@[IPv6:::ffff:192.0.2.1]" },
	{ "<u@[IPv6:::1.2.3.4]>", false, false, ADDRESS_OK, "u", "[IPv6:::1.2.3.4]",
	  "u@[IPv6:::1.2.3.4]" },
	{ "<u@[IPv6:1:2::3:4:1.2.3.4]>", false, false, ADDRESS_OK, "u",
	  "[IPv6:1:2::3:4:1.2.3.4]", "u@[IPv6:1:2::3:4:1.2.3.4]" },
	/* source routes: accepted and dropped */
	{ "<@relay1.example,@relay2.example:user@d.example>", false, false, ADDRESS_OK, "user",
	  "d.example", "user@d.example" },
	{ "<@hosta.int,@jkl.org:userc@d.bar.org>", false, false, ADDRESS_OK, "userc", "d.bar.org",
	  "userc@d.bar.org" },
	{ "<@relay:user@d>", false, false, ADDRESS_OK, "user", "d", "user@d" },
	/* UTF-8 (RFC 6531) */
	{ "<用户@例子.广告>", false, true, ADDRESS_OK, "用户", "例子.广告", "用户@例子.广告" },
	{ "<josé@Exämple.COM>", false, true, ADDRESS_OK, "josé", "exämple.com", "josé@exämple.com" },
	{ "<\"ü x\"@x>", false, true, ADDRESS_OK, "ü x", "x", "\"ü x\"@x" },
	{ "<\U0001F600@x>", false, true, ADDRESS_OK, "\U0001F600", "x", "\U0001F600@x" },
	{ "<用户@例子.广告>", false, false, ADDRESS_NEEDS_UTF8, NULL, NULL, NULL },
	{ "<josé@example.com>", false, false, ADDRESS_NEEDS_UTF8, NULL, NULL, NULL },
	{ "<jose@exämple.com>", false, false, ADDRESS_NEEDS_UTF8, NULL, NULL, NULL },
	{ "<@relä:jose@example.com>", false, false, ADDRESS_NEEDS_UTF8, NULL, NULL, NULL },
	/* not UTF-8: refused as syntax whether or not UTF-8 is allowed */
	{ "<\xC0\xAF@x>", false, true, ADDRESS_SYNTAX, NULL, NULL, NULL },     /* overlong */
	{ "<\xED\xA0\x80@x>", false, true, ADDRESS_SYNTAX, NULL, NULL, NULL }, /* surrogate */
	{ "<\xF4\x90\x80\x80@x>", false, true, ADDRESS_SYNTAX, NULL, NULL, NULL }, /* > U+10FFFF */
	{ "<\xE2\x82@x>", false, true, ADDRESS_SYNTAX, NULL, NULL, NULL },     /* truncated */
	{ "<u@\xFF.com>", false, true, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<\x80@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<\"a\\\xC3\xA9\"@x>", false, true, ADDRESS_SYNTAX, NULL, NULL, NULL }, /* \ + UTF-8 */
	/* null path */
	{ "<>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "< >", true, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	/* malformed */
	{ "", true, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<", true, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "user@example.com", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<user@example.com", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ " <user@example.com>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<user@example.com >", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<user>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<Postmaster>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<@example.com>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<user@>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<a@b@c>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<.user@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<user.@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<us..er@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<us er@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<us(er)@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u\x7f@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<user@-x.com>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<user@x-.com>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<user@x..com>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<user@x.com.>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<user@.x.com>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<user@x_y.com>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<\"unterminated@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<\"a\"b@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<a\"b\"@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<\"a\x01\"@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<\"a\\\x01\"@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<\"a\\", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	/* bad address literals */
	{ "<u@[1.2.3]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[256.1.1.1]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[1.2.3.4.5]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[1234.1.1.1]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[1..2.3]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[1.2.3.4>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[1.2.3.4]x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:1:2:3:4:5:6:7]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:1:2:3:4:5:6:7:8:9]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:1:2:3:4:5:6::7]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:1::2::3]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:12345::]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:g::]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:1:]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6::1]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6::::]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:1.2.3.4]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:1:2:3:4:5::1.2.3.4]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:1:2:3:4:5:1.2.3.4]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:::1.2.3]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[IPv6:1.2.3.4::]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[x400:foo]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<u@[example.com]>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	/* bad source routes */
	{ "<@relay:>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<@relay,user@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<@relay,relay2:user@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<@:user@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<@relay:@relay2:user@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<@[1.2.3.4]:user@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
	{ "<relay:user@x>", false, false, ADDRESS_SYNTAX, NULL, NULL, NULL },
};

static bool has_high_octet(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

static void test_path_table(void **state)
{
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		struct address a;
		size_t used = 99;
		enum address_error err = address_parse_path(c->in, strlen(c->in), c->allow_null,
							    c->allow_utf8, &a, &used);
		if (err != c->err)
			fail_msg("case %zu \"%s\": error %d, expected %d", i, c->in, err, c->err);
		if (err != ADDRESS_OK) {
			assert_int_equal(used, 0);
			continue;
		}
		assert_int_equal(used, strlen(c->in));
		assert_string_equal(a.local, c->local);
		assert_string_equal(a.domain, c->domain);
		assert_int_equal(a.null, c->in[1] == '>');
		assert_int_equal(a.quoted, strchr(c->in, '"') != NULL);
		assert_int_equal(a.utf8, has_high_octet(c->in));
		check_format(&a, c->formatted);
	}
}

/* The path ends at its ">"; what follows is the caller's (the parameters). */
static void test_path_consumed(void **state)
{
	struct address a;
	size_t used;
	const char *in = "<u@x> SIZE=10";

	assert_int_equal(address_parse_path(in, strlen(in), false, false, &a, &used), ADDRESS_OK);
	assert_int_equal(used, 5);
	in = "<> BODY=8BITMIME";
	assert_int_equal(address_parse_path(in, strlen(in), true, false, &a, &used), ADDRESS_OK);
	assert_int_equal(used, 2);
	assert_true(a.null);
	/* len bounds the parse: a path cut short is incomplete, not read past */
	in = "<u@x>";
	assert_int_equal(address_parse_path(in, 4, false, false, &a, &used), ADDRESS_SYNTAX);
	assert_int_equal(address_parse_path(in, 0, true, false, &a, &used), ADDRESS_SYNTAX);
}

static void test_mailbox(void **state)
{
	struct address a;
	const char *good[] = { "user@example.com", "\"a b\"@x", "u@[IPv6:::1]", "Joe.Q@X.Y" };
	const char *bad[] = { "<user@example.com>", "user", "user@", "@x", "user@x ", " user@x",
			      "user@x>", "" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(address_parse_mailbox(good[i], strlen(good[i]), false, &a),
				 ADDRESS_OK);
	assert_string_equal(a.local, "Joe.Q");
	assert_string_equal(a.domain, "x.y");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(address_parse_mailbox(bad[i], strlen(bad[i]), false, &a),
				 ADDRESS_SYNTAX);
	assert_int_equal(address_parse_mailbox("jös@x", 6, false, &a), ADDRESS_NEEDS_UTF8);
	assert_int_equal(address_parse_mailbox("jös@x", 6, true, &a), ADDRESS_OK);
	assert_true(a.utf8);
}

/* Builds "<" local "@" domain ">" (or without brackets) from repeated letters, with the
 * domain made of labels of at most 63 octets. */
static size_t build(char *out, bool brackets, size_t local_len, bool quoted, size_t domain_len)
{
	size_t n = 0;
	if (brackets)
		out[n++] = '<';
	if (quoted) {
		out[n++] = '"';
		memset(out + n, ' ', local_len - 2);
		n += local_len - 2;
		out[n++] = '"';
	} else {
		memset(out + n, 'l', local_len);
		n += local_len;
	}
	out[n++] = '@';
	for (size_t d = 0; d < domain_len; d++)
		out[n++] = (d % 64 == 63) ? '.' : 'd';
	if (brackets)
		out[n++] = '>';
	out[n] = '\0';
	return n;
}

/* RFC 5321 4.5.3.1: local part 64, domain 255, path 256 octets. */
static void test_limits(void **state)
{
	char in[1024];
	struct address a;
	size_t used, n;

	n = build(in, true, 64, false, 10);
	assert_int_equal(address_parse_path(in, n, false, false, &a, &used), ADDRESS_OK);
	assert_int_equal(strlen(a.local), 64);
	n = build(in, true, 65, false, 10);
	assert_int_equal(address_parse_path(in, n, false, false, &a, &used), ADDRESS_TOO_LONG);
	/* the quotes count: 62 octets between them make a 64-octet Local-part */
	n = build(in, true, 64, true, 10);
	assert_int_equal(address_parse_path(in, n, false, false, &a, &used), ADDRESS_OK);
	assert_int_equal(strlen(a.local), 62);
	n = build(in, true, 65, true, 10);
	assert_int_equal(address_parse_path(in, n, false, false, &a, &used), ADDRESS_TOO_LONG);
	/* the whole path, brackets included */
	n = build(in, true, 64, false, 256 - 64 - 3);
	assert_int_equal(n, 256);
	assert_int_equal(address_parse_path(in, n, false, false, &a, &used), ADDRESS_OK);
	assert_int_equal(used, 256);
	n = build(in, true, 64, false, 256 - 64 - 2);
	assert_int_equal(address_parse_path(in, n, false, false, &a, &used), ADDRESS_TOO_LONG);
	/* a source route counts towards the path */
	memcpy(in, "<@", 2);
	memset(in + 2, 'r', 60);
	n = 62;
	memcpy(in + n, ".example:", 9);
	n += 9;
	n += build(in + n, false, 64, false, 256 - n - 64 - 2);
	in[n++] = '>';
	assert_int_equal(n, 256);
	assert_int_equal(address_parse_path(in, n, false, false, &a, &used), ADDRESS_OK);
	in[n - 1] = 'd';
	in[n++] = '>';
	assert_int_equal(address_parse_path(in, n, false, false, &a, &used), ADDRESS_TOO_LONG);
	/* a bare mailbox is held to what fits in a path */
	n = build(in, false, 10, false, 254 - 11);
	assert_int_equal(address_parse_mailbox(in, n, false, &a), ADDRESS_OK);
	n = build(in, false, 10, false, 255 - 11);
	assert_int_equal(address_parse_mailbox(in, n, false, &a), ADDRESS_TOO_LONG);
	n = build(in, false, 1, false, 258);
	assert_int_equal(address_parse_mailbox(in, n, false, &a), ADDRESS_TOO_LONG);
	/* a malformed long address is malformed, not too long */
	n = build(in, true, 100, false, 300);
	in[3] = ' ';
	assert_int_equal(address_parse_path(in, n, false, false, &a, &used), ADDRESS_SYNTAX);
}

static void test_domain_valid(void **state)
{
	char d[300];

	assert_true(address_domain_valid("example.com", 11, false));
	assert_true(address_domain_valid("EXAMPLE.com", 11, false));
	assert_true(address_domain_valid("a", 1, false));
	assert_true(address_domain_valid("xn--bcher-kva.example", 21, false));
	assert_true(address_domain_valid("例子.广告", strlen("例子.广告"), true));
	assert_false(address_domain_valid("例子.广告", strlen("例子.广告"), false));
	assert_false(address_domain_valid("", 0, false));
	assert_false(address_domain_valid("-a.com", 6, false));
	assert_false(address_domain_valid("a-.com", 6, false));
	assert_false(address_domain_valid("a..b", 4, false));
	assert_false(address_domain_valid("a.b.", 4, false));
	assert_false(address_domain_valid(".a.b", 4, false));
	assert_false(address_domain_valid("a_b.com", 7, false));
	assert_false(address_domain_valid("a b", 3, false));
	assert_false(address_domain_valid("[1.2.3.4]", 9, false));
	assert_false(address_domain_valid("a\xff", 2, true));
	/* the length given, not the NUL, bounds the name */
	assert_true(address_domain_valid("example.com junk", 11, false));
	/* labels of 63 octets, names of 255 */
	memset(d, 'a', 64);
	assert_true(address_domain_valid(d, 63, false));
	assert_false(address_domain_valid(d, 64, false));
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (i % 64 == 63) ? '.' : 'a';
	assert_true(address_domain_valid(d, 255, false));
	assert_false(address_domain_valid(d, 256, false));
}

static void test_format(void **state)
{
	struct address a = { .local = "Postmaster" };
	char out[FORMAT_MAX];

	/* RCPT TO:<Postmaster> has no domain */
	assert_int_equal(address_format(&a, out, sizeof(out)), 10);
	assert_string_equal(out, "Postmaster");
	/* too small a buffer: -1, exactly enough: the length */
	strcpy(a.local, "a b");
	strcpy(a.domain, "x.y");
	assert_int_equal(address_format(&a, out, 10), 9);
	assert_string_equal(out, "\"a b\"@x.y");
	assert_int_equal(address_format(&a, out, 9), -1);
	assert_int_equal(address_format(&a, out, 1), -1);
	assert_int_equal(address_format(&a, out, 0), -1);
	/* the worst case: a 64-octet local part of quotes, every one escaped */
	memset(a.local, '"', 64);
	a.local[64] = '\0';
	memset(a.domain, 'd', 255);
	a.domain[255] = '\0';
	assert_int_equal(address_format(&a, out, sizeof(out)), 2 * 64 + 2 + 1 + 255);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_table),   cmocka_unit_test(test_path_consumed),
		cmocka_unit_test(test_mailbox),      cmocka_unit_test(test_limits),
		cmocka_unit_test(test_domain_valid), cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
