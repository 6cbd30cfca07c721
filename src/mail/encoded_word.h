/* Writing header fields that may hold any text: RFC 2047 encoded words for text that is not
 * ASCII (UTF-8, "B" encoding, each word at most 75 octets and never splitting a character),
 * and folding (RFC 5322 2.2.3) so no line passes 78 octets where spaces allow. Reading them
 * back is mime_header_decode (mime.h). Pure functions. */
#ifndef ESTAFETA_ENCODED_WORD_H
#define ESTAFETA_ENCODED_WORD_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

/* True when text holds octets a header cannot carry as they are (non-ASCII, controls). */
bool encoded_word_needed(const char *text, size_t len);
/* Appends text as encoded words, the first starting at the given column; the later ones
 * each on a folded line of their own. */
void encoded_word_write(buf *out, const char *text, size_t len, size_t column);
/* Appends the whole field "Name: text" CRLF: encoded words when needed, else folded at
 * spaces. */
void header_write_text(buf *out, const char *name, const char *text);
#endif
