/* The control socket; see control.h. One bufferevent per client: it reads one line, runs the
 * handler, writes the answer and closes its side when the answer has left. */
#include "core/control.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONTROL_TIMEOUT 10 /* seconds a client may take to send its request or read the answer */

struct handler {
	char *name;
	control_fn *fn;
	void *ctx;
};

struct client {
	struct control *ctl;
	struct bufferevent *bev;
	struct client *prev, *next;
};

struct control {
	struct event_base *base;
	struct evconnlistener *evl;
	char *path;
	struct handler *handlers;
	size_t handler_count;
	struct client *clients;
};

char *control_socket_path(const struct config *cfg)
{
	return xasprintf("%s/control.sock", config_path(cfg, "data_dir"));
}

static void client_free(struct client *cl)
{
	*(cl->prev ? &cl->prev->next : &cl->ctl->clients) = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	bufferevent_free(cl->bev);
	free(cl);
}

static const struct handler *handler_find(const struct control *ctl, const char *name)
{
	for (size_t i = 0; i < ctl->handler_count; i++)
		if (strcmp(ctl->handlers[i].name, name) == 0)
			return &ctl->handlers[i];
	return NULL;
}

/* Runs the request line and returns the whole answer in out. */
static void answer(struct control *ctl, char *line, buf *out)
{
	char *arg = strchr(line, ' ');
	if (arg != NULL)
		*arg++ = '\0';
	const struct handler *h = handler_find(ctl, line);
	buf data;
	buf_init(&data);
	char *error = NULL;
	int r = -1;
	if (h == NULL)
		error = xasprintf("unknown request \"%s\"", line);
	else
		r = h->fn(h->ctx, arg != NULL ? arg : "", &data, &error);
	for (size_t start = 0; start < data.len;) {
		const char *nl = memchr(data.data + start, '\n', data.len - start);
		size_t end = nl != NULL ? (size_t)(nl - data.data) : data.len;
		buf_printf(out, CONTROL_DATA "%.*s\n", (int)(end - start), data.data + start);
		start = end + 1;
	}
	if (r == 0)
		buf_puts(out, CONTROL_OK "\n");
	else
		buf_printf(out, CONTROL_ERROR "%s\n", error);
	log_info("control request=%s status=%s", line, r == 0 ? "ok" : "error");
	free(error);
	buf_free(&data);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	client_free(arg);
}

static void discard(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* The answer has left: the end of it is told by closing our side, and the client's closing
 * (or the timeout) frees it. Closing at once could reset the connection, and lose the
 * answer, when the client sent more than was read. */
static void on_written(struct bufferevent *bev, void *arg)
{
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	bufferevent_setcb(bev, discard, NULL, on_event, arg);
	bufferevent_enable(bev, EV_READ);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
	buf out;
	buf_init(&out);
	if (line != NULL && len < CONTROL_MAX_REQUEST)
		answer(cl->ctl, line, &out);
	else if (line != NULL || evbuffer_get_length(in) >= CONTROL_MAX_REQUEST)
		buf_puts(&out, CONTROL_ERROR "request line too long\n");
	free(line);
	if (out.len > 0) {
		bufferevent_disable(bev, EV_READ);
		bufferevent_setcb(bev, NULL, on_written, on_event, cl);
		bufferevent_write(bev, out.data, out.len);
	}
	buf_free(&out);
}

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct control *ctl = arg;
	struct client *cl = xcalloc(1, sizeof(*cl));
	cl->ctl = ctl;
	cl->bev = bufferevent_socket_new(ctl->base, fd, BEV_OPT_CLOSE_ON_FREE);
	cl->next = ctl->clients;
	if (cl->next)
		cl->next->prev = cl;
	ctl->clients = cl;
	struct timeval tv = { CONTROL_TIMEOUT, 0 };
	bufferevent_set_timeouts(cl->bev, &tv, &tv);
	bufferevent_setcb(cl->bev, on_read, NULL, on_event, cl);
	bufferevent_enable(cl->bev, EV_READ);
}

int control_probe(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r = connect(fd, (const struct sockaddr *)&sun, sizeof(sun));
	int err = errno;
	close(fd);
	errno = err;
	return r == 0 ? 1 : 0;
}

/* Removes a socket at path that nobody answers (left by a crash). Returns 0 when path is
 * free, -1 with *error_r when a server answers there or the path cannot be used. */
static int clear_stale(const char *path, char **error_r)
{
	int r = control_probe(path);
	int err = errno;
	if (r < 0) {
		*error_r = xasprintf("cannot make the control socket: %s", strerror(err));
		return -1;
	}
	if (r == 1) {
		*error_r = xasprintf("another estafeta serve is running on this data folder (its "
				     "control socket %s answers); stop it first", path);
		return -1;
	}
	if (err != ENOENT && unlink(path) < 0 && errno != ENOENT) {
		*error_r = xasprintf("cannot remove the old control socket %s: %s", path,
				     strerror(errno));
		return -1;
	}
	return 0;
}

/* A listening socket at path, mode 0600 from the start; -1 with *error_r. */
static int listen_at(const char *path, char **error_r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = xasprintf("the control socket path %s is longer than a Unix socket's "
				     "%zu bytes: move data_dir to a shorter path", path,
				     sizeof(sun.sun_path) - 1);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (clear_stale(path, error_r) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old_mask = umask(0177);
	int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (r < 0 || listen(fd, 16) < 0) {
		*error_r = xasprintf("cannot listen on the control socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct control *control_new(struct event_base *base, const char *path, char **error_r)
{
	int fd = listen_at(path, error_r);
	if (fd < 0)
		return NULL;
	struct control *ctl = xcalloc(1, sizeof(*ctl));
	ctl->base = base;
	ctl->path = xstrdup(path);
	ctl->evl = evconnlistener_new(base, on_accept, ctl, LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (ctl->evl == NULL) {
		*error_r = xasprintf("cannot serve the control socket %s", path);
		close(fd);
		unlink(path);
		free(ctl->path);
		free(ctl);
		return NULL;
	}
	log_info("control listening path=%s", path);
	return ctl;
}

void control_register(struct control *ctl, const char *name, control_fn *fn, void *ctx)
{
	ctl->handlers = xrealloc(ctl->handlers, (ctl->handler_count + 1) * sizeof(*ctl->handlers));
	ctl->handlers[ctl->handler_count++] = (struct handler){ xstrdup(name), fn, ctx };
}

void control_free(struct control **ctlp)
{
	struct control *ctl = *ctlp;
	if (ctl == NULL)
		return;
	while (ctl->clients != NULL)
		client_free(ctl->clients);
	evconnlistener_free(ctl->evl);
	unlink(ctl->path);
	for (size_t i = 0; i < ctl->handler_count; i++)
		free(ctl->handlers[i].name);
	free(ctl->handlers);
	free(ctl->path);
	free(ctl);
	*ctlp = NULL;
}
