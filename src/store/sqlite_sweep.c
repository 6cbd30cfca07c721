/* store_sweep for the SQLite backend: removing what a crash can leave behind. A crash between
 * a message file's rename and its database commit leaves a file no row refers to; a crash
 * while a message arrives leaves a spool file in tmp/. Neither is ever acknowledged mail.
 * Only files older than the given age are touched, so a delivery in flight in another process
 * (the sendmail command, a second server start) is never raced; nor are the files a running
 * backup still copies (msgfile.h). */
#include "store/msgfile.h"
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* True when path (under data_dir) is a regular file last written before cutoff. */
static bool stale_file(const char *path, time_t cutoff)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < cutoff;
}

static int sweep_spool(struct store *st, time_t cutoff, unsigned *removed)
{
	char *dir = xasprintf("%s/tmp", st->data_dir);
	DIR *d = opendir(dir);
	if (d != NULL) {
		for (struct dirent *e; (e = readdir(d)) != NULL;) {
			char *path = xasprintf("%s/%s", dir, e->d_name);
			if (e->d_name[0] != '.' && stale_file(path, cutoff) && unlink(path) == 0)
				(*removed)++;
			free(path);
		}
		closedir(d);
	}
	free(dir);
	return 0;
}

/* Removes the stale files of one messages/XX folder that no bodies row names. */
static int sweep_message_dir(struct store *st, const char *sub, time_t cutoff, unsigned *removed,
			     char **error_r)
{
	char *dir = xasprintf("%s/messages/%s", st->data_dir, sub);
	DIR *d = opendir(dir);
	int r = 0;
	for (struct dirent *e; d != NULL && r == 0 && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.' || msgfile_kept_for_backup(st->data_dir, e->d_name))
			continue;
		char *abs = xasprintf("%s/%s", dir, e->d_name);
		char *rel = xasprintf("messages/%s/%s", sub, e->d_name);
		int64_t refs = 0;
		if (stale_file(abs, cutoff)) {
			/* db_int answers 1 for the row count(*) always returns, -1 on error. */
			if (db_int(st, error_r, &refs, "SELECT count(*) FROM bodies WHERE path = ?", "s", rel) < 0)
				r = -1;
			else if (refs == 0 && unlink(abs) == 0)
				(*removed)++;
		}
		free(abs);
		free(rel);
	}
	if (d != NULL)
		closedir(d);
	free(dir);
	return r;
}

int store_sweep(struct store *st, time_t older_than, unsigned *removed_r, char **error_r)
{
	time_t cutoff = time(NULL) - older_than;
	*removed_r = 0;
	sweep_spool(st, cutoff, removed_r);
	char *top = xasprintf("%s/messages", st->data_dir);
	DIR *d = opendir(top);
	int r = 0;
	if (d == NULL && errno != ENOENT) {
		*error_r = xasprintf("cannot read %s: %s", top, strerror(errno));
		r = -1;
	}
	for (struct dirent *e; d != NULL && r == 0 && (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.' && strlen(e->d_name) == 2)
			r = sweep_message_dir(st, e->d_name, cutoff, removed_r, error_r);
	if (d != NULL)
		closedir(d);
	free(top);
	return r;
}
