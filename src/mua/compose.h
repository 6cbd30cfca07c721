/* Writing a message (RFC 5322 and MIME, RFC 2045-2047, 2183, 2231): Date, Message-ID, From
 * with its display name, To and Cc (never Bcc), Reply-To, threading fields; a text body as
 * 7bit when it can be, else quoted-printable UTF-8; an HTML alternative; attachments in
 * base64 with their type and RFC 2231 file names; a forwarded message as message/rfc822.
 * Non-ASCII names and subjects become encoded words, and no line passes 998 octets. Pure. */
#ifndef ESTAFETA_MUA_COMPOSE_H
#define ESTAFETA_MUA_COMPOSE_H
#include "core/buf.h"
#include "core/strlist.h"
#include <stdbool.h>
#include <time.h>

struct attachment {
	const char *filename;  /* UTF-8, without folders */
	const char *type;      /* "application/pdf" */
	const char *data;
	size_t len;
};

struct compose {
	const char *from_name, *from_addr;
	const char *to, *cc, *reply_to;   /* address lists as the user wrote them, or NULL */
	const char *subject;
	const char *in_reply_to, *references; /* message ids with their brackets, or NULL */
	const char *text;
	size_t text_len;
	const char *html;                 /* NULL: text only */
	size_t html_len;
	const struct attachment *attachments;
	size_t attachment_count;
	const char *forwarded;            /* a message attached as message/rfc822, or NULL */
	size_t forwarded_len;
	time_t date;
	const char *message_id;           /* "<...>" */
	const char *extra_fields;         /* whole fields, CRLF-ended (Autocrypt), or NULL */
};

void compose_message(const struct compose *c, buf *out);
/* Appends every address of list (canonical "local@domain") to out; -1 with *bad_r pointing
 * into a static buffer naming the first item that is not an address. */
int compose_addresses(const char *list, strlist *out, const char **bad_r);
/* The media type for a file: by its extension, else text/plain for UTF-8 text, else
 * application/octet-stream. */
const char *compose_guess_type(const char *filename, const char *data, size_t len);
/* A new Message-ID for the domain of addr: "<time.random@domain>". Allocated. */
char *compose_message_id(const char *addr, time_t now);
/* A new multipart boundary. Allocated. */
char *compose_boundary(void);
/* Appends text with every line ended by CRLF, whatever it used, the last one included. */
void compose_crlf_text(buf *out, const char *s, size_t len);
/* Appends data in base64, 76 characters a line, each CRLF-ended. */
void compose_base64_lines(buf *out, const char *data, size_t len);
#endif
