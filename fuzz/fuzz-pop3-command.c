/* libFuzzer target for pop3_parse.c: parses the input as a command line and checks what a
 * successful parse promises (a keyword of 3 or 4 printable upper-case characters, arguments
 * and the rest inside the line, no spaces in arguments), then runs the number parser on every
 * argument. */
#include "pop3/pop3_parse.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_inside(const char *p, size_t len, const char *line, size_t line_len)
{
	if (p < line || p + len > line + line_len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct pop3_command cmd;
	if (pop3_command_parse(line, size, &cmd) != POP3_PARSE_OK)
		return 0;
	size_t klen = strlen(cmd.keyword);
	if (size > POP3_LINE_MAX || klen < 3 || klen > POP3_KEYWORD_MAX)
		abort();
	for (size_t i = 0; i < klen; i++)
		if (cmd.keyword[i] <= ' ' || cmd.keyword[i] > '~' ||
		    (cmd.keyword[i] >= 'a' && cmd.keyword[i] <= 'z'))
			abort();
	check_inside(cmd.rest, cmd.rest_len, line, size);
	for (size_t i = 0; i < cmd.argc && i < POP3_ARGS_MAX; i++) {
		const struct pop3_arg *a = &cmd.args[i];
		check_inside(a->data, a->len, line, size);
		if (a->len == 0 || memchr(a->data, ' ', a->len) != NULL)
			abort();
		uint32_t n;
		if (pop3_parse_number(a, &n) == 0 && (a->len > 10 || a->data[0] < '0' || a->data[0] > '9'))
			abort();
	}
	return 0;
}
