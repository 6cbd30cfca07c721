/* Group commit thread; see committer.h. */
#include "deliver/committer.h"
#include "core/fsutil.h"
#include "core/mtqueue.h"
#include "core/xalloc.h"
#include "mail/text.h"
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

/* The text the full-text index keeps for a delivery with local copies, read back from its
 * spool file (still in the page cache) and decoded on this thread, off the event loop. A
 * file that cannot be read leaves the message unindexed; search then reads it instead. */
static void index_text(struct delivery *d)
{
	char *msg;
	size_t len;
	if (d->local_count == 0 || fs_read_file(d->spool_path, &msg, &len) < 0)
		return;
	buf header, body;
	buf_init(&header);
	buf_init(&body);
	message_text(msg, len, &header, &body);
	d->search_header = buf_steal(&header);
	d->search_body = buf_steal(&body);
	free(msg);
}

/* Takes everything waiting (up to a batch) and commits it at once. */
static void *committer_thread(void *arg)
{
	struct committer *c = arg;
	void *items[COMMIT_BATCH_MAX];
	struct delivery *batch[COMMIT_BATCH_MAX];
	size_t n;
	while ((n = mtqueue_pop(c->waiting, items, COMMIT_BATCH_MAX, true)) > 0) {
		for (size_t i = 0; i < n; i++) {
			batch[i] = ((struct commit_item *)items[i])->d;
			index_text(batch[i]);
		}
		store_deliver(c->store, batch, n);
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

void committer_watch(struct committer *c, committer_watch_fn *fn, void *arg)
{
	c->watch = fn;
	c->watch_arg = arg;
}
