/* A spool file: a message being received, written to data_dir/tmp as it arrives. Writes are
 * buffered and not fsync'd here; the committer makes the file durable together with others
 * (store_deliver). A write error (disk full) is remembered and reported at the end, so the
 * session can go on reading the client's data and answer once, properly (452 4.3.1). */
#ifndef ESTAFETA_SPOOL_H
#define ESTAFETA_SPOOL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spool;

/* Creates a new file in dir. NULL with *error_r (and *full_r when the disk is full). */
struct spool *spool_new(const char *dir, bool *full_r, char **error_r);
void spool_write(struct spool *sp, const void *data, size_t len);
/* Writes out what is buffered. Returns 0, or -1 with *error_r and *full_r. */
int spool_flush(struct spool *sp, bool *full_r, char **error_r);
uint64_t spool_size(const struct spool *sp);
/* Gives the file's path to the caller (the file stays) and frees sp. */
char *spool_release(struct spool **sp);
/* Removes the file and frees sp. */
void spool_discard(struct spool **sp);
#endif
