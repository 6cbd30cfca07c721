/* A client connection on the event loop: a libevent bufferevent (plain, or TLS from the first
 * byte, or switched to TLS by STARTTLS) with bounded line reading, writes, pause/resume for
 * work done elsewhere, and a timeout. Protocol sessions (SMTP, POP3, IMAP) sit on top through
 * the callbacks; they never touch sockets or OpenSSL themselves.
 *
 * COMPRESS adds a DEFLATE filter above the rest.
 *
 * Lifetime: the session owns the conn. When the peer goes away or conn_close() finishes,
 * on_close runs once; the conn then does no I/O, and the session frees it with conn_free()
 * when it has nothing in flight. */
#ifndef ESTAFETA_CONN_H
#define ESTAFETA_CONN_H
#include "core/buf.h"
#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/socket.h>

struct conn;

struct conn_handler {
	void (*on_input)(struct conn *c, void *ctx);   /* new bytes, or resumed with bytes */
	/* no input for the timeout, a command line not whole within the command timeout, or
	 * the deadline passed */
	void (*on_timeout)(struct conn *c, void *ctx);
	void (*on_close)(struct conn *c, void *ctx);   /* gone; no more I/O */
	/* Optional: the output is under the bound (conn_output_full) again, or may be. Runs
	 * before on_input at each chance to go on, and when the output drains without input:
	 * a session with a long answer left writes its next part here. */
	void (*on_drained)(struct conn *c, void *ctx);
};

/* Takes over fd. With tls_ctx the connection speaks TLS from the first byte (ports 465,
 * 993, 995). id names the session in logs. */
struct conn *conn_new(struct event_base *base, int fd, const struct sockaddr *sa,
		      SSL_CTX *tls_ctx, const struct conn_handler *h, void *ctx);
void conn_free(struct conn **c);
/* The client side: connects to sa without blocking the loop. on_input follows the peer's
 * first bytes; a connection refused, unreachable or not made within timeout seconds ends in
 * on_close (or on_timeout), always called from the loop, never inside this call. */
struct conn *conn_connect(struct event_base *base, const struct sockaddr *sa, socklen_t salen,
			  int timeout, const struct conn_handler *h, void *ctx);

const char *conn_id(const struct conn *c);
const char *conn_peer_ip(const struct conn *c);
bool conn_is_loopback(const struct conn *c);
bool conn_is_tls(const struct conn *c);
bool conn_is_closed(const struct conn *c);
/* Between conn_pause and conn_resume. */
bool conn_is_paused(const struct conn *c);
/* "TLSv1.3 with cipher ..." when TLS is active, else "". */
void conn_tls_describe(const struct conn *c, char *out, size_t outlen);

/* Seconds of silence before on_timeout (0: none). */
void conn_set_timeout(struct conn *c, int seconds);
/* Seconds a command line may take from its first octet to its end (0: no bound); past them
 * on_timeout runs, however steadily its octets trickle in (slowloris). conn_read_line keeps
 * the count itself; a session that frames its input otherwise (IMAP) reports with
 * conn_command_partial after taking input: true while a line has begun and is not whole. */
void conn_set_command_timeout(struct conn *c, int seconds);
void conn_command_partial(struct conn *c, bool partial);
/* on_timeout runs once seconds from now, whatever the traffic (0: no deadline). Sessions
 * bound the time before login with it. */
void conn_set_deadline(struct conn *c, int seconds);

/* Bytes received and not yet consumed. */
struct evbuffer *conn_input(struct conn *c);
/* Reads one line ending in LF (a CR before it is removed) of at most max octets without its
 * line end. Returns 1 with the line in *line (replacing its contents), 0 when no whole line
 * is there yet, -1 once for a longer line, which is thrown away up to its end. */
int conn_read_line(struct conn *c, size_t max, buf *line);

void conn_write(struct conn *c, const void *data, size_t len);
/* Octets written and not yet handed to the socket. */
size_t conn_output_pending(const struct conn *c);
/* True while the output waiting for the client is over the bound (256 KiB). Every session
 * stops taking commands while it is: on_input is not called, the session's own loop checks
 * this before each command, and input waits in TCP (at most 64 KiB is read ahead); on_input
 * runs again once the output has drained. So a client that pipelines commands and reads no
 * replies cannot make the server hold more than the bounds. */
bool conn_output_full(const struct conn *c);
/* How many octets may still be written before the output is over the bound (0 when it is):
 * what a session may write for the connection elsewhere and hand over later. */
size_t conn_output_room(const struct conn *c);
void conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stops reading (and calling on_input) until conn_resume, which calls on_input again at once
 * from the loop when input is waiting. */
void conn_pause(struct conn *c);
void conn_resume(struct conn *c);

/* Switches to TLS (STARTTLS): everything written so far goes out in the clear first, and any
 * input the client sent before the handshake is discarded (RFC 3207 5: no command injection
 * across the switch). Returns 0 or -1. */
int conn_start_tls(struct conn *c, SSL_CTX *tls_ctx);
/* The client's side of STARTTLS (after the server's 220): the handshake starts at once, with
 * servername for SNI, and, when tls_ctx verifies peers, as the name their certificate must
 * be valid for. Returns 0 or -1; a failed handshake ends in on_close. */
int conn_start_tls_client(struct conn *c, SSL_CTX *tls_ctx, const char *servername);
/* Why the peer's certificate failed verification ("certificate has expired", ...), or NULL
 * when it passed, was not checked, or no TLS was started. */
const char *conn_tls_verify_error(const struct conn *c);

/* Turns on RFC 4978's DEFLATE both ways (IMAP COMPRESS), over TLS when it is on: what was
 * written so far goes out uncompressed, everything after compressed and flushed at each
 * point it would have been sent. Inflated input is held to the same read-ahead bound as
 * any input, and the output bound counts mostly uncompressed octets (little compressed
 * output waits below it). A client stream that is not DEFLATE ends in on_close. Returns 0
 * or -1 (already on, or no memory). */
int conn_start_compress(struct conn *c);
bool conn_is_compressed(const struct conn *c);

/* Sends what is written, then closes; on_close follows. */
void conn_close(struct conn *c);
#endif
