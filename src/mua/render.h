/* Showing a message on a terminal: the chosen header fields decoded (RFC 2047, charsets) to
 * UTF-8, the text body (text/plain preferred, else the HTML's text) decoded, and the list of
 * attachments by IMAP part number, which `save N PART` takes. Pure functions. */
#ifndef ESTAFETA_MUA_RENDER_H
#define ESTAFETA_MUA_RENDER_H
#include "core/buf.h"
#include "mail/mime.h"
#include <stdbool.h>

/* Appends the readable form of msg to out. */
void render_message(const char *msg, size_t len, buf *out);
/* Appends the body text alone (what a reply quotes). */
void render_body_text(const char *msg, size_t len, buf *out);
/* Appends the decoded value of header field name of msg; false when there is none. */
bool render_header(const char *msg, size_t len, const char *name, buf *out);
/* True when msg carries attachments (what the list marks). */
bool render_has_attachments(const char *msg, size_t len);

struct rendered_attachment {
	char section[64];  /* IMAP part number, "2" or "1.3" */
	char *filename;    /* decoded (RFC 2231, 2047), or NULL */
	char type[128];
	size_t size;       /* decoded octets */
};
/* Fills *list (allocated; free with render_attachments_free) with the attachments. */
size_t render_attachments(const char *msg, size_t len, struct rendered_attachment **list);
void render_attachments_free(struct rendered_attachment *list, size_t count);
/* The decoded octets of the attachment named by part number or file name. -1 when none. */
int render_attachment_data(const char *msg, size_t len, const char *which, buf *out);
#endif
