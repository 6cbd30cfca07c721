/* Mailbox names in modified UTF-7 (RFC 3501 5.1.3), the form clients that have not enabled
 * UTF8=ACCEPT (RFC 6855) use. The store keeps names in UTF-8; the session converts at the
 * protocol's edge. Pure functions. */
#ifndef ESTAFETA_IMAP_MUTF7_H
#define ESTAFETA_IMAP_MUTF7_H
#include "core/buf.h"

/* Appends the modified UTF-7 form of the UTF-8 name to out. -1 (out unchanged) when name is
 * not valid UTF-8. */
int imap_mutf7_encode(const char *utf8, buf *out);
/* Appends the UTF-8 form of a modified UTF-7 name to out. -1 when it is not valid modified
 * UTF-7: 8-bit octets, "&" not closed by "-", bad base64, a run that encodes printable
 * ASCII or could be shorter, broken UTF-16 (RFC 3501 5.1.3 asks servers to refuse them). */
int imap_mutf7_decode(const char *mutf7, buf *out);
#endif
