/* Group commit thread; see committer.h. */
#include "deliver/committer.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define COMMIT_BATCH_MAX 256

struct commit_item {
	struct delivery *d;
	committer_done_fn *done;
	void *arg;
	struct commit_item *next;
};

struct committer {
	struct store *store;
	struct inbox *inbox;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct commit_item *head, *tail;
	bool stopping;
};


static void run_done(void *arg)
{
	struct commit_item *item = arg;
	item->done(item->d, item->arg);
	free(item);
}

static void *committer_thread(void *arg)
{
	struct committer *c = arg;
	struct delivery *batch[COMMIT_BATCH_MAX];
	struct commit_item *items[COMMIT_BATCH_MAX];
	for (;;) {
		pthread_mutex_lock(&c->lock);
		while (c->head == NULL && !c->stopping)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->head == NULL) {
			pthread_mutex_unlock(&c->lock);
			return NULL;
		}
		size_t n = 0;
		while (c->head != NULL && n < COMMIT_BATCH_MAX) {
			items[n] = c->head;
			batch[n] = c->head->d;
			c->head = c->head->next;
			n++;
		}
		if (c->head == NULL)
			c->tail = NULL;
		pthread_mutex_unlock(&c->lock);

		store_deliver(c->store, batch, n);
		for (size_t i = 0; i < n; i++)
			inbox_post(c->inbox, run_done, items[i]);
	}
}

struct committer *committer_new(const char *data_dir, struct inbox *ib, char **error_r)
{
	struct store *st = store_open(data_dir, error_r);
	if (st == NULL)
		return NULL;
	struct committer *c = xcalloc(1, sizeof(*c));
	c->store = st;
	c->inbox = ib;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (pthread_create(&c->thread, NULL, committer_thread, c) != 0)
		abort();
	return c;
}

void committer_free(struct committer **cp)
{
	struct committer *c = *cp;
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	store_close(&c->store);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	free(c);
	*cp = NULL;
}

void committer_submit(struct committer *c, struct delivery *d, committer_done_fn *done, void *arg)
{
	struct commit_item *item = xmalloc(sizeof(*item));
	item->d = d;
	item->done = done;
	item->arg = arg;
	item->next = NULL;
	pthread_mutex_lock(&c->lock);
	if (c->tail != NULL)
		c->tail->next = item;
	else
		c->head = item;
	c->tail = item;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
}
