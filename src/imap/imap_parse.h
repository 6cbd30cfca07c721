/* IMAP command syntax (RFC 3501 9, RFC 9051 9, LITERAL+ RFC 7888), in two pure pieces:
 *
 * 1. Framing (imap_frame_feed): collects one command from the byte stream — lines, and the
 *    literals {n} / {n+} announced at their ends — resumably, any number of bytes at a time,
 *    holding every bound. It tells the session when a synchronizing literal needs "+ " and
 *    when a bound is broken.
 * 2. Parsing (imap_parse): splits a complete command into tag, name and arguments (atoms,
 *    quoted strings, literals, parenthesised lists) with nesting bounded.
 *
 * No I/O and no globals, so the unit test and the fuzzer drive both directly. */
#ifndef ESTAFETA_IMAP_PARSE_H
#define ESTAFETA_IMAP_PARSE_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every bound of the command syntax in one place. */
struct imap_limits {
	size_t max_line;      /* octets of one line, literals excluded (RFC 7162 4: 8192 at least) */
	uint64_t max_literal; /* octets of one literal (APPEND carries whole messages) */
	uint64_t max_command; /* octets of a whole command as collected: lines and literals */
	unsigned max_depth;   /* nesting of parenthesised lists */
	size_t max_args;      /* arguments in the whole command, list members included */
	uint64_t max_inline;  /* octets of a literal collected into the command; one larger
	                         (up to max_literal, one per command) is IMAP_FRAME_LITERAL */
};

enum imap_frame_result {
	IMAP_FRAME_MORE,     /* every byte given was taken; feed more */
	IMAP_FRAME_DONE,     /* a whole command is in frame->cmd; imap_frame_reset before the next */
	IMAP_FRAME_CONTINUE, /* a synchronizing literal was announced: send "+ " then feed on */
	IMAP_FRAME_REFUSED,  /* a synchronizing literal is over the limit: answer the command
	                        (tag BAD, the tag is at the start of frame->cmd) without "+ ";
	                        the client drops it. Reset the frame before feeding on. */
	IMAP_FRAME_TOOLONG,  /* a line or the whole command was over its bound: the rest of the
	                        command was skipped, non-synchronizing literals included, up to
	                        its end (or to a synchronizing literal, which the client drops
	                        when it hears no "+ "). Answer tag BAD (the tag, if any, is at
	                        the start of frame->cmd); reset the frame before feeding on. */
	IMAP_FRAME_FATAL,    /* a literal over max_literal (or not even a number) announced
	                        non-synchronizing: skipping it is not worth its octets and
	                        nothing else can follow the stream (RFC 7888 4); say BYE */
	IMAP_FRAME_LITERAL,  /* a literal over max_inline was announced (frame->literal_left
	                        octets, synchronizing when frame->literal_sync): its octets are
	                        not collected. The caller takes them itself, telling with
	                        imap_frame_literal_taken (after "+ " when synchronizing), then
	                        feeds on; or answers as for REFUSED or FATAL. While the caller
	                        takes them, feeding takes nothing and returns this again. */
};

struct imap_frame {
	buf cmd;                /* the command so far: lines with their line ends, and literals */
	size_t line_start;      /* where the current line starts in cmd */
	uint64_t literal_left;  /* octets of literal still to come */
	bool literal_sync;      /* the literal announced last is synchronizing */
	bool streaming;         /* the caller is taking the literal's octets (IMAP_FRAME_LITERAL) */
	size_t streamed_at;     /* where in cmd the octets taken by the caller would be; 0: none */
	bool skipping;          /* over a bound: the command's octets are dropped (TOOLONG) */
	char tail[24];          /* while skipping a line: its last octets, where a literal may be
	                           announced */
	size_t tail_len;
	bool tail_cut;          /* the line skipped is longer than tail */
};

void imap_frame_init(struct imap_frame *f);
void imap_frame_free(struct imap_frame *f);
/* Forgets the command collected, for the next one. */
void imap_frame_reset(struct imap_frame *f);
/* Takes bytes from data[0..len) until an event; *used_r says how many were taken (all of them
 * for IMAP_FRAME_MORE). */
enum imap_frame_result imap_frame_feed(struct imap_frame *f, const struct imap_limits *lim,
				       const char *data, size_t len, size_t *used_r);
/* The caller took n octets of the literal of IMAP_FRAME_LITERAL (at most literal_left). */
void imap_frame_literal_taken(struct imap_frame *f, size_t n);
/* The caller will not take the literal of IMAP_FRAME_LITERAL: it and the rest of the command
 * are skipped instead, and feeding on ends in IMAP_FRAME_TOOLONG. */
void imap_frame_skip_literal(struct imap_frame *f);
/* True while a line of a command has begun and is not whole (not inside a literal). */
bool imap_frame_in_line(const struct imap_frame *f);
/* The length of the tag at the start of the command framed so far (RFC 3501 9: tag =
 * 1*<any ASTRING-CHAR except "+">, then SP), 0 when it does not start with one. */
size_t imap_frame_tag_length(const struct imap_frame *f);
/* True when the command framed so far is "tag SP name SP ..." (name in any case). */
bool imap_frame_is_command(const struct imap_frame *f, const char *name);

enum imap_arg_type {
	IMAP_ARG_ATOM,    /* also NIL, numbers, flags (\Seen) and BODY[...]<...> fetch atts */
	IMAP_ARG_STRING,  /* quoted string, unescaped */
	IMAP_ARG_LITERAL, /* literal, or literal8 "~{n}" (RFC 4466) with literal8 set; may hold
	                     any octet, NUL included */
	IMAP_ARG_LIST,    /* ( ... ) */
};

struct imap_arg {
	enum imap_arg_type type;
	char *str;              /* NUL-terminated; not for lists */
	size_t len;
	struct imap_arg *list;  /* members of a list */
	size_t count;
	bool literal8;          /* written as "~{n}": the client declares binary content */
	bool streamed;          /* a literal whose octets the caller took (IMAP_FRAME_LITERAL):
	                           str is "", len their number */
};

struct imap_command {
	char *tag;              /* NULL when not even the tag could be read */
	char *name;             /* upper-cased; NULL when it could not be read */
	struct imap_arg *args;
	size_t count;
};

/* Parses the complete command cmd[0..len) (as framed, ending with its line end). Returns 0, or
 * -1 with a static message in *error_r; the tag and name are filled as far as they were read,
 * so the session can answer "tag BAD". The caller frees out with imap_command_free either way. */
int imap_parse(const char *cmd, size_t len, const struct imap_limits *lim,
	       struct imap_command *out, const char **error_r);
/* imap_parse of the command framed in f, whose literal taken by the caller, if any, comes out
 * with streamed set. */
int imap_parse_framed(const struct imap_frame *f, const struct imap_limits *lim,
		      struct imap_command *out, const char **error_r);
void imap_command_free(struct imap_command *c);

/* True when arg is an atom equal to name (case-insensitive). */
bool imap_arg_atom_is(const struct imap_arg *arg, const char *name);
/* astring = 1*ASTRING-CHAR / string: the text of an atom, quoted string or literal; NULL for a
 * list. nstring adds NIL (also NULL). */
const char *imap_arg_astring(const struct imap_arg *arg);

/* A sequence set (RFC 3501 9): ranges of message numbers or UIDs. "*" is marked, not a
 * number, until imap_seqset_resolve replaces it with the largest number in use: the number
 * 4294967295 is a UID like any other (UID SEARCH UID 5:4294967295 matches nothing in a
 * mailbox whose UIDs are all lower), while "*" is the largest in the mailbox. */
struct imap_range {
	uint32_t lo, hi;
	bool lo_star, hi_star;
};
struct imap_seqset {
	struct imap_range *ranges;
	size_t count;
};
/* The ranges a sequence set may hold: the grammar sets no bound, and a command line of 65536
 * octets (imap.max_line_length's default; a set is never a literal) holds at most 32768
 * ("1,1,..."), so no set a client can send in one is refused; the bound is for the memory. */
#define IMAP_SEQSET_MAX_RANGES 32768
/* sequence-set = (seq-number / seq-range) *("," sequence-set). Returns 0, or -1 for bad syntax
 * or more than max_ranges ranges. A range of two numbers comes out with lo <= hi; a range
 * with one "*" end has it as hi. */
int imap_seqset_parse(const char *s, size_t max_ranges, struct imap_seqset *out);
/* Replaces "*" by star (the highest sequence number or UID in the mailbox), orders each range
 * again, then sorts and merges the ranges. */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t star);
/* Whether n is in the set; only after imap_seqset_resolve. */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n);
void imap_seqset_free(struct imap_seqset *set);
#endif
