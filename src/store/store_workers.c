/* The store workers; see store_workers.h. */
#include "store/store_workers.h"
#include "core/xalloc.h"
#include <stdlib.h>

struct store_workers {
	struct workq *wq;
	struct store **stores;
	int count;
	size_t pending;          /* submitted, completion not run yet (both on the loop) */
};

static void close_stores(struct store **stores, int count)
{
	for (int i = 0; i < count; i++)
		store_close(&stores[i]);
	free(stores);
}

struct store_workers *store_workers_new(struct inbox *ib, const char *data_dir, int threads,
					char **error_r)
{
	struct store **stores = xcalloc((size_t)threads, sizeof(*stores));
	for (int i = 0; i < threads; i++) {
		stores[i] = store_open(data_dir, error_r);
		if (stores[i] == NULL || store_relax_sync(stores[i], error_r) < 0) {
			close_stores(stores, threads);
			return NULL;
		}
	}
	struct store_workers *sw = xcalloc(1, sizeof(*sw));
	sw->stores = stores;
	sw->count = threads;
	sw->wq = workq_new_with(ib, threads, (void *const *)stores);
	return sw;
}

void store_workers_free(struct store_workers **swp)
{
	struct store_workers *sw = *swp;
	if (sw == NULL)
		return;
	workq_free(&sw->wq);
	close_stores(sw->stores, sw->count);
	free(sw);
	*swp = NULL;
}

/* A job on its way: the thread's context is its store connection. */
struct store_job {
	struct store_workers *sw;
	store_job_fn *job;
	workq_fn *done;
	void *arg;
};

static void job_run(void *thread_ctx, void *arg)
{
	struct store_job *j = arg;
	j->job(thread_ctx, j->arg);
}

static void job_done(void *arg)
{
	struct store_job *j = arg;
	workq_fn *done = j->done;
	void *done_arg = j->arg;
	j->sw->pending--;
	free(j);
	done(done_arg);
}

void store_workers_submit(struct store_workers *sw, store_job_fn *job, workq_fn *done, void *arg)
{
	struct store_job *j = xmalloc(sizeof(*j));
	*j = (struct store_job){ sw, job, done, arg };
	sw->pending++;
	workq_submit_on(sw->wq, job_run, job_done, j);
}

size_t store_workers_pending(const struct store_workers *sw)
{
	return sw != NULL ? sw->pending : 0;
}
