/* A message as a local program hands it to `estafeta sendmail`: lines ended by LF (or
 * CRLF), perhaps no header at all, perhaps lines too long for SMTP. local_message makes it a
 * message SMTP can carry, the way Postfix's sendmail and cleanup do: CRLF line ends (a lone CR
 * ends a line too); a leading mbox "From " line dropped; From, Date and Message-ID added when missing; Bcc removed
 * (after -t took its addresses); and a message without MIME whose lines pass 998 octets
 * re-encoded as quoted-printable (RFC 5322 2.1.1) rather than refused. Pure function. */
#ifndef ESTAFETA_LOCAL_MESSAGE_H
#define ESTAFETA_LOCAL_MESSAGE_H
#include "core/buf.h"
#include "core/strlist.h"
#include <stdbool.h>
#include <time.h>

struct local_message_opts {
	bool dot_ends;          /* a line of a single "." ends the input (sendmail without -i) */
	bool extract;           /* -t: recipients from To, Cc and Bcc */
	const char *from_addr;  /* for a missing From: the sender */
	const char *from_name;  /* and its display name, or NULL */
	const char *origin;     /* domain for unqualified addresses and the Message-ID */
	time_t now;
};

/* Writes the message to out and, with extract, appends the header recipients (qualified
 * with origin, canonical, each once) to rcpts. Returns 0, or -1 with *error_r (static) when
 * it cannot be sent: a header line over 998 octets, a MIME message with such a body line,
 * a recipient in the header that is not an address. */
int local_message(const char *in, size_t len, const struct local_message_opts *o, buf *out,
		  strlist *rcpts, const char **error_r);
/* The canonical form of a mailbox given to sendmail, "user" becoming "user@origin". Returns 0
 * and the address in out (size >= 4*64+257+3), or -1. */
int local_address(const char *s, size_t len, const char *origin, char *out, size_t outlen);
#endif
