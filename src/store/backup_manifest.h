/* The manifest of a backup (DIR/MANIFEST, written last): what the backup holds and the SHA-256
 * of each of its files, so a restore can prove every file whole before it touches the store.
 * Text, one "name value" line each:
 *
 *   estafeta-backup 1
 *   schema 6                      the database's schema version
 *   created 2026-12-04T17:45:05Z
 *   messages 120                  folder entries
 *   queued 3                      messages in the outbound queue
 *   bytes 1234567                 of every file below
 *   file SHA256 SIZE PATH         one per file: estafeta.db, then messages/XX/NAME
 *   manifest-sha256 SHA256        of every line above, so the manifest itself is checked
 *
 * Backend-neutral: paths are relative to the backup's folder and to the data folder alike. */
#ifndef ESTAFETA_BACKUP_MANIFEST_H
#define ESTAFETA_BACKUP_MANIFEST_H
#include "core/digest.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MANIFEST_NAME "MANIFEST"
#define MANIFEST_DATABASE "estafeta.db"

struct manifest_file {
	char *path;
	uint64_t size;
	char sha256[SHA256_HEX_SIZE];
};

struct manifest {
	int64_t schema;
	time_t created;
	uint64_t messages, queued, bytes;
	struct manifest_file *files;
	size_t count;
};

/* Adds a file (and its size to bytes). */
void manifest_add(struct manifest *m, const char *path, uint64_t size, const char *sha256);
/* The manifest's text, allocated. */
char *manifest_format(const struct manifest *m);
/* Reads text into *m (zeroed first). Refuses, with *error_r, a manifest whose checksum does
 * not match, an unknown format, and a path that is not estafeta.db or messages/XX/NAME.
 * 0 or -1; *m is to be freed either way. */
int manifest_parse(const char *text, size_t len, struct manifest *m, char **error_r);
/* True for estafeta.db and messages/XX/NAME (XX two hex digits, NAME letters, digits, - and
 * _): the only files a backup holds and a restore writes. */
bool manifest_path_valid(const char *path);
/* The entry for path, or NULL. Binary search: the files are sorted by path once parsed. */
const struct manifest_file *manifest_find(const struct manifest *m, const char *path);
void manifest_free(struct manifest *m);
#endif
