/* The committer: one thread that makes deliveries durable in batches (group commit). Sessions
 * hand over finished messages; the thread takes everything waiting, commits it with one
 * store_deliver call (one fsync round and one database transaction for the whole batch), and
 * hands each delivery back to the event loop, where the session answers 250 or 452. Under load
 * batches grow by themselves, so many concurrent messages share the cost of each fsync. */
#ifndef ESTAFETA_COMMITTER_H
#define ESTAFETA_COMMITTER_H
#include "core/inbox.h"
#include "store/store.h"

struct committer;
/* Runs on the loop thread with the delivery's status filled in; the callee owns d. */
typedef void committer_done_fn(struct delivery *d, void *arg);

/* Opens the committer's own store connection and starts its thread. */
struct committer *committer_new(const char *data_dir, struct inbox *ib, char **error_r);
/* Commits what is waiting, then stops the thread and frees everything. */
void committer_free(struct committer **c);
void committer_submit(struct committer *c, struct delivery *d, committer_done_fn *done, void *arg);
/* Runs on the loop thread for every delivery committed, before its own done: how IMAP
 * sessions waiting in IDLE hear of new mail at once. One watcher; set it before mail flows. */
typedef void committer_watch_fn(const struct delivery *d, void *arg);
void committer_watch(struct committer *c, committer_watch_fn *fn, void *arg);
/* Messages came into the store another way (estafeta import): the indexer looks for them. */
void committer_index_now(struct committer *c);
#endif
