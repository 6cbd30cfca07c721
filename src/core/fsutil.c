/* Durable file writing; see fsutil.h. */
#include "core/fsutil.h"
#include "core/xalloc.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char **error_r)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		*error_r = xasprintf("cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fs_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		*error_r = xasprintf("cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		*error_r = xasprintf("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		fs_fsync_dir(*dir ? dir : "/");
	} else {
		fs_fsync_dir(".");
	}
	free(dir);
	return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, char **error_r)
{
	char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			*error_r = xasprintf("cannot create folder %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	free(p);
	return 0;
}

int fs_read_file(const char *path, char **data_r, size_t *len_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *data = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			data = xrealloc(data, cap);
		}
		ssize_t n = read(fd, data + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			free(data);
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	data[len] = '\0';
	*data_r = data;
	*len_r = len;
	return 0;
}

char *fs_unsearchable_folder(const char *path)
{
	char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		/* each folder before this one let us through, so this one refuses itself */
		if (access(p, X_OK) < 0 && errno == EACCES)
			return p;
		*s = saved;
		if (saved == '\0')
			break;
	}
	free(p);
	return NULL;
}

int fs_copy_file(int from_fd, const char *from_name, const char *to, mode_t mode,
		 char sha256_r[SHA256_HEX_SIZE], uint64_t *size_r, char **error_r)
{
	int out = to != NULL ? open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode) : -1;
	if (to != NULL && out < 0) {
		*error_r = xasprintf("cannot create %s: %s", to, strerror(errno));
		return -1;
	}
	struct sha256 *h = sha256_new();
	uint64_t size = 0;
	const char *failed = NULL;
	char chunk[65536];
	for (;;) {
		ssize_t n = read(from_fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			failed = from_name;
		if (n <= 0)
			break;
		sha256_update(h, chunk, (size_t)n);
		size += (uint64_t)n;
		if (out >= 0 && fs_write_all(out, chunk, (size_t)n) < 0) {
			failed = to;
			break;
		}
	}
	if (failed == NULL && out >= 0 && fsync(out) < 0)
		failed = to;
	int e = errno;
	sha256_finish(h, sha256_r);
	*size_r = size;
	if (out >= 0)
		close(out);
	if (failed == NULL)
		return 0;
	*error_r = xasprintf("cannot %s %s: %s", failed == to ? "write" : "read", failed, strerror(e));
	if (to != NULL)
		unlink(to);
	return -1;
}
