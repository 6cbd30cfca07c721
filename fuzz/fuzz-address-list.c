/* libFuzzer target for address_list.c and encoded_word.c: walks the input as an address list
 * (groups never nest and close only once opened), writes each
 * mailbox back with its name, and checks that text written as encoded words decodes to
 * itself (mime_header_decode) and that every written line stays within 998 octets. */
#include "mail/address_list.h"
#include "mail/encoded_word.h"
#include "mail/mime.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct state {
	int depth;
	buf out;
};

static void item(const struct address_item *it, void *arg)
{
	struct state *s = arg;
	enum address_item_kind kind = it->kind;
	const char *name = it->name, *local = it->local, *domain = it->domain;
	if (kind == ADDRESS_ITEM_GROUP_START && s->depth++ != 0)
		abort();
	if (kind == ADDRESS_ITEM_GROUP_END && --s->depth != 0)
		abort();
	if (kind == ADDRESS_ITEM_MAILBOX && local != NULL && domain != NULL) {
		buf_clear(&s->out);
		address_write_mailbox(&s->out, name, local);
	}
}

static void check_lines(const buf *b)
{
	size_t line = 0;
	for (size_t i = 0; i < b->len; i++)
		line = b->data[i] == '\n' ? 0 : line + 1;
	if (line > 998)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s = { 0 };
	buf_init(&s.out);
	address_list_walk((const char *)data, size, item, &s);
	buf field, decoded;
	buf_init(&field);
	buf_init(&decoded);
	char *text = strndup((const char *)data, size);
	size_t len = strlen(text);
	if (encoded_word_needed(text, len)) {
		encoded_word_write(&field, text, len, 9);
		check_lines(&field);
		/* the folds between words vanish when decoded (RFC 2047 6.2) */
		mime_header_decode(field.data, field.len, &decoded);
		if (decoded.len != len || memcmp(decoded.data, text, len) != 0)
			abort();
	}
	free(text);
	buf_free(&field);
	buf_free(&decoded);
	buf_free(&s.out);
	return 0;
}
