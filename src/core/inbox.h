/* A loop inbox: how other threads hand work back to the event loop. Any thread posts a
 * (function, argument) pair; the loop thread runs them in order. Backed by an eventfd the loop
 * watches, so posting never blocks and needs no libevent locking. */
#ifndef ESTAFETA_INBOX_H
#define ESTAFETA_INBOX_H
#include <event2/event.h>

struct inbox;
typedef void inbox_fn(void *arg);

struct inbox *inbox_new(struct event_base *base);
/* Frees the inbox; posts not yet run are dropped (call when no thread posts any more). */
void inbox_free(struct inbox **ib);
/* Safe from any thread. fn(arg) later runs on the loop thread. */
void inbox_post(struct inbox *ib, inbox_fn *fn, void *arg);
#endif
