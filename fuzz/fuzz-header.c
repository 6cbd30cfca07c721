/* libFuzzer target for header.c: finds the end of the header section, walks every field
 * checking that each lies within the input and the walk always advances, tests for and
 * removes a field whose name comes from the input (after which it must be gone), collects
 * the From and Sender addresses (none twice), and formats a date from the first eight
 * octets. The first byte is the length of the name. */
#include "mail/address_list.h"
#include "mail/header.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void walk(const char *hdr, size_t len)
{
	size_t pos = 0, prev = 0;
	struct header_field f;
	int r;

	while ((r = header_next(hdr, len, &pos, &f)) != 0) {
		if (pos <= prev || pos > len)
			abort();
		if (r > 0 && (f.raw != hdr + prev || f.raw_len != pos - prev || f.name != f.raw ||
			      f.name_len == 0 || f.value < f.name + f.name_len ||
			      f.value + f.value_len > f.raw + f.raw_len || memchr(f.name, ':', f.name_len)))
			abort();
		prev = pos;
	}
	if (pos != prev)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t name_len = data[0] % 16;
	if (size < 1 + name_len)
		return 0;
	char name[16];
	memcpy(name, data + 1, name_len);
	name[name_len] = '\0';
	const char *msg = (const char *)data + 1 + name_len;
	size_t len = size - 1 - name_len;

	size_t end = header_end(msg, len);
	if (end > len)
		abort();
	walk(msg, len);
	size_t hdr_len = end ? end : len;

	buf out;
	buf_init(&out);
	bool had = header_has(msg, hdr_len, name);
	header_remove(msg, hdr_len, name, &out);
	if (out.len > hdr_len || (!had && (out.len != hdr_len || memcmp(out.data, msg, hdr_len))))
		abort();
	if (header_has(out.data, out.len, name))
		abort();
	buf_free(&out);

	strlist authors;
	strlist_init(&authors);
	address_list_authors(msg, hdr_len, &authors);
	for (size_t i = 0; i < authors.count; i++)
		for (size_t k = i + 1; k < authors.count; k++)
			if (strcmp(authors.items[i], authors.items[k]) == 0)
				abort();
	strlist_free(&authors);

	if (len >= 8) {
		int64_t t;
		char date[40];
		memcpy(&t, msg, 8);
		header_date((time_t)t, date, sizeof(date));
		if (strlen(date) >= sizeof(date) - 1)
			abort();
	}
	return 0;
}
