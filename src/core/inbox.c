/* Cross-thread hand-back to the event loop; see inbox.h. */
#include "core/inbox.h"
#include "core/mtqueue.h"
#include "core/xalloc.h"
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct inbox_item {
	inbox_fn *fn;
	void *arg;
};

struct inbox {
	int fd;
	struct event *ev;
	struct mtqueue *items;
};

#define INBOX_BATCH 64

static void inbox_run(evutil_socket_t fd, short what, void *arg)
{
	struct inbox *ib = arg;
	uint64_t count;
	ssize_t ignored = read(fd, &count, sizeof(count));
	(void)ignored;
	void *items[INBOX_BATCH];
	size_t n;
	while ((n = mtqueue_pop(ib->items, items, INBOX_BATCH, false)) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct inbox_item *item = items[i];
			item->fn(item->arg);
			free(item);
		}
	}
}

struct inbox *inbox_new(struct event_base *base)
{
	struct inbox *ib = xcalloc(1, sizeof(*ib));
	ib->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ib->fd < 0)
		abort();
	ib->items = mtqueue_new();
	ib->ev = event_new(base, ib->fd, EV_READ | EV_PERSIST, inbox_run, ib);
	event_add(ib->ev, NULL);
	return ib;
}

void inbox_free(struct inbox **ibp)
{
	struct inbox *ib = *ibp;
	if (ib == NULL)
		return;
	event_free(ib->ev);
	close(ib->fd);
	void *items[INBOX_BATCH];
	size_t n;
	while ((n = mtqueue_pop(ib->items, items, INBOX_BATCH, false)) > 0)
		for (size_t i = 0; i < n; i++)
			free(items[i]);
	mtqueue_free(&ib->items);
	free(ib);
	*ibp = NULL;
}

void inbox_post(struct inbox *ib, inbox_fn *fn, void *arg)
{
	struct inbox_item *item = xmalloc(sizeof(*item));
	item->fn = fn;
	item->arg = arg;
	mtqueue_push(ib->items, item);
	uint64_t one = 1;
	ssize_t ignored = write(ib->fd, &one, sizeof(one));
	(void)ignored;
}
