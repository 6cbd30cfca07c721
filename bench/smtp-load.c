/*
 * smtp-load: an SMTP load generator for `make bench`.
 *
 * It opens N connections (one thread each) to HOST:PORT, says EHLO once per connection and then
 * sends messages over that session (MAIL FROM, RCPT TO, DATA, ".") until M messages have been
 * sent in total or a duration has passed. Recipients rotate over the addresses given on the
 * command line. Each message is exactly S bytes as stored (realistic headers, a plain-text body,
 * CRLF line ends); the transfer is dot-stuffed, so any content is safe.
 *
 * It measures, per message, the time from sending MAIL FROM to reading the reply to the final
 * dot, and prints the total time, messages/s, p50/p99/max latency, how many transactions got a
 * reply that was not 2xx, and how many connections it had to abort (protocol error, closed
 * connection, timeout). A transaction refused by the server is reset with RSET and the session
 * goes on; anything the client cannot make sense of ends that connection, never the run.
 *
 * The last line of output is machine-readable (`result key=value ...`); bench/run.sh parses it.
 *
 * No dependencies beyond libc and pthreads: cc -O2 -pthread smtp-load.c -o smtp-load
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#define REPLY_LINE_MAX 4096 /* RFC 5321 §4.5.3.1.5 says 512; be generous with servers */
#define READ_BUF_SIZE 8192

struct options {
	const char *host;
	const char *port;
	int connections;
	long messages;       /* total to send; ignored when duration > 0 */
	double duration;     /* seconds; 0 = send `messages` */
	size_t size;         /* bytes per message as stored, CRLF included */
	const char *from;
	const char *helo;
	char *message;       /* -m: the message sent every time (CRLF lines), or NULL */
	int timeout;         /* seconds per reply */
	int quiet;
	char **rcpts;
	int nrcpts;
};

/* The latencies one connection measured, in microseconds; grows as needed. */
struct latencies {
	int64_t *v;
	size_t n, cap;
};

/* One connection: its socket, its read buffer and what it counted. */
struct conn {
	int id;
	int fd;
	char rbuf[READ_BUF_SIZE];
	size_t rpos, rlen;
	char *msg;           /* the message being built, S bytes */
	char *wire;          /* the same, dot-stuffed and ended with ".\r\n" */
	size_t wire_cap;
	struct latencies lat;
	long sent_ok;        /* 250 after the final dot */
	long refused;        /* a transaction that got a reply other than 2xx/3xx where expected */
	int aborted;         /* 1 when the connection ended on an error */
	char abort_reason[256];
	pthread_t thread;
};

static struct options opt = {
	.host = NULL, .port = NULL, .connections = 20, .messages = 10000, .duration = 0,
	.size = 4096, .from = "loadgen@client.bench.test", .helo = "client.bench.test",
	.timeout = 60, .quiet = 0,
};

/* Shared between threads: the next message number to claim and the deadline in duration mode. */
static atomic_long next_message;
static struct timespec deadline;

static const char *usage_text =
	"usage: smtp-load [-c CONNECTIONS] [-n MESSAGES | -d SECONDS] [-s SIZE] [-f FROM]\n"
	"                 [-H HELO] [-m FILE] [-t TIMEOUT] [-q] HOST:PORT RCPT...\n"
	"  -c  concurrent connections, one SMTP session each (default 20)\n"
	"  -n  messages to send in total (default 10000)\n"
	"  -d  send for this many seconds instead of a fixed number of messages\n"
	"  -s  message size in bytes as stored, headers included (default 4096)\n"
	"  -f  envelope sender and From: (default loadgen@client.bench.test)\n"
	"  -H  name to say in EHLO (default client.bench.test)\n"
	"  -m  send this message (CRLF line ends, e.g. one signed with DKIM) every time; its\n"
	"      size replaces -s\n"
	"  -t  seconds to wait for any reply before giving up on a connection (default 60)\n"
	"  -q  print only the summary\n"
	"Recipients are used in turn, message i goes to RCPT[i mod count].\n";

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("smtp-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL)
		die("out of memory allocating %zu bytes", n);
	return p;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void latencies_add(struct latencies *l, int64_t us)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (l->v == NULL)
			die("out of memory recording latencies");
	}
	l->v[l->n++] = us;
}

/* Records why a connection ends; the first reason wins, later ones are consequences. */
__attribute__((format(printf, 2, 3)))
static void conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	if (c->aborted)
		return;
	c->aborted = 1;
	va_start(ap, fmt);
	vsnprintf(c->abort_reason, sizeof(c->abort_reason), fmt, ap);
	va_end(ap);
}

/* Writes all of buf; returns 0, or -1 with the reason recorded. */
static int send_all(struct conn *c, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			conn_fail(c, "send failed: %s", errno == EAGAIN ? "timeout" : strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_str(struct conn *c, const char *s)
{
	return send_all(c, s, strlen(s));
}

/* Reads one line ending in LF into line (CR LF stripped); returns 0, or -1 on error/close. */
static int read_line(struct conn *c, char *line, size_t cap)
{
	size_t len = 0;
	for (;;) {
		if (c->rpos == c->rlen) {
			ssize_t n = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				conn_fail(c, "read failed: %s",
				          errno == EAGAIN ? "no reply within timeout" : strerror(errno));
				return -1;
			}
			if (n == 0) {
				conn_fail(c, "server closed the connection");
				return -1;
			}
			c->rpos = 0;
			c->rlen = (size_t)n;
		}
		char ch = c->rbuf[c->rpos++];
		if (ch == '\n')
			break;
		if (len + 1 >= cap) {
			conn_fail(c, "reply line longer than %zu bytes", cap);
			return -1;
		}
		line[len++] = ch;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	return 0;
}

/*
 * Reads a whole (possibly multi-line) reply and returns its code (200..599), or -1 when the
 * connection failed or the reply is not SMTP. `what` names the command for the error message.
 * The text of the last line is kept in last_r for reports.
 */
static int read_reply(struct conn *c, const char *what, char *last_r, size_t last_cap)
{
	char line[REPLY_LINE_MAX];
	int code = -1;
	for (;;) {
		if (read_line(c, line, sizeof(line)) < 0)
			return -1;
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			conn_fail(c, "after %s: not an SMTP reply: \"%.80s\"", what, line);
			return -1;
		}
		int this_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (code != -1 && this_code != code) {
			conn_fail(c, "after %s: reply code changed inside a multi-line reply", what);
			return -1;
		}
		code = this_code;
		if (line[3] != '-')
			break;
	}
	snprintf(last_r, last_cap, "%s", line);
	return code;
}

/* Sends a command and reads its reply; returns the code or -1. */
static int command(struct conn *c, const char *cmd, const char *what, char *last_r, size_t cap)
{
	if (send_str(c, cmd) < 0)
		return -1;
	return read_reply(c, what, last_r, cap);
}

/* The plain text that body lines are cut from, at word boundaries. */
static const char body_words[] =
	"Hello team, here are the figures from this week's run as promised yesterday. The "
	"ingestion numbers look steady and the queue drained within the usual window; the "
	"second cluster still shows a longer tail when the disks are busy with the nightly "
	"backup. Could someone look at the fsync timings on that host before Thursday? I "
	"attached nothing this time, everything is inline so it reads well in any client. "
	"Regards, and thanks for the quick turnaround on the review comments last week. "
	"Notes from the meeting: we agreed to keep the retry schedule, to log the queue id on "
	"every line, and to measure again after the storage change lands on the main branch. ";

/*
 * Fills out with exactly len bytes (len >= 2) of text lines wrapped at spaces like a mail client
 * does: at most 72 characters plus CRLF, except the last line, which takes what is left (up to
 * 78 characters). `seed` varies where in the pool each message
 * starts, so bodies differ a little.
 */
static void make_body(char *out, size_t len, unsigned seed)
{
	const size_t pool = sizeof(body_words) - 1;
	size_t pos = seed % pool;
	while (pos > 0 && body_words[pos - 1] != ' ')
		pos--;
	while (len > 0) {
		size_t text; /* characters on this line, CRLF not included */
		if (len > 80) {
			/* Break at the last space within 72 characters; what is left stays above 2. */
			text = 72;
			for (size_t i = 72; i >= 40; i--) {
				if (body_words[(pos + i) % pool] == ' ') {
					text = i;
					break;
				}
			}
		} else {
			text = len - 2; /* the last line takes exactly what is left */
		}
		for (size_t i = 0; i < text; i++)
			out[i] = body_words[(pos + i) % pool];
		pos = (pos + text) % pool;
		if (len > 80 && body_words[pos] == ' ')
			pos = (pos + 1) % pool; /* the space we broke at becomes the line end */
		out[text] = '\r';
		out[text + 1] = '\n';
		out += text + 2;
		len -= text + 2;
	}
}

static size_t stuff_message(struct conn *c);

/*
 * Builds message number `seq` for `rcpt` into c->msg (exactly opt.size bytes) and its
 * dot-stuffed wire form into c->wire; returns the wire length.
 */
static size_t build_message(struct conn *c, long seq, const char *rcpt)
{
	if (opt.message != NULL) {
		memcpy(c->msg, opt.message, opt.size);
		return stuff_message(c);
	}
	char date[64];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);

	int hl = snprintf(c->msg, opt.size + 1,
		"From: Load Generator <%s>\r\n"
		"To: <%s>\r\n"
		"Subject: Benchmark message %ld from connection %d\r\n"
		"Date: %s\r\n"
		"Message-ID: <bench.%ld.%d.%ld@client.bench.test>\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n"
		"Content-Transfer-Encoding: 7bit\r\n"
		"\r\n"
		/* A line that starts with a dot, as real mail has, so dot-stuffing is exercised. */
		"Hi all,\r\n"
		"\r\n"
		".NET and C builds both finished overnight; the notes follow.\r\n"
		"\r\n",
		opt.from, rcpt, seq, c->id, date, seq, c->id, (long)getpid());
	if (hl < 0 || (size_t)hl + 2 > opt.size)
		die("message size %zu is too small for the headers (%d bytes)", opt.size, hl);
	make_body(c->msg + hl, opt.size - (size_t)hl, (unsigned)seq * 7u);
	return stuff_message(c);
}

/* Writes c->msg's wire form into c->wire; returns its length. */
static size_t stuff_message(struct conn *c)
{
	/* Dot-stuff (RFC 5321 §4.5.2): a line that starts with "." gets another in front. */
	size_t w = 0;
	int at_line_start = 1;
	for (size_t i = 0; i < opt.size; i++) {
		char ch = c->msg[i];
		if (at_line_start && ch == '.')
			c->wire[w++] = '.';
		c->wire[w++] = ch;
		at_line_start = (ch == '\n');
	}
	memcpy(c->wire + w, ".\r\n", 3);
	return w + 3;
}

/* Claims the next message number, or returns -1 when the run is over. */
static long claim_message(void)
{
	if (opt.duration > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec > deadline.tv_sec ||
		    (ts.tv_sec == deadline.tv_sec && ts.tv_nsec >= deadline.tv_nsec))
			return -1;
		return atomic_fetch_add(&next_message, 1);
	}
	long n = atomic_fetch_add(&next_message, 1);
	return n < opt.messages ? n : -1;
}

static int connect_to_server(struct conn *c)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int err = getaddrinfo(opt.host, opt.port, &hints, &res);
	if (err != 0) {
		conn_fail(c, "cannot resolve %s: %s", opt.host, gai_strerror(err));
		return -1;
	}
	int fd = -1, saved = 0;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		conn_fail(c, "cannot connect to %s:%s: %s", opt.host, opt.port, strerror(saved));
		return -1;
	}
	struct timeval tv = { .tv_sec = opt.timeout };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	return 0;
}

/*
 * One transaction: MAIL, RCPT, DATA, message, ".". Returns 1 when the message was accepted,
 * 0 when the server refused it (the transaction is reset and the session can go on), -1 when
 * the connection is no longer usable.
 */
static int send_one(struct conn *c, long seq)
{
	char cmd[600], last[REPLY_LINE_MAX];
	const char *rcpt = opt.rcpts[seq % opt.nrcpts];
	size_t wire_len = build_message(c, seq, rcpt);
	int code;

	int64_t t0 = now_us();
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s> SIZE=%zu\r\n", opt.from, opt.size);
	code = command(c, cmd, "MAIL FROM", last, sizeof(last));
	if (code < 0)
		return -1;
	if (code != 250)
		goto refused;
	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", rcpt);
	code = command(c, cmd, "RCPT TO", last, sizeof(last));
	if (code < 0)
		return -1;
	if (code != 250 && code != 251)
		goto refused;
	code = command(c, "DATA\r\n", "DATA", last, sizeof(last));
	if (code < 0)
		return -1;
	if (code != 354)
		goto refused;
	if (send_all(c, c->wire, wire_len) < 0)
		return -1;
	code = read_reply(c, "end of data", last, sizeof(last));
	if (code < 0)
		return -1;
	if (code / 100 != 2) {
		/* After the final dot the transaction is over either way; no RSET needed. */
		c->refused++;
		if (!opt.quiet)
			fprintf(stderr, "smtp-load: connection %d: message %ld refused: %s\n",
			        c->id, seq, last);
		return 0;
	}
	latencies_add(&c->lat, now_us() - t0);
	c->sent_ok++;
	return 1;

refused:
	c->refused++;
	if (!opt.quiet)
		fprintf(stderr, "smtp-load: connection %d: message %ld refused: %s\n", c->id, seq, last);
	if (code == 421) {
		conn_fail(c, "server is closing the connection: %s", last);
		return -1;
	}
	code = command(c, "RSET\r\n", "RSET", last, sizeof(last));
	if (code < 0)
		return -1;
	if (code != 250) {
		conn_fail(c, "RSET refused: %s", last);
		return -1;
	}
	return 0;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	char cmd[600], last[REPLY_LINE_MAX];
	int code;

	if (connect_to_server(c) < 0)
		return NULL;
	code = read_reply(c, "connect", last, sizeof(last));
	if (code < 0)
		goto out;
	if (code != 220) {
		conn_fail(c, "greeting was not 220: %s", last);
		goto out;
	}
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", opt.helo);
	code = command(c, cmd, "EHLO", last, sizeof(last));
	if (code < 0)
		goto out;
	if (code != 250) {
		conn_fail(c, "EHLO refused: %s", last);
		goto out;
	}
	for (;;) {
		long seq = claim_message();
		if (seq < 0)
			break;
		if (send_one(c, seq) < 0)
			goto out;
	}
	code = command(c, "QUIT\r\n", "QUIT", last, sizeof(last));
	if (code >= 0 && code != 221)
		conn_fail(c, "QUIT got: %s", last);
out:
	close(c->fd);
	c->fd = -1;
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values, in milliseconds. */
static double percentile_ms(const int64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1000.0;
}

/* The whole file at path (NUL-terminated), its length in *len. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		die("cannot open %s: %s", path, strerror(errno));
	char *data = NULL;
	size_t cap = 0;
	*len = 0;
	for (;;) {
		if (*len + 4096 + 1 > cap) {
			cap = (cap + 4096) * 2;
			data = realloc(data, cap);
			if (data == NULL)
				die("out of memory");
		}
		size_t n = fread(data + *len, 1, cap - *len - 1, f);
		*len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	if (*len == 0)
		die("%s is empty", path);
	data[*len] = '\0';
	return data;
}

static void parse_args(int argc, char **argv)
{
	int ch;
	char *end;
	while ((ch = getopt(argc, argv, "c:n:d:s:f:H:m:t:qh")) != -1) {
		switch (ch) {
		case 'c':
			opt.connections = (int)strtol(optarg, &end, 10);
			if (*end || opt.connections < 1 || opt.connections > 10000)
				die("-c wants a number of connections between 1 and 10000");
			break;
		case 'n':
			opt.messages = strtol(optarg, &end, 10);
			if (*end || opt.messages < 1)
				die("-n wants a positive number of messages");
			break;
		case 'd':
			opt.duration = strtod(optarg, &end);
			if (*end || opt.duration <= 0)
				die("-d wants a positive number of seconds");
			break;
		case 's':
			opt.size = (size_t)strtoul(optarg, &end, 10);
			if (*end || opt.size < 512 || opt.size > 100 * 1024 * 1024)
				die("-s wants a size between 512 bytes and 100 MiB");
			break;
		case 'f':
			opt.from = optarg;
			break;
		case 'H':
			opt.helo = optarg;
			break;
		case 'm':
			opt.message = read_file(optarg, &opt.size);
			break;
		case 't':
			opt.timeout = (int)strtol(optarg, &end, 10);
			if (*end || opt.timeout < 1)
				die("-t wants a positive number of seconds");
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			exit(2);
		}
	}
	if (argc - optind < 2) {
		fputs(usage_text, stderr);
		exit(2);
	}
	/* HOST:PORT, with [v6]:PORT accepted too. */
	static char hostbuf[256];
	const char *hp = argv[optind];
	const char *colon = strrchr(hp, ':');
	if (colon == NULL || colon == hp || colon[1] == '\0')
		die("expected HOST:PORT, got \"%s\"", hp);
	size_t hlen = (size_t)(colon - hp);
	if (hp[0] == '[' && hlen > 2 && hp[hlen - 1] == ']') {
		hp++;
		hlen -= 2;
	}
	if (hlen >= sizeof(hostbuf))
		die("host name too long");
	memcpy(hostbuf, hp, hlen);
	hostbuf[hlen] = '\0';
	opt.host = hostbuf;
	opt.port = colon + 1;
	opt.rcpts = argv + optind + 1;
	opt.nrcpts = argc - optind - 1;
	for (int i = 0; i < opt.nrcpts; i++)
		if (strlen(opt.rcpts[i]) > 256 || strpbrk(opt.rcpts[i], "<>\r\n \t"))
			die("recipient \"%s\" is not a plain address", opt.rcpts[i]);
	if (strlen(opt.from) > 256 || strpbrk(opt.from, "<>\r\n \t"))
		die("sender \"%s\" is not a plain address", opt.from);
	if (strlen(opt.helo) > 255 || strpbrk(opt.helo, "\r\n \t"))
		die("EHLO name \"%s\" is not a plain name", opt.helo);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);

	struct conn *conns = calloc((size_t)opt.connections, sizeof(*conns));
	if (conns == NULL)
		die("out of memory");
	for (int i = 0; i < opt.connections; i++) {
		conns[i].id = i;
		conns[i].fd = -1;
		conns[i].msg = xmalloc(opt.size + 1);
		conns[i].wire_cap = opt.size * 2 + 3; /* every byte could need stuffing, in theory */
		conns[i].wire = xmalloc(conns[i].wire_cap);
	}

	if (!opt.quiet) {
		if (opt.duration > 0)
			printf("smtp-load: %d connections to %s:%s for %.1f s, %zu-byte messages, "
			       "%d recipients\n", opt.connections, opt.host, opt.port, opt.duration,
			       opt.size, opt.nrcpts);
		else
			printf("smtp-load: %d connections to %s:%s, %ld messages of %zu bytes, "
			       "%d recipients\n", opt.connections, opt.host, opt.port, opt.messages,
			       opt.size, opt.nrcpts);
		fflush(stdout);
	}

	struct timespec wall_start;
	clock_gettime(CLOCK_REALTIME, &wall_start);
	double t_start = now_seconds();
	if (opt.duration > 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		double whole = (double)(long)opt.duration;
		deadline.tv_sec += (time_t)whole;
		deadline.tv_nsec += (long)((opt.duration - whole) * 1e9);
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	for (int i = 0; i < opt.connections; i++) {
		int err = pthread_create(&conns[i].thread, NULL, conn_main, &conns[i]);
		if (err != 0)
			die("cannot start thread %d: %s", i, strerror(err));
	}
	for (int i = 0; i < opt.connections; i++)
		pthread_join(conns[i].thread, NULL);
	double elapsed = now_seconds() - t_start;

	/* Merge what each connection measured. */
	long ok = 0, refused = 0;
	int aborted = 0;
	size_t total = 0;
	for (int i = 0; i < opt.connections; i++)
		total += conns[i].lat.n;
	int64_t *all = xmalloc((total ? total : 1) * sizeof(*all));
	size_t k = 0;
	for (int i = 0; i < opt.connections; i++) {
		struct conn *c = &conns[i];
		memcpy(all + k, c->lat.v, c->lat.n * sizeof(*all));
		k += c->lat.n;
		ok += c->sent_ok;
		refused += c->refused;
		if (c->aborted) {
			aborted++;
			fprintf(stderr, "smtp-load: connection %d aborted after %ld messages: %s\n",
			        c->id, c->sent_ok, c->abort_reason);
		}
	}
	qsort(all, total, sizeof(*all), cmp_i64);
	double p50 = percentile_ms(all, total, 50), p99 = percentile_ms(all, total, 99);
	double max = total ? (double)all[total - 1] / 1000.0 : 0;
	double rate = elapsed > 0 ? (double)ok / elapsed : 0;
	long attempted = ok + refused;
	long not_sent = opt.duration > 0 ? 0 : opt.messages - attempted;

	if (!opt.quiet) {
		printf("  accepted        %ld of %ld (%ld refused, %ld not sent)\n", ok,
		       opt.duration > 0 ? attempted : opt.messages, refused, not_sent);
		printf("  aborted conns   %d of %d\n", aborted, opt.connections);
		printf("  elapsed         %.3f s\n", elapsed);
		printf("  rate            %.1f messages/s (accepted)\n", rate);
		printf("  latency         p50 %.2f ms, p99 %.2f ms, max %.2f ms "
		       "(MAIL FROM to 250 after the dot)\n", p50, p99, max);
	}
	printf("result accepted=%ld refused=%ld not_sent=%ld aborted_connections=%d "
	       "elapsed_s=%.3f msgs_per_s=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f "
	       "start_unix=%ld.%06ld\n",
	       ok, refused, not_sent, aborted, elapsed, rate, p50, p99, max,
	       (long)wall_start.tv_sec, wall_start.tv_nsec / 1000);

	for (int i = 0; i < opt.connections; i++) {
		free(conns[i].msg);
		free(conns[i].wire);
		free(conns[i].lat.v);
	}
	free(conns);
	free(all);
	return (aborted || refused || not_sent) ? 1 : 0;
}
