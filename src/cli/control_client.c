/* Talking to the running server over its control socket; see control_client.h. */
#include "cli/control_client.h"
#include "core/buf.h"
#include "core/control.h"
#include "core/xalloc.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_TIMEOUT 30 /* seconds; the server answers from memory */
#define ANSWER_MAX (16 * 1024 * 1024)

/* A connected socket to path, or -1 after printing why. */
static int control_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		cli_error("the control socket path %s is too long for a Unix socket", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		struct timeval tv = { ANSWER_TIMEOUT, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		return fd;
	}
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (err == ENOENT || err == ECONNREFUSED)
		cli_error("the server is not running (nothing answers at %s): start it with "
			  "\"estafeta serve\"", path);
	else if (err == EACCES)
		cli_error("cannot use the control socket %s: permission denied (run this as root or "
			  "as the user the server runs as)", path);
	else
		cli_error("cannot reach the server at %s: %s", path, strerror(err));
	return -1;
}

/* Reads the whole answer (the server closes after it) into answer; -1 after printing why. */
static int read_answer(int fd, buf *answer)
{
	char chunk[4096];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || answer->len + (size_t)n > ANSWER_MAX) {
			cli_error("the server's answer broke off: %s",
				  n < 0 ? strerror(errno) : "too long");
			return -1;
		}
		buf_append(answer, chunk, (size_t)n);
	}
}

/* Prints the data lines and returns the exit status the status line gives. */
static int print_answer(const buf *answer)
{
	const char *p = answer->data, *end = answer->data + answer->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		size_t len = (size_t)(nl - p);
		size_t data_len = strlen(CONTROL_DATA), error_len = strlen(CONTROL_ERROR);
		if (len >= data_len && memcmp(p, CONTROL_DATA, data_len) == 0) {
			fwrite(p + data_len, 1, len - data_len, stdout);
			fputc('\n', stdout);
		} else if (len == strlen(CONTROL_OK) && memcmp(p, CONTROL_OK, len) == 0) {
			return 0;
		} else if (len >= error_len && memcmp(p, CONTROL_ERROR, error_len) == 0) {
			cli_error("%.*s", (int)(len - error_len), p + error_len);
			return 1;
		} else {
			break;
		}
		p = nl + 1;
	}
	cli_error("the server's answer ended without a status line");
	return 1;
}

int cli_control(struct cli *cli, const char *request)
{
	struct config *cfg = cli_config(cli);
	if (cfg == NULL)
		return 1;
	if (strpbrk(request, "\r\n") != NULL || strlen(request) >= CONTROL_MAX_REQUEST) {
		cli_error("a request is one line of less than %d bytes", CONTROL_MAX_REQUEST);
		return 2;
	}
	char *path = control_socket_path(cfg);
	int fd = control_connect(path);
	free(path);
	if (fd < 0)
		return 1;
	char *line = xasprintf("%s\n", request);
	size_t len = strlen(line);
	int status = 1;
	buf answer;
	buf_init(&answer);
	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len)
		cli_error("cannot send the request to the server: %s", strerror(errno));
	else if (read_answer(fd, &answer) == 0)
		status = print_answer(&answer);
	buf_free(&answer);
	free(line);
	close(fd);
	return status;
}
