/* The ARC sets of a header section (RFC 8617 4.1): each instance's ARC-Authentication-
 * Results, ARC-Message-Signature and ARC-Seal, and the relaxed text an ARC-Seal signs
 * (5.1.1), for the validator and the sealer alike. Pure functions. */
#ifndef ESTAFETA_ARC_SETS_H
#define ESTAFETA_ARC_SETS_H
#include "core/buf.h"
#include "mail/dkim_tags.h"
#include "mail/header.h"

enum arc_field { ARC_AAR, ARC_AMS, ARC_SEAL, ARC_FIELDS };

/* One instance's fields, pointing into the header fields they were found among. */
struct arc_set {
	const struct header_field *field[ARC_FIELDS];
};

/* Finds the ARC fields of fields[0..count) and files them by instance into
 * sets[0..ARC_MAX_INSTANCES), *n the highest instance (0: none). NULL when the sets are
 * sound (5.2 steps 1 and 3 A, B: every field has an instance of 1 to 50, and instances
 * 1..N have one field of each kind), else why not. */
const char *arc_sets_collect(const struct header_field *fields, size_t count, struct arc_set *sets,
			     unsigned *n);
/* Appends the relaxed form (dkim_canon_header's, with CRLF) of every field of
 * sets[0..count), each set's ARC-Authentication-Results, ARC-Message-Signature and ARC-Seal
 * in that order. */
void arc_sets_canon(const struct arc_set *sets, unsigned count, buf *out);
#endif
