/* A client connection on the event loop: a libevent bufferevent (plain, or TLS from the first
 * byte, or switched to TLS by STARTTLS) with bounded line reading, writes, pause/resume for
 * work done elsewhere, and a timeout. Protocol sessions (SMTP, POP3, IMAP) sit on top through
 * the three callbacks; they never touch sockets or OpenSSL themselves.
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
	void (*on_timeout)(struct conn *c, void *ctx); /* no input for the timeout */
	void (*on_close)(struct conn *c, void *ctx);   /* gone; no more I/O */
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
/* "TLSv1.3 with cipher ..." when TLS is active, else "". */
void conn_tls_describe(const struct conn *c, char *out, size_t outlen);

/* Seconds of silence before on_timeout (0: none). */
void conn_set_timeout(struct conn *c, int seconds);

/* Bytes received and not yet consumed. */
struct evbuffer *conn_input(struct conn *c);
/* Reads one line ending in LF (a CR before it is removed) of at most max octets without its
 * line end. Returns 1 with the line in *line (replacing its contents), 0 when no whole line
 * is there yet, -1 once for a longer line, which is thrown away up to its end. */
int conn_read_line(struct conn *c, size_t max, buf *line);

void conn_write(struct conn *c, const void *data, size_t len);
/* Octets written and not yet handed to the socket. A session that produces much output for
 * little input (POP3 RETR, IMAP FETCH) stops reading commands while this is large; on_input
 * runs again once the output has drained, so pipelined commands cannot grow it unbounded. */
size_t conn_output_pending(struct conn *c);
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
 * servername for SNI. Returns 0 or -1; a failed handshake ends in on_close. */
int conn_start_tls_client(struct conn *c, SSL_CTX *tls_ctx, const char *servername);

/* Sends what is written, then closes; on_close follows. */
void conn_close(struct conn *c);
#endif
