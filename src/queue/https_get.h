/* A small HTTPS client for the one fetch MTA-STS needs (RFC 8461 3.3): GET a path from a host
 * whose certificate must be valid for it and chain to a trusted CA, HTTP/1.1 with Connection:
 * close, no redirects followed, no caching, the body bounded in size and the whole exchange in
 * time. On the loop, through the shared resolver and core/conn.c. */
#ifndef ESTAFETA_HTTPS_GET_H
#define ESTAFETA_HTTPS_GET_H
#include "core/dns.h"
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stddef.h>

struct https_get;

/* status: the HTTP status (0 when none came); content_type: its Content-Type or ""; body
 * and len: the body (chunked transfer coding undone), only for a whole answer; error: what
 * failed, or NULL. Valid during the call. */
typedef void https_get_fn(int status, const char *content_type, const char *body, size_t len,
			  const char *error, void *arg);

/* Starts GET https://host:port/path. tls must verify peers (tls_verifying_client_context);
 * the name checked is host. done runs once, on the loop, after this call returns. */
struct https_get *https_get_start(struct event_base *base, struct dns *d, SSL_CTX *tls,
				  const char *host, int port, const char *path, size_t max_body,
				  int timeout, https_get_fn *done, void *arg);
/* Cancels the fetch: done does not run. */
void https_get_cancel(struct https_get **g);
#endif
