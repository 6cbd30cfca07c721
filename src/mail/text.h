/* The text of a message as a reader sees it, for search (IMAP SEARCH TEXT and BODY, RFC 3501
 * 6.4.4, and the full-text index): the header fields with encoded words decoded (RFC 2047),
 * and the text of the body: every text part with its transfer encoding undone and its
 * charset converted, HTML reduced to its text. Attachments that are not text, and images,
 * are left out, as Dovecot's full-text search does. The mail client shows messages with the
 * same pieces. Pure functions; the output is UTF-8. */
#ifndef ESTAFETA_TEXT_H
#define ESTAFETA_TEXT_H
#include "core/buf.h"
#include "mail/mime.h"
#include <stdbool.h>
#include <stddef.h>

/* Appends "Name: value\n" for each header field of the message to header (the value as
 * text_header_field gives it, spacing as written after the colon), and the text of its body
 * parts, each ended by "\n", to body. Either may be NULL. */
void message_text(const char *msg, size_t len, buf *header, buf *body);
/* Appends the body of part p of msg with its transfer encoding (base64, quoted-printable)
 * undone: the octets of an attachment. */
void text_part_decode(const char *msg, const struct mime_part *p, buf *out);
/* Appends the text of part p as UTF-8 (its charset converted, HTML reduced to text), ended
 * by "\n". */
void text_part(const char *msg, const struct mime_part *p, buf *out);
/* Appends a header field's value with encoded words decoded, as UTF-8. */
void text_header_value(const char *value, size_t len, buf *out);
/* As text_header_value for the field name[0..name_len); an address field (From, Sender,
 * Reply-To, To, Cc, Bcc) is followed by its addresses as a reader sees them, comments and
 * routes gone ("Name <local@domain>, local@domain"), when that differs from the value, so
 * that a search for "user@domain.org" finds <user (comment)@ (comment) domain.org>. */
void text_header_field(const char *name, size_t name_len, const char *value, size_t len, buf *out);
/* True when text[0..len) is valid UTF-8. */
bool text_is_utf8(const char *text, size_t len);
#endif
