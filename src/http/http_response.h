/* HTTP/1.1 responses as a client reads them (RFC 9112): the status line, the header fields a
 * client acts on (Content-Type, Content-Length, Transfer-Encoding) and the body, delimited by
 * its length, the chunked transfer coding (7.1) or the end of the connection. Pure functions
 * over a response read whole. */
#ifndef ESTAFETA_HTTP_RESPONSE_H
#define ESTAFETA_HTTP_RESPONSE_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

struct http_response {
	int status;           /* 100 to 599 */
	buf content_type;     /* the field's value, "" when absent */
	buf body;             /* with any chunked coding undone */
};

/* Reads a response from data[0..len), all that came before the server closed. 1 with *r
 * filled (free it with http_response_free; nothing to free otherwise), 0 when it is cut short (a body shorter than its
 * length, a chunk missing), -1 when it breaks the syntax, is no HTTP/1.x response, or its body
 * is longer than max_body. */
int http_response_parse(const char *data, size_t len, size_t max_body, struct http_response *r);
void http_response_free(struct http_response *r);
#endif
