/* libFuzzer target for mbox.c and line_ends.c: any file splits into messages that lie within
 * it, in order, each read without a fault; building a message never makes it longer than it
 * was (unquoting and removing fields only take octets away); CRLF conversion gives the length
 * it announces, and converting back to LF loses nothing the input had without CR. */
#include "mail/line_ends.h"
#include "mail/mbox.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct mbox_message m;
	size_t pos = 0, last = 0;
	buf out, kw, crlf, lf;
	buf_init(&out);
	buf_init(&kw);
	buf_init(&crlf);
	buf_init(&lf);
	while (mbox_next(s, size, &pos, &m)) {
		if (m.from_line < s + last || m.raw < m.from_line || m.raw + m.raw_len > s + size ||
		    pos > size || pos < last)
			abort();
		last = pos;
		uint32_t flags;
		buf_clear(&out);
		buf_clear(&kw);
		mbox_message_build(m.raw, m.raw_len, size % 2 ? MBOX_O : MBOX_RD, &out, &flags, &kw);
		if (out.len > m.raw_len || flags > 31)
			abort();
		struct mbox_date d;
		if (!mbox_from_line(m.from_line, m.from_len, &d))
			abort();
	}
	line_ends_crlf(s, size, &crlf);
	if (crlf.len != line_ends_crlf_len(s, size))
		abort();
	if (memchr(s, '\r', size) == NULL) {
		line_ends_lf(crlf.data, crlf.len, &lf);
		if (lf.len != size || memcmp(lf.data, s, size) != 0)
			abort();
	}
	buf_free(&out);
	buf_free(&kw);
	buf_free(&crlf);
	buf_free(&lf);
	return 0;
}
