/* The header section of an Internet message (RFC 5322 2.2, 3.6): finding its end, walking its
 * fields (with folded lines), testing for and removing fields. Pure functions over buffers;
 * line ends are CRLF as SMTP delivers them (a bare LF is accepted as a line end too, so the
 * functions also serve messages read from files). */
#ifndef ESTAFETA_HEADER_H
#define ESTAFETA_HEADER_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct header_field {
	const char *name;   /* field name, without the colon */
	size_t name_len;
	const char *value;  /* after the colon, folded lines included, final line end excluded */
	size_t value_len;
	const char *raw;    /* the whole field, from the name to its final line end inclusive */
	size_t raw_len;
};

/* Returns the offset of the first body octet (just after the empty line that ends the header
 * section), or 0 when the empty line is not within len. A message that starts with the empty
 * line has no header fields and returns 2 (or 1 for a bare LF). */
size_t header_end(const char *msg, size_t len);

/* Reads the field at *pos in the header section hdr[0..len). Returns 1 with *f filled and *pos
 * moved past it, 0 at the end of the section (empty line or end of hdr), -1 for a line that is
 * no field (no colon, or a continuation line with no field before it); *pos then moves past
 * that line so the walk can go on. */
int header_next(const char *hdr, size_t len, size_t *pos, struct header_field *f);

/* Every field of the header section hdr[0..len), in order, as header_next reads them (lines
 * that are no field left out), in an array to free; *count gets how many. */
struct header_field *header_field_list(const char *hdr, size_t len, size_t *count);

/* True when a field named name (case-insensitive) is present. */
bool header_has(const char *hdr, size_t len, const char *name);

/* Appends the value of the first field named name (case-insensitive) to out, unfolded (line
 * ends removed) and without the spaces after the colon; false when there is none. */
bool header_get(const char *hdr, size_t len, const char *name, buf *out);
/* Appends hdr to out without the fields named name (case-insensitive). */
void header_remove(const char *hdr, size_t len, const char *name, buf *out);

/* Writes an RFC 5322 3.3 date-time ("Mon, 23 Nov 2026 01:12:21 +0000") for t in the local
 * time zone; out must hold 40 bytes. */
void header_date(time_t t, char *out, size_t outlen);
/* month = "Jan" / "Feb" / ... / "Dec" (RFC 5322 3.3; IMAP's date-month), any case: 0 to 11,
 * or -1. */
int header_month(const char *name);
/* The calendar day of a Date field's value as yyyymmdd (RFC 5322 3.3 with the obsolete forms
 * of 4.3: comments, no day of week, two- and three-digit years), the time and zone ignored as
 * IMAP's SENTON asks; -1 when it does not parse. */
long header_date_day(const char *value, size_t len);
/* The sent date of a Date field's value in UTC (RFC 5256 2.2): the zone applied, an invalid
 * zone taken as UTC and an invalid time as 00:00:00. false when the date does not parse. */
bool header_date_time(const char *value, size_t len, time_t *out);
#endif
