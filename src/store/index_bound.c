/* The per-message budget of the full-text index; see index_bound.h. */
#include "store/index_bound.h"
#include "core/xalloc.h"
#include <stdlib.h>

void index_bound_init(struct index_bound *b, size_t max_octets, size_t max_trigrams)
{
	*b = (struct index_bound){ .octets_left = max_octets, .trigrams_max = max_trigrams };
	/* small to start with: most messages have few trigrams (grown in trigram_add) */
	b->seen_cap = 256;
	b->seen = xcalloc(b->seen_cap, sizeof(*b->seen));
}

void index_bound_free(struct index_bound *b)
{
	xfree(&b->seen);
}

/* Length of the UTF-8 character that starts with c (1 for a stray continuation octet). */
static size_t char_len(unsigned char c)
{
	return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* FNV-1a over the trigram's octets, ASCII folded; never 0 (the empty slot). */
static uint64_t trigram_hash(const unsigned char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i] >= 'A' && p[i] <= 'Z' ? p[i] + ('a' - 'A') : p[i];
		h = (h ^ c) * 0x100000001b3ULL;
	}
	return h != 0 ? h : 1;
}

static void set_insert(uint64_t *set, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);
	while (set[i] != 0)
		i = (i + 1) & (cap - 1);
	set[i] = h;
}

/* Doubles the set when it is half full, so probes stay short. */
static void set_grow(struct index_bound *b)
{
	size_t cap = b->seen_cap * 2;
	uint64_t *set = xcalloc(cap, sizeof(*set));
	for (size_t i = 0; i < b->seen_cap; i++)
		if (b->seen[i] != 0)
			set_insert(set, cap, b->seen[i]);
	free(b->seen);
	b->seen = set;
	b->seen_cap = cap;
}

/* Adds h to the set; false when it is new and the set is full (the budget is spent). */
static bool trigram_add(struct index_bound *b, uint64_t h)
{
	size_t i = (size_t)h & (b->seen_cap - 1);
	while (b->seen[i] != 0) {
		if (b->seen[i] == h)
			return true;
		i = (i + 1) & (b->seen_cap - 1);
	}
	if (b->trigrams == b->trigrams_max)
		return false;
	b->seen[i] = h;
	if (++b->trigrams * 2 > b->seen_cap)
		set_grow(b);
	return true;
}

size_t index_bound_take(struct index_bound *b, const char *text, size_t len)
{
	const unsigned char *t = (const unsigned char *)text;
	/* starts of the last three characters: the trigram ending at the current one */
	size_t starts[3] = { 0 }, chars = 0, pos = 0;
	while (pos < len) {
		size_t n = char_len(t[pos]);
		if (n > len - pos || n > b->octets_left)
			break;
		starts[chars % 3] = pos;
		chars++;
		if (chars >= 3 && !trigram_add(b, trigram_hash(t + starts[(chars - 3) % 3],
							       pos + n - starts[(chars - 3) % 3])))
			break;
		pos += n;
		b->octets_left -= n;
	}
	b->cut |= pos < len;
	return pos;
}
