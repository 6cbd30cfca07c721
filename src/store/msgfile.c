/* Message files on disk: spool file to durable message file, reading and removing; see
 * msgfile.h. */
#include "store/msgfile.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_BYTES 16   /* 128 random bits: a collision is only ever a retry */
#define NAME_ATTEMPTS 4
#define KEPT_SUFFIX ".expunged" /* a removed file kept for a running backup */
#define LOCK_ATTEMPTS 500       /* of 10 ms: removers hold the lock shared for microseconds */

static bool errno_is_full(int e)
{
	return e == ENOSPC || e == EDQUOT;
}

/* Fills out with 2*n lower-case hex digits and a NUL. Returns 0, or -1 (errno). */
static int random_hex(char *out, size_t n)
{
	unsigned char bytes[NAME_BYTES];
	ssize_t got;
	while ((got = getrandom(bytes, n, 0)) < 0 && errno == EINTR)
		;
	if (got != (ssize_t)n)
		return -1;
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
	return 0;
}

char *msgfile_batch_dir(const char *data_dir, bool *full_r, char **error_r)
{
	char hex[3];
	if (random_hex(hex, 1) < 0) {
		*error_r = xasprintf("cannot get random bytes: %s", strerror(errno));
		return NULL;
	}
	char *subdir = xasprintf("messages/%s", hex);
	char *path = xasprintf("%s/%s", data_dir, subdir);
	int r = mkdir(path, 0700);
	if (r == 0) {
		/* A new folder is itself an entry in messages/, which must reach the disk too. */
		char *parent = xasprintf("%s/messages", data_dir);
		r = fs_fsync_dir(parent);
		free(parent);
	} else if (errno == EEXIST) {
		r = 0;
	}
	if (r < 0) {
		*full_r = errno_is_full(errno);
		*error_r = xasprintf("cannot create folder %s: %s", path, strerror(errno));
		xfree(&subdir);
	}
	free(path);
	return subdir;
}

/* rename(2) that never replaces an existing file. File systems without RENAME_NOREPLACE get
 * link + unlink, which fails the same way on an existing name. */
static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) < 0)
		return -1;
	unlink(from);
	return 0;
}

/* Opens, checks the size of and fsyncs the spool file. Returns 0 or -1 with *error_r. */
static int spool_sync(const char *spool_path, uint64_t size, bool *full_r, char **error_r)
{
	int fd = open(spool_path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0 || fsync(fd) < 0) {
		*full_r = errno_is_full(errno);
		*error_r = xasprintf("cannot make %s durable: %s", spool_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	/* A short spool file means a write the session missed; never acknowledge half a message. */
	if ((uint64_t)sb.st_size != size) {
		*error_r = xasprintf("spool file %s holds %lld octets, expected %llu", spool_path,
				     (long long)sb.st_size, (unsigned long long)size);
		return -1;
	}
	return 0;
}

int msgfile_commit(const char *data_dir, const char *subdir, const char *spool_path, uint64_t size,
		   char **path_r, bool *full_r, char **error_r)
{
	*full_r = false;
	if (spool_sync(spool_path, size, full_r, error_r) < 0) {
		unlink(spool_path);
		return -1;
	}
	char name[2 * NAME_BYTES + 1];
	int e = EEXIST;
	for (int attempt = 0; attempt < NAME_ATTEMPTS && e == EEXIST; attempt++) {
		if (random_hex(name, NAME_BYTES) < 0) {
			e = errno;
			break;
		}
		char *path = xasprintf("%s/%s", subdir, name);
		char *full = xasprintf("%s/%s", data_dir, path);
		e = rename_noreplace(spool_path, full) == 0 ? 0 : errno;
		free(full);
		if (e == 0) {
			*path_r = path;
			return 0;
		}
		free(path);
	}
	*full_r = errno_is_full(e);
	*error_r = xasprintf("cannot move %s into %s/%s: %s", spool_path, data_dir, subdir,
			     strerror(e));
	unlink(spool_path);
	return -1;
}

int msgfile_sync_dir(const char *data_dir, const char *subdir, bool *full_r, char **error_r)
{
	char *path = xasprintf("%s/%s", data_dir, subdir);
	int r = fs_fsync_dir(path);
	if (r < 0) {
		*full_r = errno_is_full(errno);
		*error_r = xasprintf("cannot fsync folder %s: %s", path, strerror(errno));
	}
	free(path);
	return r;
}

int msgfile_read(const char *data_dir, const char *path, buf *out, char **error_r)
{
	char *full = xasprintf("%s/%s", data_dir, path);
	char *data;
	size_t len;
	int r = fs_read_file(full, &data, &len);
	if (r < 0) {
		*error_r = xasprintf("cannot read message file %s: %s", full, strerror(errno));
	} else {
		buf_append(out, data, len);
		free(data);
	}
	free(full);
	return r;
}

int msgfile_read_header(const char *data_dir, const char *path, size_t max, buf *out,
			char **error_r)
{
	char *full = xasprintf("%s/%s", data_dir, path);
	int fd = open(full, O_RDONLY | O_CLOEXEC);
	int r = fd < 0 ? -1 : 0;
	size_t start = out->len, scanned = start;
	while (r == 0 && out->len - start < max) {
		char chunk[4096];
		size_t want = max - (out->len - start) < sizeof(chunk) ? max - (out->len - start) : sizeof(chunk);
		ssize_t n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -1 : 0;
			break;
		}
		buf_append(out, chunk, (size_t)n);
		/* the empty line that ends the header section: LF, then CRLF or LF */
		bool ended = false;
		for (size_t i = scanned >= start + 2 ? scanned - 2 : start; i + 1 < out->len && !ended; i++)
			ended = out->data[i] == '\n' && (out->data[i + 1] == '\n' ||
				(out->data[i + 1] == '\r' && i + 2 < out->len && out->data[i + 2] == '\n'));
		scanned = out->len;
		if (ended)
			break;
	}
	if (r < 0)
		*error_r = xasprintf("cannot read message file %s: %s", full, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(full);
	return r;
}

/* True when a backup holds the data folder's lock. */
static bool backup_running(const char *data_dir)
{
	int fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

void msgfile_remove(const char *data_dir, const char *path)
{
	char *full = xasprintf("%s/%s", data_dir, path);
	int r;
	if (backup_running(data_dir)) {
		char *kept = xasprintf("%s" KEPT_SUFFIX, full);
		r = rename(full, kept);
		free(kept);
	} else {
		r = unlink(full);
	}
	if (r < 0 && errno != ENOENT)
		log_warn("store path=%s cannot remove message file: %s", full, strerror(errno));
	free(full);
}

int msgfile_backup_lock(const char *data_dir, char **error_r)
{
	int fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = xasprintf("cannot open the data folder %s: %s", data_dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < LOCK_ATTEMPTS; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		usleep(10000);
	}
	*error_r = xasprintf("another backup of %s is running: wait for it to end", data_dir);
	close(fd);
	return -1;
}

static bool is_kept(const char *name)
{
	size_t n = strlen(name), k = strlen(KEPT_SUFFIX);
	return n > k && strcmp(name + n - k, KEPT_SUFFIX) == 0;
}

/* Removes the kept files of one messages/XX folder. */
static void remove_kept(const char *dir)
{
	DIR *d = opendir(dir);
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
		if (!is_kept(e->d_name))
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		if (unlink(path) < 0 && errno != ENOENT)
			log_warn("store path=%s cannot remove message file: %s", path, strerror(errno));
		free(path);
	}
	if (d != NULL)
		closedir(d);
}

void msgfile_backup_unlock(const char *data_dir, int lock)
{
	char *top = xasprintf("%s/messages", data_dir);
	DIR *d = opendir(top);
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		char *sub = xasprintf("%s/%s", top, e->d_name);
		remove_kept(sub);
		free(sub);
	}
	if (d != NULL)
		closedir(d);
	free(top);
	close(lock);
}

int msgfile_open_for_backup(const char *data_dir, const char *path)
{
	char *full = xasprintf("%s/%s", data_dir, path);
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		char *kept = xasprintf("%s" KEPT_SUFFIX, full);
		fd = open(kept, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		free(kept);
		if (fd < 0)
			errno = ENOENT; /* say the name the caller asked for is missing */
	}
	free(full);
	return fd;
}

bool msgfile_kept_for_backup(const char *data_dir, const char *name)
{
	return is_kept(name) && backup_running(data_dir);
}
