/* A backup's manifest: writing, reading and checking it; see backup_manifest.h. */
#include "store/backup_manifest.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_LINE "estafeta-backup 1\n"
#define CHECKSUM_KEY "manifest-sha256 "

static void append_file(struct manifest *m, const char *path, uint64_t size, const char *sha256)
{
	m->files = xrealloc(m->files, (m->count + 1) * sizeof(*m->files));
	struct manifest_file *f = &m->files[m->count++];
	f->path = xstrdup(path);
	f->size = size;
	snprintf(f->sha256, sizeof(f->sha256), "%s", sha256);
}

void manifest_add(struct manifest *m, const char *path, uint64_t size, const char *sha256)
{
	append_file(m, path, size, sha256);
	m->bytes += size;
}

char *manifest_format(const struct manifest *m)
{
	char created[32];
	struct tm tm;
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&m->created, &tm));
	buf b;
	buf_init(&b);
	buf_printf(&b, FORMAT_LINE "schema %" PRId64 "\ncreated %s\nmessages %" PRIu64
		   "\nqueued %" PRIu64 "\nbytes %" PRIu64 "\n",
		   m->schema, created, m->messages, m->queued, m->bytes);
	for (size_t i = 0; i < m->count; i++)
		buf_printf(&b, "file %s %" PRIu64 " %s\n", m->files[i].sha256, m->files[i].size,
			   m->files[i].path);
	char sum[SHA256_HEX_SIZE];
	sha256_hex(b.data, b.len, sum);
	buf_printf(&b, CHECKSUM_KEY "%s\n", sum);
	return buf_steal(&b);
}

static bool all_of(const char *s, size_t n, const char *chars)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(chars, s[i]) == NULL)
			return false;
	return true;
}

/* What a restore writes: nothing can name a file outside the data folder. */
bool manifest_path_valid(const char *p)
{
	if (strcmp(p, MANIFEST_DATABASE) == 0)
		return true;
	size_t n = strlen(p);
	return n > 12 && n < 200 && strncmp(p, "messages/", 9) == 0 &&
	       all_of(p + 9, 2, "0123456789abcdef") && p[11] == '/' &&
	       all_of(p + 12, n - 12, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_");
}

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const struct manifest_file *)a)->path, ((const struct manifest_file *)b)->path);
}

/* One line after the header lines: a file or a count. 0, or -1 with *error_r. */
static int parse_line(struct manifest *m, const char *line, char **error_r)
{
	char sha[SHA256_HEX_SIZE], path[256], created[32];
	uint64_t size;
	int end = 0;
	if (sscanf(line, "file %64s %" SCNu64 " %255s%n", sha, &size, path, &end) == 3 &&
	    line[end] == '\0') {
		if (strlen(sha) != 64 || !all_of(sha, 64, "0123456789abcdef") || !manifest_path_valid(path)) {
			*error_r = xasprintf("the manifest names a file wrongly: %s", line);
			return -1;
		}
		append_file(m, path, size, sha);
		return 0;
	}
	struct {
		const char *key;
		uint64_t *value;
	} counts[] = { { "messages", &m->messages }, { "queued", &m->queued }, { "bytes", &m->bytes } };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		size_t k = strlen(counts[i].key);
		if (strncmp(line, counts[i].key, k) == 0 && line[k] == ' ' &&
		    sscanf(line + k, " %" SCNu64 "%n", counts[i].value, &end) == 1 && line[k + end] == '\0')
			return 0;
	}
	if (sscanf(line, "schema %" SCNd64 "%n", &m->schema, &end) == 1 && line[end] == '\0')
		return 0;
	if (sscanf(line, "created %31s", created) == 1) {
		struct tm tm = { 0 };
		const char *rest = strptime(created, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (rest != NULL && *rest == '\0') {
			m->created = timegm(&tm);
			return 0;
		}
	}
	*error_r = xasprintf("the manifest has a line this estafeta does not know: %.80s", line);
	return -1;
}

int manifest_parse(const char *text, size_t len, struct manifest *m, char **error_r)
{
	memset(m, 0, sizeof(*m));
	size_t format_len = strlen(FORMAT_LINE);
	if (len < format_len || memcmp(text, FORMAT_LINE, format_len) != 0 || memchr(text, '\0', len)) {
		*error_r = xasprintf("it is not a manifest of an estafeta backup (format 1)");
		return -1;
	}
	/* the checksum line is the last one */
	const char *last = len >= 2 ? text + len - 2 : text;
	while (last > text && last[-1] != '\n')
		last--;
	char have[SHA256_HEX_SIZE];
	size_t key_len = strlen(CHECKSUM_KEY);
	sha256_hex(text, (size_t)(last - text), have);
	if (text[len - 1] != '\n' || (size_t)(text + len - last) != key_len + 64 + 1 ||
	    memcmp(last, CHECKSUM_KEY, key_len) != 0 || memcmp(last + key_len, have, 64) != 0) {
		*error_r = xasprintf("the manifest is damaged (its checksum does not match)");
		return -1;
	}
	uint64_t sum = 0;
	int r = 0;
	for (const char *p = text + format_len; r == 0 && p < last;) {
		const char *nl = memchr(p, '\n', (size_t)(last - p));
		char *line = xstrndup(p, (size_t)(nl - p));
		r = parse_line(m, line, error_r);
		free(line);
		p = nl + 1;
	}
	for (size_t i = 0; r == 0 && i < m->count; i++)
		sum += m->files[i].size;
	if (m->count > 1)
		qsort(m->files, m->count, sizeof(*m->files), compare_files);
	for (size_t i = 1; r == 0 && i < m->count; i++)
		if (strcmp(m->files[i - 1].path, m->files[i].path) == 0) {
			*error_r = xasprintf("the manifest names %s twice", m->files[i].path);
			r = -1;
		}
	if (r == 0 && (sum != m->bytes || manifest_find(m, MANIFEST_DATABASE) == NULL || m->schema <= 0)) {
		*error_r = xasprintf("the manifest is incomplete (no database, schema or matching byte count)");
		r = -1;
	}
	return r;
}

const struct manifest_file *manifest_find(const struct manifest *m, const char *path)
{
	struct manifest_file key = { .path = (char *)path };
	return m->count == 0 ? NULL : bsearch(&key, m->files, m->count, sizeof(*m->files), compare_files);
}

void manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->files[i].path);
	free(m->files);
	memset(m, 0, sizeof(*m));
}
