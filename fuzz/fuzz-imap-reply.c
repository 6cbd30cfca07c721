/* libFuzzer target for the mail client's IMAP response parser (mua/imap_reply.c): any octets
 * from a server give a tree or -1, never a crash; every string and atom lies within what was
 * read and lists nest no deeper than the limit. */
#include "mua/imap_reply.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(const struct imap_value *v, size_t size, unsigned depth)
{
	if (depth > IMAP_REPLY_MAX_DEPTH + 1)
		abort();
	if ((v->kind == IMAP_ATOM || v->kind == IMAP_STRING) && (v->data == NULL || v->len > size))
		abort();
	if (v->kind == IMAP_ATOM && (v->len == 0 || memchr(v->data, ' ', v->len) != NULL) &&
	    memchr(v->data, '[', v->len) == NULL)
		abort();
	for (size_t i = 0; i < v->count; i++)
		check(&v->items[i], size, depth + 1);
	imap_value_get(v, "UID");
	imap_value_str(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_value top;
	imap_reply_parse((const char *)data, size, &top);
	check(&top, size, 0);
	imap_value_free(&top);
	return 0;
}
