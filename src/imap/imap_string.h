/* Strings in IMAP responses (RFC 3501 4.3, RFC 9051 4.3, RFC 3516 4.2): the one place a
 * response writes a string or a literal, so that none goes out quoted with a CR, LF, NUL or
 * 8-bit octet in it, and no NUL goes out but in the literal8 of BINARY data. Pure functions
 * over buffers, tested by test-imap-string.c. */
#ifndef ESTAFETA_IMAP_STRING_H
#define ESTAFETA_IMAP_STRING_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

/* string = quoted / literal: appends s[0..len) quoted when every octet may stand in a quoted
 * string (QUOTED-CHAR: 7-bit, no CR, LF or NUL) and it is short enough to read, else as
 * imap_write_literal without binary. */
void imap_write_string(buf *out, const char *s, size_t len);
/* literal = "{" number "}" CRLF *CHAR8, where CHAR8 is any octet but NUL: appends s[0..len)
 * with each NUL sent as 0x80, as Dovecot does, so the size stays. With binary (BINARY's
 * decoded data): literal8 = "~{" number "}" CRLF *OCTET when s holds a NUL, its octets as
 * they are. */
void imap_write_literal(buf *out, const char *s, size_t len, bool binary);
#endif
