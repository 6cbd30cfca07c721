/* sd_notify by hand; see notify.h. */
#include "core/notify.h"
#include "core/log.h"
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int notify_service_manager(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (path == NULL || *path == '\0')
		return 0;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sun.sun_path)) {
		log_warn("notify socket=%s unusable: not an absolute path or @name", path);
		return -1;
	}
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* an abstract socket: the name has no terminating NUL */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ssize_t sent = fd < 0 ? -1
			      : sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
				       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	int saved = errno;
	if (fd >= 0)
		close(fd);
	if (sent < 0) {
		log_warn("notify socket=%s state=%s not sent: %s", path, state, strerror(saved));
		return -1;
	}
	return 0;
}
