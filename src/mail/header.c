/* The header section of an Internet message (RFC 5322 2.2, 3.6): where it ends, its fields
 * one by one with their folded lines, and the Date format (3.3). See header.h.
 *
 * A line ends at LF; a CR just before it belongs to the line end. So CRLF, as SMTP delivers
 * it, and bare LF, as files hold it, both work, and a CR alone is an ordinary octet. */
#include "mail/header.h"
#include "core/xalloc.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Returns the offset just past the line that starts at pos (past its LF, or len when the
 * line has none). */
static size_t line_next(const char *s, size_t len, size_t pos)
{
	const char *lf = memchr(s + pos, '\n', len - pos);
	return lf != NULL ? (size_t)(lf - s) + 1 : len;
}

/* The length of the line end at the close of s[start..end): 2 for CRLF, 1 for LF, 0 when
 * the line has none. */
static size_t line_end_len(const char *s, size_t start, size_t end)
{
	if (end == start || s[end - 1] != '\n')
		return 0;
	return end - start >= 2 && s[end - 2] == '\r' ? 2 : 1;
}

/* True when an empty line (CRLF or LF alone) starts at pos. */
static bool empty_line_at(const char *s, size_t len, size_t pos)
{
	return (pos < len && s[pos] == '\n') || (pos + 1 < len && s[pos] == '\r' && s[pos + 1] == '\n');
}

/* message = (fields / obs-fields) [CRLF body]   (RFC 5322 3.5)
 * The header section ends at the first empty line. */
size_t header_end(const char *msg, size_t len)
{
	for (size_t pos = 0; pos < len; pos = line_next(msg, len, pos)) {
		if (empty_line_at(msg, len, pos))
			return line_next(msg, len, pos);
	}
	return 0;
}

/* RFC 5322 3.6.8 and 2.2.3:
 * optional-field = field-name ":" unstructured CRLF
 * field-name     = 1*ftext
 * ftext          = %d33-57 / %d59-126   ; printable US-ASCII except ":"
 * obs-optional   = field-name *WSP ":" unstructured CRLF   (4.5.3)
 * A field goes on over the lines that follow it when they begin with WSP (unfolding, 2.2.3).
 * The white space that the obsolete syntax allows before the colon is not part of the name. */
int header_next(const char *hdr, size_t len, size_t *pos, struct header_field *f)
{
	size_t start = *pos;

	if (start >= len || empty_line_at(hdr, len, start))
		return 0;
	size_t end = line_next(hdr, len, start);
	*pos = end;

	size_t name_end = start;
	while (name_end < end && hdr[name_end] > 32 && hdr[name_end] < 127 && hdr[name_end] != ':')
		name_end++;
	size_t colon = name_end;
	while (colon < end && (hdr[colon] == ' ' || hdr[colon] == '\t'))
		colon++;
	if (name_end == start || colon == end || hdr[colon] != ':')
		return -1;

	while (end < len && (hdr[end] == ' ' || hdr[end] == '\t'))
		end = line_next(hdr, len, end);
	*pos = end;

	f->name = hdr + start;
	f->name_len = name_end - start;
	f->value = hdr + colon + 1;
	f->value_len = end - line_end_len(hdr, start, end) - (colon + 1);
	f->raw = hdr + start;
	f->raw_len = end - start;
	return 1;
}

static bool field_is(const struct header_field *f, const char *name)
{
	return strlen(name) == f->name_len && strncasecmp(f->name, name, f->name_len) == 0;
}

struct header_field *header_field_list(const char *hdr, size_t len, size_t *count)
{
	struct header_field *fields = NULL;
	size_t pos = 0;
	struct header_field f;
	int r;
	*count = 0;
	while ((r = header_next(hdr, len, &pos, &f)) != 0) {
		if (r < 0)
			continue;
		fields = xrealloc(fields, (*count + 1) * sizeof(*fields));
		fields[(*count)++] = f;
	}
	return fields;
}

bool header_has(const char *hdr, size_t len, const char *name)
{
	size_t pos = 0;
	struct header_field f;
	int r;

	while ((r = header_next(hdr, len, &pos, &f)) != 0)
		if (r > 0 && field_is(&f, name))
			return true;
	return false;
}

/* Copies everything but the named fields: lines that are no field, the empty line and
 * whatever follows it go through unchanged, so a whole message may be passed. */
void header_remove(const char *hdr, size_t len, const char *name, buf *out)
{
	size_t pos = 0, prev = 0;
	struct header_field f;
	int r;

	while ((r = header_next(hdr, len, &pos, &f)) != 0) {
		if (r < 0 || !field_is(&f, name))
			buf_append(out, hdr + prev, pos - prev);
		prev = pos;
	}
	buf_append(out, hdr + pos, len - pos);
}

/* RFC 5322 3.3:
 * date-time   = [ day-of-week "," ] date time [CFWS]
 * day-of-week = ([FWS] day-name) / obs-day-of-week
 * date        = day month year
 * day         = ([FWS] 1*2DIGIT FWS) / obs-day
 * time        = time-of-day zone
 * time-of-day = hour ":" minute [ ":" second ]
 * zone        = (FWS ( "+" / "-" ) 4DIGIT) / obs-zone
 * The names are English whatever the locale, which is why strftime's %a and %b are not used;
 * the zone is the local one's offset from UTC at t (tm_gmtoff). */
void header_date(time_t t, char *out, size_t outlen)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL) {
		/* Only a time beyond what struct tm holds; the epoch says "no date" plainly. */
		t = 0;
		gmtime_r(&t, &tm);
	}
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(out, outlen, "%s, %d %s %ld %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], (long)tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 sign, off / 60, off % 60);
}

int header_month(const char *name)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	if (strlen(name) != 3)
		return -1;
	char lower[4] = { (char)(name[0] | 0x20), (char)(name[1] | 0x20), (char)(name[2] | 0x20), 0 };
	const char *m = strstr(months, lower);
	return m != NULL && (m - months) % 3 == 0 ? (int)(m - months) / 3 : -1;
}

/* The date of a Date field's value (comments removed, in text): yyyymmdd, and in *rest
 * what follows the year; -1 when it does not parse. */
static long date_fields(const char *value, size_t len, char text[128], const char **rest)
{
	size_t n = 0;
	int depth = 0;
	for (size_t i = 0; i < len && n + 1 < 128; i++) {
		if (value[i] == '(')
			depth++;
		else if (value[i] == ')' && depth > 0)
			depth--;
		else if (depth == 0)
			text[n++] = value[i] == '\r' || value[i] == '\n' || value[i] == '\t' ? ' ' : value[i];
	}
	text[n] = '\0';
	const char *p = text + strspn(text, " ");
	const char *comma = strchr(p, ',');
	if (comma != NULL)
		p = comma + 1; /* day-of-week "," */
	int day, year, consumed = 0;
	char mon[4];
	if (sscanf(p, " %2d %3[A-Za-z] %4d%n", &day, mon, &year, &consumed) != 3 || day < 1 || day > 31)
		return -1;
	int month = header_month(mon);
	if (month < 0)
		return -1;
	/* RFC 5322 4.3: 00-49 are 2000-2049, 50-99 and three digits count from 1900 */
	const char *digits = p + consumed;
	while (digits > p && digits[-1] >= '0' && digits[-1] <= '9')
		digits--;
	size_t year_digits = (size_t)(p + consumed - digits);
	if (year < 0 || year_digits < 2 || digits[-1] == '-' || digits[-1] == '+')
		return -1; /* a year is two to four digits, never signed */
	if (year_digits == 2)
		year += year < 50 ? 2000 : 1900;
	else if (year_digits == 3)
		year += 1900;
	*rest = p + consumed;
	return (long)year * 10000 + (month + 1) * 100 + day;
}

long header_date_day(const char *value, size_t len)
{
	char text[128];
	const char *rest;
	return date_fields(value, len, text, &rest);
}

/* Days from 1970-01-01 to the civil date (proleptic Gregorian), without the C library's
 * time zone. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool header_date_time(const char *value, size_t len, time_t *out)
{
	char text[128];
	const char *rest;
	long ymd = date_fields(value, len, text, &rest);
	if (ymd < 0)
		return false;
	int64_t t = days_from_civil(ymd / 10000, (int)(ymd / 100 % 100), (int)(ymd % 100)) * 86400;
	int hh, mm, ss = 0, consumed = 0;
	if (sscanf(rest, " %2d:%2d%n", &hh, &mm, &consumed) == 2 && hh < 24 && mm < 60 && hh >= 0 &&
	    mm >= 0) {
		rest += consumed;
		if (sscanf(rest, ":%2d%n", &ss, &consumed) == 1 && ss >= 0 && ss <= 60)
			rest += consumed;
		else
			ss = 0;
		t += hh * 3600 + mm * 60 + ss;
		/* zone = ("+" / "-") 4DIGIT; an obsolete or invalid zone counts as UTC */
		char sign;
		int zone;
		if (sscanf(rest, " %c%4d%n", &sign, &zone, &consumed) == 2 && (sign == '+' || sign == '-') &&
		    consumed >= 5 && zone >= 0 && zone % 100 < 60)
			t -= (sign == '-' ? -1 : 1) * ((zone / 100) * 3600 + (zone % 100) * 60);
	}
	*out = (time_t)t;
	return true;
}

bool header_get(const char *hdr, size_t len, const char *name, buf *out)
{
	size_t pos = 0;
	struct header_field f;
	int r;
	while ((r = header_next(hdr, len, &pos, &f)) != 0) {
		if (r < 0 || strlen(name) != f.name_len || strncasecmp(f.name, name, f.name_len) != 0)
			continue;
		size_t i = 0;
		while (i < f.value_len && (f.value[i] == ' ' || f.value[i] == '\t'))
			i++;
		for (; i < f.value_len; i++)
			if (f.value[i] != '\r' && f.value[i] != '\n')
				buf_putc(out, f.value[i]);
		return true;
	}
	return false;
}
