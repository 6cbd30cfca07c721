/* MTA-STS TXT records, policy files and MX patterns. */
#include "mail/mta_sts.h"
#include "core/xalloc.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *mta_sts_mode_name(enum mta_sts_mode m)
{
	static const char *const names[] = { "none", "testing", "enforce" };
	return names[m];
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
static bool is_field_name(const char *s, size_t len)
{
	if (len == 0 || len > 32 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_-.", s[i]) == NULL)
			return false;
	return true;
}

/* sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
static bool is_field_value(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
			return false;
	}
	return true;
}

bool mta_sts_record_id(const char *txt, char id[33])
{
	if (strncmp(txt, "v=STSv1", 7) != 0)
		return false;
	const char *p = txt + 7;
	bool have_id = false, first = true;
	for (;;) {
		/* sts-field-delim = *WSP ";" *WSP, then a field, or the end after a last one */
		while (is_wsp(*p))
			p++;
		if (*p == '\0')
			return have_id && !first;
		if (*p != ';')
			return false;
		p++;
		while (is_wsp(*p))
			p++;
		if (*p == '\0')
			return have_id;
		const char *eq = strchr(p, '=');
		if (eq == NULL)
			return false;
		size_t vlen = strcspn(eq + 1, "; \t");
		if (!is_field_name(p, (size_t)(eq - p)) || !is_field_value(eq + 1, vlen))
			return false;
		if (eq - p == 2 && strncmp(p, "id", 2) == 0 && !have_id) {
			if (vlen > 32)
				return false;
			for (size_t i = 0; i < vlen; i++)
				if (!isalnum((unsigned char)eq[1 + i]))
					return false;
			memcpy(id, eq + 1, vlen);
			id[vlen] = '\0';
			have_id = true;
		}
		first = false;
		p = eq + 1 + vlen;
	}
}

static bool parse_mode(const char *v, size_t len, enum mta_sts_mode *m)
{
	static const char *const names[] = { "none", "testing", "enforce" };
	for (int i = 0; i < 3; i++)
		if (strlen(names[i]) == len && memcmp(v, names[i], len) == 0) {
			*m = (enum mta_sts_mode)i;
			return true;
		}
	return false;
}

/* sts-policy-mx-value = ["*."] Domain: labels of letters, digits and hyphens. */
static bool is_mx_pattern(const char *v, size_t len)
{
	if (len >= 2 && v[0] == '*' && v[1] == '.')
		v += 2, len -= 2;
	if (len == 0 || len > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '.') {
			if (label == 0 || v[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum(c) || (c == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && v[len - 1] != '-';
}

/* One "name: value" line; false when it breaks the grammar. */
static bool policy_line(const char *line, size_t len, struct mta_sts_policy *p, unsigned *seen)
{
	const char *colon = memchr(line, ':', len);
	if (colon == NULL || !is_field_name(line, (size_t)(colon - line)))
		return false;
	size_t nlen = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vlen = len - nlen - 1;
	while (vlen > 0 && is_wsp(*v))
		v++, vlen--;
	while (vlen > 0 && is_wsp(v[vlen - 1]))
		vlen--;
	enum { SEEN_VERSION = 1, SEEN_MODE = 2, SEEN_MAX_AGE = 4 };
	if (nlen == 7 && memcmp(line, "version", 7) == 0) {
		if (!(*seen & SEEN_VERSION) && !(vlen == 5 && memcmp(v, "STSv1", 5) == 0))
			return false;
		*seen |= SEEN_VERSION;
	} else if (nlen == 4 && memcmp(line, "mode", 4) == 0) {
		if (!(*seen & SEEN_MODE) && !parse_mode(v, vlen, &p->mode))
			return false;
		*seen |= SEEN_MODE;
	} else if (nlen == 7 && memcmp(line, "max_age", 7) == 0) {
		if (!(*seen & SEEN_MAX_AGE)) {
			if (vlen == 0 || vlen > 10)
				return false;
			long n = 0;
			for (size_t i = 0; i < vlen; i++) {
				if (!isdigit((unsigned char)v[i]))
					return false;
				n = n * 10 + (v[i] - '0');
			}
			p->max_age = n > MTA_STS_MAX_AGE_LIMIT ? MTA_STS_MAX_AGE_LIMIT : n;
		}
		*seen |= SEEN_MAX_AGE;
	} else if (nlen == 2 && memcmp(line, "mx", 2) == 0) {
		if (!is_mx_pattern(v, vlen))
			return false;
		char *pattern = xstrndup(v, vlen);
		for (char *c = pattern; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		strlist_add_owned(&p->mx, pattern);
	}
	return true;
}

bool mta_sts_policy_parse(const char *text, size_t len, struct mta_sts_policy *p)
{
	memset(p, 0, sizeof(*p));
	strlist_init(&p->mx);
	unsigned seen = 0;
	bool ok = len <= MTA_STS_MAX_POLICY;
	size_t pos = 0;
	while (ok && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		size_t line_len = end - pos;
		if (line_len > 0 && text[pos + line_len - 1] == '\r')
			line_len--;
		/* A final line end may be followed by nothing; an empty line elsewhere is no field. */
		if (line_len > 0 || end + 1 < len)
			ok = policy_line(text + pos, line_len, p, &seen);
		pos = end + 1;
	}
	ok = ok && seen == 7 && (p->mode == MTA_STS_NONE || p->mx.count > 0);
	if (!ok)
		mta_sts_policy_free(p);
	return ok;
}

void mta_sts_policy_free(struct mta_sts_policy *p)
{
	strlist_free(&p->mx);
	strlist_init(&p->mx);
}

bool mta_sts_mx_matches(const struct mta_sts_policy *p, const char *host)
{
	size_t len = strlen(host);
	if (len > 0 && host[len - 1] == '.')
		len--;
	for (size_t i = 0; i < p->mx.count; i++) {
		const char *pat = p->mx.items[i];
		if (pat[0] == '*' && pat[1] == '.') {
			const char *dot = memchr(host, '.', len);
			if (dot == NULL || dot == host)
				continue;
			size_t rest = len - (size_t)(dot + 1 - host);
			if (strlen(pat + 2) == rest && strncasecmp(dot + 1, pat + 2, rest) == 0)
				return true;
		} else if (strlen(pat) == len && strncasecmp(host, pat, len) == 0) {
			return true;
		}
	}
	return false;
}
