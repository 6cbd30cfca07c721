/* RFC 4978's compression layer: raw DEFLATE (RFC 1951) both ways, as a libevent filter over a
 * connection's bufferevent (the socket's, or TLS's: compression sits above TLS). What is
 * inflated counts against the filter's read watermark like any input, so a small compressed
 * input that inflates to gigabytes never holds more than the bound; every call of the output
 * filter ends with a sync flush, so each reply the connection hands over reaches the client
 * whole. */
#ifndef ESTAFETA_DEFLATE_FILTER_H
#define ESTAFETA_DEFLATE_FILTER_H
#include <event2/bufferevent.h>
#include <event2/event.h>

/* The filter over under (freed with it). When the client's stream is not valid DEFLATE, or
 * ends, failed is made active: the stream cannot be followed any more. NULL when zlib has
 * no memory. */
struct bufferevent *deflate_filter_new(struct bufferevent *under, struct event *failed);
#endif
