/* Maildrop pickup; see pickup.h. A drop file is read on a worker, since it may be tens of
 * megabytes: it is checked as it streams, in steps, into a spool file behind its Received
 * line, so the loop never waits for it and memory holds only the envelope and the start of
 * the message. Back on the loop the recipients are resolved (its store connection) and the
 * spool file goes to the committer, which does the slow part. */
#include "deliver/pickup.h"
#include "core/log.h"
#include "core/strlist.h"
#include "core/xalloc.h"
#include "deliver/maildrop.h"
#include "mail/header.h"
#include "mail/local_message.h"
#include "queue/bounce.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCAN_INTERVAL 60
#define READ_STEP (256 * 1024)
/* What a bounce for a refused recipient quotes is the header section; the start of the
 * message up to this is kept for it. */
#define ORIGINAL_MAX (64 * 1024)

struct pickup {
	struct inject_env env; /* its strings are the copies below */
	struct workq *wq;
	char *spool_dir, *delimiter;
	char *dir;
	char *hostname;
	uint64_t max_size;
	/* settings a reload may change; each read takes its own copy */
	char *origin;
	strlist trusted;
	long long corrupt_max_age;
	int inotify_fd;
	struct event *inotify_ev, *scan_ev;
	strlist in_flight; /* names being read or committed */
	bool stopping;
};

enum drop_result { DROP_READY, DROP_GONE, DROP_CORRUPT, DROP_FAILED };

/* One drop file on its way: filled by drop_read on a worker, used by drop_done on the loop. */
struct drop {
	struct pickup *p;
	char *name;
	char *origin;             /* the settings at the time it was picked */
	strlist trusted;
	enum drop_result result;
	const char *why;          /* DROP_CORRUPT: static text */
	char *error;              /* DROP_FAILED */
	struct maildrop_envelope env;
	uid_t owner;
	char *login;
	char *replaced;           /* the envelope sender given with -f and replaced, or NULL */
	char queue_id[17];
	struct spool *spool;
	buf original;             /* the lines added and the start of the message, for a bounce */
};

static void drop_free(struct drop *d)
{
	free(d->name);
	free(d->origin);
	strlist_free(&d->trusted);
	free(d->error);
	maildrop_envelope_free(&d->env);
	free(d->login);
	free(d->replaced);
	spool_discard(&d->spool);
	buf_free(&d->original);
	free(d);
}

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
	struct drop *dr = arg;
	if (d->status == 0) {
		log_info("queue=%s pickup stored mailboxes=%zu remote=%zu", d->queue_id, d->local_count,
			 d->remote_count);
		remove_file(dr->p, dr->name);
	} else {
		log_error("queue=%s pickup file=%s not stored, retried later: %s", d->queue_id, dr->name,
			  d->error);
	}
	forget(dr->p, dr->name);
	drop_free(dr);
	delivery_free(&d);
}

/* ---- on a worker ---- */

/* Like sendmail's trusted users: root and those listed may give any envelope sender; anyone
 * else's -f that is not their own address is replaced by it (and noted). */
static int check_sender(struct drop *d)
{
	struct passwd pw, *found = NULL;
	char pwbuf[4096];
	getpwuid_r(d->owner, &pw, pwbuf, sizeof(pwbuf), &found);
	d->login = xstrdup(found != NULL ? found->pw_name : "nobody");
	if (d->owner == 0 || strlist_contains(&d->trusted, d->login))
		return 0;
	char own[1024];
	if (local_address(d->login, strlen(d->login), d->origin, own, sizeof(own)) < 0) {
		d->why = "the owner's login name makes no address";
		return -1;
	}
	if (strcasecmp(d->env.sender, own) != 0) {
		d->replaced = d->env.sender;
		d->env.sender = xstrdup(own);
	}
	return 0;
}

/* The lines the server puts on top: the Received line of a locally submitted message
 * (RFC 5321 4.4 allows "by" alone), naming the local user; sendmail's warning when the
 * sender was replaced. */
static void write_added_lines(struct drop *d)
{
	char date[64];
	header_date(time(NULL), date, sizeof(date));
	buf_printf(&d->original, "Received: by %s (estafeta, from userid %u %s)\r\n\tid %s",
		   d->p->hostname, (unsigned)d->owner, d->login, d->queue_id);
	if (d->env.rcpts.count == 1)
		buf_printf(&d->original, " for <%s>", d->env.rcpts.items[0]);
	buf_printf(&d->original, "; %s\r\n", date);
	if (d->replaced != NULL)
		buf_printf(&d->original, "X-Authentication-Warning: %s: %s set sender to <%s> using -f\r\n",
			   d->p->hostname, d->login, d->replaced);
}

/* One piece of the message: checked, written to the spool, and kept while it is the start. */
static void take(struct drop *d, struct maildrop_body *check, const char *data, size_t n)
{
	maildrop_body_feed(check, data, n);
	spool_write(d->spool, data, n);
	size_t room = ORIGINAL_MAX - (d->original.len < ORIGINAL_MAX ? d->original.len : ORIGINAL_MAX);
	buf_append(&d->original, data, n < room ? n : room);
}

/* Streams the message after the envelope (its first part already in head) into the spool. */
static void copy_body(struct drop *d, int fd, const buf *head)
{
	struct maildrop_body check = { 0 };
	take(d, &check, head->data + d->env.body_off, head->len - d->env.body_off);
	char *chunk = xmalloc(READ_STEP);
	ssize_t r = 0;
	while (!check.bad && (r = read(fd, chunk, READ_STEP)) > 0)
		take(d, &check, chunk, (size_t)r);
	free(chunk);
	bool full = false;
	if (r < 0) {
		d->error = xasprintf("cannot read it: %s", strerror(errno));
		d->result = DROP_FAILED;
	} else if (!maildrop_body_valid(&check)) {
		d->why = MAILDROP_BODY_ERROR;
		d->result = DROP_CORRUPT;
	} else if (spool_flush(d->spool, &full, &d->error) < 0) {
		d->result = DROP_FAILED;
	}
}

/* Reads the envelope into head, a step at a time. 0, or -1 with the result set. */
static int read_envelope(struct drop *d, int fd, buf *head)
{
	int r;
	while ((r = maildrop_parse_envelope(head->data, head->len, &d->env, &d->why)) == 0) {
		char chunk[16 * 1024];
		ssize_t n = head->len < MAILDROP_ENVELOPE_MAX ? read(fd, chunk, sizeof(chunk)) : 0;
		if (n < 0) {
			d->error = xasprintf("cannot read it: %s", strerror(errno));
			d->result = DROP_FAILED;
			return -1;
		}
		if (n == 0) {
			d->why = "the envelope does not end with an empty line";
			break;
		}
		buf_append(head, chunk, (size_t)n);
	}
	if (r <= 0)
		d->result = DROP_CORRUPT;
	return r > 0 ? 0 : -1;
}

/* Opens the file without following links or blocking on a FIFO: anyone may have put it
 * there. */
static void drop_read(void *arg)
{
	struct drop *d = arg;
	struct pickup *p = d->p;
	char *path = xasprintf("%s/%s", p->dir, d->name);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	free(path);
	struct stat st;
	d->result = DROP_CORRUPT;
	if (fd < 0) {
		d->result = errno == ENOENT ? DROP_GONE : DROP_CORRUPT;
		d->why = "it cannot be opened (a link?)";
		return;
	}
	buf head;
	buf_init(&head);
	bool full = false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
		d->why = "not a plain file with one name";
	else if ((uint64_t)st.st_size > p->max_size + 64 * 1024)
		d->why = "larger than smtp.max_message_size";
	else
		d->owner = st.st_uid;
	if (d->why == NULL && read_envelope(d, fd, &head) == 0 && check_sender(d) == 0) {
		snprintf(d->queue_id, sizeof(d->queue_id), "%08x%08x", arc4random(), arc4random());
		d->spool = spool_new(p->spool_dir, &full, &d->error);
		d->result = d->spool != NULL ? DROP_READY : DROP_FAILED;
	}
	if (d->spool != NULL) {
		write_added_lines(d);
		spool_write(d->spool, d->original.data, d->original.len);
		copy_body(d, fd, &head);
	}
	buf_free(&head);
	close(fd);
}

/* ---- back on the loop ---- */

static void bounce_refused(struct pickup *p, const struct drop *d, const bool *refused)
{
	struct bounce_rcpt rcpts[MAILDROP_MAX_RECIPIENTS];
	size_t n = 0;
	for (size_t i = 0; i < d->env.rcpts.count; i++)
		if (refused[i])
			rcpts[n++] = (struct bounce_rcpt){ .recipient = d->env.rcpts.items[i], .status = "5.1.1",
							   .diagnostic = "no mailbox here by that name" };
	if (n == 0)
		return;
	struct queue_msg m = { .queue_id = (char *)d->queue_id, .sender = d->env.sender,
			       .arrival = time(NULL) };
	inject_bounce(&p->env, p->hostname, &m, rcpts, n, &d->original, false);
}

/* Hands a message read whole to the committer; 1 when it went, else the file is done with
 * (0: nobody to deliver to) or left for the next scan (-1). */
static int drop_inject(struct pickup *p, struct drop *d)
{
	log_info("queue=%s pickup file=%s uid=%u from=<%s> recipients=%zu", d->queue_id, d->name,
		 (unsigned)d->owner, d->env.sender, d->env.rcpts.count);
	if (d->replaced != NULL)
		log_warn("queue=%s pickup user=%s set sender <%s>, replaced by <%s>: not in "
			 "sendmail.trusted_users", d->queue_id, d->login, d->replaced, d->env.sender);
	bool *refused = xcalloc(d->env.rcpts.count, sizeof(*refused));
	char *error = NULL;
	int r = inject_spool(&p->env, d->env.sender, (const char *const *)d->env.rcpts.items,
			     d->env.rcpts.count, &d->spool, d->queue_id, refused, committed, d, &error);
	if (r >= 0)
		bounce_refused(p, d, refused);
	else
		log_error("queue=%s pickup file=%s not stored, retried later: %s", d->queue_id, d->name,
			  error);
	free(refused);
	free(error);
	return r;
}

static void drop_done(void *arg)
{
	struct drop *d = arg;
	struct pickup *p = d->p;
	if (p->stopping) {
		/* the file stays for the next start */
	} else if (d->result == DROP_CORRUPT) {
		set_aside(p, d->name, d->why);
	} else if (d->result == DROP_FAILED) {
		log_error("pickup file=%s not read, retried later: %s", d->name, d->error);
	} else if (d->result == DROP_READY) {
		int r = drop_inject(p, d);
		if (r == 1)
			return; /* committed() takes it from here */
		if (r == 0)
			remove_file(p, d->name);
	}
	forget(p, d->name);
	drop_free(d);
}

static void pick(struct pickup *p, const char *name)
{
	if (name[0] == '.' || p->stopping || strlist_contains(&p->in_flight, name))
		return;
	strlist_add(&p->in_flight, name);
	struct drop *d = xcalloc(1, sizeof(*d));
	d->p = p;
	d->name = xstrdup(name);
	d->origin = xstrdup(p->origin);
	strlist_init(&d->trusted);
	for (size_t i = 0; i < p->trusted.count; i++)
		strlist_add(&d->trusted, p->trusted.items[i]);
	strlist_init(&d->env.rcpts);
	buf_init(&d->original);
	workq_submit(p->wq, drop_read, drop_done, d);
}

/* A file set aside (".corrupt.NAME", its ctime the renaming) or left by a sendmail that died
 * while writing (".tmp.NAME") goes after sendmail.corrupt_max_age. */
static void remove_if_stale(struct pickup *p, const char *name, time_t now)
{
	if (strncmp(name, ".corrupt.", 9) != 0 && strncmp(name, ".tmp.", 5) != 0)
		return;
	char *path = xasprintf("%s/%s", p->dir, name);
	struct stat st;
	if (lstat(path, &st) == 0 && now - st.st_ctime > p->corrupt_max_age) {
		if (unlink(path) == 0)
			log_info("pickup removed file=%s after sendmail.corrupt_max_age", name);
		else if (errno != ENOENT)
			log_error("pickup file=%s cannot be removed: %s", name, strerror(errno));
	}
	free(path);
}

static void scan(struct pickup *p)
{
	DIR *dir = opendir(p->dir);
	if (dir == NULL) {
		log_error("pickup cannot read %s: %s", p->dir, strerror(errno));
		return;
	}
	strlist names;
	strlist_init(&names);
	struct dirent *e;
	time_t now = time(NULL);
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] != '.')
			strlist_add(&names, e->d_name);
		else
			remove_if_stale(p, e->d_name, now);
	}
	closedir(dir);
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

void pickup_configure(struct pickup *p, const struct config *cfg)
{
	const char *origin = config_str(cfg, "sendmail.origin");
	free(p->origin);
	p->origin = xstrdup(*origin != '\0' ? origin : config_hostname(cfg));
	strlist_free(&p->trusted);
	strlist_init(&p->trusted);
	char *users = xstrdup(config_str(cfg, "sendmail.trusted_users")), *save = NULL;
	for (char *u = strtok_r(users, ", ", &save); u != NULL; u = strtok_r(NULL, ", ", &save))
		strlist_add(&p->trusted, u);
	free(users);
	p->corrupt_max_age = config_int(cfg, "sendmail.corrupt_max_age");
}

struct pickup *pickup_new(struct event_base *base, const struct inject_env *env,
			  struct workq *wq, const struct config *cfg, char **error_r)
{
	struct pickup *p = xcalloc(1, sizeof(*p));
	p->env = *env;
	p->env.spool_dir = p->spool_dir = xstrdup(env->spool_dir);
	p->env.delimiter = p->delimiter = xstrdup(env->delimiter);
	p->wq = wq;
	p->dir = xasprintf("%s/maildrop", config_path(cfg, "data_dir"));
	p->hostname = xstrdup(config_hostname(cfg));
	p->max_size = (uint64_t)config_int(cfg, "smtp.max_message_size");
	strlist_init(&p->trusted);
	pickup_configure(p, cfg);
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

void pickup_stop(struct pickup *p)
{
	if (p == NULL)
		return;
	p->stopping = true;
	if (p->inotify_ev != NULL)
		event_del(p->inotify_ev);
	if (p->scan_ev != NULL)
		event_del(p->scan_ev);
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
	strlist_free(&p->trusted);
	free(p->origin);
	free(p->dir);
	free(p->hostname);
	free(p->spool_dir);
	free(p->delimiter);
	free(p);
	*pp = NULL;
}
