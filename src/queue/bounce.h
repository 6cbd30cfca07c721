/* Delivery status notifications (RFC 3464) for mail that could not be delivered: the report
 * as a message, built from the queue entry and the recipients' outcomes. Pure: no I/O. */
#ifndef ESTAFETA_BOUNCE_H
#define ESTAFETA_BOUNCE_H
#include "core/buf.h"
#include "store/store.h"
#include <stdbool.h>

struct bounce_rcpt {
	const char *recipient;
	const char *orcpt;      /* "rfc822;addr" or NULL */
	const char *status;     /* RFC 3463 "5.1.1" */
	const char *diagnostic; /* the remote reply as one line, or our reason */
	const char *remote;     /* the MX host reached, or NULL */
	bool remote_reply;      /* diagnostic is the remote server's reply (Diagnostic-Code smtp) */
};

/* Writes the whole DSN message (header and body, CRLF lines) to out: multipart/report;
 * report-type=delivery-status (RFC 6522) with a human-readable part, the
 * message/delivery-status part (RFC 3464 2.2, 2.3) and the original message (RET=FULL) or
 * its header section (otherwise) as text/rfc822-headers. delayed: a warning (Action: delayed)
 * rather than a failure. reporting_mta: our host name. */
void bounce_build(buf *out, const char *reporting_mta, const struct queue_msg *m,
		  const struct bounce_rcpt *rcpts, size_t count, const buf *original, bool delayed);
#endif
