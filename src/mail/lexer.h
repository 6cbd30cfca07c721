/* The lexer of structured field values (RFC 2045 5.1, RFC 5322 3.2.2), shared by the MIME
 * parser and the Authentication-Results reader:
 * tspecials := "(" / ")" / "<" / ">" / "@" / "," / ";" / ":" / "\" / <"> / "/" / "[" / "]" /
 *              "?" / "="
 * token     := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>
 * Comments may appear wherever white space may, and nest. */
#ifndef ESTAFETA_LEXER_H
#define ESTAFETA_LEXER_H
#include "core/buf.h"
#include <stdbool.h>

struct lexer {
	const char *p, *end;
};

/* Octets above 127 are taken as token text: unencoded UTF-8 is common in real mail. */
bool lexer_is_token_char(char c);
/* Skips white space, line ends and (nested) comments. */
void lexer_skip_cfws(struct lexer *l);
/* Appends a token to out; false when none starts at l->p. */
bool lexer_token(struct lexer *l, buf *out);
/* quoted-string at l->p (its opening quote): appended with the quotes and backslashes
 * removed, folding line ends dropped (unfolding). An unclosed string runs to the end. */
void lexer_quoted(struct lexer *l, buf *out);
/* value := token / quoted-string. Real mail often has unquoted values with tspecials in them
 * (name=a/b.pdf, boundary=foo=bar); as Dovecot does, such a value runs to the next ";" or
 * white space. */
bool lexer_value(struct lexer *l, buf *out);
#endif
