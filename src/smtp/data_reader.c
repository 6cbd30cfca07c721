/* The DATA phase reader: a resumable state machine over the octets after "354" that removes
 * dot-stuffing and finds the "<CRLF>.<CRLF>" that ends the message. See data_reader.h.
 *
 * The state is where the reader stands within a line, so that any split of the input gives
 * the same result: a CR is held back until the next octet tells whether it ends a line, and
 * a line's leading "." until the next octet tells whether the line is the terminator. Only
 * CRLF ends a line (RFC 5321 2.3.8), so after a bare CR or LF the reader is still inside the
 * same line, and a "." there is neither stuffing nor a terminator: "<LF>.<LF>",
 * "<CR>.<CR>", "<LF>.<CRLF>" and "<CRLF>.<LF>" never end the data. */
#include "smtp/data_reader.h"
#include <string.h>

enum data_state {
	DATA_LINE_START, /* at the start of a line; the data begins here, just after "354" */
	DATA_TEXT,       /* inside a line */
	DATA_CR,         /* inside a line, a CR held back */
	DATA_DOT,        /* a "." at the start of a line, held back */
	DATA_DOT_CR,     /* ".<CR>" at the start of a line, held back */
	DATA_DONE,       /* the terminating line was consumed */
};

void data_reader_init(struct data_reader *r, size_t max_line)
{
	memset(r, 0, sizeof(*r));
	r->state = DATA_LINE_START;
	r->max_line = max_line;
}

/* Counts n more octets of the current line. */
static void line_grow(struct data_reader *r, size_t n)
{
	r->line_len += n;
	if (r->line_len > r->max_line)
		r->line_too_long = true;
}

/* Handles one octet inside a line (state DATA_TEXT) and returns the next state. Runs of plain
 * octets are copied by the caller; this is for CR and LF, and for the first octet after a
 * state that held something back. */
static enum data_state text_octet(struct data_reader *r, char c, buf *out)
{
	if (c == '\r')
		return DATA_CR;
	if (c == '\n')
		r->bare_newline = true;
	line_grow(r, 1);
	buf_putc(out, c);
	return DATA_TEXT;
}

/* Handles an octet other than LF after a held CR (states DATA_CR and DATA_DOT_CR): the CR
 * was bare, so it is data, and c goes on the same line. */
static enum data_state after_bare_cr(struct data_reader *r, char c, buf *out)
{
	r->bare_newline = true;
	line_grow(r, 1);
	buf_putc(out, '\r');
	return text_octet(r, c, out);
}

/* RFC 5321 4.5.2: "If the line is composed of a single period, it is treated as the end of
 * mail indicator. If the first character is a period and there are other characters on the
 * line, the first character is deleted." The deleted period does not count towards the line's
 * length either (4.5.3.1.6: "not counting the leading dot duplicated for transparency"). */
int data_reader_feed(struct data_reader *r, const char *in, size_t len, buf *out,
		     size_t *consumed_r)
{
	size_t i = 0;

	while (i < len && r->state != DATA_DONE) {
		char c = in[i];
		switch ((enum data_state)r->state) {
		case DATA_LINE_START:
			/* Anything but "." is read again as an octet inside the line. */
			if (c == '.') {
				r->state = DATA_DOT;
				i++;
			} else {
				r->state = DATA_TEXT;
			}
			break;
		case DATA_TEXT: {
			/* Copy the run up to the next CR or LF in one piece. */
			size_t run = i;
			while (run < len && in[run] != '\r' && in[run] != '\n')
				run++;
			if (run > i) {
				line_grow(r, run - i);
				buf_append(out, in + i, run - i);
				i = run;
			} else {
				r->state = text_octet(r, c, out);
				i++;
			}
			break;
		}
		case DATA_CR:
			if (c == '\n') {
				buf_append(out, "\r\n", 2);
				r->line_len = 0;
				r->state = DATA_LINE_START;
			} else {
				r->state = after_bare_cr(r, c, out);
			}
			i++;
			break;
		case DATA_DOT:
			/* ".<CR>" may be the terminator; otherwise the line has more on it and the
			 * stuffing dot is dropped. */
			r->state = c == '\r' ? DATA_DOT_CR : text_octet(r, c, out);
			i++;
			break;
		case DATA_DOT_CR:
			if (c == '\n')
				r->state = DATA_DONE;
			else
				r->state = after_bare_cr(r, c, out);
			i++;
			break;
		case DATA_DONE:
			break;
		}
	}
	*consumed_r = i;
	return r->state == DATA_DONE;
}
