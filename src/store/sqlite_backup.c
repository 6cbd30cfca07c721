/* store_backup and store_restore for the SQLite backend (store.h).
 *
 * Backup, while the server runs: the data folder's backup lock first (msgfile.h), then one read
 * transaction on the live database that the online backup API copies page by page; being a
 * reader in WAL mode it never holds up the server's writers, and the copy is the snapshot that
 * transaction began with, however long the steps take. The same transaction lists the message
 * files the snapshot names and its counts. Then the files are copied. Every file a row names is
 * there: a message file is durable before the row naming it commits (msgfile_commit, then the
 * committer's transaction), and one whose rows are deleted after the snapshot is kept under its
 * .expunged name until the lock is released. The full-text index (index.db) is left out: it is
 * derived, and the indexer rebuilds it when it is missing. The manifest is written last.
 *
 * Restore, while no server runs: every file is copied from the backup into DATA.restore-tmp,
 * beside the data folder, checked against the manifest as it is copied, fsync'd and given to
 * the server's user; then that folder and the data folder change places in one rename
 * (RENAME_EXCHANGE), so a failure before it leaves the old store untouched and none after it
 * leaves a mix. The old data folder is kept as DATA.pre-restore-TIME (nothing is ever deleted by
 * a restore); its maildrop, mail sendmail handed over but not yet delivered, moves into the
 * new one. */
#include "store/backup_manifest.h"
#include "store/msgfile.h"
#include "store/sqlite_internal.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGES_PER_STEP 1024 /* of the database per backup step: 4 MiB of 4 KiB pages */

/* The message files a snapshot names, sorted by path, with the sizes its rows give. */
struct file_list {
	strlist paths;
	uint64_t *sizes;
};

/* dir: created when missing; one that exists must be an empty folder. */
static int backup_dir_prepare(const char *dir, char **error_r)
{
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		*error_r = xasprintf("cannot create the backup folder %s: %s", dir, strerror(errno));
		return -1;
	}
	DIR *d = opendir(dir);
	if (d == NULL) {
		*error_r = xasprintf("%s exists and is not a folder this user can read (%s): back up "
				     "into a new or empty folder", dir, strerror(errno));
		return -1;
	}
	bool empty = true;
	for (struct dirent *e; empty && (e = readdir(d)) != NULL;)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	if (!empty)
		*error_r = xasprintf("%s is not empty: back up into a new or empty folder", dir);
	return empty ? 0 : -1;
}

/* The counts and the file list of the snapshot st's read transaction holds. */
static int snapshot_contents(struct store *st, struct manifest *m, struct file_list *files,
			     char **error_r)
{
	int64_t messages = 0, queued = 0;
	if (db_int(st, error_r, &messages, "SELECT count(*) FROM folder_messages", "") < 0 ||
	    db_int(st, error_r, &queued, "SELECT count(*) FROM queue", "") < 0 ||
	    db_int(st, error_r, &m->schema, "PRAGMA user_version", "") < 0)
		return -1;
	m->messages = (uint64_t)messages;
	m->queued = (uint64_t)queued;
	sqlite3_stmt *stmt = db_stmt(st, error_r, "SELECT path, size FROM bodies ORDER BY path", "");
	int r = stmt != NULL ? 1 : -1;
	while (r == 1 && (r = db_step(st, stmt, error_r)) == 1) {
		const char *path = (const char *)sqlite3_column_text(stmt, 0);
		if (!manifest_path_valid(path)) {
			*error_r = xasprintf("the database names a message file %s, which is not a "
					     "message file's name: the store is damaged", path);
			sqlite3_reset(stmt);
			return -1;
		}
		files->sizes = xrealloc(files->sizes, (files->paths.count + 1) * sizeof(*files->sizes));
		files->sizes[files->paths.count] = (uint64_t)sqlite3_column_int64(stmt, 1);
		strlist_add(&files->paths, path);
	}
	if (r == 0)
		sqlite3_reset(stmt);
	return r;
}

/* Copies st's database into a new database at dest_path, as one snapshot, and reads what that
 * snapshot holds. */
static int snapshot(struct store *st, const char *dest_path, struct manifest *m,
		    struct file_list *files, char **error_r)
{
	sqlite3 *dest = NULL;
	if (sqlite3_open_v2(dest_path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*error_r = xasprintf("cannot create %s: %s", dest_path,
				     dest != NULL ? sqlite3_errmsg(dest) : "out of memory");
		sqlite3_close(dest);
		return -1;
	}
	/* the first read begins the snapshot; the backup steps then all read inside it */
	int r = db_exec(st, error_r, "BEGIN", "") < 0 ? -1 : snapshot_contents(st, m, files, error_r);
	if (r == 0) {
		sqlite3_backup *b = sqlite3_backup_init(dest, "main", st->db, "main");
		int rc = b != NULL ? SQLITE_OK : sqlite3_errcode(dest);
		while (b != NULL && (rc = sqlite3_backup_step(b, PAGES_PER_STEP)) != SQLITE_DONE) {
			if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
				break;
			if (rc != SQLITE_OK)
				sqlite3_sleep(10);
		}
		if (b != NULL)
			rc = sqlite3_backup_finish(b);
		/* the copy needs no write-ahead log next to it: a restored store starts from one file */
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(dest, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			*error_r = xasprintf("cannot copy the database into %s: %s", dest_path,
					     sqlite3_errmsg(dest));
			r = -1;
		}
	}
	db_rollback(st); /* ends the read transaction */
	if (sqlite3_close(dest) != SQLITE_OK && r == 0) {
		*error_r = xasprintf("cannot close %s", dest_path);
		r = -1;
	}
	return r;
}

/* Makes the file at path durable and adds it to the manifest as name. */
static int add_database(const char *path, const char *name, struct manifest *m, char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char sha[SHA256_HEX_SIZE];
	uint64_t size;
	int r = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
	if (r < 0)
		*error_r = xasprintf("cannot make %s durable: %s", path, strerror(errno));
	else
		r = fs_copy_file(fd, path, NULL, 0, sha, &size, error_r);
	if (fd >= 0)
		close(fd);
	if (r == 0)
		manifest_add(m, name, size, sha);
	return r;
}

/* Creates root/sub (mode 0700) when missing and remembers it in made, for fsync and cleaning.
 * sub is the folder part of a message file's path; its parent "messages" is made first. */
static int folder_for(const char *root, const char *path, strlist *made, char **error_r)
{
	const char *slash = strrchr(path, '/');
	char *sub = xstrndup(path, (size_t)(slash - path));
	int r = 0;
	if (made->count == 0 || strcmp(made->items[made->count - 1], sub) != 0) {
		char *full = xasprintf("%s/%s", root, sub);
		r = fs_mkdir_p(full, 0700, error_r);
		free(full);
		if (r == 0)
			strlist_add(made, sub);
	}
	free(sub);
	return r;
}

/* fsyncs each folder of made, then root/messages and root. */
static int sync_folders(const char *root, const strlist *made, char **error_r)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i <= made->count + 1; i++) {
		char *path = i < made->count ? xasprintf("%s/%s", root, made->items[i])
			   : i == made->count ? xasprintf("%s/messages", root) : xstrdup(root);
		r = fs_fsync_dir(path);
		if (r < 0 && errno == ENOENT && i == made->count)
			r = 0; /* a store without messages has no messages folder in its backup */
		if (r < 0)
			*error_r = xasprintf("cannot fsync folder %s: %s", path, strerror(errno));
		free(path);
	}
	return r;
}

static int copy_messages(const char *data_dir, const char *dir, const struct file_list *files,
			 struct manifest *m, char **error_r)
{
	strlist made;
	strlist_init(&made);
	int r = 0;
	for (size_t i = 0; r == 0 && i < files->paths.count; i++) {
		const char *path = files->paths.items[i];
		if ((r = folder_for(dir, path, &made, error_r)) < 0)
			break;
		int fd = msgfile_open_for_backup(data_dir, path);
		if (fd < 0) {
			*error_r = errno == ENOENT
				? xasprintf("the message file %s/%s, which the database names, is missing: "
					    "the store is damaged", data_dir, path)
				: xasprintf("cannot read %s/%s: %s", data_dir, path, strerror(errno));
			r = -1;
			break;
		}
		char *from = xasprintf("%s/%s", data_dir, path), *to = xasprintf("%s/%s", dir, path);
		char sha[SHA256_HEX_SIZE];
		uint64_t size = 0;
		r = fs_copy_file(fd, from, to, 0600, sha, &size, error_r);
		close(fd);
		if (r == 0 && size != files->sizes[i]) {
			*error_r = xasprintf("the message file %s holds %llu octets where the database "
					     "says %llu: the store is damaged", from, (unsigned long long)size,
					     (unsigned long long)files->sizes[i]);
			r = -1;
		}
		if (r == 0)
			manifest_add(m, path, size, sha);
		free(from);
		free(to);
	}
	if (r == 0)
		r = sync_folders(dir, &made, error_r);
	strlist_free(&made);
	return r;
}

/* The database in dir must be the manifest's schema and name only files the manifest holds. */
static int check_database(const char *dir, const struct manifest *m, char **error_r)
{
	char *path = xasprintf("%s/" MANIFEST_DATABASE, dir);
	char *uri = sqlite_file_uri(path, "immutable=1");
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	const char *missing = NULL;
	int64_t schema = -1;
	int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		schema = sqlite3_column_int64(stmt, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (rc == SQLITE_OK && schema == m->schema)
		rc = sqlite3_prepare_v2(db, "SELECT path FROM bodies", -1, &stmt, NULL);
	while (rc == SQLITE_OK && schema == m->schema && missing == NULL &&
	       (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 0);
		if (name == NULL || manifest_find(m, name) == NULL)
			missing = name != NULL ? name : "NULL";
		rc = SQLITE_OK;
	}
	int r = -1;
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		*error_r = xasprintf("cannot read the backup's database %s: %s", path,
				     db != NULL ? sqlite3_errmsg(db) : "out of memory");
	else if (schema != m->schema)
		*error_r = xasprintf("the backup's database has schema version %lld, its manifest says "
				     "%lld", (long long)schema, (long long)m->schema);
	else if (missing != NULL)
		*error_r = xasprintf("the backup's database names the message file %s, which the backup "
				     "lacks", missing);
	else
		r = 0;
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	free(uri);
	free(path);
	return r;
}

static void info_fill(struct store_backup_info *info, const struct manifest *m)
{
	*info = (struct store_backup_info){ .schema = m->schema, .messages = m->messages,
					    .queued = m->queued, .files = m->count, .bytes = m->bytes };
}

int store_backup(struct store *st, const char *dir, struct store_backup_info *info_r,
		 char **error_r)
{
	if (backup_dir_prepare(dir, error_r) < 0)
		return -1;
	int lock = msgfile_backup_lock(st->data_dir, error_r);
	if (lock < 0)
		return -1;
	struct manifest m = { .created = time(NULL) };
	struct file_list files = { .sizes = NULL };
	strlist_init(&files.paths);
	char *db_path = xasprintf("%s/" MANIFEST_DATABASE, dir);
	int r = snapshot(st, db_path, &m, &files, error_r);
	if (r == 0)
		r = add_database(db_path, MANIFEST_DATABASE, &m, error_r);
	if (r == 0)
		r = copy_messages(st->data_dir, dir, &files, &m, error_r);
	msgfile_backup_unlock(st->data_dir, lock);
	/* what restore will check, found now rather than then */
	if (r == 0)
		r = check_database(dir, &m, error_r);
	if (r == 0) {
		char *text = manifest_format(&m);
		char *path = xasprintf("%s/" MANIFEST_NAME, dir);
		r = fs_write_atomic(path, text, strlen(text), 0600, error_r);
		free(path);
		free(text);
	}
	if (r == 0) {
		char *parent = xasprintf("%s/..", dir);
		fs_fsync_dir(parent); /* the backup's own folder entry, when it was made here */
		free(parent);
		info_fill(info_r, &m);
	} else {
		char *inner = *error_r;
		*error_r = xasprintf("%s (%s holds an unfinished backup, which restore refuses: remove "
				     "it)", inner, dir);
		free(inner);
	}
	free(db_path);
	strlist_free(&files.paths);
	free(files.sizes);
	manifest_free(&m);
	return r;
}

/* ---- restore ---- */

static int read_manifest(const char *dir, struct manifest *m, char **error_r)
{
	char *path = xasprintf("%s/" MANIFEST_NAME, dir);
	char *text;
	size_t len;
	int r = fs_read_file(path, &text, &len);
	if (r < 0) {
		*error_r = errno == ENOENT
			? xasprintf("%s has no " MANIFEST_NAME ": it is not an estafeta backup, or one "
				    "that did not finish", dir)
			: xasprintf("cannot read %s: %s", path, strerror(errno));
		memset(m, 0, sizeof(*m));
	} else {
		char *inner = NULL;
		r = manifest_parse(text, len, m, &inner);
		if (r < 0)
			*error_r = xasprintf("%s: %s", path, inner);
		free(inner);
		free(text);
	}
	free(path);
	if (r == 0 && m->schema > SCHEMA_VERSION) {
		*error_r = xasprintf("the backup in %s has schema version %lld, newer than this "
				     "estafeta knows (%d): restore it with the estafeta that made it",
				     dir, (long long)m->schema, SCHEMA_VERSION);
		r = -1;
	}
	return r;
}

static int own(const char *path, uid_t uid, gid_t gid, char **error_r)
{
	if (uid == (uid_t)-1 || lchown(path, uid, gid) == 0)
		return 0;
	*error_r = xasprintf("cannot give %s to uid %u: %s", path, (unsigned)uid, strerror(errno));
	return -1;
}

/* Copies one file of the backup into tmp, checking it against the manifest. */
static int restore_file(const char *dir, const char *tmp, const struct manifest_file *f,
			uid_t uid, gid_t gid, char **error_r)
{
	char *from = xasprintf("%s/%s", dir, f->path), *to = xasprintf("%s/%s", tmp, f->path);
	int fd = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char sha[SHA256_HEX_SIZE];
	uint64_t size = 0;
	int r = fd >= 0 ? fs_copy_file(fd, from, to, 0600, sha, &size, error_r) : -1;
	if (fd < 0)
		*error_r = xasprintf("cannot read %s: %s", from, strerror(errno));
	else
		close(fd);
	if (r == 0 && (size != f->size || strcmp(sha, f->sha256) != 0)) {
		*error_r = xasprintf("%s is damaged (its %s differs from the manifest's)", from,
				     size != f->size ? "size" : "SHA-256");
		r = -1;
	}
	if (r == 0)
		r = own(to, uid, gid, error_r);
	free(from);
	free(to);
	return r;
}

/* Removes what restore_build made in tmp (the files of the manifest and the folders). */
static void restore_clean(const char *tmp, const struct manifest *m, const strlist *made)
{
	for (size_t i = 0; i < m->count; i++) {
		char *path = xasprintf("%s/%s", tmp, m->files[i].path);
		unlink(path);
		free(path);
	}
	for (size_t i = 0; i < made->count; i++) {
		char *path = xasprintf("%s/%s", tmp, made->items[i]);
		rmdir(path);
		free(path);
	}
	static const char *const folders[] = { "messages", "tmp", "" };
	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		char *path = xasprintf("%s/%s", tmp, folders[i]);
		rmdir(path);
		free(path);
	}
}

/* Makes in tmp the data folder the backup holds: the database and message files, checked,
 * and the store's empty tmp/, all owned by uid and durable. -1 with *error_r, after which
 * restore_clean removes what was made; -2 when tmp was there already (nothing was made). */
static int restore_build(const char *dir, const char *tmp, const struct manifest *m, uid_t uid,
			 gid_t gid, strlist *made, char **error_r)
{
	if (mkdir(tmp, 0700) < 0) {
		*error_r = errno == EEXIST
			? xasprintf("%s is left from a restore that did not finish: remove it, then "
				    "restore again", tmp)
			: xasprintf("cannot create %s: %s", tmp, strerror(errno));
		return -2;
	}
	static const char *const folders[] = { "messages", "tmp" };
	int r = own(tmp, uid, gid, error_r);
	for (size_t i = 0; r == 0 && i < sizeof(folders) / sizeof(folders[0]); i++) {
		char *path = xasprintf("%s/%s", tmp, folders[i]);
		if (mkdir(path, 0700) < 0) {
			*error_r = xasprintf("cannot create %s: %s", path, strerror(errno));
			r = -1;
		} else {
			r = own(path, uid, gid, error_r);
		}
		free(path);
	}
	for (size_t i = 0; r == 0 && i < m->count; i++) {
		const struct manifest_file *f = &m->files[i];
		size_t before = made->count;
		if (strchr(f->path, '/') != NULL && folder_for(tmp, f->path, made, error_r) < 0)
			r = -1;
		if (r == 0 && made->count > before) {
			char *sub = xasprintf("%s/%s", tmp, made->items[before]);
			r = own(sub, uid, gid, error_r);
			free(sub);
		}
		if (r == 0)
			r = restore_file(dir, tmp, f, uid, gid, error_r);
	}
	if (r == 0)
		r = check_database(tmp, m, error_r);
	if (r == 0) {
		char *spool = xasprintf("%s/tmp", tmp);
		if (fs_fsync_dir(spool) < 0) {
			*error_r = xasprintf("cannot fsync folder %s: %s", spool, strerror(errno));
			r = -1;
		}
		free(spool);
	}
	if (r == 0)
		r = sync_folders(tmp, made, error_r);
	return r;
}

/* The folder that holds path, for fsync after a rename in it. */
static void sync_parent(const char *path)
{
	char *parent = xasprintf("%s/..", path);
	fs_fsync_dir(parent);
	free(parent);
}

/* Puts tmp in target's place, keeping the old target as *kept_r (NULL when there was none).
 * 0; -1 with nothing moved; -3 when a file system without RENAME_EXCHANGE failed between its
 * two renames and the old folder could not be put back (*error_r says how). */
static int restore_swap(const char *target, const char *tmp, char **kept_r, char **error_r)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	char *kept = xasprintf("%s.pre-restore-%s", target, stamp);
	int r = renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_EXCHANGE);
	if (r == 0) {
		r = rename(tmp, kept); /* tmp now holds the old data */
	} else if (errno == ENOENT) {
		xfree(&kept);
		r = rename(tmp, target);
	} else if (errno == EINVAL || errno == ENOSYS) {
		/* a file system without the exchange: two renames, the old first, undone when the
		 * second fails */
		r = rename(target, kept);
		if (r == 0 && rename(tmp, target) < 0) {
			int e = errno;
			r = rename(kept, target) == 0 ? -1 : -3;
			errno = e;
		}
	}
	if (r == -3) {
		*error_r = xasprintf("cannot put %s in the place of %s (%s), nor the old data back: "
				     "rename %s to %s by hand", tmp, target, strerror(errno), kept, target);
		free(kept);
		return -3;
	}
	if (r < 0) {
		*error_r = xasprintf("cannot put %s in the place of %s: %s", tmp, target, strerror(errno));
		xfree(&kept);
		return -1;
	}
	sync_parent(target);
	*kept_r = kept;
	return 0;
}

/* Says in *error_r that the store is as it was. Returns -1. */
static int unchanged(char **error_r)
{
	char *inner = *error_r;
	*error_r = xasprintf("%s; the store was not changed", inner);
	free(inner);
	return -1;
}

int store_restore(const char *data_dir, const char *dir, uid_t uid, gid_t gid,
		  struct store_backup_info *info_r, char **kept_r, char **error_r)
{
	*kept_r = NULL;
	struct manifest m;
	if (read_manifest(dir, &m, error_r) < 0) {
		manifest_free(&m);
		return unchanged(error_r);
	}
	char *target = realpath(data_dir, NULL);
	if (target == NULL)
		target = xstrdup(data_dir); /* no data folder yet */
	char *tmp = xasprintf("%s.restore-tmp", target);
	strlist made;
	strlist_init(&made);
	int r = restore_build(dir, tmp, &m, uid, gid, &made, error_r);
	if (r == 0)
		r = restore_swap(target, tmp, kept_r, error_r);
	if (r == -1)
		restore_clean(tmp, &m, &made);
	if (r == -1 || r == -2)
		unchanged(error_r);
	if (r == 0 && *kept_r != NULL) {
		char *from = xasprintf("%s/maildrop", *kept_r), *to = xasprintf("%s/maildrop", target);
		if (rename(from, to) < 0 && errno != ENOENT)
			log_warn("restore cannot move %s to %s: %s; move it by hand", from, to,
				 strerror(errno));
		free(from);
		free(to);
	}
	if (r == 0)
		info_fill(info_r, &m);
	strlist_free(&made);
	free(tmp);
	free(target);
	manifest_free(&m);
	return r < 0 ? -1 : 0;
}
