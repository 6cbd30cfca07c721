/* libFuzzer target for autocrypt.c's parser: any input as an Autocrypt field value. What
 * parses has an address with an "@" and no white space, lowercased, and a key; written back
 * with autocrypt_write and parsed again, it gives the same address, preference and key. */
#include "mua/autocrypt.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct autocrypt_header h, back;
	if (autocrypt_parse((const char *)data, size, &h) == 0) {
		if (strchr(h.addr, '@') == NULL || h.keydata.len == 0)
			abort();
		for (const char *c = h.addr; *c; c++)
			if ((unsigned char)*c <= ' ' || (*c >= 'A' && *c <= 'Z'))
				abort();
		buf out;
		buf_init(&out);
		autocrypt_write(&out, h.addr, h.mutual, h.keydata.data, h.keydata.len);
		/* the field's value: after "Autocrypt: " */
		if (out.len < 11 || autocrypt_parse(out.data + 11, out.len - 11, &back) != 0 ||
		    strcmp(back.addr, h.addr) != 0 || back.mutual != h.mutual || back.keydata.len != h.keydata.len ||
		    memcmp(back.keydata.data, h.keydata.data, h.keydata.len) != 0)
			abort();
		autocrypt_header_free(&back);
		buf_free(&out);
	}
	autocrypt_header_free(&h);
	return 0;
}
