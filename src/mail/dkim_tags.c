/* DKIM tag lists; see dkim_tags.h. */
#include "mail/dkim_tags.h"
#include "core/base64.h"
#include "core/xalloc.h"
#include "mail/address.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* FWS (RFC 6376 2.8), taken loosely: a folded field value arrives with its CRLFs. */
static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* VALCHAR = %x21-3A / %x3C-7E */
static bool is_valchar(char c)
{
	return c >= 0x21 && c <= 0x7e && c != ';';
}

static size_t skip_fws(const char *s, size_t len, size_t pos)
{
	while (pos < len && is_fws(s[pos]))
		pos++;
	return pos;
}

int dkim_tag_next(const char *s, size_t len, size_t *pos, struct dkim_tag *t)
{
	size_t p = skip_fws(s, len, *pos);
	if (p == len)
		return 0;
	if (!is_alpha(s[p]))
		return -1;
	t->name = s + p;
	while (p < len && (is_alpha(s[p]) || (s[p] >= '0' && s[p] <= '9') || s[p] == '_'))
		p++;
	t->name_len = (size_t)(s + p - t->name);
	p = skip_fws(s, len, p);
	if (p == len || s[p] != '=')
		return -1;
	t->span_start = ++p;
	while (p < len && s[p] != ';') {
		if (!is_valchar(s[p]) && !is_fws(s[p]))
			return -1;
		p++;
	}
	t->span_end = p;
	size_t v = skip_fws(s, len, t->span_start), e = p;
	while (e > v && is_fws(s[e - 1]))
		e--;
	t->value = s + v;
	t->value_len = e - v;
	*pos = p < len ? p + 1 : p;
	return 1;
}

/* All the tags of a list, refused when one repeats (RFC 6376 3.2). */
static int read_tags(const char *s, size_t len, struct dkim_tag *tags, size_t *count,
		     const char **error)
{
	size_t pos = 0, n = 0;
	int r;
	while ((r = dkim_tag_next(s, len, &pos, &tags[n])) == 1) {
		for (size_t i = 0; i < n; i++)
			if (tags[i].name_len == tags[n].name_len &&
			    memcmp(tags[i].name, tags[n].name, tags[n].name_len) == 0) {
				*error = "a tag appears twice";
				return -1;
			}
		if (++n == DKIM_TAGS_MAX) {
			*error = "too many tags";
			return -1;
		}
	}
	*count = n;
	if (r < 0)
		*error = "tag list syntax error";
	return r;
}

static const struct dkim_tag *find(const struct dkim_tag *tags, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (tags[i].name_len == strlen(name) && memcmp(tags[i].name, name, tags[i].name_len) == 0)
			return &tags[i];
	return NULL;
}

static bool value_is(const struct dkim_tag *t, const char *s)
{
	return t->value_len == strlen(s) && memcmp(t->value, s, t->value_len) == 0;
}

static bool has_fws(const struct dkim_tag *t)
{
	for (size_t i = 0; i < t->value_len; i++)
		if (is_fws(t->value[i]))
			return true;
	return false;
}

/* base64 with FWS anywhere (RFC 6376 2.6): the text without it in text (when not NULL), the
 * octets in out. */
static int read_base64(const struct dkim_tag *t, char **text, buf *out)
{
	buf b;
	buf_init(&b);
	for (size_t i = 0; i < t->value_len; i++)
		if (!is_fws(t->value[i]))
			buf_putc(&b, t->value[i]);
	int r = base64_decode(b.data != NULL ? b.data : "", b.len, out);
	if (text != NULL)
		*text = xstrndup(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return r;
}

/* 1*DIGIT; a value past UINT64_MAX saturates (l= may have 76 digits). */
static bool read_number(const struct dkim_tag *t, uint64_t *out)
{
	uint64_t n = 0;
	if (t->value_len == 0)
		return false;
	for (size_t i = 0; i < t->value_len; i++) {
		char c = t->value[i];
		if (c < '0' || c > '9')
			return false;
		unsigned d = (unsigned)(c - '0');
		n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
	}
	*out = n;
	return true;
}

static char *lower_copy(const char *s, size_t len)
{
	char *c = xstrndup(s, len);
	for (char *p = c; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return c;
}

/* Calls fn on each element of a colon-separated list, without the FWS around it; stops at the
 * first fn that returns false. */
static bool each_element(const struct dkim_tag *t, bool (*fn)(const char *, size_t, void *), void *arg)
{
	size_t pos = 0;
	while (pos <= t->value_len) {
		const char *colon = memchr(t->value + pos, ':', t->value_len - pos);
		size_t end = colon != NULL ? (size_t)(colon - t->value) : t->value_len;
		size_t a = pos, e = end;
		while (a < e && is_fws(t->value[a]))
			a++;
		while (e > a && is_fws(t->value[e - 1]))
			e--;
		if (!fn(t->value + a, e - a, arg))
			return false;
		pos = end + 1;
	}
	return true;
}

/* field-name = 1*ftext (RFC 5322 3.6.8) */
static bool add_header_name(const char *s, size_t len, void *arg)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == ':')
			return false;
	char *name = xstrndup(s, len);
	strlist_add_owned(arg, name);
	return true;
}

/* The element is not the one asked for (compared case-insensitively): the walk goes on. */
static bool differs(const char *s, size_t len, void *arg)
{
	return !(len == strlen(arg) && strncasecmp(s, arg, len) == 0);
}

static bool list_has(const struct dkim_tag *t, const char *name)
{
	return !each_element(t, differs, (void *)name);
}

static int read_canonicalization(const struct dkim_tag *t, struct dkim_sig_tags *sig)
{
	const char *slash = memchr(t->value, '/', t->value_len);
	size_t head = slash != NULL ? (size_t)(slash - t->value) : t->value_len;
	struct dkim_tag h = *t, b = *t;
	h.value_len = head;
	b.value = slash != NULL ? slash + 1 : "simple";
	b.value_len = slash != NULL ? t->value_len - head - 1 : strlen("simple");
	if (!(value_is(&h, "simple") || value_is(&h, "relaxed")) ||
	    !(value_is(&b, "simple") || value_is(&b, "relaxed")))
		return -1;
	sig->header_relaxed = value_is(&h, "relaxed");
	sig->body_relaxed = value_is(&b, "relaxed");
	return 0;
}

static enum dkim_sig_algorithm algorithm_of(const char *a)
{
	if (strcmp(a, "rsa-sha256") == 0)
		return DKIM_SIG_RSA_SHA256;
	if (strcmp(a, "ed25519-sha256") == 0)
		return DKIM_SIG_ED25519_SHA256;
	if (strcmp(a, "rsa-sha1") == 0)
		return DKIM_SIG_RSA_SHA1;
	return DKIM_SIG_UNKNOWN;
}

/* i= is [local-part] "@" domain; its domain must be d= or a sub-domain of it (6.1.1). */
static int check_identity(const char *identity, const char *domain)
{
	const char *at = strrchr(identity, '@');
	if (at == NULL || !address_domain_valid(at + 1, strlen(at + 1), false))
		return -1;
	size_t il = strlen(at + 1), dl = strlen(domain);
	const char *tail = at + 1 + il - (il >= dl ? dl : il);
	if (il < dl || strcasecmp(tail, domain) != 0)
		return -1;
	return il == dl || tail[-1] == '.' ? 0 : -1;
}

/* An ARC instance: 1*3DIGIT (RFC 8617 4.2.1), 1 to ARC_MAX_INSTANCES; 0 when not one. */
static unsigned read_instance(const struct dkim_tag *t)
{
	uint64_t n;
	if (t->value_len > 3 || !read_number(t, &n) || n < 1 || n > ARC_MAX_INSTANCES)
		return 0;
	return (unsigned)n;
}

unsigned arc_instance_of(const char *value, size_t len, size_t *after)
{
	struct dkim_tag t;
	size_t pos = 0;
	if (dkim_tag_next(value, len, &pos, &t) != 1 || !(t.name_len == 1 && t.name[0] == 'i') ||
	    pos == t.span_end) /* no ';' after it */
		return 0;
	*after = pos;
	return read_instance(&t);
}

static int read_cv(const struct dkim_tag *t, struct dkim_sig_tags *sig)
{
	static const char *const names[] = { "none", "pass", "fail" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (value_is(t, names[i])) {
			sig->cv = (enum arc_cv)i;
			return 0;
		}
	return -1;
}

struct required_tag {
	const char *name, *missing;
};

/* What each kind requires (RFC 6376 6.1.1; RFC 8617 4.1.2, 4.1.3), in the order checked. */
static const char *missing_tag(enum dkim_sig_kind kind, const struct dkim_tag *tags, size_t n)
{
	static const struct required_tag field[] = {
		{ "v", "no v= tag" }, { "a", "no a= tag" }, { "b", "no b= tag" }, { "bh", "no bh= tag" },
		{ "d", "no d= tag" }, { "h", "no h= tag" }, { "s", "no s= tag" }, { NULL, NULL } };
	static const struct required_tag message[] = {
		{ "i", "no i= tag" }, { "a", "no a= tag" }, { "b", "no b= tag" }, { "bh", "no bh= tag" },
		{ "d", "no d= tag" }, { "h", "no h= tag" }, { "s", "no s= tag" }, { NULL, NULL } };
	static const struct required_tag seal[] = {
		{ "i", "no i= tag" }, { "a", "no a= tag" }, { "b", "no b= tag" }, { "cv", "no cv= tag" },
		{ "d", "no d= tag" }, { "s", "no s= tag" }, { NULL, NULL } };
	const struct required_tag *req = kind == DKIM_SIG_FIELD ? field
				       : kind == DKIM_SIG_ARC_MESSAGE ? message : seal;
	for (size_t i = 0; req[i].name != NULL; i++)
		if (find(tags, n, req[i].name) == NULL)
			return req[i].missing;
	return NULL;
}

/* The tags 6.1.1 requires, then the meaning of each tag present. */
static const char *check_sig(enum dkim_sig_kind kind, const struct dkim_tag *tags, size_t n,
			     struct dkim_sig_tags *sig)
{
	const struct dkim_tag *t;
	bool seal = kind == DKIM_SIG_ARC_SEAL;
	if ((t = find(tags, n, "a")) != NULL) {
		sig->algorithm = xstrndup(t->value, t->value_len);
		sig->alg = algorithm_of(sig->algorithm);
	}
	if ((t = find(tags, n, "d")) != NULL)
		sig->domain = lower_copy(t->value, t->value_len);
	if ((t = find(tags, n, "s")) != NULL)
		sig->selector = xstrndup(t->value, t->value_len);
	if ((t = find(tags, n, "i")) != NULL && kind == DKIM_SIG_FIELD)
		sig->identity = xstrndup(t->value, t->value_len);
	if ((t = find(tags, n, "b")) != NULL) {
		sig->b_start = t->span_start;
		sig->b_end = t->span_end;
		if (read_base64(t, &sig->b, &sig->signature) < 0 || sig->signature.len == 0)
			return "b= is not base64";
	}
	const char *missing = missing_tag(kind, tags, n);
	if (missing != NULL)
		return missing;
	if (kind == DKIM_SIG_FIELD && !value_is(find(tags, n, "v"), "1"))
		return "v= is not 1";
	if (kind != DKIM_SIG_FIELD && (sig->instance = read_instance(find(tags, n, "i"))) == 0)
		return "i= is not an ARC instance (1 to 50)";
	if (seal && read_cv(find(tags, n, "cv"), sig) < 0)
		return "cv= is not none, pass or fail";
	if (seal && find(tags, n, "h") != NULL)
		return "an ARC-Seal has no h=";
	if (!seal && read_base64(find(tags, n, "bh"), NULL, &sig->body_hash) < 0)
		return "bh= is not base64";
	if (!address_domain_valid(sig->domain, strlen(sig->domain), false))
		return "d= is not a domain";
	if (!address_domain_valid(sig->selector, strlen(sig->selector), false))
		return "s= is not a selector";
	if (seal) {
		sig->header_relaxed = true; /* RFC 8617 5.1.1 */
	} else {
		if (!each_element(find(tags, n, "h"), add_header_name, &sig->headers))
			return "h= is not a list of field names";
		if (!strlist_contains(&sig->headers, "from"))
			return "h= does not sign From";
		if ((t = find(tags, n, "c")) != NULL && read_canonicalization(t, sig) < 0)
			return "unknown canonicalization in c=";
	}
	if ((t = find(tags, n, "q")) != NULL && !list_has(t, "dns/txt"))
		return "q= has no dns/txt";
	if (sig->identity != NULL && check_identity(sig->identity, sig->domain) < 0)
		return "i= is not in the domain of d=";
	if ((t = find(tags, n, "l")) != NULL && !(sig->has_length = read_number(t, &sig->length)))
		return "l= is not a number";
	if ((t = find(tags, n, "t")) != NULL && !(sig->has_timestamp = read_number(t, &sig->timestamp)))
		return "t= is not a number";
	if ((t = find(tags, n, "x")) != NULL && !(sig->has_expiry = read_number(t, &sig->expiry)))
		return "x= is not a number";
	if (sig->has_timestamp && sig->has_expiry && sig->expiry < sig->timestamp)
		return "x= is before t=";
	return NULL;
}

int dkim_sig_tags_parse_kind(enum dkim_sig_kind kind, const char *value, size_t len,
			     struct dkim_sig_tags *sig, const char **error)
{
	*sig = (struct dkim_sig_tags){ .alg = DKIM_SIG_UNKNOWN };
	buf_init(&sig->signature);
	buf_init(&sig->body_hash);
	strlist_init(&sig->headers);
	struct dkim_tag tags[DKIM_TAGS_MAX];
	size_t n = 0;
	if (read_tags(value, len, tags, &n, error) < 0)
		return -1;
	*error = check_sig(kind, tags, n, sig);
	return *error == NULL ? 0 : -1;
}

int dkim_sig_tags_parse(const char *value, size_t len, struct dkim_sig_tags *sig, const char **error)
{
	return dkim_sig_tags_parse_kind(DKIM_SIG_FIELD, value, len, sig, error);
}

void dkim_sig_tags_free(struct dkim_sig_tags *sig)
{
	free(sig->algorithm);
	free(sig->b);
	free(sig->domain);
	free(sig->selector);
	free(sig->identity);
	buf_free(&sig->signature);
	buf_free(&sig->body_hash);
	strlist_free(&sig->headers);
	*sig = (struct dkim_sig_tags){ 0 };
}

/* The t= flags are letters separated by colons; unknown ones are ignored (3.6.1). */
static bool note_flag(const char *s, size_t len, void *arg)
{
	struct dkim_key_tags *key = arg;
	if (len == 1 && s[0] == 'y')
		key->testing = true;
	if (len == 1 && s[0] == 's')
		key->strict = true;
	return true;
}

int dkim_key_tags_parse(const char *text, size_t len, struct dkim_key_tags *key, const char **error)
{
	*key = (struct dkim_key_tags){ .sha256 = true, .email = true };
	buf_init(&key->key);
	struct dkim_tag tags[DKIM_TAGS_MAX];
	size_t n = 0;
	if (read_tags(text, len, tags, &n, error) < 0)
		return -1;
	const struct dkim_tag *t = find(tags, n, "k");
	key->key_type = t != NULL ? xstrndup(t->value, t->value_len) : xstrdup("rsa");
	*error = NULL;
	if ((t = find(tags, n, "v")) != NULL && !value_is(t, "DKIM1"))
		*error = "the key record's v= is not DKIM1";
	else if ((t = find(tags, n, "p")) == NULL)
		*error = "the key record has no p=";
	else if (read_base64(t, NULL, &key->key) < 0)
		*error = "the key record's p= is not base64";
	else if ((t = find(tags, n, "k")) != NULL && (t->value_len == 0 || has_fws(t)))
		*error = "the key record's k= is not a key type";
	if (*error != NULL)
		return -1;
	if ((t = find(tags, n, "h")) != NULL)
		key->sha256 = list_has(t, "sha256");
	if ((t = find(tags, n, "s")) != NULL)
		key->email = list_has(t, "*") || list_has(t, "email");
	if ((t = find(tags, n, "t")) != NULL)
		each_element(t, note_flag, key);
	return 0;
}

void dkim_key_tags_free(struct dkim_key_tags *key)
{
	free(key->key_type);
	buf_free(&key->key);
	*key = (struct dkim_key_tags){ 0 };
}
