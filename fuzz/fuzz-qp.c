/* libFuzzer target for qp.c and downgrade.c: decoding takes anything; encoding then decoding
 * gives back any input without CR or LF exactly, in 7-bit lines of at most 76 octets; an
 * accepted downgrade leaves no 8-bit octet, and downgrading its result works too. */
#include "mail/downgrade.h"
#include "mail/qp.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_round_trip(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\r' || s[i] == '\n')
			return;
	buf enc, dec;
	buf_init(&enc);
	buf_init(&dec);
	qp_encode(s, len, &enc);
	size_t col = 0;
	for (size_t i = 0; i < enc.len; i++) {
		if ((unsigned char)enc.data[i] >= 128)
			abort();
		col = enc.data[i] == '\n' ? 0 : col + 1;
		if (col > 77) /* 76 and the CR */
			abort();
	}
	qp_decode(enc.data, enc.len, &dec);
	if (dec.len != len || memcmp(dec.data, s, len) != 0)
		abort();
	buf_free(&enc);
	buf_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	buf out, again;
	buf_init(&out);
	buf_init(&again);
	qp_decode(s, size, &out);
	check_round_trip(s, size);
	buf_clear(&out);
	if (mime_downgrade(s, size, &out) == 0) {
		for (size_t i = 0; i < out.len; i++)
			if ((unsigned char)out.data[i] >= 128)
				abort();
		if (mime_downgrade(out.data, out.len, &again) != 0)
			abort();
	}
	buf_free(&out);
	buf_free(&again);
	return 0;
}
