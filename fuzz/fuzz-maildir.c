/* libFuzzer target for maildir_name.c and dovecot_uidlist.c: any name or line is read without
 * a fault; a parsed name's base lies within it, and formatting what was read and reading it
 * again gives the same letters and sizes; what the line parsers point at lies within the line. */
#include "mail/dovecot_uidlist.h"
#include "mail/maildir_name.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_within(const char *line, size_t len, const char *p, size_t n)
{
	if (p < line || p + n > line + len || n == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct maildir_name n, again;
	maildir_name_parse(s, size, &n);
	if (n.base_len > size)
		abort();
	buf base, name;
	buf_init(&base);
	buf_init(&name);
	for (size_t i = 0; i < n.base_len; i++)
		if (s[i] != ':' && s[i] != ',' && s[i] != '\0')
			buf_putc(&base, s[i]);
	maildir_name_format(&name, base.data, n.size, n.vsize, n.upper, n.lower);
	maildir_name_parse(name.data, name.len, &again);
	if (again.upper != n.upper || again.lower != n.lower || again.size != n.size ||
	    again.vsize != n.vsize)
		abort();
	buf_free(&base);
	buf_free(&name);

	struct uidlist_header h;
	if (uidlist_header_parse(s, size, &h) == 0 && (h.uidvalidity == 0 || h.version > 3))
		abort();
	uint32_t uid;
	const char *p;
	size_t len;
	for (unsigned version = 1; version <= 3; version++)
		if (uidlist_entry_parse(s, size, version, &uid, &p, &len) == 0) {
			check_within(s, size, p, len);
			if (uid == 0)
				abort();
		}
	unsigned index;
	if (keywords_line_parse(s, size, &index, &p, &len) == 0) {
		check_within(s, size, p, len);
		if (index > 25)
			abort();
	}
	return 0;
}
