/* Maildrop pickup; see pickup.h. Runs on the event loop: a file is read and resolved there
 * (local files, SQLite lookups from its cache), and the committer does the slow part. */
#include "deliver/pickup.h"
#include "core/log.h"
#include "core/strlist.h"
#include "core/xalloc.h"
#include "deliver/maildrop.h"
#include "mail/header.h"
#include "queue/bounce.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCAN_INTERVAL 60

struct pickup {
	struct inject_env env; /* its strings are the copies below */
	char *spool_dir, *delimiter;
	char *dir;
	char *hostname;
	uint64_t max_size;
	int inotify_fd;
	struct event *inotify_ev, *scan_ev;
	strlist in_flight; /* names handed to the committer and not yet done */
};

struct picked {
	struct pickup *p;
	char *name;
};

static void set_aside(struct pickup *p, const char *name, const char *why)
{
	char *from = xasprintf("%s/%s", p->dir, name), *to = xasprintf("%s/.corrupt.%s", p->dir, name);
	log_error("pickup file=%s set aside as .corrupt.%s: %s", name, name, why);
	if (rename(from, to) < 0)
		log_error("pickup file=%s cannot be renamed: %s", name, strerror(errno));
	free(from);
	free(to);
}

static void forget(struct pickup *p, const char *name)
{
	for (size_t i = 0; i < p->in_flight.count; i++) {
		if (strcmp(p->in_flight.items[i], name) == 0) {
			free(p->in_flight.items[i]);
			p->in_flight.items[i] = p->in_flight.items[--p->in_flight.count];
			return;
		}
	}
}

static void remove_file(struct pickup *p, const char *name)
{
	char *path = xasprintf("%s/%s", p->dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		log_error("pickup file=%s cannot be removed: %s", name, strerror(errno));
	free(path);
}

static void committed(struct delivery *d, void *arg)
{
	struct picked *pk = arg;
	if (d->status == 0) {
		log_info("queue=%s pickup stored mailboxes=%zu remote=%zu", d->queue_id, d->local_count,
			 d->remote_count);
		remove_file(pk->p, pk->name);
	} else {
		log_error("queue=%s pickup file=%s not stored, retried later: %s", d->queue_id, pk->name,
			  d->error);
	}
	forget(pk->p, pk->name);
	free(pk->name);
	free(pk);
	delivery_free(&d);
}

/* Reads the file without following links or blocking on a FIFO: anyone may have put it
 * there. 0, or -1 with *why (static) and the file to be set aside; 1: gone or busy, skip. */
static int read_drop(struct pickup *p, const char *name, char **data, size_t *len, uid_t *owner,
		     const char **why)
{
	char *path = xasprintf("%s/%s", p->dir, name);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	free(path);
	struct stat st;
	if (fd < 0)
		return errno == ENOENT ? 1 : (*why = "it cannot be opened (a link?)", -1);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		*why = "not a plain file with one name";
		return -1;
	}
	if ((uint64_t)st.st_size > p->max_size + 64 * 1024) {
		close(fd);
		*why = "larger than smtp.max_message_size";
		return -1;
	}
	*data = xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	ssize_t r;
	while (got < (size_t)st.st_size && (r = read(fd, *data + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	*len = got;
	*owner = st.st_uid;
	return 0;
}

/* The Received line of a locally submitted message (RFC 5321 4.4 allows "by" alone). */
static void write_received(buf *out, const char *hostname, uid_t uid, const char *queue_id,
			   const struct maildrop_envelope *env)
{
	struct passwd *pw = getpwuid(uid);
	char date[64];
	header_date(time(NULL), date, sizeof(date));
	buf_printf(out, "Received: by %s (estafeta, from userid %u%s%s)\r\n\tid %s", hostname,
		   (unsigned)uid, pw != NULL ? " " : "", pw != NULL ? pw->pw_name : "", queue_id);
	if (env->rcpts.count == 1)
		buf_printf(out, " for <%s>", env->rcpts.items[0]);
	buf_printf(out, "; %s\r\n", date);
}

static void bounce_refused(struct pickup *p, const struct maildrop_envelope *env, const char *queue_id,
			   const bool *refused, const char *msg, size_t len)
{
	struct bounce_rcpt rcpts[MAILDROP_MAX_RECIPIENTS];
	size_t n = 0;
	for (size_t i = 0; i < env->rcpts.count; i++)
		if (refused[i])
			rcpts[n++] = (struct bounce_rcpt){ .recipient = env->rcpts.items[i], .status = "5.1.1",
							   .diagnostic = "no mailbox here by that name" };
	if (n == 0)
		return;
	struct queue_msg m = { .queue_id = (char *)queue_id, .sender = env->sender, .arrival = time(NULL) };
	buf original = { .data = (char *)msg, .len = len };
	inject_bounce(&p->env, p->hostname, &m, rcpts, n, &original, false);
}

static void pick(struct pickup *p, const char *name)
{
	if (name[0] == '.' || strlist_contains(&p->in_flight, name))
		return;
	char *data = NULL;
	size_t len;
	uid_t owner;
	const char *why = NULL;
	int r = read_drop(p, name, &data, &len, &owner, &why);
	struct maildrop_envelope env;
	if (r == 0 && maildrop_parse(data, len, &env, &why) == 0) {
		char *queue_id = xasprintf("%08x%08x", arc4random(), arc4random());
		buf msg;
		buf_init(&msg);
		write_received(&msg, p->hostname, owner, queue_id, &env);
		buf_append(&msg, data + env.body_off, len - env.body_off);
		bool *refused = xcalloc(env.rcpts.count, sizeof(*refused));
		struct picked *pk = xcalloc(1, sizeof(*pk));
		pk->p = p;
		pk->name = xstrdup(name);
		bool full;
		char *error = NULL;
		log_info("queue=%s pickup file=%s uid=%u from=<%s> recipients=%zu", queue_id, name,
			 (unsigned)owner, env.sender, env.rcpts.count);
		r = inject_message(&p->env, env.sender, (const char *const *)env.rcpts.items,
				   env.rcpts.count, msg.data, msg.len, queue_id, refused, committed, pk,
				   &full, &error);
		if (r >= 0)
			bounce_refused(p, &env, queue_id, refused, msg.data, msg.len);
		if (r == 1) {
			strlist_add(&p->in_flight, name);
		} else {
			if (r == 0)
				remove_file(p, name);
			else
				log_error("queue=%s pickup file=%s not stored, retried later: %s", queue_id,
					  name, error);
			free(pk->name);
			free(pk);
		}
		free(error);
		free(refused);
		buf_free(&msg);
		free(queue_id);
		maildrop_envelope_free(&env);
	} else if (r < 0 || why != NULL) {
		set_aside(p, name, why);
	}
	free(data);
}

static void scan(struct pickup *p)
{
	DIR *d = opendir(p->dir);
	if (d == NULL) {
		log_error("pickup cannot read %s: %s", p->dir, strerror(errno));
		return;
	}
	strlist names;
	strlist_init(&names);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			strlist_add(&names, e->d_name);
	closedir(d);
	for (size_t i = 0; i < names.count; i++)
		pick(p, names.items[i]);
	strlist_free(&names);
}

static void on_scan(evutil_socket_t fd, short what, void *arg)
{
	scan(arg);
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct pickup *p = arg;
	char events[16 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	while ((n = read(fd, events, sizeof(events))) > 0) {
		for (char *at = events; at < events + n;) {
			struct inotify_event *ev = (struct inotify_event *)at;
			if (ev->mask & IN_Q_OVERFLOW)
				scan(p);
			else if (ev->len > 0)
				pick(p, ev->name);
			at += sizeof(*ev) + ev->len;
		}
	}
}

struct pickup *pickup_new(struct event_base *base, const struct inject_env *env,
			  const char *data_dir, const char *hostname, uint64_t max_size,
			  char **error_r)
{
	struct pickup *p = xcalloc(1, sizeof(*p));
	p->env = *env;
	p->env.spool_dir = p->spool_dir = xstrdup(env->spool_dir);
	p->env.delimiter = p->delimiter = xstrdup(env->delimiter);
	p->dir = xasprintf("%s/maildrop", data_dir);
	p->hostname = xstrdup(hostname);
	p->max_size = max_size;
	strlist_init(&p->in_flight);
	/* 1733: anyone may add, only the server lists; chmod because umask trims mkdir's mode */
	if ((mkdir(p->dir, 01733) < 0 && errno != EEXIST) || chmod(p->dir, 01733) < 0) {
		*error_r = xasprintf("cannot create the maildrop %s: %s", p->dir, strerror(errno));
		pickup_free(&p);
		return NULL;
	}
	p->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p->inotify_fd < 0 || inotify_add_watch(p->inotify_fd, p->dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		*error_r = xasprintf("cannot watch the maildrop %s: %s", p->dir, strerror(errno));
		pickup_free(&p);
		return NULL;
	}
	p->inotify_ev = event_new(base, p->inotify_fd, EV_READ | EV_PERSIST, on_inotify, p);
	p->scan_ev = event_new(base, -1, EV_PERSIST, on_scan, p);
	event_add(p->inotify_ev, NULL);
	event_add(p->scan_ev, &(struct timeval){ SCAN_INTERVAL, 0 });
	scan(p);
	return p;
}

void pickup_free(struct pickup **pp)
{
	struct pickup *p = *pp;
	if (p == NULL)
		return;
	if (p->inotify_ev != NULL)
		event_free(p->inotify_ev);
	if (p->scan_ev != NULL)
		event_free(p->scan_ev);
	if (p->inotify_fd > 0)
		close(p->inotify_fd);
	strlist_free(&p->in_flight);
	free(p->dir);
	free(p->hostname);
	free(p->spool_dir);
	free(p->delimiter);
	free(p);
	*pp = NULL;
}
