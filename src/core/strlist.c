/* Owned string arrays; see strlist.h. */
#include "core/strlist.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <strings.h>

void strlist_init(strlist *l)
{
	l->items = NULL;
	l->count = l->cap = 0;
}

void strlist_free(strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	strlist_init(l);
}

void strlist_add_owned(strlist *l, char *s)
{
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->count++] = s;
}

void strlist_add(strlist *l, const char *s)
{
	strlist_add_owned(l, xstrdup(s));
}

bool strlist_contains(const strlist *l, const char *s)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcasecmp(l->items[i], s) == 0)
			return true;
	return false;
}

bool strlist_add_unique(strlist *l, const char *s)
{
	if (strlist_contains(l, s))
		return false;
	strlist_add(l, s);
	return true;
}
