/* Modified UTF-7; see imap_mutf7.h. A run of characters outside printable ASCII becomes "&",
 * their UTF-16BE in base64 with "," for "/" and no padding, then "-"; "&" itself is "&-". */
#include "imap/imap_mutf7.h"
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static bool printable(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Reads one UTF-8 character at *p; returns it and moves *p, or returns UINT32_MAX. */
static uint32_t utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c;
	int n;
	if (s[0] < 0x80)
		c = s[0], n = 0;
	else if ((s[0] & 0xe0) == 0xc0)
		c = s[0] & 0x1f, n = 1;
	else if ((s[0] & 0xf0) == 0xe0)
		c = s[0] & 0x0f, n = 2;
	else if ((s[0] & 0xf8) == 0xf0)
		c = s[0] & 0x07, n = 3;
	else
		return UINT32_MAX;
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return UINT32_MAX;
		c = (c << 6) | (s[i] & 0x3f);
	}
	static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return UINT32_MAX; /* overlong, out of range, or a surrogate */
	*p = s + n + 1;
	return c;
}

static void utf8_put(buf *out, uint32_t c)
{
	if (c < 0x80) {
		buf_putc(out, (char)c);
	} else if (c < 0x800) {
		buf_putc(out, (char)(0xc0 | (c >> 6)));
		buf_putc(out, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		buf_putc(out, (char)(0xe0 | (c >> 12)));
		buf_putc(out, (char)(0x80 | ((c >> 6) & 0x3f)));
		buf_putc(out, (char)(0x80 | (c & 0x3f)));
	} else {
		buf_putc(out, (char)(0xf0 | (c >> 18)));
		buf_putc(out, (char)(0x80 | ((c >> 12) & 0x3f)));
		buf_putc(out, (char)(0x80 | ((c >> 6) & 0x3f)));
		buf_putc(out, (char)(0x80 | (c & 0x3f)));
	}
}

/* Base64 of a run of UTF-16 units, 16 bits at a time. */
struct bits {
	uint32_t acc;
	int n;
};

static void put_unit(buf *out, struct bits *b, uint16_t unit)
{
	b->acc = (b->acc << 16) | unit;
	b->n += 16;
	while (b->n >= 6) {
		b->n -= 6;
		buf_putc(out, b64[(b->acc >> b->n) & 0x3f]);
	}
}

int imap_mutf7_encode(const char *utf8, buf *out)
{
	size_t start = out->len;
	const unsigned char *p = (const unsigned char *)utf8;
	while (*p != '\0') {
		uint32_t c = utf8_next(&p);
		if (c == UINT32_MAX) {
			out->len = start;
			out->data[start] = '\0';
			return -1;
		}
		if (c == '&') {
			buf_puts(out, "&-");
			continue;
		}
		if (printable(c)) {
			buf_putc(out, (char)c);
			continue;
		}
		struct bits b = { 0, 0 };
		buf_putc(out, '&');
		for (;;) {
			if (c >= 0x10000) {
				put_unit(out, &b, (uint16_t)(0xd800 + ((c - 0x10000) >> 10)));
				put_unit(out, &b, (uint16_t)(0xdc00 + ((c - 0x10000) & 0x3ff)));
			} else {
				put_unit(out, &b, (uint16_t)c);
			}
			const unsigned char *q = p;
			if (*q == '\0' || printable(c = utf8_next(&q)) || c == UINT32_MAX)
				break;
			p = q;
		}
		if (b.n > 0)
			buf_putc(out, b64[(b.acc << (6 - b.n)) & 0x3f]);
		buf_putc(out, '-');
	}
	return 0;
}

static int b64_value(char ch)
{
	const char *at = ch != '\0' ? strchr(b64, ch) : NULL;
	return at != NULL ? (int)(at - b64) : -1;
}

/* Decodes the base64 run at p (after "&", up to "-") into out. Returns the length taken,
 * or -1. */
static int decode_run(const char *p, buf *out)
{
	uint32_t acc = 0, high = 0;
	int n = 0;
	size_t i = 0, units = 0;
	for (; p[i] != '-'; i++) {
		int v = b64_value(p[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		n += 6;
		if (n < 16)
			continue;
		n -= 16;
		uint16_t unit = (uint16_t)(acc >> n);
		units++;
		if (unit >= 0xd800 && unit <= 0xdbff) {
			if (high != 0)
				return -1;
			high = unit;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			if (high == 0)
				return -1;
			utf8_put(out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
			high = 0;
		} else {
			if (high != 0 || printable(unit) || unit == 0)
				return -1; /* printable ASCII must stand for itself; NUL ends names */
			utf8_put(out, unit);
		}
	}
	/* leftover bits: fewer than 6 and all zero, else the run was not minimal */
	if (units == 0 || high != 0 || n >= 6 || (acc & ((1u << n) - 1)) != 0)
		return -1;
	return (int)i;
}

int imap_mutf7_decode(const char *mutf7, buf *out)
{
	size_t start = out->len;
	for (const char *p = mutf7; *p != '\0'; p++) {
		int r = 0;
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			r = -1;
		} else if (*p != '&') {
			buf_putc(out, *p);
		} else if (p[1] == '-') {
			buf_putc(out, '&');
			p++;
		} else if ((r = decode_run(p + 1, out)) >= 0) {
			p += r + 1; /* at the "-" */
			/* two runs back to back should have been one */
			if (p[1] == '&' && p[2] != '-')
				r = -1;
		}
		if (r < 0) {
			out->len = start;
			out->data[start] = '\0';
			return -1;
		}
	}
	return 0;
}
