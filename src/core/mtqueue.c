/* Thread-shared FIFO; see mtqueue.h. */
#include "core/mtqueue.h"
#include "core/xalloc.h"
#include <pthread.h>
#include <stdlib.h>

struct mtqueue_node {
	void *item;
	struct mtqueue_node *next;
};

struct mtqueue {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct mtqueue_node *head, *tail;
	bool closed;
};

struct mtqueue *mtqueue_new(void)
{
	struct mtqueue *q = xcalloc(1, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	return q;
}

void mtqueue_free(struct mtqueue **qp)
{
	struct mtqueue *q = *qp;
	if (q == NULL)
		return;
	for (struct mtqueue_node *n = q->head, *next; n != NULL; n = next) {
		next = n->next;
		free(n);
	}
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->wake);
	free(q);
	*qp = NULL;
}

void mtqueue_push(struct mtqueue *q, void *item)
{
	struct mtqueue_node *n = xmalloc(sizeof(*n));
	n->item = item;
	n->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->tail != NULL)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

size_t mtqueue_pop(struct mtqueue *q, void **out, size_t max, bool wait)
{
	size_t count = 0;
	pthread_mutex_lock(&q->lock);
	while (wait && q->head == NULL && !q->closed)
		pthread_cond_wait(&q->wake, &q->lock);
	while (q->head != NULL && count < max) {
		struct mtqueue_node *n = q->head;
		q->head = n->next;
		out[count++] = n->item;
		free(n);
	}
	if (q->head == NULL)
		q->tail = NULL;
	pthread_mutex_unlock(&q->lock);
	return count;
}

void mtqueue_close(struct mtqueue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->wake);
	pthread_mutex_unlock(&q->lock);
}
