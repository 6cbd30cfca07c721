/* How much of a message's text goes into the full-text index: a budget of octets and of
 * distinct trigrams (three characters, as FTS5's trigram tokenizer splits text) per message,
 * spent on its header text first, then its body text. A large message of varied text (45 MB
 * of random words) would otherwise cost the index hundreds of megabytes and its writer seconds;
 * past the budget, search reads the message itself. A pure function over byte buffers. */
#ifndef ESTAFETA_INDEX_BOUND_H
#define ESTAFETA_INDEX_BOUND_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct index_bound {
	size_t octets_left;
	size_t trigrams_max;
	size_t trigrams;       /* distinct trigrams seen so far */
	uint64_t *seen;        /* open addressing set of trigram hashes (0: empty slot) */
	size_t seen_cap;       /* a power of two, more than twice trigrams */
	bool cut;              /* some text was left out */
};

void index_bound_init(struct index_bound *b, size_t max_octets, size_t max_trigrams);
void index_bound_free(struct index_bound *b);
/* The length of the longest prefix of text[0..len) that fits what is left of the budget,
 * ended at a character boundary (UTF-8), and spends it. Trigrams are counted with ASCII
 * letters folded to lower case, as the index folds them; other characters count as written,
 * which can only count more, so the bound holds. A trigram never spans two texts. */
size_t index_bound_take(struct index_bound *b, const char *text, size_t len);
#endif
