/* The SMTP client's reply parser (RFC 5321 4.2): pure functions over the lines a server sends,
 * with no I/O, so the unit test and the fuzzer call them directly.
 *
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                Reply-code [ SP textstring ] CRLF
 *   Reply-code = %x32-35 %x30-35 %x30-39
 *
 * A reply of several lines is fed one line at a time (without its CRLF) until it is complete.
 * The EHLO reply's lines after the first are ehlo-lines (RFC 5321 4.1.1.1):
 *   ehlo-line = ehlo-keyword *( SP ehlo-param )
 * which smtp_ehlo_parse turns into the extensions the client uses. */
#ifndef ESTAFETA_SMTP_REPLY_H
#define ESTAFETA_SMTP_REPLY_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets; servers send longer ones, so the
 * client allows what Postfix's smtp client does before it gives up on a line. */
#define SMTP_REPLY_LINE_MAX 4096
/* Lines in one reply (EHLO lists its extensions); more is a broken server. */
#define SMTP_REPLY_LINES_MAX 100

struct smtp_reply {
	int code;       /* 200..599 once complete */
	size_t lines;
	buf text;       /* the lines' texts, joined by "\n" (without the codes) */
};

void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
/* Starts the next reply (keeps the buffer). */
void smtp_reply_clear(struct smtp_reply *r);

/* Adds one line. Returns 1 when the reply is complete, 0 when more lines follow, -1 when the
 * line is not a reply line or its code differs from the previous lines' (a broken server). */
int smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len);

/* The enhanced status code (RFC 3463 "class.subject.detail") at the start of the text, copied
 * into out (size >= 16); else one made from the reply code's class ("4.0.0", "5.0.0"). */
void smtp_reply_status(const struct smtp_reply *r, char *out, size_t outlen);

/* The text as one line, for logs and DSNs: "550 5.1.1 No such user" with the lines joined by
 * spaces. Allocated. */
char *smtp_reply_oneline(const struct smtp_reply *r);

enum smtp_ext {
	SMTP_EXT_STARTTLS = 1 << 0,
	SMTP_EXT_PIPELINING = 1 << 1,
	SMTP_EXT_SIZE = 1 << 2,
	SMTP_EXT_8BITMIME = 1 << 3,
	SMTP_EXT_SMTPUTF8 = 1 << 4,
	SMTP_EXT_DSN = 1 << 5,
	SMTP_EXT_CHUNKING = 1 << 6,
	SMTP_EXT_AUTH_PLAIN = 1 << 7,
	SMTP_EXT_ENHANCEDSTATUSCODES = 1 << 8,
	SMTP_EXT_AUTH_SCRAM_SHA_256 = 1 << 9,
};

struct smtp_ehlo {
	unsigned ext;      /* enum smtp_ext bits */
	uint64_t size_max; /* SIZE's parameter; 0 when none given */
};

/* The extensions a complete 250 EHLO reply offers (keywords case-insensitive). */
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *out);
#endif
