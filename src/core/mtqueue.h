/* A first-in first-out queue of pointers shared between threads: the one piece under the
 * loop inbox, the worker pool and the committer. */
#ifndef ESTAFETA_MTQUEUE_H
#define ESTAFETA_MTQUEUE_H
#include <stdbool.h>
#include <stddef.h>

struct mtqueue;

struct mtqueue *mtqueue_new(void);
/* Frees the queue; items still in it are the caller's to have freed before. */
void mtqueue_free(struct mtqueue **q);
/* Appends item and wakes one waiting reader. */
void mtqueue_push(struct mtqueue *q, void *item);
/* Moves up to max items into out, oldest first. With wait, blocks while the queue is empty
 * and open. Returns the count: 0 means empty (and, with wait, closed). */
size_t mtqueue_pop(struct mtqueue *q, void **out, size_t max, bool wait);
/* Wakes every waiting reader; readers then drain what is left and get 0. */
void mtqueue_close(struct mtqueue *q);
#endif
