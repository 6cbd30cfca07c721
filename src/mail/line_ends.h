/* Line ends between the two forms mail lives in: CRLF, as SMTP carries messages and the store
 * keeps them (so IMAP's sizes and literals are right), and LF alone, as Maildir and mbox files
 * usually hold them. Pure functions. */
#ifndef ESTAFETA_LINE_ENDS_H
#define ESTAFETA_LINE_ENDS_H
#include "core/buf.h"
#include <stddef.h>

/* Appends in to out with every LF not after a CR made CRLF; all else as it is. */
void line_ends_crlf(const char *in, size_t len, buf *out);
/* The length line_ends_crlf would give. */
size_t line_ends_crlf_len(const char *in, size_t len);
/* Appends in to out with every CRLF made LF; all else as it is. */
void line_ends_lf(const char *in, size_t len, buf *out);
#endif
