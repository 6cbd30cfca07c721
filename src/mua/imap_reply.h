/* Reading what an IMAP server sends (RFC 3501 9, formal syntax of responses): a response line
 * with its literals in place ("{n}" CRLF and n octets, as the client gathers them) becomes a
 * tree of values: atoms (including "\Seen", numbers, and section specs such as
 * "BODY[HEADER.FIELDS (FROM)]" whose brackets may hold spaces), strings (quoted or literal,
 * any octets), NIL, and parenthesised lists. Pure; a fuzz target drives it. */
#ifndef ESTAFETA_MUA_IMAP_REPLY_H
#define ESTAFETA_MUA_IMAP_REPLY_H
#include <stdbool.h>
#include <stddef.h>

#define IMAP_REPLY_MAX_DEPTH 64

enum imap_value_kind { IMAP_NIL, IMAP_ATOM, IMAP_STRING, IMAP_LIST };

struct imap_value {
	enum imap_value_kind kind;
	char *data;                 /* atoms and strings, NUL-terminated (a string may hold NULs) */
	size_t len;
	struct imap_value *items;   /* lists */
	size_t count;
};

/* Parses text[0..len) into *top, a list of every value on the line. Returns 0, or -1 when it
 * breaks the syntax (unbalanced parentheses or quotes, a literal longer than what follows,
 * nesting past the limit); *top then holds what was read before. Free with
 * imap_value_free. */
int imap_reply_parse(const char *text, size_t len, struct imap_value *top);
void imap_value_free(struct imap_value *v);

/* Helpers for reading a tree. */
bool imap_value_is(const struct imap_value *v, const char *atom); /* an atom, any case */
/* In a FETCH attribute list (name value name value ...), the value after the atom name. */
const struct imap_value *imap_value_get(const struct imap_value *list, const char *name);
/* The value as a string (atom or string), "" for NIL or a list. */
const char *imap_value_str(const struct imap_value *v);
#endif
