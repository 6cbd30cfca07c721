/* Pure parser for POP3 command lines (RFC 1939 3, RFC 2449 3 and 4):
 *     command = keyword *(SP param) CRLF    ; 255 octets maximum
 *     keyword = 3*4VCHAR, param = 1*VCHAR
 * No I/O, no globals; the session (pop3_session.c) turns the errors into -ERR replies. */
#ifndef ESTAFETA_POP3_PARSE_H
#define ESTAFETA_POP3_PARSE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POP3_COMMAND_MAX 255 /* octets of a command line with its CRLF (RFC 2449 4) */
#define POP3_LINE_MAX (POP3_COMMAND_MAX - 2)
#define POP3_KEYWORD_MAX 4
#define POP3_ARGS_MAX 2      /* no command takes more: APOP name digest, TOP msg n */

struct pop3_arg {
	const char *data;    /* points into the line; not NUL-terminated */
	size_t len;
};

struct pop3_command {
	char keyword[POP3_KEYWORD_MAX + 1]; /* upper-cased */
	size_t argc;                        /* how many arguments there were, even beyond ARGS_MAX */
	struct pop3_arg args[POP3_ARGS_MAX];
	const char *rest;                   /* everything after the keyword's space, as sent: PASS
	                                       takes it whole, spaces included (RFC 1939 7) */
	size_t rest_len;
};

enum pop3_parse_error {
	POP3_PARSE_OK,
	POP3_PARSE_TOO_LONG, /* over POP3_LINE_MAX octets */
	POP3_PARSE_KEYWORD,  /* no keyword of 3 or 4 printable characters, or no space after it */
	POP3_PARSE_CONTROL,  /* a control character (NUL, CR, LF, DEL, ...) in the line */
};

/* Splits a command line (without its line end). Arguments are separated by one or more
 * spaces, and spaces at the end are ignored: RFC 1939 asks for single spaces, but clients
 * that send two are common enough that refusing them helps nobody. Octets above 127 are taken
 * in arguments, for UTF-8 user names and passwords. */
enum pop3_parse_error pop3_command_parse(const char *line, size_t len, struct pop3_command *out);

/* A message-number or line count: 1 to 10 decimal digits, at most UINT32_MAX, nothing else
 * (no sign, no spaces). Returns 0, or -1 when arg is no such number. */
int pop3_parse_number(const struct pop3_arg *arg, uint32_t *out);
#endif
