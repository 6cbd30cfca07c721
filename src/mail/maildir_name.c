/* Maildir file names: see maildir_name.h. */
#include "mail/maildir_name.h"
#include <string.h>

/* The number after ",X=" in base[0..len), 0 when it is absent or not a number. */
static uint64_t base_field(const char *base, size_t len, char key)
{
	for (size_t i = 0; i + 3 <= len; i++) {
		if (base[i] != ',' || base[i + 1] != key || base[i + 2] != '=')
			continue;
		uint64_t v = 0;
		size_t j = i + 3, start = j;
		for (; j < len && base[j] >= '0' && base[j] <= '9' && v <= UINT64_MAX / 10 - 1; j++)
			v = v * 10 + (uint64_t)(base[j] - '0');
		if (j > start && (j == len || base[j] == ','))
			return v;
	}
	return 0;
}

void maildir_name_parse(const char *name, size_t len, struct maildir_name *out)
{
	memset(out, 0, sizeof(*out));
	out->base_len = len;
	const char *colon = memchr(name, ':', len);
	if (colon != NULL) {
		out->base_len = (size_t)(colon - name);
		size_t i = out->base_len + 1;
		if (i + 1 < len && name[i] == '2' && name[i + 1] == ',')
			for (i += 2; i < len; i++) {
				char c = name[i];
				if (c >= 'A' && c <= 'Z')
					out->upper |= MAILDIR_LETTER(c);
				else if (c >= 'a' && c <= 'z')
					out->lower |= 1u << (c - 'a');
			}
	}
	out->size = base_field(name, out->base_len, 'S');
	out->vsize = base_field(name, out->base_len, 'W');
}

void maildir_name_format(buf *out, const char *base, uint64_t size, uint64_t vsize,
			 uint32_t upper, uint32_t lower)
{
	buf_printf(out, "%s,S=%llu,W=%llu:2,", base, (unsigned long long)size,
		   (unsigned long long)vsize);
	for (int i = 0; i < 26; i++)
		if (upper & (1u << i))
			buf_putc(out, (char)('A' + i));
	for (int i = 0; i < 26; i++)
		if (lower & (1u << i))
			buf_putc(out, (char)('a' + i));
}
