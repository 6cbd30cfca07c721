/* libFuzzer target for imap_thread.c: the input is header sections separated by NUL octets,
 * one message each (its sent date from its position, so dates collide and tie); both
 * algorithms must name every message exactly once in a THREAD response whose parentheses
 * balance. */
#include "imap/imap_sort_keys.h"
#include "imap/imap_thread.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGES 64

static void check(const char *text, size_t len, size_t n)
{
	unsigned seen[MAX_MESSAGES + 1] = { 0 };
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '(') {
			depth++;
		} else if (text[i] == ')') {
			if (--depth < 0)
				abort();
		} else if (text[i] >= '1' && text[i] <= '9') {
			char *end;
			unsigned long v = strtoul(text + i, &end, 10);
			if (v > n || depth == 0)
				abort();
			seen[v]++;
			i = (size_t)(end - text) - 1;
		} else if (text[i] != ' ') {
			abort();
		}
	}
	if (depth != 0)
		abort();
	for (size_t v = 1; v <= n; v++)
		if (seen[v] != 1)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sort_keys keys[MAX_MESSAGES];
	struct thread_message msgs[MAX_MESSAGES];
	size_t n = 0, pos = 0;
	while (pos <= size && n < MAX_MESSAGES) {
		const uint8_t *nul = memchr(data + pos, '\0', size - pos);
		size_t len = nul != NULL ? (size_t)(nul - (data + pos)) : size - pos;
		sort_keys_read((const char *)data + pos, len, &keys[n]);
		msgs[n] = (struct thread_message){ (uint32_t)(n + 1), (time_t)(len % 4), keys[n].subject,
						   keys[n].reply, keys[n].message_id, &keys[n].refs };
		n++;
		pos += len + 1;
	}
	for (int alg = 0; alg < 2; alg++) {
		buf out;
		buf_init(&out);
		imap_thread_write(alg == 0 ? THREAD_ORDEREDSUBJECT : THREAD_REFERENCES, msgs, n, &out);
		check(out.data, out.len, n);
		buf_free(&out);
	}
	for (size_t i = 0; i < n; i++)
		sort_keys_free(&keys[i]);
	return 0;
}
