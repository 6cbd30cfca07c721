/* Group commit thread; see committer.h. */
#include "deliver/committer.h"
#include "deliver/indexer.h"
#include "core/mtqueue.h"
#include "core/xalloc.h"
#include <pthread.h>
#include <stdlib.h>

#define COMMIT_BATCH_MAX 256

struct commit_item {
	struct committer *c;
	struct delivery *d;
	committer_done_fn *done;
	void *arg;
};

struct committer {
	struct store *store;
	struct inbox *inbox;
	struct indexer *indexer;     /* indexes what this thread commits */
	committer_watch_fn *watch;
	void *watch_arg;
	struct mtqueue *waiting;
	pthread_t thread;
};

static void run_done(void *arg)
{
	struct commit_item *item = arg;
	if (item->d->status == 0 && item->c->watch != NULL)
		item->c->watch(item->d, item->c->watch_arg);
	item->done(item->d, item->arg);
	free(item);
}

/* Takes everything waiting (up to a batch) and commits it at once. */
static void *committer_thread(void *arg)
{
	struct committer *c = arg;
	void *items[COMMIT_BATCH_MAX];
	struct delivery *batch[COMMIT_BATCH_MAX];
	size_t n;
	while ((n = mtqueue_pop(c->waiting, items, COMMIT_BATCH_MAX, true)) > 0) {
		bool local = false;
		for (size_t i = 0; i < n; i++) {
			batch[i] = ((struct commit_item *)items[i])->d;
			local |= batch[i]->local_count > 0;
		}
		store_deliver(c->store, batch, n);
		if (local)
			indexer_kick(c->indexer);
		for (size_t i = 0; i < n; i++)
			inbox_post(c->inbox, run_done, items[i]);
	}
	return NULL;
}

struct committer *committer_new(const char *data_dir, struct inbox *ib, char **error_r)
{
	struct store *st = store_open(data_dir, error_r);
	if (st == NULL)
		return NULL;
	struct committer *c = xcalloc(1, sizeof(*c));
	c->store = st;
	c->inbox = ib;
	c->waiting = mtqueue_new();
	c->indexer = indexer_new(data_dir, error_r);
	if (c->indexer == NULL) {
		mtqueue_free(&c->waiting);
		store_close(&c->store);
		free(c);
		return NULL;
	}
	if (pthread_create(&c->thread, NULL, committer_thread, c) != 0)
		abort();
	return c;
}

void committer_free(struct committer **cp)
{
	struct committer *c = *cp;
	if (c == NULL)
		return;
	mtqueue_close(c->waiting);
	pthread_join(c->thread, NULL);
	indexer_free(&c->indexer);
	store_close(&c->store);
	mtqueue_free(&c->waiting);
	free(c);
	*cp = NULL;
}

void committer_submit(struct committer *c, struct delivery *d, committer_done_fn *done, void *arg)
{
	struct commit_item *item = xmalloc(sizeof(*item));
	item->c = c;
	item->d = d;
	item->done = done;
	item->arg = arg;
	mtqueue_push(c->waiting, item);
}

void committer_index_now(struct committer *c)
{
	indexer_kick(c->indexer);
}

void committer_watch(struct committer *c, committer_watch_fn *fn, void *arg)
{
	c->watch = fn;
	c->watch_arg = arg;
}
