/* The macros of SPF (RFC 7208 7); see spf_record.h. */
#include "verify/spf_record.h"
#include "core/xalloc.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one scan of a macro string found besides its expansion. */
struct scan {
	bool ends_in_macro; /* the last token is a macro-expand (a domain-end of 7.1) */
	bool uses_p;
};

static const char delimiters[] = ".-+,/_=";

/* A hostile record of many macros of a long sender expands to no more than this. */
#define EXPANSION_MAX 8192

/* The value of macro letter (lower case) before its transformers. */
static void macro_value(char letter, const struct spf_macro_env *env, buf *v)
{
	const char *at = strrchr(env->sender, '@');
	char text[INET6_ADDRSTRLEN];
	switch (letter) {
	case 's':
		buf_puts(v, env->sender);
		break;
	case 'l':
		buf_append(v, env->sender, at != NULL ? (size_t)(at - env->sender) : 0);
		break;
	case 'o':
		buf_puts(v, at != NULL ? at + 1 : env->sender);
		break;
	case 'd':
		buf_puts(v, env->domain);
		break;
	case 'i':
		if (env->family == AF_INET) {
			buf_printf(v, "%u.%u.%u.%u", env->ip[0], env->ip[1], env->ip[2], env->ip[3]);
			break;
		}
		for (int i = 0; i < 16; i++) /* dotted nibbles, most significant first (7.3) */
			buf_printf(v, "%s%x.%x", i > 0 ? "." : "", env->ip[i] >> 4, env->ip[i] & 0xf);
		break;
	case 'p':
		buf_puts(v, env->validated != NULL ? env->validated : "unknown");
		break;
	case 'v':
		buf_puts(v, env->family == AF_INET ? "in-addr" : "ip6");
		break;
	case 'h':
		buf_puts(v, env->helo != NULL ? env->helo : "unknown");
		break;
	case 'c':
		buf_puts(v, inet_ntop(env->family, env->ip, text, sizeof(text)) != NULL ? text : "unknown");
		break;
	case 'r':
		buf_puts(v, env->receiver != NULL ? env->receiver : "unknown");
		break;
	case 't':
		buf_printf(v, "%lld", (long long)env->now);
		break;
	}
}

/* Appends value split on delims, reversed when asked, its rightmost keep parts (0: all)
 * joined with dots, URL-escaped when escape (7.3). */
static void transform(const buf *value, const char *delims, bool reverse, unsigned keep, bool escape,
		      buf *out)
{
	size_t count = 1;
	for (size_t i = 0; i < value->len; i++)
		count += strchr(delims, value->data[i]) != NULL;
	size_t *start = xcalloc(count + 1, sizeof(*start));
	size_t n = 1;
	for (size_t i = 0; i < value->len; i++)
		if (strchr(delims, value->data[i]) != NULL)
			start[n++] = i + 1;
	start[n] = value->len + 1; /* one past the delimiter that would end the last part */
	size_t first = keep > 0 && keep < count ? count - keep : 0;
	for (size_t k = first; k < count; k++) {
		size_t part = reverse ? count - 1 - k : k; /* the k-th of the list as transformed */
		const char *s = value->data + start[part];
		size_t len = start[part + 1] - start[part] - 1;
		if (k > first)
			buf_putc(out, '.');
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];
			if (!escape || isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
				buf_putc(out, (char)c);
			else
				buf_printf(out, "%%%02X", c);
		}
	}
	free(start);
}

static int expand(const char *spec, const struct spf_macro_env *env, bool explanation, buf *out,
		  struct scan *info)
{
	static const char plain[] = "slodiphv", exp_only[] = "crt";
	memset(info, 0, sizeof(*info));
	for (const char *p = spec; *p != '\0'; p++) {
		info->ends_in_macro = *p == '%';
		if ((*p == ' ' && explanation) || (*p >= 0x21 && *p <= 0x7e && *p != '%')) {
			if (out != NULL)
				buf_putc(out, *p);
			continue;
		}
		if (*p != '%')
			return -1;
		p++;
		const char *simple = *p == '%' ? "%" : *p == '_' ? " " : *p == '-' ? "%20" : NULL;
		if (simple != NULL) {
			if (out != NULL)
				buf_puts(out, simple);
			continue;
		}
		if (*p != '{' || p[1] == '\0')
			return -1;
		char letter = (char)tolower((unsigned char)*++p);
		bool escape = isupper((unsigned char)*p);
		if (strchr(plain, letter) == NULL && (!explanation || strchr(exp_only, letter) == NULL))
			return -1;
		info->uses_p |= letter == 'p';
		p++;
		unsigned keep = 0;
		bool digits = false;
		for (; isdigit((unsigned char)*p); p++, digits = true)
			keep = keep < 1000 ? keep * 10 + (unsigned)(*p - '0') : keep;
		if (digits && keep == 0)
			return -1; /* 7.1: the number of parts is nonzero */
		bool reverse = *p == 'r' || *p == 'R';
		p += reverse;
		char delims[sizeof(delimiters)] = "";
		for (size_t n = 0; *p != '\0' && strchr(delimiters, *p) != NULL; p++)
			if (strchr(delims, *p) == NULL && n < sizeof(delims) - 1)
				delims[n++] = *p;
		if (*p != '}')
			return -1;
		if (out != NULL && env != NULL) {
			buf value;
			buf_init(&value);
			macro_value(letter, env, &value);
			transform(&value, delims[0] != '\0' ? delims : ".", reverse, keep, escape, out);
			buf_free(&value);
			if (out->len > EXPANSION_MAX)
				return -1;
		}
	}
	return 0;
}

int spf_macro_expand(const char *spec, const struct spf_macro_env *env, bool explanation, buf *out)
{
	struct scan info;
	return expand(spec, env, explanation, env != NULL ? out : NULL, &info);
}

int spf_domain_expand(const char *spec, const struct spf_macro_env *env, buf *out)
{
	buf d;
	buf_init(&d);
	struct scan info;
	int r = expand(spec, env, false, &d, &info);
	const char *s = d.data;
	while (strlen(s) > 253) {
		const char *dot = strchr(s, '.');
		s = dot != NULL ? dot + 1 : s + strlen(s);
	}
	if (r == 0)
		buf_puts(out, s);
	buf_free(&d);
	return r;
}

bool spf_macro_uses_p(const char *spec)
{
	struct scan info;
	return expand(spec, NULL, true, NULL, &info) == 0 && info.uses_p;
}

/* toplabel of 7.1: letters, digits and inner hyphens, not all digits. */
static bool toplabel_valid(const char *s, size_t len)
{
	bool letter = false, hyphen = false;
	if (len == 0 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
		letter |= isalpha((unsigned char)s[i]) != 0;
		hyphen |= s[i] == '-';
	}
	return letter || hyphen;
}

bool spf_domain_spec_valid(const char *spec)
{
	struct scan info;
	if (expand(spec, NULL, false, NULL, &info) < 0)
		return false;
	if (info.ends_in_macro)
		return true;
	size_t len = strlen(spec);
	if (len > 0 && spec[len - 1] == '.')
		len--;
	const char *dot = memrchr(spec, '.', len);
	return dot != NULL && toplabel_valid(dot + 1, len - (size_t)(dot + 1 - spec));
}
