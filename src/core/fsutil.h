/* File system helpers for durable writes: a file is written to a temporary name, flushed with
 * fsync, renamed into place, and its folder fsync'd, so a reader (or a crash) sees either the
 * old contents or the new ones, never a part. All of these block. */
#ifndef ESTAFETA_FSUTIL_H
#define ESTAFETA_FSUTIL_H
#include "core/digest.h"
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Replaces path with data atomically and durably. Returns 0 or -1 with *error_r. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char **error_r);
/* Creates path and its missing parents. Returns 0 or -1 with *error_r. */
int fs_mkdir_p(const char *path, mode_t mode, char **error_r);
/* The first folder on the way to absolute path (path itself included) that this process may
 * not enter (no search permission), allocated; NULL when every one lets it through. */
char *fs_unsearchable_folder(const char *path);
/* fsyncs the folder at path so a rename or create inside it is durable. Returns 0 or -1 (errno). */
int fs_fsync_dir(const char *path);
/* Writes all of data to fd, retrying short writes. Returns 0 or -1 (errno). */
int fs_write_all(int fd, const void *data, size_t len);
/* Reads the whole file; returns 0 and an allocated buffer (NUL-terminated) or -1 (errno). */
int fs_read_file(const char *path, char **data_r, size_t *len_r);
/* Copies what is left to read of from_fd into a new file to (mode; an existing file is an
 * error) and fsyncs it; to NULL only reads. Either way the copy's SHA-256 and size are
 * returned. The caller closes from_fd and fsyncs the new file's folder. 0, or -1 with *error_r
 * (naming from_name) and no new file left behind. */
int fs_copy_file(int from_fd, const char *from_name, const char *to, mode_t mode,
		 char sha256_r[SHA256_HEX_SIZE], uint64_t *size_r, char **error_r);
#endif
