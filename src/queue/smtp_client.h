/* The outbound SMTP client: one connection at a time to one destination, trying its mail
 * exchangers in order until one takes the session, then handing over every message of the
 * job on that connection (RFC 5321 3.3, 4.5.3.2 timeouts). Opportunistic STARTTLS (RFC 3207),
 * PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), DSN
 * parameters passed on (RFC 3461), CHUNKING (RFC 3030), AUTH PLAIN to a relayhost over TLS
 * (RFC 4954). Every recipient's outcome is reported as soon as the server's reply decides it,
 * so the caller can make it durable before anything else happens. */
#ifndef ESTAFETA_SMTP_CLIENT_H
#define ESTAFETA_SMTP_CLIENT_H
#include "core/buf.h"
#include "queue/mx_route.h"
#include "store/store.h"
#include <event2/event.h>
#include <openssl/ssl.h>

struct smtp_client_params {
	struct event_base *base;
	SSL_CTX *tls;            /* NULL: no STARTTLS */
	const char *helo;        /* our name for EHLO */
	const char *auth_user;   /* AUTH PLAIN credentials (relayhost), or NULL */
	const char *auth_pass;
	/* TLS is a must (an enforced MTA-STS policy, RFC 8461 5): a server without STARTTLS, or
	 * whose certificate tls (then a verifying context) refuses for its MX name, is skipped
	 * for the next, and no session goes on in the clear. */
	bool require_tls;
};

/* One message to hand over: the queue entry with only the recipients of this destination,
 * and its file's contents. */
struct smtp_client_msg {
	struct queue_msg *m;
	buf body;
};

/* The outcome for one recipient. code: the deciding reply's code (2xx delivered, 4xx try
 * later, 5xx failed for good); status: its enhanced status code; diagnostic: the reply as one
 * line ("smtp; " not included); remote: the MX host name, or NULL when no server was reached. */
struct smtp_client_result {
	int code;
	const char *status;
	const char *diagnostic;
	const char *remote;
};
typedef void smtp_client_rcpt_fn(struct smtp_client_msg *cm, struct queue_rcpt *r,
				 const struct smtp_client_result *res, void *arg);
/* The job has ended (every recipient reported); the client frees itself after this call. */
typedef void smtp_client_done_fn(void *arg);

struct smtp_client;

/* Starts the job on the loop. targets (at least one) are copied; msgs stay the caller's and
 * must live until done runs, which is never inside this call. */
struct smtp_client *smtp_client_start(const struct smtp_client_params *p,
				      const struct dns_target *targets, size_t target_count,
				      struct smtp_client_msg *msgs, size_t msg_count,
				      smtp_client_rcpt_fn *rcpt_cb, smtp_client_done_fn *done_cb,
				      void *arg);
/* Ends the job at once (shutdown): recipients not yet decided are reported as 4xx. */
void smtp_client_abort(struct smtp_client *c);
#endif
