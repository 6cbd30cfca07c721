/* DKIM canonicalization (RFC 6376 3.4): the "simple" and "relaxed" forms of header fields
 * (3.4.1, 3.4.2) and of the body (3.4.3, 3.4.4). estafeta signs relaxed/relaxed, since it
 * survives the re-folding and trailing-space changes that relays make; a verifier meets both.
 * Pure functions over byte buffers; lines end in CRLF as SMTP carries them (a bare CR or LF is
 * an ordinary octet). The body is canonicalized as it streams, in pieces of any size. */
#ifndef ESTAFETA_DKIM_CANON_H
#define ESTAFETA_DKIM_CANON_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

/* Appends the relaxed form of the field name: value (value as header_next gives it: after
 * the colon, folded lines included, the final CRLF excluded) to out: the name lower-cased,
 * the value unfolded, every run of spaces and tabs one space, none at its start or end, and
 * CRLF after it. */
void dkim_canon_header(const char *name, size_t name_len, const char *value, size_t value_len,
		       buf *out);
/* Appends the field in the form relaxed chooses: relaxed as above, or simple (3.4.1): the
 * name, the colon and the value exactly as they came, then CRLF. */
void dkim_canon_field(bool relaxed, const char *name, size_t name_len, const char *value,
		      size_t value_len, buf *out);

/* Receives the canonical body in pieces, in order. */
typedef void dkim_body_fn(const char *data, size_t len, void *arg);

/* The body's canonicalization as it streams. What a piece leaves open (a CR that may start a
 * line end, spaces that may end a line, empty lines that may end the body) is held in a few
 * counters, never as text, so memory stays constant whatever the body. */
struct dkim_body_canon {
	bool relaxed;
	bool cr;             /* the last octet was a CR, not yet known to start a CRLF */
	bool wsp;            /* relaxed: spaces or tabs since the last text of the line */
	bool line_text;      /* the current line has octets (simple) or text (relaxed) */
	bool emitted;        /* anything given to emit yet */
	size_t empty_lines;  /* held back: they count only when a line with text follows */
	dkim_body_fn *emit;
	void *arg;
};

void dkim_body_canon_init(struct dkim_body_canon *c, bool relaxed, dkim_body_fn *emit, void *arg);
/* The next piece of the body, from the octet after the header section's empty line. */
void dkim_body_canon_update(struct dkim_body_canon *c, const char *data, size_t len);
/* The body has ended. Simple: no empty lines at the end, a CRLF after a last line that lacks
 * one, and an empty body becomes one CRLF. Relaxed: also every run of spaces and tabs one
 * space and none at a line's end; an empty body (or one of empty lines only) gives nothing. */
void dkim_body_canon_finish(struct dkim_body_canon *c);

/* The relaxed form of a whole body[0..len), as the pieces above give it. */
void dkim_canon_body(const char *body, size_t len, dkim_body_fn *emit, void *arg);
#endif
