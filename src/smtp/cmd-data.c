/* DATA (RFC 5321 4.1.1.4) and BDAT (RFC 3030): receiving the message. Both feed one path:
 * the Received line goes into a new spool file first; the header section is collected so
 * that Authentication-Results fields claiming to be ours can be removed (RFC 8601 5) and
 * submission can add Date and Message-ID and remove Bcc (RFC 6409 8); the body streams to
 * the spool (and, on port 25, through DKIM's body hashes). At the end the message is checked
 * (size, line length, bare CR/LF); on port 25 our Authentication-Results goes above the
 * Received line once the DNS checks (the client's, SPF, DKIM, DMARC) are in, and a message
 * failing its author's DMARC policy is refused or goes to Junk as dmarc.enforce says; then
 * the message is handed to the committer, and the 250 is sent only when it is on stable
 * storage. */
#include "smtp/smtp.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "deliver/inject.h"
#include "mail/authres.h"
#include "mail/header.h"
#include "verify/dmarc_reports.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long the end of a message waits for its DNS checks still out. */
#define DNS_CHECK_WAIT_MS 10000

/* RFC 5321 4.4 and RFC 3848 (with RFC 6531 3.7.3 for SMTPUTF8): the "with" protocol. */
static const char *with_protocol(const struct smtp_session *s)
{
	static const char *const names[2][2][2] = {
		{ { "ESMTP", "ESMTPA" }, { "ESMTPS", "ESMTPSA" } },
		{ { "UTF8SMTP", "UTF8SMTPA" }, { "UTF8SMTPS", "UTF8SMTPSA" } },
	};
	if (!s->esmtp)
		return "SMTP";
	return names[s->tx->mail.smtputf8][conn_is_tls(s->conn)][s->user != NULL];
}

/* Time-stamp-line (RFC 5321 4.4):
 *   "Received:" FWS "from" FWS helo FWS "(" TCP-info ")" CFWS "by" FWS host
 *   [CFWS "with" FWS protocol] [CFWS "id" FWS atom] [CFWS "for" FWS path] ";" FWS date-time */
static void write_received(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	char date[64], tls[160];
	header_date(time(NULL), date, sizeof(date));
	buf line;
	buf_init(&line);
	buf_printf(&line, "Received: from %s ([%s])\r\n\t", s->helo, conn_peer_ip(s->conn));
	if (s->user != NULL && s->server->authenticated_header)
		buf_printf(&line, "(Authenticated sender: %s)\r\n\t", s->user);
	buf_printf(&line, "by %s (estafeta) with %s id %s", s->server->host.hostname,
		   with_protocol(s), tx->queue_id);
	conn_tls_describe(s->conn, tls, sizeof(tls));
	if (*tls != '\0')
		buf_printf(&line, "\r\n\t(using %s)", tls);
	if (tx->rcpt_count == 1)
		buf_printf(&line, "\r\n\tfor <%s>", tx->rcpts[0].address);
	buf_printf(&line, ";\r\n\t%s\r\n", date);
	spool_write(tx->spool, line.data, line.len);
	buf_free(&line);
}

/* Opens the spool file and writes the Received line. false after a 4xx reply. */
static bool message_begin(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	char *error = NULL;
	bool full = false;
	char *tmp = xasprintf("%s/tmp", store_data_dir(s->server->store));
	tx->spool = spool_new(tmp, &full, &error);
	free(tmp);
	if (tx->spool == NULL) {
		log_error("session=%s smtp spool failed: %s", conn_id(s->conn), error);
		free(error);
		smtp_reply(s, full ? "452 4.3.1 Insufficient system storage"
				   : "451 4.3.0 Local error in processing");
		return false;
	}
	write_received(s);
	return true;
}

/* Every port drops the Authentication-Results fields that claim our name (RFC 8601 5: only we
 * may write them; on submission too, so a user cannot pass one on to local recipients).
 * Submission only (RFC 6409 8.1, 8.3, 8.6): complete Date and Message-ID; drop Bcc, whose
 * recipients must not be shown to the others. A From or Sender the user does not own is
 * noted, to be refused once the data has ended. */
static void write_header(struct smtp_session *s, const char *arrived, size_t arrived_len)
{
	struct smtp_tx *tx = s->tx;
	if (tx->checks != NULL) {
		message_checks_header(tx->checks, arrived, arrived_len);
		tx->dmarc_report = dmarc_report_subject(arrived, arrived_len);
	}
	buf kept;
	buf_init(&kept);
	size_t removed = authres_remove_ours(arrived, arrived_len, s->server->host.hostname, &kept);
	if (removed > 0)
		log_info("session=%s queue=%s smtp removed=%zu Authentication-Results claiming %s",
			 conn_id(s->conn), tx->queue_id, removed, s->server->host.hostname);
	const char *hdr = kept.data;
	size_t len = kept.len;
	if (s->service->mode != SMTP_MODE_SUBMISSION) {
		spool_write(tx->spool, hdr, len);
		buf_free(&kept);
		return;
	}
	if (!s->server->allow_foreign_from)
		tx->foreign_author = smtp_foreign_author(s, hdr, len);
	/* The header section without its closing empty line, so fields can be added. */
	size_t fields = len;
	if (fields >= 2 && memcmp(hdr + fields - 2, "\r\n", 2) == 0 &&
	    (fields == 2 || (fields >= 4 && memcmp(hdr + fields - 4, "\r\n", 2) == 0)))
		fields -= 2;
	bool had_blank = fields != len;
	buf out;
	buf_init(&out);
	header_remove(hdr, fields, "Bcc", &out);
	if (!header_has(hdr, fields, "Date")) {
		char date[64];
		header_date(time(NULL), date, sizeof(date));
		buf_printf(&out, "Date: %s\r\n", date);
	}
	if (!header_has(hdr, fields, "Message-ID"))
		buf_printf(&out, "Message-ID: <%s.%08x@%s>\r\n", tx->queue_id, arc4random(),
			   s->server->host.hostname);
	if (had_blank)
		buf_puts(&out, "\r\n");
	spool_write(tx->spool, out.data, out.len);
	buf_free(&out);
	buf_free(&kept);
}

/* Body octets: to the spool, and through DKIM's body hashes. */
static void body_append(struct smtp_session *s, const char *data, size_t len)
{
	spool_write(s->tx->spool, data, len);
	if (s->tx->checks != NULL)
		message_checks_body(s->tx->checks, data, len);
}

/* Takes message octets (after dot-unstuffing). The header section is held until its end. */
static void message_append(struct smtp_session *s, const char *data, size_t len)
{
	struct smtp_tx *tx = s->tx;
	tx->size += len;
	if (tx->size > s->server->max_message_size)
		tx->too_big = true;
	if (tx->too_big || tx->header_too_big || len == 0)
		return;
	if (tx->header_done) {
		body_append(s, data, len);
		return;
	}
	size_t old = tx->header.len;
	buf_append(&tx->header, data, len);
	/* The header ends at the first empty line: CRLF CRLF, or CRLF at the very start. Only
	 * the new bytes (and the three before them) need searching. */
	const char *h = tx->header.data;
	size_t end = 0;
	if (tx->header.len >= 2 && memcmp(h, "\r\n", 2) == 0) {
		end = 2;
	} else {
		size_t from = old >= 3 ? old - 3 : 0;
		const char *p = memmem(h + from, tx->header.len - from, "\r\n\r\n", 4);
		if (p != NULL)
			end = (size_t)(p - h) + 4;
	}
	if (end == 0) {
		if (tx->header.len > s->server->max_header)
			tx->header_too_big = true;
		return;
	}
	tx->header_done = true;
	write_header(s, h, end);
	body_append(s, h + end, tx->header.len - end);
	buf_clear(&tx->header);
}

/* One line per message with everything a grep for the queue id should find. */
static void log_delivery(struct smtp_session *s, const struct delivery *d)
{
	buf to;
	buf_init(&to);
	for (size_t i = 0; i < s->tx->rcpt_count; i++)
		buf_printf(&to, "%s%s", i ? "," : "", s->tx->rcpts[i].address);
	log_info("queue=%s session=%s smtp %s from=<%s> to=<%s> size=%llu mailboxes=%zu remote=%zu%s%s",
		 d->queue_id, conn_id(s->conn), d->status == 0 ? "accepted" : "failed", d->sender,
		 to.data, (unsigned long long)d->body_size, d->local_count, d->remote_count,
		 d->status == 0 ? "" : " error=", d->status == 0 ? "" : d->error);
	buf_free(&to);
}

/* The committer is done: answer the client (when it is still there). */
static void message_committed(struct delivery *d, void *arg)
{
	struct smtp_session *s = arg;
	log_delivery(s, d);
	if (d->status == 0 && s->tx->dmarc_report && d->local_count > 0 &&
	    d->body_size <= DMARC_REPORT_MAX_MESSAGE)
		dmarc_report_receive(s->server->store_workers, d->body_path_r, d->queue_id);
	if (!s->gone) {
		if (d->status == 0)
			smtp_reply(s, "250 2.0.0 Ok: queued as %s", d->queue_id);
		else if (d->full)
			smtp_reply(s, "452 4.3.1 Insufficient system storage");
		else
			smtp_reply(s, "451 4.3.0 Local error in processing");
		s->messages += d->status == 0;
	}
	delivery_free(&d);
	smtp_tx_reset(s);
	s->state = SMTP_STATE_READY;
	smtp_session_resume(s);
}

/* Builds the delivery: one spool file for all, with the DSN parameters of the transaction;
 * submitted mail counts for its user's hourly limits. */
static struct delivery *delivery_from_tx(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	struct delivery *d = delivery_new(&tx->spool, tx->sender, tx->queue_id, &tx->targets);
	d->envid = tx->mail.envid[0] != '\0' ? xstrdup(tx->mail.envid) : NULL;
	d->ret = tx->mail.ret;
	d->local_origin = s->user != NULL;
	if (s->service->mode == SMTP_MODE_SUBMISSION && s->user != NULL) {
		d->submitter_id = s->user_id;
		d->submitter_rcpts = tx->rcpt_count;
	}
	return d;
}

/* Port 25: what the checks found (the client's DNS, SPF, DKIM, DMARC), above every other
 * trace field (RFC 8601 4). The field goes with each mailbox's own lines (Return-Path,
 * Delivered-To), which the store keeps before the message file, so the file is never
 * rewritten. A copy forwarded to another domain leaves without it (it tells our users, not
 * the next hop); its value goes with the queue entry instead, for the ARC set that records
 * it for the next hop (queue/outbound_arc.h). */
static void write_authres(struct smtp_session *s, struct delivery *d)
{
	struct authres_result results[1 + MESSAGE_CHECKS_MAX_RESULTS];
	buf comment, field;
	buf_init(&comment);
	buf_init(&field);
	client_dns_result(s->dns_check, &results[0], &comment);
	size_t count = 1;
	if (s->tx->checks != NULL)
		count += message_checks_results(s->tx->checks, results + 1, MESSAGE_CHECKS_MAX_RESULTS);
	authres_write(&field, s->server->host.hostname, results, count);
	if (d->remote_count > 0) {
		size_t name = strlen("Authentication-Results:");
		d->arc_results = xstrndup(field.data + name, field.len - name - 2);
	}
	for (size_t i = 0; i < d->local_count; i++) {
		char *prefix = xasprintf("%s%s", d->local[i].header_prefix, field.data);
		free(d->local[i].header_prefix);
		d->local[i].header_prefix = prefix;
	}
	buf_free(&comment);
	buf_free(&field);
}

/* What the DMARC policy of the message's author asks for, as dmarc.enforce lets it:
 * DMARC_POLICY_NONE (deliver as usual), _QUARANTINE (to Junk) or _REJECT. A failure that a
 * trusted forwarder's ARC chain vouches for (message_checks_arc_override) asks for nothing. */
static enum dmarc_policy dmarc_action(const struct smtp_session *s)
{
	if (s->tx->checks == NULL || s->server->dmarc_enforce == DMARC_ENFORCE_NONE)
		return DMARC_POLICY_NONE;
	const struct dmarc_outcome *o = message_checks_dmarc(s->tx->checks);
	if (o->result != DMARC_FAIL || o->disposition == DMARC_POLICY_UNSET)
		return DMARC_POLICY_NONE;
	const char *sealer = message_checks_arc_override(s->tx->checks);
	if (sealer != NULL) {
		log_info("session=%s queue=%s smtp dmarc=fail header.from=%s arc=pass: delivered, sealed by trusted %s",
			 conn_id(s->conn), s->tx->queue_id, o->author_domain, sealer);
		return DMARC_POLICY_NONE;
	}
	if (o->disposition == DMARC_POLICY_REJECT && s->server->dmarc_enforce != DMARC_ENFORCE_REJECT)
		return DMARC_POLICY_QUARANTINE;
	return o->disposition;
}

/* What was done with the message, as an aggregate report names it. */
static const char *dmarc_disposition(const struct dmarc_outcome *o, enum dmarc_policy action)
{
	if (action != DMARC_POLICY_NONE)
		return dmarc_policy_name(action);
	return o->result == DMARC_PASS && o->policy > DMARC_POLICY_NONE ? "pass" : "none";
}

/* What DMARC found of the message, for the aggregate reports, or NULL. */
static struct dmarc_observation *dmarc_observation(struct smtp_session *s, enum dmarc_policy action)
{
	struct smtp_tx *tx = s->tx;
	if (tx->checks == NULL)
		return NULL;
	const char *to = tx->rcpt_count > 0 ? strrchr(tx->rcpts[0].address, '@') : NULL;
	return message_checks_observation(tx->checks, conn_peer_ip(s->conn), to != NULL ? to + 1 : NULL,
					  dmarc_disposition(message_checks_dmarc(tx->checks), action));
}

/* The transaction is over without a commit: the reply is sent, the session reads on (or,
 * when its client has gone, is freed). */
static void message_refused(struct smtp_session *s)
{
	smtp_tx_reset(s);
	s->state = SMTP_STATE_READY;
	smtp_session_resume(s);
}

/* A message DMARC refuses: what was found goes into the reports' store, then the 550 goes
 * out, so a report made after the client heard of the refusal counts it. */
struct dmarc_refusal {
	struct smtp_session *s;
	struct dmarc_observation *o;
};

static void observe_on_worker(struct store *st, void *arg)
{
	struct dmarc_refusal *r = arg;
	char *error = NULL;
	if (r->o != NULL && store_dmarc_observe(st, r->o, &error) < 0) {
		log_error("dmarc observation of a refused message not kept: %s", error);
		free(error);
	}
}

static void observed(void *arg)
{
	struct dmarc_refusal *r = arg;
	struct smtp_session *s = r->s;
	dmarc_observation_free(&r->o);
	free(r);
	if (!s->gone)
		smtp_reply(s, "550 5.7.1 Message refused: it fails the DMARC policy (p=reject) of %s",
			   message_checks_dmarc(s->tx->checks)->author_domain);
	message_refused(s);
}

/* The message is accepted (the session waits, paused): write it out and hand it to the
 * committer, or refuse it when the disk fails or its author's DMARC policy says reject. */
static void message_commit(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	enum dmarc_policy action = dmarc_action(s);
	if (action == DMARC_POLICY_REJECT) {
		const struct dmarc_outcome *o = message_checks_dmarc(tx->checks);
		log_info("session=%s queue=%s smtp refused from=<%s> dmarc=fail header.from=%s policy=reject",
			 conn_id(s->conn), tx->queue_id, tx->sender, o->author_domain);
		/* no delivery to carry it: it goes alone */
		struct dmarc_refusal *r = xcalloc(1, sizeof(*r));
		r->s = s;
		r->o = dmarc_observation(s, action);
		store_workers_submit(s->server->store_workers, observe_on_worker, observed, r);
		return;
	}
	char *error = NULL;
	bool full = false;
	if (spool_flush(tx->spool, &full, &error) < 0) {
		log_error("session=%s queue=%s smtp spool write failed: %s", conn_id(s->conn),
			  tx->queue_id, error);
		free(error);
		smtp_reply(s, "%s", full ? "452 4.3.1 Insufficient system storage"
					 : "451 4.3.0 Local error in processing");
		message_refused(s);
		return;
	}
	struct delivery *d = delivery_from_tx(s);
	d->dmarc = dmarc_observation(s, action);
	if (s->dns_check != NULL)
		write_authres(s, d);
	if (action == DMARC_POLICY_QUARANTINE) {
		log_info("session=%s queue=%s smtp dmarc=fail header.from=%s: to Junk",
			 conn_id(s->conn), tx->queue_id, message_checks_dmarc(tx->checks)->author_domain);
		for (size_t i = 0; i < d->local_count; i++)
			d->local[i].junk = true;
	}
	committer_submit(s->server->committer, d, message_committed, s);
}

/* One of the checks' waits is over (the client's DNS, the message's own checks). */
static void message_checked(void *arg)
{
	struct smtp_session *s = arg;
	if (--s->tx->checks_waiting > 0)
		return;
	if (s->gone)
		smtp_session_resume(s); /* frees it, and the message with it */
	else
		message_commit(s);
}

/* The whole message is in: check it, then commit it or refuse it. */
static void message_end(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	if (!tx->header_done && !tx->too_big && !tx->header_too_big) {
		/* A message that is all header (no empty line). */
		write_header(s, tx->header.data, tx->header.len);
		buf_clear(&tx->header);
	}
	const char *refusal = NULL;
	if (tx->too_big)
		refusal = "552 5.3.4 Message size exceeds fixed maximum message size";
	else if (tx->header_too_big)
		refusal = "552 5.3.4 Message header section too large";
	else if (tx->bare_newline)
		refusal = "554 5.6.0 Message contains a bare CR or LF; lines must end in CRLF (RFC 5321 2.3.8)";
	else if (tx->line_too_long)
		refusal = "554 5.6.0 Message has a line longer than the limit (RFC 5322 2.1.1)";
	if (refusal == NULL && tx->foreign_author != NULL) {
		log_warn("session=%s queue=%s smtp refused user=%s author=<%s>: not owned",
			 conn_id(s->conn), tx->queue_id, s->user, tx->foreign_author);
		smtp_reply(s, "553 5.7.1 <%s>: From or Sender address not owned by user %s",
			   tx->foreign_author, s->user);
		smtp_tx_reset(s);
		return;
	}
	if (refusal != NULL) {
		smtp_reply(s, "%s", refusal);
		smtp_tx_reset(s);
		return;
	}
	s->state = SMTP_STATE_BUSY;
	conn_pause(s->conn);
	/* Both waits run at once, each within the bound. */
	tx->checks_waiting = (s->dns_check != NULL) + (tx->checks != NULL);
	if (s->dns_check != NULL)
		client_dns_wait(s->dns_check, DNS_CHECK_WAIT_MS, message_checked, s);
	if (tx->checks != NULL)
		message_checks_wait(tx->checks, DNS_CHECK_WAIT_MS, message_checked, s);
	if (tx->checks_waiting == 0)
		message_commit(s);
}

/* data = "DATA" CRLF */
void cmd_data(struct smtp_session *s, const char *arg, size_t len)
{
	if (s->tx->used_bdat) {
		smtp_reply(s, "503 5.5.1 DATA after BDAT is not allowed (RFC 3030)");
		return;
	}
	if (!message_begin(s))
		return;
	data_reader_init(&s->tx->reader, s->server->max_line);
	s->state = SMTP_STATE_DATA;
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

bool smtp_data_input(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	struct evbuffer *in = conn_input(s->conn);
	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		evbuffer_peek(in, -1, NULL, &v, 1);
		size_t used = 0;
		int done = data_reader_feed(&tx->reader, v.iov_base, v.iov_len, &tx->chunk, &used);
		evbuffer_drain(in, used);
		message_append(s, tx->chunk.data, tx->chunk.len);
		buf_clear(&tx->chunk);
		if (done) {
			tx->bare_newline = tx->reader.bare_newline;
			tx->line_too_long = tx->reader.line_too_long;
			message_end(s);
			return true;
		}
	}
	return false;
}

/* BDAT chunks are not dot-stuffed, but the message must still be made of CRLF lines within
 * the limit: we do not offer BINARYMIME. */
static void check_lines(struct smtp_session *s, const char *p, size_t n)
{
	struct smtp_tx *tx = s->tx;
	for (size_t i = 0; i < n; i++) {
		if (tx->prev_cr && p[i] != '\n')
			tx->bare_newline = true;
		if (p[i] == '\n') {
			if (!tx->prev_cr)
				tx->bare_newline = true;
			tx->line_len = 0;
		} else if (p[i] != '\r' && ++tx->line_len > s->server->max_line) {
			tx->line_too_long = true;
		}
		tx->prev_cr = p[i] == '\r';
	}
}

/* bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CRLF */
void cmd_bdat(struct smtp_session *s, const char *arg, size_t len)
{
	uint64_t size;
	bool last;
	enum smtp_parse_error e = smtp_parse_bdat(arg, len, &size, &last);
	if (e != SMTP_PARSE_OK) {
		smtp_reply_parse_error(s, e, SMTP_PATH_NONE);
		return;
	}
	struct smtp_tx *tx = s->tx;
	if (!tx->used_bdat) {
		tx->used_bdat = true;
		if (!message_begin(s)) {
			/* Refused: the chunk that follows is still read and dropped. */
			smtp_tx_reset(s);
			s->chunk_discard = true;
		}
	}
	s->chunk_left = size;
	s->chunk_last = last;
	s->state = SMTP_STATE_BDAT;
}

void smtp_bdat_discard(struct smtp_session *s, const char *arg, size_t len)
{
	uint64_t size;
	bool last;
	if (smtp_parse_bdat(arg, len, &size, &last) != SMTP_PARSE_OK)
		return;
	s->chunk_left = size;
	s->chunk_last = last;
	s->chunk_discard = true;
	s->state = SMTP_STATE_BDAT;
}

bool smtp_bdat_input(struct smtp_session *s)
{
	struct evbuffer *in = conn_input(s->conn);
	while (s->chunk_left > 0 && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		evbuffer_peek(in, -1, NULL, &v, 1);
		size_t n = v.iov_len < s->chunk_left ? v.iov_len : (size_t)s->chunk_left;
		if (!s->chunk_discard) {
			check_lines(s, v.iov_base, n);
			message_append(s, v.iov_base, n);
		}
		evbuffer_drain(in, n);
		s->chunk_left -= n;
	}
	if (s->chunk_left > 0)
		return false;
	if (s->chunk_discard) {
		s->chunk_discard = false;
		s->state = s->tx != NULL ? SMTP_STATE_MAIL : (s->helo != NULL ? SMTP_STATE_READY : SMTP_STATE_INIT);
		return true;
	}
	s->state = SMTP_STATE_MAIL;
	if (!s->chunk_last) {
		smtp_reply(s, "250 2.0.0 %llu octets received", (unsigned long long)s->tx->size);
		return true;
	}
	/* A message ends with a line end; a last chunk that stops mid-line gets one. */
	if (s->tx->prev_cr)
		s->tx->bare_newline = true;
	else if (s->tx->line_len > 0)
		message_append(s, "\r\n", 2);
	message_end(s);
	return true;
}
