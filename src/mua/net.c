/* Client connections; see net.h. */
#include "mua/net.h"
#include "core/xalloc.h"
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define TIMEOUT_SECONDS 120
#define GREETING_WAIT_MS 3000 /* a greeting later than this leads to asking for TLS */
#define TLS_PROBE_SECONDS 10

struct net {
	int fd;
	char *host;
	bool verify;
	SSL_CTX *ctx;
	SSL *ssl;
	char in[16384];
	size_t in_start, in_end;
};

static char *tls_error(const char *host, SSL *ssl)
{
	long verify = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (verify != X509_V_OK)
		return xasprintf("%s: the certificate is not trusted: %s (set ESTAFETA_MAIL_TLS_VERIFY=no "
				 "only for a server you know)", host, X509_verify_cert_error_string(verify));
	char detail[256];
	ERR_error_string_n(ERR_get_error(), detail, sizeof(detail));
	return xasprintf("%s: TLS failed: %s", host, detail);
}

int net_starttls(struct net *n, char **error_r)
{
	n->ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(n->ctx, TLS1_2_VERSION);
	if (n->verify) {
		SSL_CTX_set_default_verify_paths(n->ctx);
		SSL_CTX_set_verify(n->ctx, SSL_VERIFY_PEER, NULL);
	}
	n->ssl = SSL_new(n->ctx);
	SSL_set_fd(n->ssl, n->fd);
	SSL_set_tlsext_host_name(n->ssl, n->host);
	if (n->verify)
		SSL_set1_host(n->ssl, n->host);
	if (SSL_connect(n->ssl) != 1) {
		*error_r = tls_error(n->host, n->ssl);
		return -1;
	}
	return 0;
}

bool net_is_tls(const struct net *n)
{
	return n->ssl != NULL;
}

/* A TCP connection to host:port with the read and write timeouts set; -1 with *error_r. */
static int dial(const char *host, int port, int timeout_seconds, char **error_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	int r = getaddrinfo(host, service, &hints, &res);
	if (r != 0) {
		*error_r = xasprintf("%s: cannot find the host: %s", host, gai_strerror(r));
		return -1;
	}
	int fd = -1, err = 0;
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		*error_r = xasprintf("%s port %d: cannot connect: %s", host, port, strerror(err));
		return -1;
	}
	struct timeval tv = { timeout_seconds, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Whether host:port answers a TLS handshake, tried on a connection of its own so that the
 * one in the clear stays untouched. */
static bool answers_tls(const char *host, int port)
{
	char *error = NULL;
	int fd = dial(host, port, TLS_PROBE_SECONDS, &error);
	free(error);
	if (fd < 0)
		return false;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, host);
	bool tls = SSL_connect(ssl) == 1;
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	ERR_clear_error();
	return tls;
}

/* SMTP and IMAP servers speak first. One that is silent, or whose first byte starts a TLS
 * record (22 handshake, 21 alert), may be a port of implicit TLS waiting for our handshake:
 * better said at once than after TIMEOUT_SECONDS. */
static bool expects_tls(int fd, const char *host, int port)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned char first;
	if (poll(&pfd, 1, GREETING_WAIT_MS) == 1)
		return recv(fd, &first, 1, MSG_PEEK) == 1 && (first == 0x15 || first == 0x16);
	return answers_tls(host, port);
}

struct net *net_connect(const char *host, int port, bool implicit_tls, bool verify,
			const char *tls_scheme, char **error_r)
{
	int fd = dial(host, port, TIMEOUT_SECONDS, error_r);
	if (fd < 0)
		return NULL;
	if (!implicit_tls && expects_tls(fd, host, port)) {
		*error_r = xasprintf("%s port %d expects TLS from the first byte: write the server as "
				     "%s://%s:%d", host, port, tls_scheme, host, port);
		close(fd);
		return NULL;
	}
	struct net *n = xcalloc(1, sizeof(*n));
	n->fd = fd;
	n->host = xstrdup(host);
	n->verify = verify;
	if (implicit_tls && net_starttls(n, error_r) < 0)
		net_close(&n);
	return n;
}

int net_write(struct net *n, const void *data, size_t len, char **error_r)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = n->ssl != NULL ? SSL_write(n->ssl, p, (int)(len > 1 << 30 ? 1 << 30 : len))
					   : write(n->fd, p, len);
		if (w <= 0) {
			*error_r = xasprintf("%s: the connection broke while sending", n->host);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int net_printf(struct net *n, char **error_r, const char *fmt, ...)
{
	buf b;
	buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	int r = net_write(n, b.data, b.len, error_r);
	buf_free(&b);
	return r;
}

static int fill(struct net *n, char **error_r)
{
	if (n->in_start == n->in_end)
		n->in_start = n->in_end = 0;
	ssize_t r = n->ssl != NULL ? SSL_read(n->ssl, n->in + n->in_end, (int)(sizeof(n->in) - n->in_end))
				   : read(n->fd, n->in + n->in_end, sizeof(n->in) - n->in_end);
	if (r <= 0) {
		*error_r = xasprintf("%s: %s", n->host, r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
						   ? "no answer (timed out)" : "the server closed the connection");
		return -1;
	}
	n->in_end += (size_t)r;
	return 0;
}

/* The longest line read (literals are read apart): a SEARCH answer for every message of a
 * big mailbox is a few octets per message; more is a broken or hostile server. */
#define NET_LINE_MAX (64 * 1024 * 1024)

int net_read_line(struct net *n, buf *line, char **error_r)
{
	buf_clear(line);
	for (;;) {
		if (line->len > NET_LINE_MAX) {
			*error_r = xasprintf("%s sent a line of more than %d MiB", n->host,
					     NET_LINE_MAX / (1024 * 1024));
			return -1;
		}
		char *lf = memchr(n->in + n->in_start, '\n', n->in_end - n->in_start);
		size_t take = lf != NULL ? (size_t)(lf - (n->in + n->in_start)) + 1 : n->in_end - n->in_start;
		buf_append(line, n->in + n->in_start, take);
		n->in_start += take;
		if (lf != NULL)
			break;
		if (fill(n, error_r) < 0)
			return -1;
	}
	while (line->len > 0 && (line->data[line->len - 1] == '\n' || line->data[line->len - 1] == '\r'))
		line->data[--line->len] = '\0';
	if (line->data == NULL)
		buf_puts(line, "");
	return 0;
}

int net_read_exact(struct net *n, size_t len, buf *out, char **error_r)
{
	while (len > 0) {
		if (n->in_start == n->in_end && fill(n, error_r) < 0)
			return -1;
		size_t take = n->in_end - n->in_start < len ? n->in_end - n->in_start : len;
		buf_append(out, n->in + n->in_start, take);
		n->in_start += take;
		len -= take;
	}
	return 0;
}

void net_close(struct net **np)
{
	struct net *n = *np;
	if (n == NULL)
		return;
	if (n->ssl != NULL) {
		SSL_shutdown(n->ssl);
		SSL_free(n->ssl);
	}
	SSL_CTX_free(n->ctx);
	close(n->fd);
	free(n->host);
	free(n);
	*np = NULL;
}
