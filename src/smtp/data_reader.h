/* The DATA phase reader (RFC 5321 4.1.1.4, 4.5.2): a pure, resumable state machine that takes
 * the bytes after "354" in any pieces, removes dot-stuffing, and finds the end of the message.
 *
 * Only <CRLF>.<CRLF> ends the data. A bare LF or CR is never a line end here, so "<LF>.<LF>"
 * and "<CR>.<CR>" cannot end a message early (SMTP smuggling); such bytes are flagged instead,
 * and the session refuses the message (RFC 5321 2.3.8: CR and LF only as CRLF). Lines longer
 * than max_line octets (CRLF excluded) are flagged too. */
#ifndef ESTAFETA_DATA_READER_H
#define ESTAFETA_DATA_READER_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

struct data_reader {
	int state;
	size_t line_len;
	size_t max_line;
	bool bare_newline; /* a CR or LF not part of CRLF was seen */
	bool line_too_long;
};

void data_reader_init(struct data_reader *r, size_t max_line);
/* Consumes up to len bytes of in, appending the unstuffed message bytes to out (with CRLF line
 * ends as received). Returns 1 when the terminating ".<CRLF>" line was consumed (*consumed_r
 * says how many bytes of in were used; the rest belongs to the next command), or 0 when all
 * of in was consumed and more is needed. */
int data_reader_feed(struct data_reader *r, const char *in, size_t len, buf *out,
		     size_t *consumed_r);
#endif
