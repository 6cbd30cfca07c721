/* dovecot-uidlist and dovecot-keywords lines: see dovecot_uidlist.h. The format is Dovecot's
 * (src/lib-storage/index/maildir/maildir-uidlist.c, maildir-keywords.c in its sources). */
#include "mail/dovecot_uidlist.h"
#include <stdbool.h>
#include <string.h>

/* A decimal number at s[*pos..len) up to max; moves *pos past it. false when there is none. */
static bool number(const char *s, size_t len, size_t *pos, uint64_t max, uint64_t *out)
{
	size_t i = *pos;
	uint64_t v = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return false;
	}
	if (i == *pos)
		return false;
	*pos = i;
	*out = v;
	return true;
}

static bool uid32(const char *s, size_t len, size_t *pos, uint32_t *out)
{
	uint64_t v;
	if (!number(s, len, pos, UINT32_MAX, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static void skip_spaces(const char *s, size_t len, size_t *pos)
{
	while (*pos < len && s[*pos] == ' ')
		(*pos)++;
}

int uidlist_header_parse(const char *line, size_t len, struct uidlist_header *out)
{
	size_t pos = 0;
	uint64_t version;
	memset(out, 0, sizeof(*out));
	if (!number(line, len, &pos, 3, &version) || version == 0)
		return -1;
	out->version = (unsigned)version;
	if (version == 1) {
		skip_spaces(line, len, &pos);
		if (!uid32(line, len, &pos, &out->uidvalidity))
			return -1;
		skip_spaces(line, len, &pos);
		if (!uid32(line, len, &pos, &out->uidnext))
			return -1;
		return out->uidvalidity != 0 ? 0 : -1;
	}
	while (pos < len) {
		skip_spaces(line, len, &pos);
		if (pos >= len)
			break;
		char key = line[pos++];
		uint32_t v;
		size_t at = pos;
		if ((key == 'V' || key == 'N') && uid32(line, len, &at, &v))
			*(key == 'V' ? &out->uidvalidity : &out->uidnext) = v;
		/* other fields (G, the mailbox GUID) matter not here */
		const char *sp = memchr(line + pos, ' ', len - pos);
		pos = sp != NULL ? (size_t)(sp - line) : len;
	}
	return out->uidvalidity != 0 ? 0 : -1;
}

int uidlist_entry_parse(const char *line, size_t len, unsigned version, uint32_t *uid_r,
			const char **base_r, size_t *base_len_r)
{
	size_t pos = 0;
	if (!uid32(line, len, &pos, uid_r) || *uid_r == 0 || pos >= len || line[pos] != ' ')
		return -1;
	skip_spaces(line, len, &pos);
	if (version >= 2) {
		/* extension fields, then " :" and the base; a base may hold spaces */
		const char *colon = pos < len && line[pos] == ':' ? line + pos : memmem(line + pos, len - pos, " :", 2);
		if (colon == NULL)
			return -1;
		pos = (size_t)(colon - line) + (*colon == ':' ? 1 : 2);
	}
	if (pos >= len)
		return -1;
	*base_r = line + pos;
	*base_len_r = len - pos;
	return 0;
}

int keywords_line_parse(const char *line, size_t len, unsigned *index_r, const char **keyword_r,
			size_t *keyword_len_r)
{
	size_t pos = 0;
	uint64_t index;
	if (!number(line, len, &pos, 25, &index) || pos + 1 >= len || line[pos] != ' ')
		return -1;
	*index_r = (unsigned)index;
	*keyword_r = line + pos + 1;
	*keyword_len_r = len - pos - 1;
	return 0;
}
