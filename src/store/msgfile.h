/* Message files: the bodies of stored messages, written once and never changed. A spool file
 * written under data_dir/tmp becomes a message file by fsync and rename into
 * data_dir/messages/XX/ (XX: two hex digits, one folder chosen at random per batch, which
 * spreads the files over 256 folders while a batch still needs a single folder fsync).
 * Paths given and returned are relative to data_dir ("messages/3f/9c0e..."). All of these
 * block on the disk. Used by the SQLite backend; a PostgreSQL backend can share it. */
#ifndef ESTAFETA_MSGFILE_H
#define ESTAFETA_MSGFILE_H
#include "core/buf.h"
#include <stdbool.h>
#include <stdint.h>

/* Picks the folder for a batch ("messages/XX") and creates it when missing (durably).
 * Returns it allocated, or NULL with *error_r (*full_r when for lack of space). */
char *msgfile_batch_dir(const char *data_dir, bool *full_r, char **error_r);

/* Makes the spool file durable (fsync) and renames it into subdir under a fresh unique name,
 * after checking that it holds exactly size octets. Returns 0 and the new relative path in
 * *path_r; on failure removes the spool file and returns -1 with *error_r (*full_r when for
 * lack of space). The folder itself still needs msgfile_sync_dir. */
int msgfile_commit(const char *data_dir, const char *subdir, const char *spool_path, uint64_t size,
		   char **path_r, bool *full_r, char **error_r);

/* fsyncs subdir so the renames into it survive a crash. Returns 0 or -1 with *error_r. */
int msgfile_sync_dir(const char *data_dir, const char *subdir, bool *full_r, char **error_r);

/* Appends the file's contents to out. Returns 0 or -1 with *error_r. */
int msgfile_read(const char *data_dir, const char *path, buf *out, char **error_r);

/* Appends the start of the file to out, up to the empty line that ends its header section
 * (a little past it, read in chunks) or max octets, whichever comes first. 0 or -1 with
 * *error_r. */
int msgfile_read_header(const char *data_dir, const char *path, size_t max, buf *out,
			char **error_r);

/* Removes the file; a file already gone is no error, and others are only logged, since the
 * caller has nothing to undo. While a backup runs, the file is kept for it (below). */
void msgfile_remove(const char *data_dir, const char *path);

/* ---- while a backup copies the message files (store_backup) ----
 * A backup locks the data folder (flock, exclusive) before it opens its snapshot of the
 * database and keeps the lock until it has copied every file the snapshot names. A file
 * removed meanwhile (its rows deleted by a commit after the snapshot) is only renamed to
 * NAME.expunged, so the backup still finds it; the backup removes those when it unlocks, and
 * store_sweep removes any that a crash left. Every process that removes message files checks
 * the lock after its commit: a commit before the backup locked is outside its snapshot. */

/* Takes the lock. Returns its descriptor, or -1 with *error_r (another backup holds it). */
int msgfile_backup_lock(const char *data_dir, char **error_r);
/* Removes the files kept for the backup and releases the lock. */
void msgfile_backup_unlock(const char *data_dir, int lock);
/* Opens the message file at path for reading, or the file kept for the backup under its
 * .expunged name. The descriptor, or -1 (errno). */
int msgfile_open_for_backup(const char *data_dir, const char *path);
/* True when name (in a messages/XX folder) is a file kept for a backup that still runs. */
bool msgfile_kept_for_backup(const char *data_dir, const char *name);
#endif
