/* A small pool of threads for work that blocks (password hashing, file system calls, store
 * calls), so the event loop never stalls. Each job runs on a worker; its completion runs on
 * the loop thread. */
#ifndef ESTAFETA_WORKQ_H
#define ESTAFETA_WORKQ_H
#include "core/inbox.h"

struct workq;
typedef void workq_fn(void *arg);
/* A job that uses its thread's own resource (thread_ctx, see workq_new_with). */
typedef void workq_on_fn(void *thread_ctx, void *arg);

struct workq *workq_new(struct inbox *ib, int threads);
/* Like workq_new, and thread i holds thread_ctx[i] for its whole life: a resource only that
 * thread uses, such as a database connection, which jobs submitted with workq_submit_on get.
 * The caller keeps and frees the resources after workq_free. */
struct workq *workq_new_with(struct inbox *ib, int threads, void *const *thread_ctx);
/* Waits for queued jobs to finish, stops the threads and frees the pool. */
void workq_free(struct workq **wq);
/* Runs job(arg) on a worker thread, then done(arg) on the loop thread. */
void workq_submit(struct workq *wq, workq_fn *job, workq_fn *done, void *arg);
/* Runs job(thread_ctx, arg) on a worker thread, then done(arg) on the loop thread. */
void workq_submit_on(struct workq *wq, workq_on_fn *job, workq_fn *done, void *arg);
#endif
