/* Base64 (RFC 4648 section 4) as SASL exchanges and MIME use it. Pure functions. */
#ifndef ESTAFETA_BASE64_H
#define ESTAFETA_BASE64_H
#include "core/buf.h"
#include <stddef.h>

/* Appends the encoding of in (no line breaks) to out. */
void base64_encode(const void *in, size_t len, buf *out);
/* Appends the decoding of in to out. Strict: only the alphabet, '=' padding at the end and
 * a length that is a multiple of 4; returns 0, or -1 (out unchanged) for anything else. */
int base64_decode(const char *in, size_t len, buf *out);
/* Appends the decoding of a MIME body part (RFC 2045 6.8): characters outside the alphabet
 * (line breaks) are ignored and decoding stops at the first "="; never fails. */
void base64_decode_mime(const char *in, size_t len, buf *out);
#endif
