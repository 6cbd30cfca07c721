/* FETCH BODY[section]<partial> (RFC 3501 6.4.5): parsing the section text and finding the
 * octets it names in a message through its MIME tree (mail/mime.h), so nothing is re-parsed.
 * Pure functions, tested by test-imap-section.c. */
#ifndef ESTAFETA_IMAP_SECTION_H
#define ESTAFETA_IMAP_SECTION_H
#include "core/buf.h"
#include "core/strlist.h"
#include "mail/mime.h"
#include <stdbool.h>
#include <stdint.h>

#define IMAP_SECTION_MAX_PARTS 32

enum imap_section_text {
	SECTION_ALL,               /* BODY[] or BODY[1.2]: the whole message, or the part's body */
	SECTION_HEADER,
	SECTION_HEADER_FIELDS,
	SECTION_HEADER_FIELDS_NOT,
	SECTION_TEXT,
	SECTION_MIME,
};

struct imap_section {
	uint32_t parts[IMAP_SECTION_MAX_PARTS];
	size_t part_count;
	enum imap_section_text text;
	strlist fields;            /* HEADER.FIELDS (.NOT) */
	bool partial;
	uint64_t offset, length;   /* <offset.length> */
};

/* Parses the text between "[" and "]" (spec[0..len)) and the partial after it (partial,
 * NULL or the text after "]"). Returns 0, or -1 for bad syntax. Free with
 * imap_section_free either way. */
int imap_section_parse(const char *spec, size_t len, const char *partial, struct imap_section *out);
void imap_section_free(struct imap_section *sec);

/* The index in tree of the part sec's part numbers name (0 for none: the message), or -1
 * when there is no such part. */
int imap_section_part(const struct imap_section *sec, const struct mime_tree *tree);
/* Appends to out the octets of msg[0..len) that sec names (before the partial range is
 * applied), using tree, msg's MIME structure. A part that does not exist gives nothing, as
 * Dovecot answers it (an empty string). */
void imap_section_extract(const struct imap_section *sec, const char *msg, size_t len,
			  const struct mime_tree *tree, buf *out);
#endif
