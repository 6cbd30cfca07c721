/* libFuzzer target for mime.c: parses the input as a message with small limits and checks the
 * tree: every part inside the message, its body right after its header, children inside their
 * parent's body in order, the limits kept, line counts no larger than the body; then decodes
 * the input as a header value with RFC 2047 encoded words. */
#include "mail/mime.h"
#include <stdint.h>
#include <stdlib.h>

static const struct mime_limits limits = { 8, 64, 8 };

static void check_tree(const struct mime_tree *t, size_t len)
{
	if (t->count == 0 || t->count > limits.max_parts)
		abort();
	for (size_t i = 0; i < t->count; i++) {
		const struct mime_part *p = &t->parts[i];
		if (p->hdr_off + p->hdr_len != p->body_off || p->body_off + p->body_len > len ||
		    p->body_lines > p->body_len || p->depth > limits.max_depth ||
		    p->param_count > limits.max_params || p->type == NULL || p->subtype == NULL)
			abort();
		size_t prev_end = p->body_off;
		unsigned children = 0;
		for (int c = p->first_child; c != MIME_NONE; c = t->parts[c].next_sibling) {
			const struct mime_part *ch = &t->parts[c];
			if ((size_t)c <= i || ch->parent != (int)i || ch->depth != p->depth + 1 ||
			    ch->hdr_off < prev_end || ch->body_off + ch->body_len > p->body_off + p->body_len)
				abort();
			prev_end = ch->body_off + ch->body_len;
			children++;
		}
		if (children != p->child_count)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_tree t;
	mime_parse((const char *)data, size, &limits, &t);
	check_tree(&t, size);
	mime_tree_free(&t);

	buf out;
	buf_init(&out);
	mime_header_decode((const char *)data, size, &out);
	buf_free(&out);
	return 0;
}
