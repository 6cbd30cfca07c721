/* Client connections over libevent bufferevents; see conn.h. */
#include "core/conn.h"
#include "core/deflate_filter.h"
#include "core/tls.h"
#include "core/xalloc.h"
#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Input read ahead of what the session has taken: above this libevent stops reading from the
 * socket, so a client that sends faster than its commands are handled waits in TCP. It is
 * above every line bound given to conn_read_line (SMTP's AUTH line of 12288 octets is the
 * longest); IMAP frames its input as it arrives, so its longer lines never wait here whole. */
#define CONN_INPUT_MAX (64 * 1024)
/* Output waiting for a client that does not read, above which no more commands are taken. */
#define CONN_OUTPUT_MAX (256 * 1024)
/* Under COMPRESS, compressed output waiting in the layers below, above which the rest waits
 * uncompressed: so the output bound counts mostly what the session wrote. */
#define CONN_COMPRESSED_MAX (64 * 1024)

struct conn {
	struct event_base *base;
	/* The top of the layers: the socket's, under the TLS filter after STARTTLS, under the
	 * DEFLATE filter after COMPRESS. */
	struct bufferevent *bev;
	struct bufferevent *sock;    /* the lowest layer, on the socket */
	struct bufferevent *tls_bev; /* the layer that speaks TLS, if any */
	bool compressed;
	/* Under COMPRESS: inflates more of what waits compressed once the session has taken
	 * input, from the loop, so a small input that inflates to much takes turns with others. */
	struct event *refill_ev;
	SSL *ssl;
	const struct conn_handler *h;
	void *ctx;
	struct event *resume_ev;
	struct event *finish_ev;
	char id[9];
	char ip[INET6_ADDRSTRLEN];
	bool loopback;
	bool paused;
	bool closing;  /* conn_close called: flush, then finish */
	bool eof;      /* the peer closed its side */
	bool closed;   /* finished: on_close has run */
	bool discarding;
	bool tls_shut;  /* close_notify sent */
	bool output_stalled; /* input waits for the output to drain (conn_output_full) */
	/* Inside on_input. Taking input can run libevent's callbacks at once (below the read
	 * watermark a TLS bufferevent reads on inside the drain), so events met then are
	 * deferred until on_input returns: the session is never freed under its own feet. */
	bool delivering;
	bool delivery_missed; /* input or EOF arrived meanwhile: deliver again */
	struct evbuffer_cb_entry *under_cb;
	/* Replies written during one turn of the loop leave together: one write(2), and under
	 * TLS one record instead of one per line. */
	struct evbuffer *pending;
	struct event *flush_ev;
	int timeout;
	int command_timeout;
	struct event *command_ev;  /* a command line has begun and is not whole yet */
	struct event *deadline_ev; /* conn_set_deadline */
};

static void conn_finish(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	event_del(c->command_ev);
	event_del(c->deadline_ev);
	event_del(c->refill_ev);
	if (c->bev != NULL) {
		if (c->under_cb != NULL)
			evbuffer_remove_cb_entry(bufferevent_get_output(c->sock), c->under_cb);
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	c->h->on_close(c, c->ctx);
}

/* Under COMPRESS: compressed input waits below while the inflated input is at the bound. */
static bool refill_waits(const struct conn *c)
{
	if (!c->compressed || c->closed || c->closing || c->paused)
		return false;
	struct bufferevent *under = bufferevent_get_underlying(c->bev);
	return evbuffer_get_length(bufferevent_get_input(under)) > 0 &&
	       evbuffer_get_length(bufferevent_get_input(c->bev)) < CONN_INPUT_MAX;
}

static void conn_deliver_input(struct conn *c)
{
	if (c->closed || c->closing || c->paused)
		return;
	if (c->delivering) {
		c->delivery_missed = true;
		return;
	}
	c->delivering = true;
	do {
		c->delivery_missed = false;
		c->output_stalled = conn_output_full(c);
		if (!c->output_stalled && c->h->on_drained != NULL) {
			c->h->on_drained(c, c->ctx);
			c->output_stalled = c->closed || conn_output_full(c);
		}
		if (!c->output_stalled && !c->closing && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
			c->h->on_input(c, c->ctx);
	} while (c->delivery_missed && !c->closed && !c->closing && !c->paused && !c->output_stalled);
	c->delivering = false;
	/* what on_drained or on_input wrote may be over the bound: wait for it to drain */
	if (!c->closed && conn_output_full(c))
		c->output_stalled = true;
	if (refill_waits(c) && !c->output_stalled) {
		const struct timeval now = { 0, 0 };
		evtimer_add(c->refill_ev, &now);
		return;
	}
	if (c->output_stalled)
		return;
	/* on_input may have closed or paused; EOF finishes only an idle session. */
	if (!c->closed && c->eof && !c->paused)
		conn_finish(c);
}

static void on_refill(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (c->closed)
		return;
	bufferevent_flush(c->bev, EV_READ, BEV_NORMAL); /* inflates up to the read watermark */
	conn_deliver_input(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	conn_deliver_input(arg);
}

/* While closing: finish once every reply has left, from every layer. The TLS layer's
 * close_notify goes out after the last reply (RFC 8446 6.1), once the layers above it are
 * empty: under STARTTLS a layer empties as soon as it is encrypted into the socket's buffer,
 * so that one is watched too. */
static void close_when_drained(struct conn *c)
{
	if (!c->closing || c->closed || evbuffer_get_length(c->pending) > 0)
		return;
	for (struct bufferevent *b = c->bev; b != NULL; b = bufferevent_get_underlying(b)) {
		if (evbuffer_get_length(bufferevent_get_output(b)) > 0)
			return;
		if (b == c->tls_bev && !c->tls_shut) {
			c->tls_shut = true;
			SSL_shutdown(c->ssl);
		}
	}
	event_active(c->finish_ev, 0, 0);
}

static void on_under_output(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;
	if (info->n_deleted == 0)
		return;
	close_when_drained(c);
	if (c->output_stalled && !conn_output_full(c))
		conn_deliver_input(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	close_when_drained(c);
	/* The output drained: a session that stopped reading for it goes on (conn_output_pending). */
	conn_deliver_input(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (c->delivering && (what & (BEV_EVENT_TIMEOUT | BEV_EVENT_ERROR))) {
		/* finished from the loop once on_input has returned (see delivering) */
		if (what & BEV_EVENT_ERROR)
			event_active(c->finish_ev, 0, 0);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (c->closing) {
			conn_finish(c);
		} else {
			c->h->on_timeout(c, c->ctx);
		}
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (c->closing || (what & BEV_EVENT_ERROR)) {
			if (c->delivering)
				event_active(c->finish_ev, 0, 0);
			else
				conn_finish(c);
			return;
		}
		c->eof = true;
		conn_deliver_input(c);
	}
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	conn_deliver_input(arg);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (c->bev != NULL && !c->closed)
		bufferevent_write_buffer(c->bev, c->pending);
	else
		evbuffer_drain(c->pending, evbuffer_get_length(c->pending));
}

static void on_finish(evutil_socket_t fd, short what, void *arg)
{
	conn_finish(arg);
}

/* The command line or the deadline ran out (ev is the one). A paused session is busy with
 * our own work (a password check, a commit), so it hears of it a second after that is done. */
static void time_up(struct conn *c, struct event *ev)
{
	if (c->closed || c->closing)
		return;
	if (c->paused) {
		struct timeval again = { 1, 0 };
		event_add(ev, &again);
		return;
	}
	c->h->on_timeout(c, c->ctx);
}

static void on_command_time_up(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	time_up(c, c->command_ev);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	time_up(c, c->deadline_ev);
}

static void conn_setup_bev(struct conn *c)
{
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_INPUT_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	conn_set_timeout(c, c->timeout);
}

/* What a server's and a client's connection share: ids, the peer's address, the events. */
static struct conn *conn_alloc(struct event_base *base, const struct sockaddr *sa,
			       const struct conn_handler *h, void *ctx)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->h = h;
	c->ctx = ctx;
	snprintf(c->id, sizeof(c->id), "%08x", arc4random());
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, c->ip, sizeof(c->ip));
		c->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, c->ip, sizeof(c->ip));
		c->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	} else {
		strcpy(c->ip, "unknown");
	}
	c->resume_ev = event_new(base, -1, 0, on_resume, c);
	c->finish_ev = event_new(base, -1, 0, on_finish, c);
	c->flush_ev = event_new(base, -1, 0, on_flush, c);
	c->command_ev = evtimer_new(base, on_command_time_up, c);
	c->deadline_ev = evtimer_new(base, on_deadline, c);
	c->refill_ev = evtimer_new(base, on_refill, c);
	c->pending = evbuffer_new();
	return c;
}

struct conn *conn_new(struct event_base *base, int fd, const struct sockaddr *sa,
		      SSL_CTX *tls_ctx, const struct conn_handler *h, void *ctx)
{
	struct conn *c = conn_alloc(base, sa, h, ctx);
	evutil_make_socket_nonblocking(fd);
	if (tls_ctx != NULL) {
		c->ssl = SSL_new(tls_ctx);
		c->bev = bufferevent_openssl_socket_new(base, fd, c->ssl, BUFFEREVENT_SSL_ACCEPTING,
							BEV_OPT_CLOSE_ON_FREE);
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		c->tls_bev = c->bev;
	} else {
		c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	c->sock = c->bev;
	conn_setup_bev(c);
	return c;
}

struct conn *conn_connect(struct event_base *base, const struct sockaddr *sa, socklen_t salen,
			  int timeout, const struct conn_handler *h, void *ctx)
{
	struct conn *c = conn_alloc(base, sa, h, ctx);
	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	c->sock = c->bev;
	c->timeout = timeout;
	conn_setup_bev(c);
	/* A failure found at once (no route, no socket) is reported from the loop, like one
	 * found later, so the caller never sees on_close inside this call. */
	if (bufferevent_socket_connect(c->bev, sa, (int)salen) < 0)
		event_active(c->finish_ev, 0, 0);
	return c;
}

void conn_free(struct conn **cp)
{
	struct conn *c = *cp;
	if (c == NULL)
		return;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	event_free(c->resume_ev);
	event_free(c->finish_ev);
	event_free(c->flush_ev);
	event_free(c->command_ev);
	event_free(c->deadline_ev);
	event_free(c->refill_ev);
	evbuffer_free(c->pending);
	free(c);
	*cp = NULL;
}

const char *conn_id(const struct conn *c) { return c->id; }
const char *conn_peer_ip(const struct conn *c) { return c->ip; }
bool conn_is_loopback(const struct conn *c) { return c->loopback; }
bool conn_is_tls(const struct conn *c) { return c->ssl != NULL; }
bool conn_is_closed(const struct conn *c) { return c->closed || c->closing; }
bool conn_is_paused(const struct conn *c) { return c->paused; }

void conn_tls_describe(const struct conn *c, char *out, size_t outlen)
{
	if (c->ssl == NULL) {
		*out = '\0';
		return;
	}
	tls_describe(c->ssl, out, outlen);
}

void conn_set_timeout(struct conn *c, int seconds)
{
	c->timeout = seconds;
	if (c->bev == NULL)
		return;
	struct timeval tv = { seconds, 0 };
	bufferevent_set_timeouts(c->bev, seconds > 0 ? &tv : NULL, seconds > 0 ? &tv : NULL);
}

struct evbuffer *conn_input(struct conn *c)
{
	return bufferevent_get_input(c->bev);
}

void conn_set_command_timeout(struct conn *c, int seconds)
{
	c->command_timeout = seconds;
}

void conn_command_partial(struct conn *c, bool partial)
{
	if (!partial || c->command_timeout <= 0 || c->closed) {
		event_del(c->command_ev);
		return;
	}
	/* counted from the line's first octet, however slowly the rest trickles in */
	if (!event_pending(c->command_ev, EV_TIMEOUT, NULL)) {
		struct timeval tv = { c->command_timeout, 0 };
		event_add(c->command_ev, &tv);
	}
}

void conn_set_deadline(struct conn *c, int seconds)
{
	if (seconds <= 0) {
		event_del(c->deadline_ev);
		return;
	}
	struct timeval tv = { seconds, 0 };
	event_add(c->deadline_ev, &tv);
}

static int read_line(struct conn *c, size_t max, buf *line)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t eol_len;
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (p.pos < 0) {
		size_t have = evbuffer_get_length(in);
		if (have > max + 1) { /* +1: room for the CR */
			evbuffer_drain(in, have);
			c->discarding = true;
		}
		return 0;
	}
	size_t len = (size_t)p.pos;
	if (c->discarding || len > max + 1) {
		evbuffer_drain(in, len + eol_len);
		c->discarding = false;
		return -1;
	}
	buf_clear(line);
	buf_reserve(line, len);
	evbuffer_remove(in, line->data, len);
	evbuffer_drain(in, eol_len);
	if (len > 0 && line->data[len - 1] == '\r')
		len--;
	line->len = len;
	line->data[len] = '\0';
	return len > max ? -1 : 1;
}

int conn_read_line(struct conn *c, size_t max, buf *line)
{
	int r = read_line(c, max, line);
	conn_command_partial(c, r == 0 && (c->discarding || evbuffer_get_length(conn_input(c)) > 0));
	return r;
}

void conn_write(struct conn *c, const void *data, size_t len)
{
	if (c->bev == NULL || c->closed)
		return;
	if (evbuffer_get_length(c->pending) == 0)
		event_active(c->flush_ev, 0, 0);
	evbuffer_add(c->pending, data, len);
}

size_t conn_output_pending(const struct conn *c)
{
	if (c->bev == NULL || c->closed)
		return 0;
	/* a filter (TLS, DEFLATE) hands on what it can at once, so every layer is counted */
	size_t n = evbuffer_get_length(c->pending);
	for (struct bufferevent *b = c->bev; b != NULL; b = bufferevent_get_underlying(b))
		n += evbuffer_get_length(bufferevent_get_output(b));
	return n;
}

bool conn_output_full(const struct conn *c)
{
	return conn_output_pending(c) > CONN_OUTPUT_MAX;
}

size_t conn_output_room(const struct conn *c)
{
	size_t pending = conn_output_pending(c);
	return pending < CONN_OUTPUT_MAX ? CONN_OUTPUT_MAX - pending : 0;
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	if (c->bev == NULL || c->closed)
		return;
	if (evbuffer_get_length(c->pending) == 0)
		event_active(c->flush_ev, 0, 0);
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(c->pending, fmt, ap);
	va_end(ap);
}

void conn_pause(struct conn *c)
{
	c->paused = true;
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ);
}

void conn_resume(struct conn *c)
{
	if (!c->paused)
		return;
	c->paused = false;
	if (c->bev != NULL && !c->closed && !c->closing)
		bufferevent_enable(c->bev, EV_READ);
	event_active(c->resume_ev, 0, 0);
}

/* Puts the TLS filter over the connection, as the server (accepting) or the client. */
static int conn_tls_filter(struct conn *c, SSL_CTX *tls_ctx, const char *servername,
			   enum bufferevent_ssl_state state)
{
	if (c->ssl != NULL || c->compressed || c->closed)
		return -1;
	bufferevent_write_buffer(c->bev, c->pending); /* the "ready" reply goes out in the clear */
	struct evbuffer *in = bufferevent_get_input(c->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	c->ssl = SSL_new(tls_ctx);
	if (c->ssl == NULL)
		return -1;
	if (servername != NULL)
		SSL_set_tlsext_host_name(c->ssl, servername);
	/* A context that verifies peers checks their certificate against the name too. */
	if (servername != NULL && (SSL_CTX_get_verify_mode(tls_ctx) & SSL_VERIFY_PEER) &&
	    SSL_set1_host(c->ssl, servername) != 1) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		return -1;
	}
	struct bufferevent *tls = bufferevent_openssl_filter_new(c->base, c->bev, c->ssl, state,
								 BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		return -1;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	c->under_cb = evbuffer_add_cb(bufferevent_get_output(c->sock), on_under_output, c);
	c->bev = tls;
	c->tls_bev = tls;
	conn_setup_bev(c);
	return 0;
}

int conn_start_tls(struct conn *c, SSL_CTX *tls_ctx)
{
	return conn_tls_filter(c, tls_ctx, NULL, BUFFEREVENT_SSL_ACCEPTING);
}

int conn_start_tls_client(struct conn *c, SSL_CTX *tls_ctx, const char *servername)
{
	return conn_tls_filter(c, tls_ctx, servername, BUFFEREVENT_SSL_CONNECTING);
}

const char *conn_tls_verify_error(const struct conn *c)
{
	if (c->ssl == NULL)
		return NULL;
	long r = SSL_get_verify_result(c->ssl);
	return r == X509_V_OK ? NULL : X509_verify_cert_error_string(r);
}

int conn_start_compress(struct conn *c)
{
	if (c->compressed || c->closed)
		return -1;
	bufferevent_write_buffer(c->bev, c->pending); /* the tagged OK goes out uncompressed */
	struct bufferevent *z = deflate_filter_new(c->bev, c->finish_ev);
	if (z == NULL)
		return -1;
	/* the layers below hold little compressed output; the rest waits uncompressed above */
	for (struct bufferevent *b = c->bev; b != NULL; b = bufferevent_get_underlying(b))
		bufferevent_setwatermark(b, EV_WRITE, 0, CONN_COMPRESSED_MAX);
	if (c->under_cb == NULL)
		c->under_cb = evbuffer_add_cb(bufferevent_get_output(c->sock), on_under_output, c);
	c->bev = z;
	c->compressed = true;
	conn_setup_bev(c);
	/* what the client sent after the command is compressed already: inflate it */
	conn_deliver_input(c);
	return 0;
}

bool conn_is_compressed(const struct conn *c) { return c->compressed; }

void conn_close(struct conn *c)
{
	if (c->closed || c->closing)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	/* Finishing always happens from the loop, never inside the caller, which may still be
	 * using its session. */
	close_when_drained(c);
}
