/* Pure parsers for the SMTP server: command lines (RFC 5321 4.1.1), the MAIL and RCPT
 * arguments with their extension parameters (SIZE RFC 1870, BODY RFC 6152, SMTPUTF8 RFC 6531,
 * RET/ENVID/NOTIFY/ORCPT RFC 3461, AUTH RFC 4954), and BDAT's arguments (RFC 3030). No I/O, no
 * globals; the session turns the error values into replies (smtp_reply.c). */
#ifndef ESTAFETA_SMTP_PARSE_H
#define ESTAFETA_SMTP_PARSE_H
#include "mail/address.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_VERB_MAX 16

/* A command line split into verb and argument. verb is upper-cased; arg points into the
 * line (after the single space that follows the verb) and is not NUL-terminated. */
struct smtp_command {
	char verb[SMTP_VERB_MAX + 1];
	const char *arg;
	size_t arg_len;
};

/* Splits a command line (without its CRLF). Returns 0, or -1 when the line does not start with
 * a verb of 1..16 letters followed by end of line or a space. */
int smtp_command_split(const char *line, size_t len, struct smtp_command *out);

enum smtp_parse_error {
	SMTP_PARSE_OK = 0,
	SMTP_PARSE_ARG_SYNTAX,    /* "FROM:" / "TO:" missing, or bad BDAT arguments: 501 5.5.2 */
	SMTP_PARSE_PATH_SYNTAX,   /* bad address: 501 5.1.7 (sender) / 501 5.1.3 (recipient) */
	SMTP_PARSE_PATH_TOO_LONG, /* RFC 5321 4.5.3.1 limits: 501 5.1.7 / 5.1.3 with reason */
	SMTP_PARSE_NEEDS_UTF8,    /* non-ASCII address without SMTPUTF8: 553 5.6.7 */
	SMTP_PARSE_PARAM_SYNTAX,  /* a known parameter with a bad value: 501 5.5.4 */
	SMTP_PARSE_PARAM_UNKNOWN, /* a parameter we do not implement: 555 5.5.4 */
	SMTP_PARSE_PARAM_DUPLICATE, /* the same parameter twice: 501 5.5.4 */
};

enum smtp_body { SMTP_BODY_UNSET, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };
enum smtp_ret { SMTP_RET_UNSET, SMTP_RET_FULL, SMTP_RET_HDRS };
enum smtp_notify {
	SMTP_NOTIFY_NEVER = 1 << 0,
	SMTP_NOTIFY_SUCCESS = 1 << 1,
	SMTP_NOTIFY_FAILURE = 1 << 2,
	SMTP_NOTIFY_DELAY = 1 << 3,
};

#define SMTP_ENVID_MAX 100  /* RFC 3461 4.4 */
#define SMTP_ORCPT_MAX 500  /* RFC 3461 4.2, after xtext decoding */

struct smtp_mail_args {
	struct address from;
	bool has_size;
	uint64_t size;
	enum smtp_body body;
	bool smtputf8;
	enum smtp_ret ret;
	char envid[SMTP_ENVID_MAX + 1]; /* xtext-decoded; "" when not given */
};

struct smtp_rcpt_args {
	struct address to;
	unsigned notify;                 /* enum smtp_notify bits; 0 when not given */
	char orcpt[SMTP_ORCPT_MAX + 1];  /* "addr-type;address" decoded; "" when not given */
};

/* arg is what follows "MAIL" ("FROM:<a@b> SIZE=10 ..."). "FROM:" is matched case-insensitively;
 * one space after the colon is tolerated, as Postfix does for old clients. */
enum smtp_parse_error smtp_parse_mail(const char *arg, size_t len, struct smtp_mail_args *out);
/* arg is what follows "RCPT" ("TO:<a@b> NOTIFY=..."). utf8 tells whether MAIL gave SMTPUTF8.
 * "TO:<Postmaster>" (no domain) is accepted, as RFC 5321 4.1.1.3 requires: out->to.local is
 * "Postmaster" and out->to.domain empty. */
enum smtp_parse_error smtp_parse_rcpt(const char *arg, size_t len, bool utf8,
				      struct smtp_rcpt_args *out);
/* arg is what follows "BDAT" ("1000" or "1000 LAST"). */
enum smtp_parse_error smtp_parse_bdat(const char *arg, size_t len, uint64_t *size_r, bool *last_r);

/* Decodes RFC 3461 xtext ("+2B" escapes) into out (outlen includes the NUL). Returns the
 * decoded length, or -1 when malformed or too long. */
int xtext_decode(const char *in, size_t len, char *out, size_t outlen);
#endif
