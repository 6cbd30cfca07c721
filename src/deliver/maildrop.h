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
#include <stddef.h>

#define MAILDROP_MAX_RECIPIENTS 1000

struct maildrop_envelope {
	char *sender;      /* canonical, "" for the null sender */
	strlist rcpts;     /* canonical "local@domain", duplicates removed */
	size_t body_off;   /* where the message starts */
};

/* Appends the envelope part of a maildrop file to out. */
void maildrop_write_envelope(buf *out, const char *sender, const char *const *rcpts, size_t count);
/* Reads the envelope of data[0..len). Returns 0, or -1 with *error_r (static text) for a file
 * that breaks the format; env is then empty. Free with maildrop_envelope_free. */
int maildrop_parse(const char *data, size_t len, struct maildrop_envelope *env,
		   const char **error_r);
void maildrop_envelope_free(struct maildrop_envelope *env);
#endif
