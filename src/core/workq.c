/* Blocking work off the event loop; see workq.h. */
#include "core/workq.h"
#include "core/mtqueue.h"
#include "core/xalloc.h"
#include <pthread.h>
#include <stdlib.h>

struct workq_job {
	workq_fn *job, *done;
	void *arg;
};

struct workq {
	struct inbox *inbox;
	struct mtqueue *jobs;
	int count;
	pthread_t *threads;
};

static void *workq_thread(void *arg)
{
	struct workq *wq = arg;
	void *item;
	while (mtqueue_pop(wq->jobs, &item, 1, true) == 1) {
		struct workq_job *j = item;
		j->job(j->arg);
		inbox_post(wq->inbox, j->done, j->arg);
		free(j);
	}
	return NULL;
}

struct workq *workq_new(struct inbox *ib, int threads)
{
	struct workq *wq = xcalloc(1, sizeof(*wq));
	wq->inbox = ib;
	wq->jobs = mtqueue_new();
	wq->count = threads;
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
	mtqueue_close(wq->jobs);
	for (int i = 0; i < wq->count; i++)
		pthread_join(wq->threads[i], NULL);
	free(wq->threads);
	mtqueue_free(&wq->jobs);
	free(wq);
	*wqp = NULL;
}

void workq_submit(struct workq *wq, workq_fn *job, workq_fn *done, void *arg)
{
	struct workq_job *j = xmalloc(sizeof(*j));
	j->job = job;
	j->done = done;
	j->arg = arg;
	mtqueue_push(wq->jobs, j);
}
