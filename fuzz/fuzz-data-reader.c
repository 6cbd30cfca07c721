/* libFuzzer target for data_reader.c. The input is fed once whole and once in pieces whose
 * sizes come from the input itself; both must agree. The one-shot result is also checked
 * against the RFC 5321 rules stated directly: the data ends at the first <CRLF>.<CRLF>
 * (the 354 reply's CRLF counting as the first), and the message is those lines with one
 * leading dot removed, flagged when a line holds a CR or LF or is longer than max_line
 * (the removed dot not counted).
 * The first byte chooses max_line (0..255), the second seeds the piece sizes. */
#include "smtp/data_reader.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct result {
	int done;
	size_t consumed;
	buf out;
	bool bare, too_long;
};

/* Feeds data in pieces of 1..n octets, n chosen from seed, stopping at the end of data. */
static void feed(const char *data, size_t size, size_t max_line, unsigned seed, bool whole,
		 struct result *res)
{
	struct data_reader r;
	size_t pos = 0, used;

	data_reader_init(&r, max_line);
	buf_init(&res->out);
	res->done = 0;
	do {
		size_t n = size - pos;
		if (!whole) {
			seed = seed * 1103515245u + 12345u;
			size_t piece = (seed >> 16) % 17;
			n = piece < n ? piece : n;
		}
		res->done = data_reader_feed(&r, data + pos, n, &res->out, &used);
		if (used > n || (!res->done && used != n))
			abort();
		pos += used;
	} while (!res->done && pos < size);
	res->consumed = pos;
	res->bare = r.bare_newline;
	res->too_long = r.line_too_long;
}

/* The end of data and the message, found by searching for "\r\n.\r\n" and splitting lines,
 * independently of the state machine. */
static void check_rules(const char *data, size_t size, size_t max_line, const struct result *res)
{
	size_t end = SIZE_MAX; /* offset of the terminating ".", when there is one */

	if (size >= 3 && memcmp(data, ".\r\n", 3) == 0)
		end = 0;
	else
		for (size_t i = 0; i + 5 <= size && end == SIZE_MAX; i++)
			if (memcmp(data + i, "\r\n.\r\n", 5) == 0)
				end = i + 2;
	if (end == SIZE_MAX) {
		if (res->done || res->consumed != size)
			abort();
		return;
	}
	if (!res->done || res->consumed != end + 3)
		abort();

	buf expect;
	bool bare = false, too_long = false;
	buf_init(&expect);
	for (size_t start = 0; start < end;) {
		const char *crlf = memmem(data + start, end - start, "\r\n", 2);
		size_t n = (size_t)(crlf - (data + start));
		size_t skip = data[start] == '.' ? 1 : 0;
		buf_append(&expect, data + start + skip, n - skip);
		buf_append(&expect, "\r\n", 2);
		bare = bare || memchr(data + start, '\r', n) || memchr(data + start, '\n', n);
		too_long = too_long || n - skip > max_line;
		start += n + 2;
	}
	if (expect.len != res->out.len || memcmp(expect.data, res->out.data, expect.len) != 0 ||
	    bare != res->bare || too_long != res->too_long)
		abort();
	buf_free(&expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, pieces;

	if (size < 2)
		return 0;
	size_t max_line = data[0];
	unsigned seed = data[1];
	const char *in = (const char *)data + 2;
	size -= 2;

	feed(in, size, max_line, seed, true, &whole);
	feed(in, size, max_line, seed, false, &pieces);
	if (whole.done != pieces.done || whole.consumed != pieces.consumed ||
	    whole.out.len != pieces.out.len ||
	    memcmp(whole.out.data, pieces.out.data, whole.out.len) != 0 ||
	    whole.bare != pieces.bare || whole.too_long != pieces.too_long)
		abort();
	check_rules(in, size, max_line, &whole);
	buf_free(&whole.out);
	buf_free(&pieces.out);
	return 0;
}
