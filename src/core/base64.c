/* Base64 encoder, strict decoder and lenient MIME decoder; see base64.h. */
#include "core/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const void *in, size_t len, buf *out)
{
	const unsigned char *p = in;
	buf_reserve(out, (len + 2) / 3 * 4);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		char quad[4] = { alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63],
				 i + 1 < len ? alphabet[(v >> 6) & 63] : '=',
				 i + 2 < len ? alphabet[v & 63] : '=' };
		buf_append(out, quad, 4);
	}
}

static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t len, buf *out)
{
	if (len % 4 != 0)
		return -1;
	size_t start = out->len;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			char c = in[i + k];
			if (c == '=' && i + 4 == len && k >= 2 && (k == 3 || in[i + 3] == '=')) {
				v[k] = 0;
				pad++;
			} else if ((v[k] = value_of(c)) < 0) {
				out->len = start;
				out->data[start] = '\0';
				return -1;
			}
		}
		unsigned bits = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
		char bytes[3] = { (char)(bits >> 16), (char)(bits >> 8), (char)bits };
		buf_append(out, bytes, (size_t)(3 - pad));
	}
	return 0;
}

void base64_decode_mime(const char *in, size_t len, buf *out)
{
	unsigned bits = 0;
	int n = 0;
	for (size_t i = 0; i < len && in[i] != '='; i++) {
		int v = value_of(in[i]);
		if (v < 0)
			continue; /* line breaks, and anything else outside the alphabet */
		bits = bits << 6 | (unsigned)v;
		n += 6;
		if (n >= 8) {
			n -= 8;
			buf_putc(out, (char)(bits >> n));
		}
	}
}
