/* The MIME structure of a message (RFC 2045, 2046, 2183, 2231): which parts it has, nested
 * multiparts and message/rfc822, each part's header and body as byte offsets into the message,
 * body sizes and line counts, and the fields IMAP's BODYSTRUCTURE reports (Content-Type with
 * its parameters, Content-ID, -Description, -Transfer-Encoding, -MD5, -Disposition,
 * -Language, -Location). FETCH BODY[1.2] and BODYSTRUCTURE read the tree; nothing re-parses.
 *
 * A pure function over a complete message in memory: IMAP only ever needs the structure of a
 * message already stored whole, so the parser is not resumable. Broken MIME still gives a
 * tree (as Dovecot's message-parser does): a missing close delimiter ends the last part at
 * the end of the enclosing body, a multipart with no boundary or no parts gets one empty
 * text/plain part, and what lies beyond the limits becomes application/octet-stream leaves. */
#ifndef ESTAFETA_MIME_H
#define ESTAFETA_MIME_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every bound of the parser in one place. */
struct mime_limits {
	unsigned max_depth;  /* nesting of multiparts and message/rfc822 below the root */
	unsigned max_parts;  /* parts in the whole tree, the root included */
	unsigned max_params; /* parameters kept per Content-Type or Content-Disposition */
};
/* 20 levels and 1000 parts, as Dovecot's defaults (mail_max_nesting, parts); 64 parameters. */
extern const struct mime_limits mime_default_limits;

/* A parameter as the message has it, RFC 2231 continuations joined: name without "*" or
 * section number; for an extended value (name*=...) value keeps the charset'language'
 * prefix and the %-encoding, exactly as Dovecot reports it in BODYSTRUCTURE ("name*"). */
struct mime_param {
	char *name;
	char *value;
	bool extended;
};

/* A field with a value and parameters (Content-Type, Content-Disposition). */
struct mime_value {
	char *value;               /* "text/plain" split below for Content-Type; NULL: absent */
	struct mime_param *params;
	size_t param_count;
};

#define MIME_NONE (-1)

struct mime_part {
	/* The tree: indexes into mime_tree.parts, MIME_NONE when there is none. Parts are in
	 * depth-first order, so a part's descendants follow it. */
	int parent, first_child, next_sibling;
	unsigned child_count;
	unsigned depth;
	/* Where it is: the header section runs from hdr_off for hdr_len octets (the empty line
	 * included, when there is one), then the body for body_len octets. */
	size_t hdr_off, hdr_len;
	size_t body_off, body_len;
	size_t body_lines;         /* line ends in the body */
	/* Content-Type: type and subtype as written (compare case-insensitively), defaulted
	 * when absent or unreadable (text/plain, or message/rfc822 inside multipart/digest). */
	char *type, *subtype;
	bool type_given;           /* a readable Content-Type field was there */
	struct mime_param *params;
	size_t param_count;
	/* Other fields, unfolded and trimmed; NULL when absent. */
	char *id, *description, *encoding, *md5, *language, *location;
	struct mime_value disposition;
};

struct mime_tree {
	struct mime_part *parts;   /* parts[0] is the whole message */
	size_t count;
	bool truncated;            /* a limit was reached somewhere */
};

/* Parses msg[0..len) into *tree, which the caller frees with mime_tree_free. Never fails. */
void mime_parse(const char *msg, size_t len, const struct mime_limits *limits,
		struct mime_tree *tree);
void mime_tree_free(struct mime_tree *tree);

/* True when the part's type/subtype is the one given (case-insensitive; subtype NULL: any). */
bool mime_part_is(const struct mime_part *p, const char *type, const char *subtype);
/* True for an encapsulated message: message/rfc822, or message/global (RFC 6532 3.7), whose
 * header may hold UTF-8. */
bool mime_part_is_message(const struct mime_part *p);
/* The value of the parameter named name (case-insensitive) among params, or NULL. */
const char *mime_param_get(const struct mime_param *params, size_t count, const char *name);

/* Converts in from charset (any iconv knows) to UTF-8, appending to out. Returns 0, or -1
 * with out unchanged when the charset is unknown or the text is not in it. */
int mime_to_utf8(const char *charset, const char *in, size_t len, buf *out);
/* Appends to out the value of a header field with RFC 2047 encoded words decoded to UTF-8
 * (unfolded; charsets iconv knows, others left encoded as written). */
void mime_header_decode(const char *value, size_t len, buf *out);
#endif
