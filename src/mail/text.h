/* The text of a message as a reader sees it, for search (IMAP SEARCH TEXT and BODY, RFC 3501
 * 6.4.4, and the full-text index): the header fields with encoded words decoded (RFC 2047),
 * and the text of the body: every text part with its transfer encoding undone and its
 * charset converted, HTML reduced to its text. Attachments that are not text, and images,
 * are left out, as Dovecot's full-text search does. Pure functions; the output is UTF-8. */
#ifndef ESTAFETA_TEXT_H
#define ESTAFETA_TEXT_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

/* Appends "Name: value\n" for each header field of the message to header (the value decoded,
 * spacing as written after the colon), and the text of its body parts, each ended by "\n",
 * to body. Either may be NULL. */
void message_text(const char *msg, size_t len, buf *header, buf *body);
/* True when text[0..len) is valid UTF-8. */
bool text_is_utf8(const char *text, size_t len);
#endif
