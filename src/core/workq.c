/* Blocking work off the event loop; see workq.h. */
#include "core/workq.h"
#include "core/mtqueue.h"
#include "core/xalloc.h"
#include <pthread.h>
#include <stdlib.h>

struct workq_job {
	workq_fn *job, *done;
	workq_on_fn *job_on;
	void *arg;
};

struct workq_thread {
	struct workq *wq;
	void *ctx;
	pthread_t id;
};

struct workq {
	struct inbox *inbox;
	struct mtqueue *jobs;
	int count;
	struct workq_thread *threads;
};

static void *workq_thread(void *arg)
{
	struct workq_thread *t = arg;
	void *item;
	while (mtqueue_pop(t->wq->jobs, &item, 1, true) == 1) {
		struct workq_job *j = item;
		if (j->job_on != NULL)
			j->job_on(t->ctx, j->arg);
		else
			j->job(j->arg);
		inbox_post(t->wq->inbox, j->done, j->arg);
		free(j);
	}
	return NULL;
}

struct workq *workq_new_with(struct inbox *ib, int threads, void *const *thread_ctx)
{
	struct workq *wq = xcalloc(1, sizeof(*wq));
	wq->inbox = ib;
	wq->jobs = mtqueue_new();
	wq->count = threads;
	wq->threads = xcalloc((size_t)threads, sizeof(*wq->threads));
	for (int i = 0; i < threads; i++) {
		wq->threads[i].wq = wq;
		wq->threads[i].ctx = thread_ctx != NULL ? thread_ctx[i] : NULL;
		if (pthread_create(&wq->threads[i].id, NULL, workq_thread, &wq->threads[i]) != 0)
			abort();
	}
	return wq;
}

struct workq *workq_new(struct inbox *ib, int threads)
{
	return workq_new_with(ib, threads, NULL);
}

void workq_free(struct workq **wqp)
{
	struct workq *wq = *wqp;
	if (wq == NULL)
		return;
	mtqueue_close(wq->jobs);
	for (int i = 0; i < wq->count; i++)
		pthread_join(wq->threads[i].id, NULL);
	free(wq->threads);
	mtqueue_free(&wq->jobs);
	free(wq);
	*wqp = NULL;
}

static void submit(struct workq *wq, workq_fn *job, workq_on_fn *job_on, workq_fn *done, void *arg)
{
	struct workq_job *j = xmalloc(sizeof(*j));
	*j = (struct workq_job){ job, done, job_on, arg };
	mtqueue_push(wq->jobs, j);
}

void workq_submit(struct workq *wq, workq_fn *job, workq_fn *done, void *arg)
{
	submit(wq, job, NULL, done, arg);
}

void workq_submit_on(struct workq *wq, workq_on_fn *job, workq_fn *done, void *arg)
{
	submit(wq, NULL, job, done, arg);
}
