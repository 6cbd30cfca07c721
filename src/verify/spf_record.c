/* SPF records (RFC 7208 4.5, 4.6, 5, 6); see spf_record.h. */
#include "verify/spf_record.h"
#include "core/xalloc.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const mechanism_names[] = {
	[SPF_ALL] = "all", [SPF_INCLUDE] = "include", [SPF_A] = "a",     [SPF_MX] = "mx",
	[SPF_PTR] = "ptr", [SPF_IP4] = "ip4",         [SPF_IP6] = "ip6", [SPF_EXISTS] = "exists",
};

bool spf_record_is_spf(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == ' ' || txt[6] == '\0');
}

/* A CIDR length of 4.6.1 ("0", or digits without a leading zero) up to max, or -1. */
static int cidr_length(const char *s, size_t len, int max)
{
	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	int n = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return n <= max ? n : -1;
}

/* Takes a trailing "/N" (when v4) and "//N" off the len octets of s (dual-cidr-length, 5.3),
 * or ip6-cidr-length's "/N" when only v6. Returns the length left, or -1 on a bad length. */
static long take_cidr(const char *s, size_t len, bool v4, bool v6, int *cidr4, int *cidr6)
{
	const char *slash = memrchr(s, '/', len);
	if (v6 && slash != NULL && (v4 ? slash > s && slash[-1] == '/' : true)) {
		*cidr6 = cidr_length(slash + 1, len - (size_t)(slash + 1 - s), 128);
		if (*cidr6 < 0)
			return -1;
		len = (size_t)(slash - s) - v4;
		slash = memrchr(s, '/', len);
	}
	if (v4 && slash != NULL) {
		*cidr4 = cidr_length(slash + 1, len - (size_t)(slash + 1 - s), 32);
		if (*cidr4 < 0)
			return -1;
		len = (size_t)(slash - s);
	}
	return (long)len;
}

/* A modifier's name of 6: a letter, then letters, digits, '-', '_' and '.'. */
static size_t name_length(const char *s)
{
	size_t n = 0;
	if (isalpha((unsigned char)s[0]))
		for (n = 1; s[n] != '\0' && (isalnum((unsigned char)s[n]) || strchr("-_.", s[n]) != NULL); n++)
			;
	return n;
}

static int parse_modifier(struct spf_record *r, const char *name, size_t len, const char *value)
{
	char **slot = len == 8 && strncasecmp(name, "redirect", 8) == 0 ? &r->redirect
		      : len == 3 && strncasecmp(name, "exp", 3) == 0      ? &r->exp
									  : NULL;
	if (slot == NULL) /* unknown modifiers are ignored, once their value is a macro-string */
		return spf_macro_expand(value, NULL, true, NULL);
	if (*slot != NULL || !spf_domain_spec_valid(value))
		return -1;
	*slot = xstrdup(value);
	return 0;
}

static int parse_mechanism(struct spf_term *t, const char *s)
{
	size_t n = strcspn(s, ":/");
	size_t m = 0;
	while (m < sizeof(mechanism_names) / sizeof(mechanism_names[0]) &&
	       !(strlen(mechanism_names[m]) == n && strncasecmp(s, mechanism_names[m], n) == 0))
		m++;
	if (m == sizeof(mechanism_names) / sizeof(mechanism_names[0]))
		return -1;
	t->mechanism = (enum spf_mechanism)m;
	t->cidr4 = 32;
	t->cidr6 = 128;
	const char *rest = s + n;
	size_t len = strlen(rest);
	long left;
	switch (t->mechanism) {
	case SPF_ALL:
		return len == 0 ? 0 : -1;
	case SPF_IP4:
	case SPF_IP6: {
		bool v4 = t->mechanism == SPF_IP4;
		left = take_cidr(rest, len, v4, !v4, &t->cidr4, &t->cidr6);
		if (left < 2 || rest[0] != ':')
			return -1;
		char *net = xstrndup(rest + 1, (size_t)left - 1);
		int ok = inet_pton(v4 ? AF_INET : AF_INET6, net, t->network);
		free(net);
		return ok == 1 ? 0 : -1;
	}
	case SPF_A:
	case SPF_MX:
		left = take_cidr(rest, len, true, true, &t->cidr4, &t->cidr6);
		if (left < 0)
			return -1;
		len = (size_t)left;
		break;
	default:
		break;
	}
	if (len == 0)
		return t->mechanism == SPF_INCLUDE || t->mechanism == SPF_EXISTS ? -1 : 0;
	if (rest[0] != ':')
		return -1;
	t->domain_spec = xstrndup(rest + 1, len - 1);
	return spf_domain_spec_valid(t->domain_spec) ? 0 : -1;
}

static int parse_term(struct spf_record *r, const char *term)
{
	const char *s = term;
	size_t n = name_length(s);
	if (n > 0 && s[n] == '=')
		return parse_modifier(r, s, n, s + n + 1);
	struct spf_term t = { .qualifier = '+' };
	if (strchr("+-~?", *s) != NULL && *s != '\0')
		t.qualifier = *s++;
	if (parse_mechanism(&t, s) < 0) {
		free(t.domain_spec);
		return -1;
	}
	t.text = xstrdup(term);
	r->terms = xrealloc(r->terms, (r->count + 1) * sizeof(*r->terms));
	r->terms[r->count++] = t;
	return 0;
}

int spf_record_parse(const char *txt, struct spf_record *r, char **error_r)
{
	memset(r, 0, sizeof(*r));
	if (!spf_record_is_spf(txt)) {
		*error_r = xstrdup("not an SPF record (no v=spf1)");
		return -1;
	}
	for (const char *p = txt + 6; *p != '\0';) {
		if (*p == ' ') {
			p++;
			continue;
		}
		size_t len = strcspn(p, " ");
		char *term = xstrndup(p, len);
		int ok = parse_term(r, term);
		if (ok < 0) {
			*error_r = xasprintf("syntax error in \"%s\"", term);
			free(term);
			spf_record_free(r);
			return -1;
		}
		free(term);
		p += len;
	}
	return 0;
}

void spf_record_free(struct spf_record *r)
{
	for (size_t i = 0; i < r->count; i++) {
		free(r->terms[i].domain_spec);
		free(r->terms[i].text);
	}
	free(r->terms);
	free(r->redirect);
	free(r->exp);
	memset(r, 0, sizeof(*r));
}
