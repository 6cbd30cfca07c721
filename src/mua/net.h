/* The mail client's connections: blocking TCP with TLS (implicit, or STARTTLS once the
 * protocol asks for it), certificates verified against the system's authorities and the host
 * name unless the user turned that off, a read timeout so a silent server cannot hang a
 * script, and buffered line reading. */
#ifndef ESTAFETA_MUA_NET_H
#define ESTAFETA_MUA_NET_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

struct net;

/* Connects to host:port; with implicit_tls the TLS handshake follows at once. Without, a
 * port that turns out to wait for TLS (no greeting within a few seconds, and a handshake on a
 * second connection succeeds) is an error at once that names tls_scheme ("imaps") for the
 * setting. NULL with *error_r (one line, naming the host). */
struct net *net_connect(const char *host, int port, bool implicit_tls, bool verify,
			const char *tls_scheme, char **error_r);
/* Starts TLS on a connection in the clear (after the protocol's STARTTLS). */
int net_starttls(struct net *n, char **error_r);
bool net_is_tls(const struct net *n);
int net_write(struct net *n, const void *data, size_t len, char **error_r);
int net_printf(struct net *n, char **error_r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reads one line into line (cleared first), its CRLF or LF removed. -1 with *error_r at the
 * end of the connection or a timeout. */
int net_read_line(struct net *n, buf *line, char **error_r);
/* Appends exactly len octets to out. */
int net_read_exact(struct net *n, size_t len, buf *out, char **error_r);
void net_close(struct net **n);
#endif
