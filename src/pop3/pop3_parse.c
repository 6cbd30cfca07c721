/* The POP3 command line parser; see pop3_parse.h. */
#include "pop3/pop3_parse.h"

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

enum pop3_parse_error pop3_command_parse(const char *line, size_t len, struct pop3_command *out)
{
	if (len > POP3_LINE_MAX)
		return POP3_PARSE_TOO_LONG;
	for (size_t i = 0; i < len; i++)
		if (is_control((unsigned char)line[i]))
			return POP3_PARSE_CONTROL;
	size_t n = 0;
	/* keyword = 3*4VCHAR: printable, so neither a space nor an octet above 127. */
	while (n < len && line[n] != ' ') {
		unsigned char c = (unsigned char)line[n];
		if (n == POP3_KEYWORD_MAX || c > 0x7e)
			return POP3_PARSE_KEYWORD;
		out->keyword[n] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
		n++;
	}
	if (n < 3)
		return POP3_PARSE_KEYWORD;
	out->keyword[n] = '\0';
	if (n < len)
		n++; /* the space after the keyword */
	out->rest = line + n;
	out->rest_len = len - n;
	out->argc = 0;
	while (n < len) {
		while (n < len && line[n] == ' ')
			n++;
		size_t start = n;
		while (n < len && line[n] != ' ')
			n++;
		if (n == start)
			break;
		if (out->argc < POP3_ARGS_MAX) {
			out->args[out->argc].data = line + start;
			out->args[out->argc].len = n - start;
		}
		out->argc++;
	}
	return POP3_PARSE_OK;
}

int pop3_parse_number(const struct pop3_arg *arg, uint32_t *out)
{
	if (arg->len == 0 || arg->len > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < arg->len; i++) {
		char c = arg->data[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (uint64_t)(c - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}
