/* Compressed files as report mail carries them: gzip (RFC 1952) written and read, and the
 * first file of a zip archive read (its local file header, stored or raw DEFLATE), all with
 * zlib. Reading never produces more than max octets: a small bomb cannot fill memory. */
#ifndef ESTAFETA_UNPACK_H
#define ESTAFETA_UNPACK_H
#include "core/buf.h"
#include <stddef.h>

/* Appends the gzip form of in to out. 0, or -1 when zlib fails. */
int gzip_compress(const void *in, size_t len, buf *out);
/* Appends what the gzip stream in holds (one member) to out. 0, or -1 with *error_r (a
 * static string) when it is broken or would be larger than max. */
int gzip_uncompress(const void *in, size_t len, size_t max, buf *out, const char **error_r);
/* Appends the first file of the zip archive in to out: 0, or -1 with *error_r (static). */
int zip_first_file(const void *in, size_t len, size_t max, buf *out, const char **error_r);
#endif
