/* FETCH sections; see imap_section.h. */
#include "imap/imap_section.h"
#include "core/xalloc.h"
#include "mail/header.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* section-spec    = section-msgtext / (section-part ["." section-text])
 * section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
 * section-part    = nz-number *("." nz-number)
 * section-text    = section-msgtext / "MIME"
 * header-list     = "(" header-fld-name *(SP header-fld-name) ")" */
int imap_section_parse(const char *spec, size_t len, const char *partial, struct imap_section *out)
{
	memset(out, 0, sizeof(*out));
	strlist_init(&out->fields);
	const char *p = spec, *end = spec + len;
	while (p < end && *p >= '1' && *p <= '9') {
		uint64_t n = 0;
		while (p < end && *p >= '0' && *p <= '9' && n <= UINT32_MAX)
			n = n * 10 + (uint64_t)(*p++ - '0');
		if (n > UINT32_MAX || out->part_count >= IMAP_SECTION_MAX_PARTS)
			return -1;
		out->parts[out->part_count++] = (uint32_t)n;
		if (p == end)
			break;
		if (*p++ != '.')
			return -1;
	}
	size_t rest = (size_t)(end - p);
	if (rest == 0) {
		if (out->part_count > 0 && p[-1] == '.')
			return -1;
		out->text = SECTION_ALL;
	} else if (rest == 6 && strncasecmp(p, "HEADER", 6) == 0) {
		out->text = SECTION_HEADER;
	} else if (rest == 4 && strncasecmp(p, "TEXT", 4) == 0) {
		out->text = SECTION_TEXT;
	} else if (rest == 4 && strncasecmp(p, "MIME", 4) == 0 && out->part_count > 0) {
		out->text = SECTION_MIME;
	} else if (rest > 14 && strncasecmp(p, "HEADER.FIELDS", 13) == 0) {
		p += 13;
		out->text = SECTION_HEADER_FIELDS;
		if (end - p > 4 && strncasecmp(p, ".NOT", 4) == 0) {
			out->text = SECTION_HEADER_FIELDS_NOT;
			p += 4;
		}
		if (end - p < 3 || p[0] != ' ' || p[1] != '(' || end[-1] != ')')
			return -1;
		p += 2;
		end--;
		/* header-fld-name = astring: atoms, or quoted strings without escapes here */
		while (p < end) {
			const char *start = p;
			size_t n;
			if (*p == '"') {
				const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
				if (q == NULL)
					return -1;
				start = p + 1;
				n = (size_t)(q - start);
				p = q + 1;
			} else {
				n = strcspn(p, " )");
				if (p + n > end)
					n = (size_t)(end - p);
				p += n;
			}
			if (n == 0 || memchr(start, ':', n) != NULL)
				return -1;
			char *name = xstrndup(start, n);
			strlist_add_owned(&out->fields, name);
			if (p < end && *p++ != ' ')
				return -1;
		}
		if (out->fields.count == 0)
			return -1;
	} else {
		return -1;
	}
	if (partial != NULL && *partial != '\0') {
		/* "<" number "." nz-number ">" */
		char *e;
		if (*partial != '<' || partial[1] < '0' || partial[1] > '9')
			return -1;
		out->offset = strtoull(partial + 1, &e, 10);
		if (*e != '.' || e[1] < '1' || e[1] > '9')
			return -1;
		out->length = strtoull(e + 1, &e, 10);
		if (strcmp(e, ">") != 0)
			return -1;
		out->partial = true;
	}
	return 0;
}

void imap_section_free(struct imap_section *sec)
{
	strlist_free(&sec->fields);
}

/* Appends the header fields of hdr that are (or, with not, are not) named in fields, then
 * the empty line (RFC 3501 6.4.5: it is always included). */
static void header_fields(const char *hdr, size_t len, const strlist *fields, bool not, buf *out)
{
	size_t pos = 0;
	struct header_field f;
	int r;
	while ((r = header_next(hdr, len, &pos, &f)) != 0) {
		if (r < 0)
			continue;
		bool listed = false;
		for (size_t i = 0; i < fields->count && !listed; i++)
			listed = strlen(fields->items[i]) == f.name_len &&
				 strncasecmp(fields->items[i], f.name, f.name_len) == 0;
		if (listed != not) {
			buf_append(out, f.raw, f.raw_len);
			if (f.raw_len == 0 || f.raw[f.raw_len - 1] != '\n')
				buf_puts(out, "\r\n");
		}
	}
	buf_puts(out, "\r\n");
}

int imap_section_part(const struct imap_section *sec, const struct mime_tree *tree)
{
	if (tree->count == 0)
		return -1;
	/* Walk the part numbers. cur is a part; in_message says it stands for a message (the
	 * whole message, or one inside message/rfc822) rather than for its body. */
	int cur = 0;
	bool in_message = true;
	for (size_t i = 0; i < sec->part_count; i++) {
		const struct mime_part *p = &tree->parts[cur];
		if (!in_message && mime_part_is_message(p) && p->first_child != MIME_NONE) {
			cur = p->first_child;
			p = &tree->parts[cur];
			in_message = true;
		}
		if (strcasecmp(p->type, "multipart") == 0) {
			int c = p->first_child;
			for (uint32_t n = 1; n < sec->parts[i] && c != MIME_NONE; n++)
				c = tree->parts[c].next_sibling;
			if (c == MIME_NONE)
				return -1;
			cur = c;
			in_message = false;
		} else if (in_message && sec->parts[i] == 1) {
			in_message = false; /* part 1 of a single-part message is its body */
		} else {
			return -1;
		}
	}
	return cur;
}

void imap_section_extract(const struct imap_section *sec, const char *msg, size_t len,
			  const struct mime_tree *tree, buf *out)
{
	int cur = imap_section_part(sec, tree);
	if (cur < 0)
		return;
	const struct mime_part *p = &tree->parts[cur];
	if (sec->text == SECTION_ALL) {
		if (sec->part_count == 0)
			buf_append(out, msg, len);
		else
			buf_append(out, msg + p->body_off, p->body_len);
		return;
	}
	if (sec->text == SECTION_MIME) {
		buf_append(out, msg + p->hdr_off, p->hdr_len);
		return;
	}
	/* HEADER, HEADER.FIELDS, TEXT: of the message itself, or of a message/rfc822 part. */
	if (sec->part_count > 0) {
		if (!mime_part_is_message(p) || p->first_child == MIME_NONE)
			return;
		p = &tree->parts[p->first_child];
	}
	if (sec->text == SECTION_TEXT)
		buf_append(out, msg + p->body_off, p->body_len);
	else if (sec->text == SECTION_HEADER)
		buf_append(out, msg + p->hdr_off, p->hdr_len);
	else
		header_fields(msg + p->hdr_off, p->hdr_len, &sec->fields,
			      sec->text == SECTION_HEADER_FIELDS_NOT, out);
}
