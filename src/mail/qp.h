/* Quoted-printable (RFC 2045 6.7): encoding text for 7-bit transport (the outbound SMTP
 * client downgrading 8-bit mail for a server without 8BITMIME, RFC 6152; the mail client's
 * non-ASCII text) and decoding it (reading and searching mail). Pure functions. */
#ifndef ESTAFETA_QP_H
#define ESTAFETA_QP_H
#include "core/buf.h"
#include <stddef.h>

/* Appends the quoted-printable form of text (lines ended by CRLF or LF) to out, with CRLF
 * line ends: "=", octets above 126 and controls other than tab as "=XX", a space or tab that
 * ends a line as "=20"/"=09", and a soft line break ("=" CRLF) so no line passes 76 octets.
 * A lone CR is encoded, so the result is exactly the original once decoded. */
void qp_encode(const char *text, size_t len, buf *out);
/* Appends the decoded octets of quoted-printable text to out: "=XX" (either case), soft line
 * breaks removed, whitespace before a line end dropped (6.7 rule 3); an "=" that starts
 * nothing valid is kept as it is, as robust decoders do. */
void qp_decode(const char *text, size_t len, buf *out);
/* The value of a hexadecimal digit (either case), or -1. */
int qp_hex_value(char c);
#endif
