/* Unit tests for imap_parse.c: framing of lines and literals (synchronizing and LITERAL+) fed
 * whole and byte by byte, with every limit; parsing of tags, names, atoms, quoted strings,
 * literals, lists and fetch attributes with sections, and the syntax errors that must give
 * BAD; sequence sets. */
#include "imap/imap_parse.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const struct imap_limits limits = { 64, 100, 400, 3, 20, 100 };
/* literals over 10 octets are left to the caller (APPEND streams them to a spool file) */
static const struct imap_limits streaming = { 64, 100, 400, 3, 20, 10 };

static void render_args(const struct imap_arg *args, size_t count, buf *out)
{
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			buf_putc(out, ' ');
		switch (args[i].type) {
		case IMAP_ARG_ATOM:
			buf_append(out, args[i].str, args[i].len);
			break;
		case IMAP_ARG_STRING:
			buf_printf(out, "\"%s\"", args[i].str);
			break;
		case IMAP_ARG_LITERAL:
			if (args[i].streamed) {
				buf_printf(out, "{%zu streamed}", args[i].len);
				break;
			}
			buf_printf(out, "{%zu}", args[i].len);
			buf_append(out, args[i].str, args[i].len);
			break;
		case IMAP_ARG_LIST:
			buf_putc(out, '(');
			render_args(args[i].list, args[i].count, out);
			buf_putc(out, ')');
			break;
		}
	}
}

static void command_render(int r, const struct imap_command *c, const char *error, buf *out)
{
	buf_printf(out, "%s|%s|", c->tag ? c->tag : "-", c->name ? c->name : "-");
	if (r < 0)
		buf_printf(out, "!%s", error);
	else
		render_args(c->args, c->count, out);
}

/* "tag|NAME|args" or "tag|NAME|!error" */
static void parse_render(const char *cmd, size_t len, buf *out)
{
	struct imap_command c;
	const char *error = NULL;
	int r = imap_parse(cmd, len, &limits, &c, &error);
	command_render(r, &c, error, out);
	imap_command_free(&c);
}

static void test_parse(void **state)
{
	static const struct {
		const char *cmd, *expect;
	} cases[] = {
		{ "a1 NOOP\r\n", "a1|NOOP|" },
		{ "a1 noop\n", "a1|NOOP|" },
		{ "a LOGIN joe \"se \\\"cr\\\\et\"\r\n", "a|LOGIN|joe \"se \"cr\\et\"" },
		{ "a LOGIN {3}\r\njoe ~{4+}\r\n\x01\0 x\r\n", "a|LOGIN|{3}joe {4}\x01" },
		{ "a LOGIN {3}\r\njoe {4+}\r\n\x01\0 x\r\n", "a|LOGIN|!NUL in a literal; binary data goes in ~{n}" },
		{ "a SELECT \"\"\r\n", "a|SELECT|\"\"" },
		{ "a FETCH 1:*,3 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100> UID)\r\n",
		  "a|FETCH|1:*,3 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100> UID)" },
		{ "a STORE 1 +FLAGS.SILENT (\\Seen \\* $Junk)\r\n",
		  "a|STORE|1 +FLAGS.SILENT (\\Seen \\* $Junk)" },
		{ "a LIST \"\" %/*\r\n", "a|LIST|\"\" %/*" },
		{ "a X () (()) (a (b))\r\n", "a|X|() (()) (a (b))" },
		{ "a X \"caf\xc3\xa9\"\r\n", "a|X|\"caf\xc3\xa9\"" },
		{ "a X ]\r\n", "a|X|]" },
		/* "[" is an atom character outside the fetch attributes that take a section */
		{ "a STORE 1 +FLAGS ([Label] a[b)\r\n", "a|STORE|1 +FLAGS ([Label] a[b)" },
		{ "a FETCH 1 (body[1.MIME] Binary.Peek[2] BINARY.SIZE[] RFC822[x)\r\n",
		  "a|FETCH|1 (body[1.MIME] Binary.Peek[2] BINARY.SIZE[] RFC822[x)" },
		/* header-fld-names as quoted strings and literals reach the section parser quoted */
		{ "a FETCH 1 BODY[HEADER.FIELDS (\"From\" {2}\r\nTo X-A)]<0.9>\r\n",
		  "a|FETCH|1 BODY[HEADER.FIELDS (\"From\" \"To\" X-A)]<0.9>" },
		{ "a FETCH 1 BODY[HEADER.FIELDS ({3}\r\nA]B)]\r\n",
		  "a|FETCH|1 BODY[HEADER.FIELDS (\"A]B\")]" },
		{ "a FETCH 1 BODY[HEADER.FIELDS ({3}\r\nA B)]\r\n",
		  "a|FETCH|!Bad header field name in section" },
		{ "a FETCH 1 BODY[HEADER.FIELDS (\"A\\\\\")]\r\n",
		  "a|FETCH|!Bad header field name in section" },
		{ "a X \"\" \"\"\r\n", "a|X|\"\" \"\"" },
		/* errors */
		{ "\r\n", "-|-|!Missing tag" },
		{ "a\r\n", "-|-|!Bad tag" },
		{ "+a NOOP\r\n", "-|-|!Missing tag" },
		{ "a{ NOOP\r\n", "-|-|!Bad tag" },
		{ "a 1NOOP\r\n", "a|-|!Missing or bad command name" },
		{ "a NOOP \r\n", "a|NOOP|!Trailing space" },
		{ "a X  b\r\n", "a|X|!Expected an atom" },
		{ "a X b  \r\n", "a|X|!Expected an atom" },
		{ "a X \"abc\r\n", "a|X|!Unterminated quoted string" },
		{ "a X \"a\\b\"\r\n", "a|X|!Bad escape in quoted string" },
		{ "a X (a\r\n", "a|X|!Missing )" },
		{ "a X a)\r\n", "a|X|!Expected a space between arguments" },
		{ "a X )\r\n", "a|X|!Unexpected )" },
		{ "a X ((((a))))\r\n", "a|X|!Lists nested too deep" },
		{ "a X (((a)))\r\n", "a|X|(((a)))" },
		{ "a X BODY[TEXT\r\n", "a|X|!Missing ] in section" },
		{ "a X {3}\r\nab", "a|X|!Literal shorter than announced" },
		{ "a X {3} b\r\n", "a|X|!Literal must end its line" },
		{ "a X {x}\r\n", "a|X|!Bad literal" },
		{ "a X 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21\r\n", "a|X|!Too many arguments" },
		{ "a X b\r\nc", "a|X|!Garbage after the command" },
		{ "a X b", "a|X|!Garbage after the command" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf out;
		buf_init(&out);
		/* the inputs with NUL in them spell their length out through the literal */
		size_t len = strlen(cases[i].cmd);
		if (strstr(cases[i].cmd, "{4+}") != NULL)
			len += strlen(cases[i].cmd + len + 1) + 1;
		parse_render(cases[i].cmd, len, &out);
		if (strcmp(out.data, cases[i].expect) != 0)
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, out.data, cases[i].expect);
		buf_free(&out);
	}
}

/* Feeds input in pieces of step octets and renders the events: "M" more is never shown,
 * "C" continue, "D" done (then the command's length, and with render_commands its parse
 * between brackets), "R" refused, "T" too long (skipped to its end), "F" fatal (stops), "L"
 * a literal left to the caller (then its size), whose octets are taken as the session takes
 * them. */
static void frame_render(const struct imap_limits *lim, const char *in, size_t len, size_t step,
			 bool render_commands, buf *out)
{
	struct imap_frame f;
	imap_frame_init(&f);
	size_t pos = 0;
	bool fatal = false;
	while (pos < len && !fatal) {
		size_t n = len - pos < step ? len - pos : step;
		size_t off = 0;
		while (off < n && !fatal) {
			if (f.streaming) {
				size_t k = n - off < f.literal_left ? n - off : (size_t)f.literal_left;
				imap_frame_literal_taken(&f, k);
				off += k;
				continue;
			}
			size_t used;
			enum imap_frame_result r = imap_frame_feed(&f, lim, in + pos + off, n - off, &used);
			assert_true(used <= n - off);
			off += used;
			switch (r) {
			case IMAP_FRAME_MORE:
				assert_int_equal(off, n);
				break;
			case IMAP_FRAME_CONTINUE:
				buf_putc(out, 'C');
				break;
			case IMAP_FRAME_LITERAL:
				buf_printf(out, "L%llu", (unsigned long long)f.literal_left);
				break;
			case IMAP_FRAME_DONE:
				buf_printf(out, "D%zu", f.cmd.len);
				if (render_commands) {
					struct imap_command c;
					const char *error = NULL;
					int pr = imap_parse_framed(&f, lim, &c, &error);
					buf_putc(out, '[');
					command_render(pr, &c, error, out);
					buf_putc(out, ']');
					imap_command_free(&c);
				}
				imap_frame_reset(&f);
				break;
			case IMAP_FRAME_REFUSED:
				buf_putc(out, 'R');
				imap_frame_reset(&f);
				break;
			case IMAP_FRAME_TOOLONG:
				buf_printf(out, "T%zu", imap_frame_tag_length(&f));
				imap_frame_reset(&f);
				break;
			case IMAP_FRAME_FATAL:
				buf_putc(out, 'F');
				fatal = true;
				break;
			}
		}
		pos += n;
	}
	imap_frame_free(&f);
}

struct frame_case {
	const char *in, *expect;
};

/* Each case fed byte by byte and whole must render as expected. */
static void run_frame_cases(const struct imap_limits *lim, const struct frame_case *cases,
			    size_t count, bool render_commands)
{
	for (size_t i = 0; i < count; i++) {
		for (size_t step = 1; step <= 1000; step = step * 1000) {
			buf out;
			buf_init(&out);
			frame_render(lim, cases[i].in, strlen(cases[i].in), step, render_commands, &out);
			if (strcmp(out.data, cases[i].expect) != 0)
				fail_msg("case %zu step %zu: got \"%s\", expected \"%s\"", i, step, out.data,
					 cases[i].expect);
			buf_free(&out);
		}
	}
}

static void test_frame(void **state)
{
	static const struct frame_case cases[] = {
		{ "a NOOP\r\nb NOOP\n", "D8D7" },
		{ "a NOOP", "" },
		{ "a LOGIN {3}\r\nabc {2}\r\nxy\r\n", "CCD26" },
		{ "a LOGIN {3+}\r\nabc {2+}\r\nxy\r\n", "D28" },
		/* a literal's octets are never taken for line ends or literal markers */
		{ "a X {5}\r\n\r\n{1}\r\n", "CD16" },
		{ "a X {0}\r\n\r\n", "CD11" },
		/* "{3}" inside the line is no literal; "{}" and "x}" are none either */
		{ "a X {3} y\r\na X {}\r\na X x}\r\n", "D11D8D8" },
		/* limits: literal over max_literal, synchronizing then not */
		{ "a X {101}\r\nb NOOP\r\n", "RD8" },
		{ "a X {100}\r\n", "C" },
		{ "a X {101+}\r\nb NOOP\r\n", "F" },
		{ "a X {99999999999999999999}\r\n", "R" },
		/* line over max_line (64 + CRLF) */
		{ "a X 012345678901234567890123456789012345678901234567890123456789\r\n", "D66" },
		/* longer: skipped to its end, and the next command is read (T then the tag's length) */
		{ "ab X 012345678901234567890123456789012345678901234567890123456789x\r\nb NOOP\r\n",
		  "T2D8" },
		{ "a X 0123456789012345678901234567890123456789012345678901234567890123456789x\nb NOOP\n",
		  "T1D7" },
		/* a literal announced at its end: a non-synchronizing one is skipped with it (what
		 * it holds is no command), after a synchronizing one the client hears BAD, no "+" */
		{ "a X 0123456789012345678901234567890123456789012345678901234567890123456789 {10+}\r\n"
		  "b LOGOUT\r\n (x\r\nc NOOP\r\n", "T1D8" },
		{ "a X 0123456789012345678901234567890123456789012345678901234567890123456789 ~{2+}\r\n"
		  "\r\n {3+}\r\n\n\n\n\r\nc NOOP\r\n", "T1D8" },
		{ "a X 0123456789012345678901234567890123456789012345678901234567890123456789 {10}\r\n"
		  "c NOOP\r\n", "T1D8" },
		/* one too big to skip, or whose number is cut off, leaves the stream lost */
		{ "a X 0123456789012345678901234567890123456789012345678901234567890123456789 {101+}\r\n"
		  "c NOOP\r\n", "F" },
		{ "a X 0123456789012345678901234567890123456789012345678901234567890123456789 {00000000"
		  "000000000000000000000001+}\r\nc NOOP\r\n", "F" },
		/* no tag to answer with */
		{ "(a X 01234567890123456789012345678901234567890123456789012345678901234567890\r\n", "T0" },
		/* command over max_command (400) with literals: skipped to its end */
		{ "a X {100+}\r\n0123456789012345678901234567890123456789012345678901234567890123456789"
		  "012345678901234567890123456789 {100+}\r\n012345678901234567890123456789012345678901"
		  "2345678901234567890123456789012345678901234567890123456789 {100+}\r\n012345678901"
		  "23456789012345678901234567890123456789012345678901234567890123456789012345678901234"
		  "56789 {100+}\r\n0123456789012345678901234567890123456789012345678901234567890123456"
		  "789012345678901234567890123456789\r\nb NOOP\r\n", "T1D8" },
		{ "a X {100+}\r\n0123456789012345678901234567890123456789012345678901234567890123456789"
		  "012345678901234567890123456789 {100+}\r\n012345678901234567890123456789012345678901"
		  "2345678901234567890123456789012345678901234567890123456789 {100+}\r\n012345678901"
		  "23456789012345678901234567890123456789012345678901234567890123456789012345678901234"
		  "56789 x {5+}\r\nabcde 0123456789012345678901234567890123456789012345678901234\r\n"
		  "b NOOP\r\n", "T1D8" },
	};
	run_frame_cases(&limits, cases, sizeof(cases) / sizeof(cases[0]), false);
}

/* Literals over max_inline are left to the caller, one per command; the command then parses
 * with that literal marked streamed, however the input was split. */
static void test_frame_streamed(void **state)
{
	static const struct frame_case cases[] = {
		{ "a APPEND INBOX {20}\r\n01234567890123456789\r\n",
		  "L20D23[a|APPEND|INBOX {20 streamed}]" },
		{ "a APPEND INBOX {20+}\r\n01234567890123456789\r\nb NOOP\r\n",
		  "L20D24[a|APPEND|INBOX {20 streamed}]D8[b|NOOP|]" },
		/* small literals around it are collected as ever */
		{ "a APPEND {3}\r\nBox (\\Seen) UTF8 (~{11+}\r\n0123456789A)\r\n",
		  "CL11D43[a|APPEND|{3}Box (\\Seen) UTF8 ({11 streamed})]" },
		/* a second big literal in one command is over the bound */
		{ "a X {11}\r\n0123456789A {11}\r\nb NOOP\r\n", "L11RD8[b|NOOP|]" },
		{ "a X {11}\r\n0123456789A {11+}\r\n0123456789A\r\nb NOOP\r\n", "L11T1D8[b|NOOP|]" },
		{ "a X {11}\r\n0123456789A {101+}\r\n", "L11F" },
		/* none may stand in a section's header field names */
		{ "a FETCH 1 BODY[HEADER.FIELDS ({11}\r\n0123456789A)]\r\n",
		  "L11D40[a|FETCH|!Literal too big]" },
	};
	run_frame_cases(&streaming, cases, sizeof(cases) / sizeof(cases[0]), true);
}

/* What the session asks of the frame: which command it holds, and whether a line is open
 * (the command line timer runs then, not inside a literal). */
static void test_frame_state(void **state)
{
	struct imap_frame f;
	imap_frame_init(&f);
	size_t used;
	assert_false(imap_frame_in_line(&f));
	const char *part = "t1 append INBOX {20}\r\n0123";
	assert_int_equal(imap_frame_feed(&f, &streaming, part, 4, &used), IMAP_FRAME_MORE);
	assert_true(imap_frame_in_line(&f));
	assert_int_equal(imap_frame_feed(&f, &streaming, part + 4, strlen(part) - 4, &used),
			 IMAP_FRAME_LITERAL);
	assert_int_equal(used, strlen(part) - 4 - 4);
	assert_false(imap_frame_in_line(&f));
	assert_true(imap_frame_is_command(&f, "APPEND"));
	assert_false(imap_frame_is_command(&f, "APPEN"));
	assert_false(imap_frame_is_command(&f, "LOGIN"));
	/* while the caller takes the octets, feeding takes none */
	assert_int_equal(imap_frame_feed(&f, &streaming, "0123", 4, &used), IMAP_FRAME_LITERAL);
	assert_int_equal(used, 0);
	imap_frame_literal_taken(&f, 20);
	assert_false(f.streaming);
	assert_int_equal(imap_frame_feed(&f, &streaming, " x", 2, &used), IMAP_FRAME_MORE);
	assert_true(imap_frame_in_line(&f));
	imap_frame_reset(&f);
	/* bounds that shrink under a line begun (a reload) cut it there */
	static const struct imap_limits small = { 8, 100, 16, 3, 20, 10 };
	const char *line = "t2 NOOP 0123456789";
	assert_int_equal(imap_frame_feed(&f, &streaming, line, strlen(line), &used), IMAP_FRAME_MORE);
	assert_int_equal(imap_frame_feed(&f, &small, "x\r\n", 3, &used), IMAP_FRAME_TOOLONG);
	assert_int_equal(imap_frame_tag_length(&f), 2);
	imap_frame_reset(&f);
	assert_int_equal(imap_frame_feed(&f, &streaming, "APPEND x\r\n", 10, &used), IMAP_FRAME_DONE);
	assert_false(imap_frame_is_command(&f, "APPEND")); /* no tag */
	imap_frame_free(&f);
}

/* A command framed byte by byte parses as the same command framed whole. */
static void test_frame_then_parse(void **state)
{
	const char in[] = "t1 APPEND INBOX (\\Seen) {5}\r\nHello {3+}\r\na\r\n\r\n";
	struct imap_frame f;
	imap_frame_init(&f);
	size_t used;
	int continues = 0;
	for (size_t i = 0; i < sizeof(in) - 1; i++) {
		enum imap_frame_result r = imap_frame_feed(&f, &limits, in + i, 1, &used);
		assert_int_equal(used, 1);
		if (r == IMAP_FRAME_CONTINUE)
			continues++;
		else if (i + 1 < sizeof(in) - 1)
			assert_int_equal(r, IMAP_FRAME_MORE);
		else
			assert_int_equal(r, IMAP_FRAME_DONE);
	}
	assert_int_equal(continues, 1);
	buf out;
	buf_init(&out);
	parse_render(f.cmd.data, f.cmd.len, &out);
	assert_string_equal(out.data, "t1|APPEND|INBOX (\\Seen) {5}Hello {3}a\r\n");
	buf_free(&out);
	imap_frame_free(&f);
}

static void test_seqset(void **state)
{
	struct imap_seqset set;
	assert_int_equal(imap_seqset_parse("1:3,7,9:*,*", 10, &set), 0);
	assert_int_equal(set.count, 4);
	imap_seqset_resolve(&set, 8);
	assert_true(imap_seqset_contains(&set, 1));
	assert_true(imap_seqset_contains(&set, 3));
	assert_false(imap_seqset_contains(&set, 4));
	assert_true(imap_seqset_contains(&set, 7));
	assert_true(imap_seqset_contains(&set, 8)); /* 9:* is 8:9 when * is 8 */
	assert_true(imap_seqset_contains(&set, 9));
	assert_false(imap_seqset_contains(&set, 10));
	imap_seqset_free(&set);

	/* out of order, overlapping, adjacent and reversed ranges are sorted and merged */
	assert_int_equal(imap_seqset_parse("7,12:10,1:3,2:5,*,6", 10, &set), 0);
	imap_seqset_resolve(&set, 20);
	assert_int_equal(set.count, 3); /* 1:7, 10:12, 20 */
	assert_int_equal(set.ranges[0].lo, 1);
	assert_int_equal(set.ranges[0].hi, 7);
	assert_int_equal(set.ranges[1].lo, 10);
	assert_int_equal(set.ranges[1].hi, 12);
	assert_int_equal(set.ranges[2].lo, 20);
	for (uint32_t n = 1; n <= 21; n++)
		assert_int_equal(imap_seqset_contains(&set, n), n <= 7 || (n >= 10 && n <= 12) || n == 20);
	imap_seqset_free(&set);

	assert_int_equal(imap_seqset_parse("5:2", 10, &set), 0);
	assert_int_equal(set.ranges[0].lo, 2);
	assert_int_equal(set.ranges[0].hi, 5);
	imap_seqset_free(&set);
	assert_int_equal(imap_seqset_parse("4294967295", 10, &set), 0);
	imap_seqset_free(&set);

	/* the number 4294967295 is not "*" (RFC 3501 9: "*" is the largest number in use) */
	assert_int_equal(imap_seqset_parse("5:4294967295", 10, &set), 0);
	imap_seqset_resolve(&set, 3);
	for (uint32_t n = 1; n <= 4; n++)
		assert_false(imap_seqset_contains(&set, n));
	assert_true(imap_seqset_contains(&set, 4294967295u));
	imap_seqset_free(&set);
	assert_int_equal(imap_seqset_parse("5:*,*:9", 10, &set), 0);
	imap_seqset_resolve(&set, 3);
	assert_true(imap_seqset_contains(&set, 3) && imap_seqset_contains(&set, 9));
	assert_false(imap_seqset_contains(&set, 2) || imap_seqset_contains(&set, 10));
	imap_seqset_free(&set);

	static const char *const bad[] = { "", "0", "1,", ",1", "1:", "a", "1:0", "4294967296",
					   "1 2", "01", "1,2,3,4,5,6,7,8,9,10,11" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (imap_seqset_parse(bad[i], 10, &set) == 0)
			fail_msg("\"%s\" parsed", bad[i]);
}

static void test_arg_helpers(void **state)
{
	struct imap_command c;
	const char *error;
	const char cmd[] = "a X NIL \"NIL\" (y)\r\n";
	assert_int_equal(imap_parse(cmd, strlen(cmd), &limits, &c, &error), 0);
	assert_true(imap_arg_atom_is(&c.args[0], "nil"));
	assert_false(imap_arg_atom_is(&c.args[1], "NIL"));
	assert_string_equal(imap_arg_astring(&c.args[1]), "NIL");
	assert_null(imap_arg_astring(&c.args[2]));
	imap_command_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_frame_streamed),
		cmocka_unit_test(test_frame_state),
		cmocka_unit_test(test_frame_then_parse),
		cmocka_unit_test(test_seqset),
		cmocka_unit_test(test_arg_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
