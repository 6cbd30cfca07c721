/* FETCH ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 7.4.2): the envelope from a header section
 * (with RFC 5322 address lists and groups parsed into IMAP's address structures), and the body
 * structure from a MIME tree (mail/mime.h). Pure functions over buffers. */
#ifndef ESTAFETA_IMAP_ENVELOPE_H
#define ESTAFETA_IMAP_ENVELOPE_H
#include "core/buf.h"
#include "mail/mime.h"
#include <stdbool.h>

/* Appends the envelope of the header section hdr[0..len) to out. */
void imap_envelope_write(const char *hdr, size_t len, buf *out);
/* Appends the body structure of part idx of tree (msg is the message it was parsed from);
 * extended adds the extension data of BODYSTRUCTURE, without it is FETCH BODY. */
void imap_bodystructure_write(const struct mime_tree *tree, int idx, const char *msg,
			      bool extended, buf *out);
/* The three strings FETCH ENVELOPE, BODY and BODYSTRUCTURE answer for a whole message, as
 * the indexer keeps them (store_message_structures). */
void imap_structure_strings(const char *msg, size_t len, buf *envelope, buf *body,
			    buf *bodystructure);
#endif
