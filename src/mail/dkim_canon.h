/* DKIM canonicalization (RFC 6376 3.4), the "relaxed" forms of header fields (3.4.2) and of
 * the body (3.4.4): the only ones estafeta signs with, since they survive the re-folding and
 * trailing-space changes that relays make. Pure functions over byte buffers; lines end in
 * CRLF as SMTP carries them (a bare CR or LF is an ordinary octet). */
#ifndef ESTAFETA_DKIM_CANON_H
#define ESTAFETA_DKIM_CANON_H
#include "core/buf.h"
#include <stddef.h>

/* Appends the relaxed form of the field name: value (value as header_next gives it: after
 * the colon, folded lines included, the final CRLF excluded) to out: the name lower-cased,
 * the value unfolded, every run of spaces and tabs one space, none at its start or end, and
 * CRLF after it. */
void dkim_canon_header(const char *name, size_t name_len, const char *value, size_t value_len,
		       buf *out);

/* Receives the canonical body in pieces, in order. */
typedef void dkim_body_fn(const char *data, size_t len, void *arg);
/* Gives emit the relaxed form of body[0..len): every run of spaces and tabs one space, none
 * at a line's end, no empty lines at the end, and a CRLF after a last line that lacks one.
 * An empty body (or one of empty lines only) gives nothing. */
void dkim_canon_body(const char *body, size_t len, dkim_body_fn *emit, void *arg);
#endif
