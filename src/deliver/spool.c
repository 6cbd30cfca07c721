/* Spool files for arriving messages; see spool.h. */
#include "deliver/spool.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/xalloc.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPOOL_BUFFER (64 * 1024)

struct spool {
	char *path;
	int fd;
	buf pending;
	uint64_t size;
	int error; /* first errno of a failed write, 0 when none */
};

struct spool *spool_new(const char *dir, bool *full_r, char **error_r)
{
	char *path = xasprintf("%s/%08x%08x.spool", dir, arc4random(), arc4random());
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*full_r = errno == ENOSPC || errno == EDQUOT;
		*error_r = xasprintf("cannot create %s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	struct spool *sp = xcalloc(1, sizeof(*sp));
	sp->path = path;
	sp->fd = fd;
	buf_init(&sp->pending);
	return sp;
}

static void spool_write_out(struct spool *sp)
{
	if (sp->error == 0 && fs_write_all(sp->fd, sp->pending.data, sp->pending.len) < 0)
		sp->error = errno;
	buf_clear(&sp->pending);
}

void spool_write(struct spool *sp, const void *data, size_t len)
{
	sp->size += len;
	if (sp->error != 0)
		return;
	buf_append(&sp->pending, data, len);
	if (sp->pending.len >= SPOOL_BUFFER)
		spool_write_out(sp);
}

int spool_flush(struct spool *sp, bool *full_r, char **error_r)
{
	spool_write_out(sp);
	if (sp->error == 0)
		return 0;
	*full_r = sp->error == ENOSPC || sp->error == EDQUOT;
	*error_r = xasprintf("cannot write %s: %s", sp->path, strerror(sp->error));
	return -1;
}

uint64_t spool_size(const struct spool *sp)
{
	return sp->size;
}

static void spool_free(struct spool *sp)
{
	close(sp->fd);
	buf_free(&sp->pending);
	free(sp);
}

char *spool_release(struct spool **spp)
{
	struct spool *sp = *spp;
	char *path = sp->path;
	spool_free(sp);
	*spp = NULL;
	return path;
}

void spool_discard(struct spool **spp)
{
	struct spool *sp = *spp;
	if (sp == NULL)
		return;
	unlink(sp->path);
	free(sp->path);
	spool_free(sp);
	*spp = NULL;
}
