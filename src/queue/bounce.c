/* RFC 3464 delivery status notifications; see bounce.h. */
#include "queue/bounce.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RFC 5322 3.3 date-time, in UTC. */
static void put_date(buf *out, time_t t)
{
	char s[64];
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_puts(out, s);
}

/* The end of the header section: the offset after its empty line, or the whole message. */
static size_t header_end(const buf *msg)
{
	const char *p = msg->data;
	for (size_t i = 0; i + 1 < msg->len; i++) {
		if (p[i] == '\n' && (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < msg->len && p[i + 2] == '\n')))
			return i + 1;
	}
	return msg->len;
}

void bounce_build(buf *out, const char *reporting_mta, const struct queue_msg *m,
		  const struct bounce_rcpt *rcpts, size_t count, const buf *original, bool delayed)
{
	char boundary[64];
	snprintf(boundary, sizeof(boundary), "%08x%08x/%s", arc4random(), arc4random(), reporting_mta);
	time_t now = time(NULL);
	buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", reporting_mta);
	buf_printf(out, "To: <%s>\r\n", m->sender);
	buf_printf(out, "Subject: %s\r\n", delayed ? "Delayed Mail (still being retried)"
						    : "Undelivered Mail Returned to Sender");
	buf_puts(out, "Date: ");
	put_date(out, now);
	buf_printf(out, "\r\nMessage-ID: <%08x%08x.%s@%s>\r\n", arc4random(), arc4random(), m->queue_id,
		   reporting_mta);
	buf_puts(out, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	/* RFC 6522 3: multipart/report with its report-type parameter. */
	buf_printf(out, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
			"\tboundary=\"%s\"\r\n\r\n", boundary);
	buf_puts(out, "This is a MIME-encapsulated message.\r\n\r\n");

	/* 1: the human-readable part. */
	buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
	buf_printf(out, "This is the mail system at host %s.\r\n\r\n", reporting_mta);
	if (delayed)
		buf_puts(out, "Your message could not be delivered yet. It will be retried; you need\r\n"
			      "not send it again.\r\n\r\n");
	else
		buf_puts(out, "Your message could not be delivered to one or more recipients.\r\n"
			      "It is attached below.\r\n\r\n");
	for (size_t i = 0; i < count; i++)
		buf_printf(out, "<%s>: %s\r\n", rcpts[i].recipient, rcpts[i].diagnostic);
	buf_puts(out, "\r\n");

	/* 2: message/delivery-status (RFC 3464 2.2 per-message fields, 2.3 per-recipient). */
	buf_printf(out, "--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary);
	buf_printf(out, "Reporting-MTA: dns; %s\r\n", reporting_mta);
	if (m->envid != NULL)
		buf_printf(out, "Original-Envelope-Id: %s\r\n", m->envid);
	buf_printf(out, "X-Estafeta-Queue-ID: %s\r\n", m->queue_id);
	buf_puts(out, "Arrival-Date: ");
	put_date(out, m->arrival);
	buf_puts(out, "\r\n");
	for (size_t i = 0; i < count; i++) {
		const struct bounce_rcpt *r = &rcpts[i];
		buf_puts(out, "\r\n");
		if (r->orcpt != NULL)
			buf_printf(out, "Original-Recipient: %s\r\n", r->orcpt);
		buf_printf(out, "Final-Recipient: rfc822; %s\r\n", r->recipient);
		buf_printf(out, "Action: %s\r\n", delayed ? "delayed" : "failed");
		buf_printf(out, "Status: %s\r\n", r->status);
		if (r->remote != NULL)
			buf_printf(out, "Remote-MTA: dns; %s\r\n", r->remote);
		buf_printf(out, "Diagnostic-Code: %s; %s\r\n", r->remote_reply ? "smtp" : "x-estafeta",
			   r->diagnostic);
		buf_puts(out, "Last-Attempt-Date: ");
		put_date(out, now);
		buf_puts(out, "\r\n");
	}
	buf_puts(out, "\r\n");

	/* 3: the original, whole for RET=FULL, else its header section (RFC 3461 4.3, as
	 * Postfix: headers unless the sender asked for the full message). */
	if (m->ret == 1) {
		buf_printf(out, "--%s\r\nContent-Type: message/rfc822\r\n\r\n", boundary);
		buf_append(out, original->data, original->len);
	} else {
		buf_printf(out, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary);
		buf_append(out, original->data, header_end(original));
	}
	if (out->len >= 2 && out->data[out->len - 1] != '\n')
		buf_puts(out, "\r\n");
	buf_printf(out, "\r\n--%s--\r\n", boundary);
}
