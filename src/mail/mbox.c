/* mbox files: see mbox.h. */
#include "mail/mbox.h"
#include "mail/header.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The end of the line that starts at pos: the offset of its LF, or len. */
static size_t line_end(const char *s, size_t len, size_t pos)
{
	const char *lf = memchr(s + pos, '\n', len - pos);
	return lf != NULL ? (size_t)(lf - s) : len;
}

/* The next space-separated word of s[*pos..len), copied (cut) into word; false when none. */
static bool next_word(const char *s, size_t len, size_t *pos, char *word, size_t size)
{
	while (*pos < len && s[*pos] == ' ')
		(*pos)++;
	size_t n = 0;
	for (; *pos < len && s[*pos] != ' '; (*pos)++)
		if (n + 1 < size)
			word[n++] = s[*pos];
	word[n] = '\0';
	return n > 0;
}

static bool digits(const char *w, size_t min, size_t max)
{
	size_t n = strspn(w, "0123456789");
	return w[n] == '\0' && n >= min && n <= max;
}

/* A zone word: "+hhmm"/"-hhmm" (zoned), UTC, GMT, UT (zoned, 0) or letters (the writer's
 * local zone: not zoned). false when it is none of these. */
static bool zone_word(const char *w, struct mbox_date *out)
{
	if ((w[0] == '+' || w[0] == '-') && digits(w + 1, 4, 4)) {
		long hhmm = strtol(w + 1, NULL, 10);
		if (hhmm % 100 > 59)
			return false;
		out->zoned = true;
		out->offset = (hhmm / 100 * 3600 + hhmm % 100 * 60) * (w[0] == '-' ? -1 : 1);
		return true;
	}
	if (strcasecmp(w, "UTC") == 0 || strcasecmp(w, "GMT") == 0 || strcasecmp(w, "UT") == 0) {
		out->zoned = true;
		out->offset = 0;
		return true;
	}
	size_t n = strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
	return w[n] == '\0' && n >= 1 && n <= 5;
}

/* date = Www SP Mmm SP [SP] d SP hh:mm[:ss] SP [zone SP] yyyy [SP zone] [anything] */
static bool parse_date(const char *s, size_t len, size_t pos, struct mbox_date *out)
{
	char w[5][16];
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 5; i++)
		if (!next_word(s, len, &pos, w[i], sizeof(w[i])))
			return false;
	int hour, min, sec = 0, n = 0;
	if (strlen(w[0]) != 3 || (out->tm.tm_mon = header_month(w[1])) < 0 || !digits(w[2], 1, 2) ||
	    (sscanf(w[3], "%2d:%2d%n:%2d%n", &hour, &min, &n, &sec, &n) < 2 || w[3][n] != '\0') ||
	    hour > 23 || min > 59 || sec > 60)
		return false;
	out->tm.tm_mday = atoi(w[2]);
	if (out->tm.tm_mday < 1 || out->tm.tm_mday > 31)
		return false;
	const char *year = w[4];
	if (!digits(year, 4, 4)) { /* a zone before the year */
		char y[16];
		if (!zone_word(w[4], out) || !next_word(s, len, &pos, y, sizeof(y)) || !digits(y, 4, 4))
			return false;
		out->tm.tm_year = atoi(y) - 1900;
	} else {
		out->tm.tm_year = atoi(year) - 1900;
		char z[16];
		size_t at = pos;
		if (next_word(s, len, &at, z, sizeof(z)))
			zone_word(z, out); /* "remote from ..." and the like name no zone */
	}
	out->tm.tm_hour = hour;
	out->tm.tm_min = min;
	out->tm.tm_sec = sec;
	out->tm.tm_isdst = -1;
	return true;
}

bool mbox_from_line(const char *line, size_t len, struct mbox_date *out)
{
	if (len < 5 || memcmp(line, "From ", 5) != 0)
		return false;
	/* An empty sender ("From  Mon Jan ...") is no sender at all. */
	if (parse_date(line, len, 5, out))
		return true;
	size_t pos = 5;
	while (pos < len && line[pos] == ' ')
		pos++;
	if (pos < len && line[pos] == '"') { /* a quoted local part may hold spaces */
		const char *q = memchr(line + pos + 1, '"', len - pos - 1);
		pos = q != NULL ? (size_t)(q - line) + 1 : len;
	}
	while (pos < len && line[pos] != ' ')
		pos++;
	return parse_date(line, len, pos, out);
}

/* Whether the line at pos is a From_ line; *end_r is its end (LF or len). */
static bool from_line_at(const char *data, size_t len, size_t pos, size_t *end_r)
{
	size_t end = line_end(data, len, pos);
	size_t n = end - pos;
	if (n > 0 && data[end - 1] == '\r')
		n--;
	*end_r = end;
	struct mbox_date date;
	return n >= 5 && memcmp(data + pos, "From ", 5) == 0 && mbox_from_line(data + pos, n, &date);
}

bool mbox_next(const char *data, size_t len, size_t *pos, struct mbox_message *m)
{
	size_t p = *pos, end;
	while (p < len && !from_line_at(data, len, p, &end))
		p = end < len ? end + 1 : len;
	if (p >= len) {
		*pos = len;
		return false;
	}
	m->from_line = data + p;
	m->from_len = end - p - (end > p && data[end - 1] == '\r');
	size_t start = end < len ? end + 1 : len, q = start, next_end;
	while (q < len && !from_line_at(data, len, q, &next_end))
		q = next_end < len ? next_end + 1 : len;
	*pos = q;
	/* The empty line writers put before the next From_ line is the file's, not the message's. */
	size_t n = q - start;
	const char *r = data + start;
	if (n >= 1 && r[n - 1] == '\n' && (n == 1 || r[n - 2] == '\n'))
		n -= 1;
	else if (n >= 2 && r[n - 1] == '\n' && r[n - 2] == '\r' && (n == 2 || r[n - 3] == '\n'))
		n -= 2;
	m->raw = r;
	m->raw_len = n;
	return true;
}

/* The state fields mail programs keep in the header. */
enum state_field { FIELD_NONE, FIELD_OTHER_STATE, FIELD_STATUS, FIELD_X_STATUS, FIELD_X_KEYWORDS };

static enum state_field state_field(const char *line, size_t n)
{
	static const struct {
		const char *name;
		enum state_field field;
	} names[] = {
		{ "Status", FIELD_STATUS },          { "X-Status", FIELD_X_STATUS },
		{ "X-Keywords", FIELD_X_KEYWORDS },  { "X-UID", FIELD_OTHER_STATE },
		{ "X-IMAP", FIELD_OTHER_STATE },     { "X-IMAPbase", FIELD_OTHER_STATE },
		{ "Content-Length", FIELD_OTHER_STATE },
	};
	const char *colon = memchr(line, ':', n);
	if (colon == NULL)
		return FIELD_NONE;
	size_t name_len = (size_t)(colon - line);
	while (name_len > 0 && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
		name_len--;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == name_len && strncasecmp(line, names[i].name, name_len) == 0)
			return names[i].field;
	return FIELD_NONE;
}

/* Takes the state a field's value (its text after the colon, folded lines included) gives. */
static void apply_state(enum state_field field, const char *v, size_t n, uint32_t *flags,
			buf *keywords)
{
	for (size_t i = 0; i < n && field != FIELD_X_KEYWORDS; i++) {
		if (field == FIELD_STATUS && v[i] == 'R')
			*flags |= MBOX_SEEN;
		else if (field == FIELD_X_STATUS && v[i] == 'A')
			*flags |= MBOX_ANSWERED;
		else if (field == FIELD_X_STATUS && v[i] == 'F')
			*flags |= MBOX_FLAGGED;
		else if (field == FIELD_X_STATUS && v[i] == 'T')
			*flags |= MBOX_DRAFT;
		else if (field == FIELD_X_STATUS && v[i] == 'D')
			*flags |= MBOX_DELETED;
	}
	if (field != FIELD_X_KEYWORDS)
		return;
	for (size_t i = 0; i < n;) {
		size_t w = 0;
		while (i + w < n && !strchr(", \t\r\n", v[i + w]))
			w++;
		if (w > 0) {
			if (keywords->len > 0)
				buf_putc(keywords, ' ');
			buf_append(keywords, v + i, w);
		}
		i += w + 1;
	}
}

/* The line without its quoting '>' (one off ^>+From  for mboxrd, ^>From  for mboxo): how many
 * octets to skip at its start, 0 or 1. */
static size_t quoting(const char *line, size_t n, enum mbox_format format)
{
	size_t gt = 0;
	while (gt < n && line[gt] == '>' && (format == MBOX_RD || gt == 0))
		gt++;
	return gt > 0 && n - gt >= 5 && memcmp(line + gt, "From ", 5) == 0 ? 1 : 0;
}

void mbox_message_build(const char *raw, size_t len, enum mbox_format format, buf *out,
			uint32_t *flags_r, buf *keywords)
{
	*flags_r = 0;
	bool in_header = true;
	enum state_field field = FIELD_NONE; /* the state field being read */
	size_t value_start = 0, value_end = 0;
	for (size_t pos = 0; pos < len;) {
		size_t end = line_end(raw, len, pos);
		size_t next = end < len ? end + 1 : len;
		const char *line = raw + pos;
		size_t n = end - pos; /* without the LF */
		bool continuation = in_header && n > 0 && (line[0] == ' ' || line[0] == '\t');
		if (in_header && !continuation && field != FIELD_NONE) {
			apply_state(field, raw + value_start, value_end - value_start, flags_r, keywords);
			field = FIELD_NONE;
		}
		if (in_header && (n == 0 || (n == 1 && line[0] == '\r')))
			in_header = false;
		else if (in_header && !continuation)
			field = state_field(line, n);
		if (field != FIELD_NONE) {
			if (!continuation)
				value_start = pos + (size_t)((const char *)memchr(line, ':', n) - line) + 1;
			value_end = end;
		} else {
			size_t skip = quoting(line, n, format);
			buf_append(out, line + skip, next - pos - skip);
		}
		pos = next;
	}
	if (field != FIELD_NONE)
		apply_state(field, raw + value_start, value_end - value_start, flags_r, keywords);
}
