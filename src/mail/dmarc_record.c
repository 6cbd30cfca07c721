/* DMARC policy records, tree-walk names, Organizational Domains and Author Domains. */
#include "mail/dmarc_record.h"
#include "core/xalloc.h"
#include "mail/address_list.h"
#include "mail/header.h"
#include <ctype.h>
#include <idn2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_QUARANTINE:
		return "quarantine";
	case DMARC_POLICY_REJECT:
		return "reject";
	default:
		return "none";
	}
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* s[0..len) without the white space at either end. */
static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_wsp(**s))
		(*s)++, (*len)--;
	while (*len > 0 && is_wsp((*s)[*len - 1]))
		(*len)--;
}

static bool value_is(const char *v, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(v, word, len) == 0;
}

/* dmarc-request; DMARC_POLICY_UNSET when the value is none of them. */
static enum dmarc_policy parse_request(const char *v, size_t len)
{
	if (value_is(v, len, "none"))
		return DMARC_POLICY_NONE;
	if (value_is(v, len, "quarantine"))
		return DMARC_POLICY_QUARANTINE;
	if (value_is(v, len, "reject"))
		return DMARC_POLICY_REJECT;
	return DMARC_POLICY_UNSET;
}

/* dmarc-urilist: keeps the mailto: URIs (the only scheme we send reports to), without an
 * obsolete "!size" suffix. */
static void parse_uris(const char *v, size_t len, strlist *out)
{
	while (len > 0) {
		const char *comma = memchr(v, ',', len);
		size_t n = comma != NULL ? (size_t)(comma - v) : len;
		const char *uri = v;
		size_t ulen = n;
		trim(&uri, &ulen);
		const char *bang = memchr(uri, '!', ulen);
		if (bang != NULL)
			ulen = (size_t)(bang - uri);
		if (ulen > 7 && strncasecmp(uri, "mailto:", 7) == 0 && memchr(uri, '@', ulen) != NULL) {
			char *s = xstrndup(uri, ulen);
			strlist_add_owned(out, s);
		}
		if (comma == NULL)
			break;
		len -= n + 1;
		v = comma + 1;
	}
}

/* One tag of the record after v=. Invalid values leave the field as it was (absent). */
static void parse_tag(struct dmarc_record *r, const char *name, size_t nlen, const char *v,
		      size_t vlen, bool *p_bad, bool *sub_bad)
{
	if (value_is(name, nlen, "p")) {
		r->p = parse_request(v, vlen);
		*p_bad = r->p == DMARC_POLICY_UNSET;
	} else if (value_is(name, nlen, "sp") || value_is(name, nlen, "np")) {
		enum dmarc_policy pol = parse_request(v, vlen);
		*sub_bad |= pol == DMARC_POLICY_UNSET;
		*(name[0] == 's' || name[0] == 'S' ? &r->sp : &r->np) = pol;
	} else if (value_is(name, nlen, "adkim") || value_is(name, nlen, "aspf")) {
		bool *strict = nlen == 5 ? &r->adkim_strict : &r->aspf_strict;
		if (value_is(v, vlen, "s") || value_is(v, vlen, "r"))
			*strict = tolower((unsigned char)v[0]) == 's';
	} else if (value_is(name, nlen, "psd")) {
		if (vlen == 1 && strchr("ynuYNU", v[0]) != NULL)
			r->psd = (char)tolower((unsigned char)v[0]);
	} else if (value_is(name, nlen, "t")) {
		if (value_is(v, vlen, "y") || value_is(v, vlen, "n"))
			r->test = tolower((unsigned char)v[0]) == 'y';
	} else if (value_is(name, nlen, "pct")) {
		/* RFC 7489's sampling rate is historic; pct=0 asked what t=y asks now. */
		if (value_is(v, vlen, "0"))
			r->test = true;
	} else if (value_is(name, nlen, "rua")) {
		parse_uris(v, vlen, &r->rua);
	}
}

int dmarc_record_parse(const char *txt, struct dmarc_record *r)
{
	memset(r, 0, sizeof(*r));
	r->psd = 'u';
	strlist_init(&r->rua);
	bool first = true, p_bad = false, sub_bad = false;
	const char *s = txt;
	size_t left = strlen(txt);
	while (left > 0) {
		const char *semi = memchr(s, ';', left);
		size_t n = semi != NULL ? (size_t)(semi - s) : left;
		const char *tag = s;
		size_t tlen = n;
		trim(&tag, &tlen);
		if (tlen > 0) {
			const char *eq = memchr(tag, '=', tlen);
			const char *name = tag, *v = eq != NULL ? eq + 1 : tag + tlen;
			size_t nlen = eq != NULL ? (size_t)(eq - tag) : tlen;
			size_t vlen = tlen - (size_t)(v - tag);
			trim(&name, &nlen);
			trim(&v, &vlen);
			if (first && !(eq != NULL && nlen == 1 && name[0] == 'v' && vlen == 6 &&
				       memcmp(v, "DMARC1", 6) == 0))
				break;
			if (!first && eq != NULL)
				parse_tag(r, name, nlen, v, vlen, &p_bad, &sub_bad);
		} else if (first) {
			break;
		}
		first = false;
		if (semi == NULL)
			break;
		left -= n + 1;
		s = semi + 1;
	}
	if (first) {
		strlist_free(&r->rua);
		return 0;
	}
	r->applies = true;
	if (r->p == DMARC_POLICY_UNSET || p_bad || sub_bad) {
		/* 4.10.1: act as if p=none was there when the record asks for reports. */
		r->applies = r->rua.count > 0;
		r->p = DMARC_POLICY_NONE;
		r->sp = r->np = DMARC_POLICY_UNSET;
	}
	return 1;
}

void dmarc_record_free(struct dmarc_record *r)
{
	strlist_free(&r->rua);
}

size_t dmarc_walk_names(const char *domain, size_t offsets[DMARC_WALK_MAX])
{
	size_t len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0)
		return 0;
	/* starts[i]: where the suffix of i + 1 labels begins, counted from the right. */
	size_t starts[128], labels = 0;
	for (size_t i = len; i > 0 && labels < 128; i--)
		if (domain[i - 1] == '.')
			starts[labels++] = i;
	if (labels < 128)
		starts[labels++] = 0;
	size_t count = 0;
	offsets[count++] = 0;
	size_t next = labels > 8 ? 7 : labels - 1;
	for (size_t k = next; k >= 1 && count < DMARC_WALK_MAX; k--)
		offsets[count++] = starts[k - 1];
	return count;
}

size_t dmarc_walk_end(const struct dmarc_walk_step *steps, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (steps[i].record && (steps[i].psd == 'y' || steps[i].psd == 'n'))
			return i + 1;
	return count;
}

/* The offset of the suffix of domain that has one label more than the one at offset. */
static size_t one_label_below(const char *domain, size_t offset)
{
	if (offset < 2)
		return 0;
	size_t i = offset - 1; /* the dot before the suffix */
	while (i > 0 && domain[i - 1] != '.')
		i--;
	return i;
}

size_t dmarc_org_domain(const char *domain, const struct dmarc_walk_step *steps, size_t count)
{
	count = dmarc_walk_end(steps, count);
	const struct dmarc_walk_step *fewest = NULL;
	for (size_t i = 0; i < count; i++) {
		if (!steps[i].record)
			continue;
		if (steps[i].psd == 'n')
			return steps[i].offset;
		if (steps[i].psd == 'y' && i > 0)
			return one_label_below(domain, steps[i].offset);
		fewest = &steps[i];
	}
	return fewest != NULL ? fewest->offset : 0;
}

struct author_walk {
	buf *domain;
	size_t mailboxes;
	bool mixed;
};

static void author_item(const struct address_item *item, void *arg)
{
	struct author_walk *w = arg;
	if (item->kind != ADDRESS_ITEM_MAILBOX)
		return;
	const char *d = item->domain != NULL ? item->domain : "";
	if (w->mailboxes++ == 0)
		buf_puts(w->domain, d);
	else if (strcasecmp(w->domain->data, d) != 0)
		w->mixed = true;
}

bool dmarc_author_domain(const char *hdr, size_t len, buf *domain)
{
	size_t pos = 0, froms = 0;
	struct header_field f, from = { 0 };
	int r;
	while ((r = header_next(hdr, len, &pos, &f)) != 0)
		if (r > 0 && f.name_len == 4 && strncasecmp(f.name, "From", 4) == 0 && froms++ == 0)
			from = f;
	if (froms != 1)
		return false;
	buf found;
	buf_init(&found);
	struct author_walk w = { &found, 0, false };
	address_list_walk(from.value, from.value_len, author_item, &w);
	bool ok = w.mailboxes > 0 && !w.mixed && found.len > 0;
	if (ok) {
		char *ascii = NULL;
		if (idn2_to_ascii_8z(found.data, &ascii, IDN2_NONTRANSITIONAL) == IDN2_OK) {
			for (char *c = ascii; *c != '\0'; c++)
				*c = (char)tolower((unsigned char)*c);
			buf_puts(domain, ascii);
		} else {
			ok = false;
		}
		free(ascii);
	}
	buf_free(&found);
	return ok;
}
