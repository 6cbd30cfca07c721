/* mbox files (RFC 4155; the variants as qmail's mbox(5) names them): messages one after the
 * other, each after a From_ line ("From sender Mon Jan  1 10:00:00 2024"), lines of a message
 * that would look like one quoted with '>'. mboxrd quotes "From " behind any number of '>' and
 * so is undone exactly (one '>' off each line matching ^>+From ); mboxo quotes only "From " (one
 * '>' off each line matching ^>From ), so a message that had ">From " comes back without the
 * '>'. Mail programs keep a message's state in its header: Status (R read, O old), X-Status
 * (A answered, F flagged, T draft, D deleted), X-Keywords (mutt, Dovecot); Dovecot and UW IMAP
 * also X-UID, X-IMAP, X-IMAPbase, and Content-Length. Pure functions over byte buffers. */
#ifndef ESTAFETA_MBOX_H
#define ESTAFETA_MBOX_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum mbox_format { MBOX_RD, MBOX_O };

/* The bits of a message's state, as IMAP's system flags. */
enum mbox_flag {
	MBOX_SEEN = 1 << 0,
	MBOX_ANSWERED = 1 << 1,
	MBOX_FLAGGED = 1 << 2,
	MBOX_DELETED = 1 << 3,
	MBOX_DRAFT = 1 << 4,
};

struct mbox_message {
	const char *from_line; /* its From_ line, without the line end */
	size_t from_len;
	const char *raw;       /* what follows up to the next From_ line, less the empty line
	                          written before it; still quoted */
	size_t raw_len;
};

/* The date of a From_ line: the calendar fields as written and, when the line names a zone
 * (+hhmm, or UTC/GMT), its offset; without one the time is the writer's local time, which is
 * how mutt and Dovecot read it. */
struct mbox_date {
	struct tm tm;
	bool zoned;
	long offset; /* seconds east of UTC, when zoned */
};
/* Reads line[0..len) ("From " and the rest, no line end) as a From_ line: a sender, then a
 * date "Www Mmm dd hh:mm[:ss] [zone] yyyy [zone]" (ctime's, with the variants of RFC 4155 and
 * old mailers). true with *out filled when it is one. */
bool mbox_from_line(const char *line, size_t len, struct mbox_date *out);
/* The next message of data[0..len) from *pos, which is at a From_ line or the start of the
 * file (anything before the first From_ line is skipped). A message ends where a line is a
 * From_ line by mbox_from_line. Returns true with *m filled and *pos past it, false at the end. */
bool mbox_next(const char *data, size_t len, size_t *pos, struct mbox_message *m);
/* Appends the message (m.raw) to out unquoted by format, without the state fields named above
 * (their folded lines too), whose state it returns: the flags in *flags_r and the keywords of
 * X-Keywords (separated by commas or white space) appended to keywords, space-separated. Line
 * ends stay as they are. */
void mbox_message_build(const char *raw, size_t len, enum mbox_format format, buf *out,
			uint32_t *flags_r, buf *keywords);
#endif
