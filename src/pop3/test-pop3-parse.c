/* Unit tests for pop3_parse.c: command lines (keyword, arguments, the rest for PASS, every
 * error), the 255-octet bound of RFC 2449, and message numbers. Each table row gives the line,
 * the expected result and, on success, a one-line summary of what was parsed. */
#include "pop3/pop3_parse.h"
#include "core/buf.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

struct parse_case {
	const char *line;
	enum pop3_parse_error err;
	const char *summary; /* "KEYWORD argc [arg] [arg] rest=<rest>" on success */
};

static void summarize(const struct pop3_command *cmd, buf *b)
{
	buf_printf(b, "%s %zu", cmd->keyword, cmd->argc);
	for (size_t i = 0; i < cmd->argc && i < POP3_ARGS_MAX; i++)
		buf_printf(b, " [%.*s]", (int)cmd->args[i].len, cmd->args[i].data);
	buf_printf(b, " rest=<%.*s>", (int)cmd->rest_len, cmd->rest);
}

static const struct parse_case cases[] = {
	{ "STAT", POP3_PARSE_OK, "STAT 0 rest=<>" },
	{ "stat", POP3_PARSE_OK, "STAT 0 rest=<>" },
	{ "Top 1 10", POP3_PARSE_OK, "TOP 2 [1] [10] rest=<1 10>" },
	{ "LIST 2", POP3_PARSE_OK, "LIST 1 [2] rest=<2>" },
	{ "LIST ", POP3_PARSE_OK, "LIST 0 rest=<>" },
	{ "LIST  2  ", POP3_PARSE_OK, "LIST 1 [2] rest=< 2  >" },
	{ "APOP mrose c4c9334bac560ecc979e58001b3e22fb", POP3_PARSE_OK,
	  "APOP 2 [mrose] [c4c9334bac560ecc979e58001b3e22fb] rest=<mrose c4c9334bac560ecc979e58001b3e22fb>" },
	{ "PASS a pass phrase", POP3_PARSE_OK, "PASS 3 [a] [pass] rest=<a pass phrase>" },
	{ "PASS  lead", POP3_PARSE_OK, "PASS 1 [lead] rest=< lead>" },
	{ "PASS p\xc3\xa4ss", POP3_PARSE_OK, "PASS 1 [p\xc3\xa4ss] rest=<p\xc3\xa4ss>" },
	{ "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", POP3_PARSE_OK,
	  "AUTH 2 [PLAIN] [dGVzdAB0ZXN0AHRlc3Q=] rest=<PLAIN dGVzdAB0ZXN0AHRlc3Q=>" },
	{ "X-1", POP3_PARSE_OK, "X-1 0 rest=<>" },
	{ "", POP3_PARSE_KEYWORD, NULL },
	{ " STAT", POP3_PARSE_KEYWORD, NULL },
	{ "ST", POP3_PARSE_KEYWORD, NULL },
	{ "ST 1", POP3_PARSE_KEYWORD, NULL },
	{ "STATS", POP3_PARSE_KEYWORD, NULL },
	{ "ST\xc3\xa4", POP3_PARSE_KEYWORD, NULL },
	{ "STAT\t1", POP3_PARSE_CONTROL, NULL },
	{ "PASS a\x7f", POP3_PARSE_CONTROL, NULL },
	{ "PASS a\rb", POP3_PARSE_CONTROL, NULL },
};

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		struct pop3_command cmd;
		enum pop3_parse_error e = pop3_command_parse(c->line, strlen(c->line), &cmd);
		if (e != c->err)
			fail_msg("\"%s\": error %d, want %d", c->line, e, c->err);
		if (e != POP3_PARSE_OK)
			continue;
		buf b;
		buf_init(&b);
		summarize(&cmd, &b);
		if (strcmp(b.data, c->summary) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", c->line, b.data, c->summary);
		buf_free(&b);
	}
}

/* A NUL inside the line is a control character, not the end of the line. */
static void test_nul(void **state)
{
	struct pop3_command cmd;
	assert_int_equal(pop3_command_parse("USER a\0b", 8, &cmd), POP3_PARSE_CONTROL);
	assert_int_equal(pop3_command_parse("STAT\0", 5, &cmd), POP3_PARSE_CONTROL);
}

/* RFC 2449 4: 255 octets with CRLF; one more is refused. */
static void test_length(void **state)
{
	char line[POP3_LINE_MAX + 2];
	struct pop3_command cmd;
	memset(line, 'a', sizeof(line));
	memcpy(line, "PASS ", 5);
	assert_int_equal(pop3_command_parse(line, POP3_LINE_MAX, &cmd), POP3_PARSE_OK);
	assert_int_equal(cmd.rest_len, POP3_LINE_MAX - 5);
	assert_int_equal(pop3_command_parse(line, POP3_LINE_MAX + 1, &cmd), POP3_PARSE_TOO_LONG);
	/* many arguments: counted, only the first ones kept */
	for (size_t i = 5; i < sizeof(line); i += 2)
		line[i] = ' ';
	assert_int_equal(pop3_command_parse(line, POP3_LINE_MAX, &cmd), POP3_PARSE_OK);
	assert_true(cmd.argc > POP3_ARGS_MAX);
	assert_int_equal(cmd.args[1].len, 1);
}

/* Every prefix of a valid line parses or fails cleanly, and what parses points into it. */
static void test_prefixes(void **state)
{
	const char *line = "TOP 12 345";
	for (size_t n = 0; n <= strlen(line); n++) {
		struct pop3_command cmd;
		if (pop3_command_parse(line, n, &cmd) != POP3_PARSE_OK)
			continue;
		assert_true(n >= 3);
		assert_true(cmd.rest + cmd.rest_len == line + n);
		for (size_t i = 0; i < cmd.argc && i < POP3_ARGS_MAX; i++)
			assert_true(cmd.args[i].data + cmd.args[i].len <= line + n);
	}
}

static void test_number(void **state)
{
	static const struct {
		const char *text;
		int r;
		uint32_t value;
	} numbers[] = {
		{ "1", 0, 1 }, { "0", 0, 0 }, { "007", 0, 7 }, { "4294967295", 0, UINT32_MAX },
		{ "4294967296", -1, 0 }, { "99999999999", -1, 0 }, { "", -1, 0 }, { "-1", -1, 0 },
		{ "+1", -1, 0 }, { "1a", -1, 0 }, { " 1", -1, 0 }, { "0x10", -1, 0 },
	};
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		struct pop3_arg arg = { numbers[i].text, strlen(numbers[i].text) };
		uint32_t v = 12345;
		int r = pop3_parse_number(&arg, &v);
		if (r != numbers[i].r || (r == 0 && v != numbers[i].value))
			fail_msg("\"%s\": %d %u", numbers[i].text, r, v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),    cmocka_unit_test(test_nul),
		cmocka_unit_test(test_length),   cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
