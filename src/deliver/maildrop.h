/* The maildrop: how `estafeta sendmail` hands a message to the server with no network and no
 * password. sendmail writes one file per message into data_dir/maildrop (mode 1733: anyone
 * may add a file, nobody but the server may list or remove others'), under a hidden name
 * first, fsync'd, then renamed to its final name; the server picks it up (pickup.c). A file
 * is an envelope, then the message:
 *     "estafeta-maildrop 1" LF
 *     "sender " reverse-path LF        ("<>" or "<local@domain>")
 *     "recipient " mailbox LF          (one or more, "local@domain")
 *     LF
 *     the message: CRLF line ends only, no line over 998 octets (RFC 5322 2.1.1)
 * The parser is pure: the server reads files anyone could have written. */
#ifndef ESTAFETA_MAILDROP_H
#define ESTAFETA_MAILDROP_H
#include "core/buf.h"
#include "core/strlist.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAILDROP_MAX_RECIPIENTS 1000
/* An envelope of the most recipients at their longest fits well within this. */
#define MAILDROP_ENVELOPE_MAX (1024 * 1024)

struct maildrop_envelope {
	char *sender;      /* canonical, "" for the null sender */
	strlist rcpts;     /* canonical "local@domain", duplicates removed */
	size_t body_off;   /* where the message starts */
};

/* Appends the envelope part of a maildrop file to out. */
void maildrop_write_envelope(buf *out, const char *sender, const char *const *rcpts, size_t count);
/* Reads the envelope at the start of data[0..len), which may hold only the first part of a
 * file. Returns 1 with env filled (free with maildrop_envelope_free), 0 when the envelope
 * does not end within len (read more), or -1 with *error_r (static text) for a file that
 * breaks the format; env is empty unless it returns 1. */
int maildrop_parse_envelope(const char *data, size_t len, struct maildrop_envelope *env,
			    const char **error_r);

/* The message after the envelope, checked as it streams past in pieces of any size. */
struct maildrop_body {
	uint64_t seen;  /* octets fed */
	size_t line;    /* octets of the current line */
	bool cr;        /* the last octet was a CR */
	bool bad;
	char last;
};
#define MAILDROP_BODY_ERROR "the message has a bare CR or LF, a line over 998 octets, or no final CRLF"
void maildrop_body_feed(struct maildrop_body *b, const char *s, size_t len);
/* True when everything fed so far is a whole message SMTP can carry. */
bool maildrop_body_valid(const struct maildrop_body *b);

/* A whole file in data[0..len): the envelope and a valid message. Returns 0, or -1 with
 * *error_r (static text); env is then empty. Free with maildrop_envelope_free. */
int maildrop_parse(const char *data, size_t len, struct maildrop_envelope *env,
		   const char **error_r);
void maildrop_envelope_free(struct maildrop_envelope *env);
#endif
