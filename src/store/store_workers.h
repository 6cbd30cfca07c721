/* The store workers: the threads where the protocols' store calls run, so none runs on the
 * event loop. Each thread holds a store connection of its own for its whole life (a
 * connection belongs to one thread); a job gets its thread's and its completion runs on the
 * loop. Jobs run in any order across threads: a session keeps its own commands in order by
 * having one job in flight at a time. */
#ifndef ESTAFETA_STORE_WORKERS_H
#define ESTAFETA_STORE_WORKERS_H
#include "core/inbox.h"
#include "core/workq.h"
#include "store/store.h"

struct store_workers;
typedef void store_job_fn(struct store *st, void *arg);

/* Opens threads store connections on data_dir (with relaxed sync, like the loop's: their
 * writes are flags and states, store.h) and starts the threads. NULL with *error_r when a
 * connection cannot be opened. */
struct store_workers *store_workers_new(struct inbox *ib, const char *data_dir, int threads,
					char **error_r);
/* Waits for the jobs queued, stops the threads and closes their connections. */
void store_workers_free(struct store_workers **sw);
/* Runs job(store, arg) on a worker, then done(arg) on the loop. */
void store_workers_submit(struct store_workers *sw, store_job_fn *job, workq_fn *done, void *arg);
/* Jobs submitted whose completion has not run yet (called on the loop). */
size_t store_workers_pending(const struct store_workers *sw);
#endif
