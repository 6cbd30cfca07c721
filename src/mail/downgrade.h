/* Making an 8-bit message 7-bit, for a server that does not offer 8BITMIME (RFC 6152 3 lets
 * the sender convert it, as RFC 1652 described). Pure function over a message in memory. */
#ifndef ESTAFETA_DOWNGRADE_H
#define ESTAFETA_DOWNGRADE_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

/* Writes into out the message with every part whose body holds 8-bit octets re-encoded as
 * quoted-printable (its Content-Transfer-Encoding says so), the multiparts and message/rfc822
 * parts that declared 8bit declaring 7bit, and, for a message without MIME, the MIME-Version
 * and a Content-Type of text/plain; charset=unknown-8bit (RFC 1428) so the octets survive.
 * Returns 0, or -1 when it cannot be done: 8-bit octets in a header section (that needs
 * SMTPUTF8), in a part already declared base64 or quoted-printable (it is broken), or
 * outside every part (a multipart's preamble or epilogue). out may then hold anything. */
int mime_downgrade(const char *msg, size_t len, buf *out);
/* True when p[0..len) holds an octet above 127. */
bool mime_has_8bit(const char *p, size_t len);
#endif
