/* Allocation that never returns NULL: on exhaustion the process aborts, so callers need no
 * error path for memory (the approach of Dovecot's i_malloc and Postfix's mymalloc). */
#ifndef ESTAFETA_XALLOC_H
#define ESTAFETA_XALLOC_H
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A copy with ASCII letters lower-cased: the case-insensitive names of accounts (the store's
 * NOCASE collation folds ASCII only). */
char *xstrdup_ascii_lower(const char *s);
/* Returns a newly allocated string formatted like printf. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Frees *pp and sets it to NULL. */
#define xfree(pp) do { free(*(pp)); *(pp) = NULL; } while (0)
#endif
