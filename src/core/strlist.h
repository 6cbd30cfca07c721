/* A growable array of owned C strings, for results such as "the targets of an alias". */
#ifndef ESTAFETA_STRLIST_H
#define ESTAFETA_STRLIST_H
#include <stdbool.h>
#include <stddef.h>

typedef struct strlist {
	char **items;
	size_t count;
	size_t cap;
} strlist;

void strlist_init(strlist *l);
void strlist_free(strlist *l);
/* Appends a copy of s. */
void strlist_add(strlist *l, const char *s);
/* Appends s itself; the list takes ownership. */
void strlist_add_owned(strlist *l, char *s);
/* Appends a copy of s unless an equal string (ASCII case-insensitive) is there; true if added. */
bool strlist_add_unique(strlist *l, const char *s);
bool strlist_contains(const strlist *l, const char *s);
#endif
