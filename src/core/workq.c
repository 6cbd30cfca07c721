/* Blocking work off the event loop; see workq.h. */
#include "core/workq.h"
#include "core/xalloc.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct workq_job {
	workq_fn *job, *done;
	void *arg;
	struct workq_job *next;
};

struct workq {
	struct inbox *inbox;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct workq_job *head, *tail;
	bool stopping;
	int count;
	pthread_t *threads;
};

static void *workq_thread(void *arg)
{
	struct workq *wq = arg;
	for (;;) {
		pthread_mutex_lock(&wq->lock);
		while (wq->head == NULL && !wq->stopping)
			pthread_cond_wait(&wq->wake, &wq->lock);
		struct workq_job *j = wq->head;
		if (j == NULL) {
			pthread_mutex_unlock(&wq->lock);
			return NULL;
		}
		wq->head = j->next;
		if (wq->head == NULL)
			wq->tail = NULL;
		pthread_mutex_unlock(&wq->lock);
		j->job(j->arg);
		inbox_post(wq->inbox, j->done, j->arg);
		free(j);
	}
}

struct workq *workq_new(struct inbox *ib, int threads)
{
	struct workq *wq = xcalloc(1, sizeof(*wq));
	wq->inbox = ib;
	wq->count = threads;
	pthread_mutex_init(&wq->lock, NULL);
	pthread_cond_init(&wq->wake, NULL);
	wq->threads = xcalloc((size_t)threads, sizeof(pthread_t));
	for (int i = 0; i < threads; i++)
		if (pthread_create(&wq->threads[i], NULL, workq_thread, wq) != 0)
			abort();
	return wq;
}

void workq_free(struct workq **wqp)
{
	struct workq *wq = *wqp;
	if (wq == NULL)
		return;
	pthread_mutex_lock(&wq->lock);
	wq->stopping = true;
	pthread_cond_broadcast(&wq->wake);
	pthread_mutex_unlock(&wq->lock);
	for (int i = 0; i < wq->count; i++)
		pthread_join(wq->threads[i], NULL);
	free(wq->threads);
	pthread_mutex_destroy(&wq->lock);
	pthread_cond_destroy(&wq->wake);
	free(wq);
	*wqp = NULL;
}

void workq_submit(struct workq *wq, workq_fn *job, workq_fn *done, void *arg)
{
	struct workq_job *j = xmalloc(sizeof(*j));
	j->job = job;
	j->done = done;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&wq->lock);
	if (wq->tail != NULL)
		wq->tail->next = j;
	else
		wq->head = j;
	wq->tail = j;
	pthread_cond_signal(&wq->wake);
	pthread_mutex_unlock(&wq->lock);
}
