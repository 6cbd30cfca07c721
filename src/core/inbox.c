/* Cross-thread hand-back to the event loop; see inbox.h. */
#include "core/inbox.h"
#include "core/xalloc.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct inbox_item {
	inbox_fn *fn;
	void *arg;
	struct inbox_item *next;
};

struct inbox {
	int fd;
	struct event *ev;
	pthread_mutex_t lock;
	struct inbox_item *head, *tail;
};

static void inbox_run(evutil_socket_t fd, short what, void *arg)
{
	struct inbox *ib = arg;
	uint64_t count;
	ssize_t ignored = read(fd, &count, sizeof(count));
	(void)ignored;
	pthread_mutex_lock(&ib->lock);
	struct inbox_item *item = ib->head;
	ib->head = ib->tail = NULL;
	pthread_mutex_unlock(&ib->lock);
	while (item != NULL) {
		struct inbox_item *next = item->next;
		item->fn(item->arg);
		free(item);
		item = next;
	}
}

struct inbox *inbox_new(struct event_base *base)
{
	struct inbox *ib = xcalloc(1, sizeof(*ib));
	ib->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ib->fd < 0)
		abort();
	pthread_mutex_init(&ib->lock, NULL);
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
	for (struct inbox_item *item = ib->head, *next; item != NULL; item = next) {
		next = item->next;
		free(item);
	}
	pthread_mutex_destroy(&ib->lock);
	free(ib);
	*ibp = NULL;
}

void inbox_post(struct inbox *ib, inbox_fn *fn, void *arg)
{
	struct inbox_item *item = xmalloc(sizeof(*item));
	item->fn = fn;
	item->arg = arg;
	item->next = NULL;
	pthread_mutex_lock(&ib->lock);
	if (ib->tail != NULL)
		ib->tail->next = item;
	else
		ib->head = item;
	ib->tail = item;
	pthread_mutex_unlock(&ib->lock);
	uint64_t one = 1;
	ssize_t ignored = write(ib->fd, &one, sizeof(one));
	(void)ignored;
}
