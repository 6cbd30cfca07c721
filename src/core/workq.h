/* A small pool of threads for work that blocks (password hashing, file system calls), so the
 * event loop never stalls. Each job runs on a worker; its completion runs on the loop thread. */
#ifndef ESTAFETA_WORKQ_H
#define ESTAFETA_WORKQ_H
#include "core/inbox.h"

struct workq;
typedef void workq_fn(void *arg);

struct workq *workq_new(struct inbox *ib, int threads);
/* Waits for queued jobs to finish, stops the threads and frees the pool. */
void workq_free(struct workq **wq);
/* Runs job(arg) on a worker thread, then done(arg) on the loop thread. */
void workq_submit(struct workq *wq, workq_fn *job, workq_fn *done, void *arg);
#endif
