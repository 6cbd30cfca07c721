/* Maildir file names (cr.yp.to/proto/maildir.html, Maildir++ and Dovecot's additions): a
 * unique base, then the info ":2," and one letter per flag in ASCII order. Capitals are the
 * system flags (D draft, F flagged, P passed, R replied, S seen, T trashed); Dovecot writes
 * keywords as small letters, 'a' for line 0 of dovecot-keywords, and puts ",S=size" (octets
 * in the file) and ",W=size" (octets with CRLF line ends, IMAP's RFC822.SIZE) in the base.
 * Pure functions. */
#ifndef ESTAFETA_MAILDIR_NAME_H
#define ESTAFETA_MAILDIR_NAME_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct maildir_name {
	size_t base_len;  /* the name up to ":2," (all of it when there is no info) */
	uint32_t upper;   /* bit c - 'A' for each capital letter c of the info */
	uint32_t lower;   /* bit c - 'a' for each small letter c: keyword c - 'a' */
	uint64_t size;    /* ",S=" of the base, 0 when absent */
	uint64_t vsize;   /* ",W=" of the base, 0 when absent */
};
#define MAILDIR_LETTER(c) (1u << ((c) - 'A'))

/* Reads name[0..len); what it does not know (another info version, other characters among
 * the letters, other fields) it leaves out. */
void maildir_name_parse(const char *name, size_t len, struct maildir_name *out);
/* Appends base, ",S=size,W=vsize", ":2," and the letters of upper and lower in ASCII order
 * (capitals first, as Dovecot and mbsync write them). */
void maildir_name_format(buf *out, const char *base, uint64_t size, uint64_t vsize,
			 uint32_t upper, uint32_t lower);
#endif
