/* libFuzzer target for imap_parse.c: frames the input as a stream of commands, fed in pieces
 * whose size comes from the first byte (so literals split anywhere), takes the octets of
 * literals over max_inline as the session streams them (or, for those of odd size, has the
 * framing skip them with the rest of the command), parses each framed command and
 * checks the arguments lie within the limits; then reads the input as a sequence
 * set and checks its resolved form. Sanitizers catch the rest. */
#include "imap/imap_parse.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct imap_limits limits = { 256, 1024, 4096, 4, 64, 512 };

static size_t count_args(const struct imap_arg *args, size_t count, unsigned depth)
{
	size_t n = count;
	if (depth > limits.max_depth)
		abort();
	for (size_t i = 0; i < count; i++) {
		if (args[i].type == IMAP_ARG_LIST)
			n += count_args(args[i].list, args[i].count, depth + 1);
		else if (args[i].str == NULL || args[i].str[args[i].streamed ? 0 : args[i].len] != '\0' ||
			 (args[i].streamed && args[i].len <= limits.max_inline))
			abort();
	}
	return n;
}

static void parse(const struct imap_frame *f)
{
	struct imap_command c;
	const char *error = NULL;
	if (imap_parse_framed(f, &limits, &c, &error) == 0) {
		if (c.tag == NULL || c.name == NULL || count_args(c.args, c.count, 0) > limits.max_args)
			abort();
	} else if (error == NULL) {
		abort();
	}
	imap_command_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = data[0] % 32 + 1;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	struct imap_frame f;
	imap_frame_init(&f);
	bool fatal = false;
	for (size_t pos = 0; pos < len && !fatal;) {
		size_t n = len - pos < step ? len - pos : step, used;
		if (f.streaming) {
			if (n > f.literal_left)
				n = (size_t)f.literal_left;
			imap_frame_literal_taken(&f, n);
			pos += n;
			continue;
		}
		enum imap_frame_result r = imap_frame_feed(&f, &limits, in + pos, n, &used);
		if (used > n || (r == IMAP_FRAME_MORE && used != n) || (r == IMAP_FRAME_LITERAL) != f.streaming ||
		    f.cmd.len > limits.max_command)
			abort();
		pos += used;
		if (r == IMAP_FRAME_LITERAL && f.literal_left % 2 == 1)
			imap_frame_skip_literal(&f);
		if (r == IMAP_FRAME_DONE)
			parse(&f);
		/* the tag answered is inside what was kept of the command */
		if (r == IMAP_FRAME_TOOLONG && imap_frame_tag_length(&f) > 0 &&
		    imap_frame_tag_length(&f) >= f.cmd.len)
			abort();
		if (r == IMAP_FRAME_DONE || r == IMAP_FRAME_REFUSED || r == IMAP_FRAME_TOOLONG)
			imap_frame_reset(&f);
		fatal = r == IMAP_FRAME_FATAL;
	}
	imap_frame_free(&f);

	char *s = strndup(in, len);
	struct imap_seqset set;
	if (imap_seqset_parse(s, 16, &set) == 0) {
		imap_seqset_resolve(&set, 100);
		/* resolved: ordered, merged (apart by more than one) and found by imap_seqset_contains */
		for (size_t i = 0; i < set.count; i++)
			if (set.ranges[i].lo > set.ranges[i].hi || set.ranges[i].lo == 0 ||
			    (i > 0 && set.ranges[i].lo <= set.ranges[i - 1].hi + 1) ||
			    !imap_seqset_contains(&set, set.ranges[i].lo) ||
			    !imap_seqset_contains(&set, set.ranges[i].hi) ||
			    (set.ranges[i].lo > 1 && i == 0 && imap_seqset_contains(&set, set.ranges[i].lo - 1)))
				abort();
		imap_seqset_free(&set);
	}
	free(s);
	return 0;
}
