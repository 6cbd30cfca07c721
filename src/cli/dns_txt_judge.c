/* The judging of TXT records; see dns_txt_judge.h. */
#include "cli/dns_txt_judge.h"
#include "core/netaddr.h"
#include "core/xalloc.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	return p;
}

/* The value of tag name in a tag-list record ("v=DMARC1; p=reject": RFC 6376 3.2, RFC 7489
 * 6.4), spaces around it removed, into out; false when it has none. */
static bool tag_value(const char *record, const char *name, buf *out)
{
	size_t name_len = strlen(name);
	for (const char *p = record; *p != '\0';) {
		const char *end = p + strcspn(p, ";"), *t = skip_space(p, end);
		if ((size_t)(end - t) > name_len && strncasecmp(t, name, name_len) == 0) {
			const char *v = skip_space(t + name_len, end);
			if (v < end && *v == '=') {
				v = skip_space(v + 1, end);
				const char *e = end;
				while (e > v && isspace((unsigned char)e[-1]))
					e--;
				buf_clear(out);
				buf_append(out, v, (size_t)(e - v));
				return true;
			}
		}
		p = *end != '\0' ? end + 1 : end;
	}
	return false;
}

/* Whether the record's first tag is v=version (DMARC, MTA-STS and TLSRPT records must start
 * with it). */
static bool has_version(const char *record, const char *version)
{
	buf v;
	buf_init(&v);
	size_t first = strcspn(record, ";");
	char *head = xasprintf("%.*s", (int)first, record);
	bool yes = tag_value(head, "v", &v) && strcmp(v.data, version) == 0;
	free(head);
	buf_free(&v);
	return yes;
}

/* RFC 7208 4.5: "v=spf1" then a space or the end, in any case. */
static bool is_spf(const char *record)
{
	return strncasecmp(record, "v=spf1", 6) == 0 && (record[6] == ' ' || record[6] == '\0');
}

/* Whether a term of the SPF record lets ip send for domain: mx or a (of the domain itself;
 * the MX and address lines judge where they lead), or an ip4:/ip6: network holding it. */
static bool spf_authorizes(const char *record, const char *domain, const char *ip)
{
	char *copy = xstrdup(record), *save = NULL;
	bool yes = false;
	for (char *t = strtok_r(copy, " ", &save); t != NULL && !yes; t = strtok_r(NULL, " ", &save)) {
		if (*t == '+')
			t++;
		size_t n = strcspn(t, ":/");
		bool host_term = (n == 2 && strncasecmp(t, "mx", 2) == 0) || (n == 1 && (*t == 'a' || *t == 'A'));
		if (host_term)
			yes = t[n] != ':' || strcasecmp(t + n + 1, domain) == 0;
		else if (strncasecmp(t, "ip4:", 4) == 0 || strncasecmp(t, "ip6:", 4) == 0) {
			struct netaddr_net *nets = NULL;
			char *error = NULL;
			int count = netaddr_networks_parse(t + 4, &nets, &error);
			yes = count > 0 && netaddr_networks_contain(nets, (size_t)count, ip);
			free(nets);
			free(error);
		}
	}
	free(copy);
	return yes;
}

static void found_records(buf *detail, char *const *records, size_t count, const char *expected)
{
	buf_puts(detail, "found ");
	for (size_t i = 0; i < count; i++)
		buf_printf(detail, "%s\"%s\"", i > 0 ? ", " : "", records[i]);
	buf_printf(detail, ", expected \"%s\"", expected);
}

static enum dns_verdict judge_spf(const struct dns_record *rec, const strlist *addresses,
				  char *const *records, size_t count, buf *detail)
{
	char *spf = NULL;
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		if (is_spf(records[i])) {
			spf = records[i];
			n++;
		}
	if (n == 0)
		return DNS_VERDICT_MISSING;
	if (n > 1) {
		found_records(detail, records, count, rec->value);
		buf_puts(detail, " (more than one SPF record is an error for every receiver, RFC 7208 4.5)");
		return DNS_VERDICT_DIFFERS;
	}
	const char *domain = rec->owner;
	char *bare = xasprintf("%.*s", (int)strlen(domain) - 1, domain);
	buf missing;
	buf_init(&missing);
	for (size_t i = 0; i < addresses->count; i++)
		if (!spf_authorizes(spf, bare, addresses->items[i]))
			buf_printf(&missing, "%s%s", missing.len > 0 ? ", " : "", addresses->items[i]);
	free(bare);
	bool further = strcasestr(spf, "include:") != NULL || strcasestr(spf, "redirect=") != NULL;
	enum dns_verdict v = missing.len == 0 || further ? DNS_VERDICT_OK : DNS_VERDICT_DIFFERS;
	if (v == DNS_VERDICT_OK)
		buf_printf(detail, "\"%s\"", spf);
	else
		found_records(detail, &spf, 1, rec->value);
	if (missing.len > 0)
		buf_printf(detail, v == DNS_VERDICT_OK ? " (%s not named outright; include and redirect "
							 "are not followed here)"
						       : " (it does not authorize %s)",
			   missing.data);
	buf_free(&missing);
	return v;
}

/* The p= of a DKIM record without the spaces base64 may have (RFC 6376 3.6.1). */
static void dkim_p(const char *record, buf *out)
{
	buf_clear(out);
	buf raw;
	buf_init(&raw);
	if (tag_value(record, "p", &raw))
		for (size_t i = 0; i < raw.len; i++)
			if (!isspace((unsigned char)raw.data[i]))
				buf_putc(out, raw.data[i]);
	buf_free(&raw);
}

static enum dns_verdict judge_dkim(const struct dns_record *rec, char *const *records, size_t count,
				   buf *detail)
{
	buf want, have;
	buf_init(&want);
	buf_init(&have);
	dkim_p(rec->value, &want);
	size_t match = count;
	for (size_t i = 0; i < count && match == count; i++) {
		dkim_p(records[i], &have);
		if (strcmp(have.data, want.data) == 0)
			match = i;
	}
	buf_free(&want);
	buf_free(&have);
	if (match < count) {
		buf_printf(detail, "\"%s\"", records[match]);
		return DNS_VERDICT_OK;
	}
	found_records(detail, records, count, rec->value);
	buf_puts(detail, " (another key: receivers cannot verify the signatures)");
	return DNS_VERDICT_DIFFERS;
}

/* The records of a kind (first tag v=version); one of them must pass valid (NULL: any), and
 * DMARC and MTA-STS take no more than one (RFC 7489 6.6.3, RFC 8461 3.1). */
static enum dns_verdict judge_tagged(const struct dns_record *rec, char *const *records,
				     size_t count, const char *version, const char *tag,
				     const char *const *allowed, buf *detail)
{
	char *const *found = NULL;
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		if (has_version(records[i], version)) {
			found = found != NULL ? found : &records[i];
			n++;
		}
	if (n == 0)
		return DNS_VERDICT_MISSING;
	buf value;
	buf_init(&value);
	bool valid = n == 1 && tag_value(*found, tag, &value) && value.len > 0;
	for (size_t i = 0; valid && allowed != NULL; i++) {
		if (allowed[i] == NULL)
			valid = false;
		else if (strcmp(allowed[i], value.data) == 0)
			break;
	}
	buf_free(&value);
	if (valid) {
		buf_printf(detail, "\"%s\"", *found);
		return DNS_VERDICT_OK;
	}
	found_records(detail, records, count, rec->value);
	if (n > 1)
		buf_puts(detail, " (receivers ignore them all when there is more than one)");
	return DNS_VERDICT_DIFFERS;
}

enum dns_verdict dns_judge_txt(const struct dns_record *rec, const strlist *addresses,
			       char *const *records, size_t count, buf *detail)
{
	static const char *const policies[] = { "none", "quarantine", "reject", NULL };
	buf id;
	buf_init(&id);
	const char *ids[2] = { NULL, NULL };
	enum dns_verdict v = DNS_VERDICT_MISSING;
	switch (count > 0 ? rec->check : CHECK_NONE) {
	case CHECK_SPF:
		v = judge_spf(rec, addresses, records, count, detail);
		break;
	case CHECK_DKIM:
		v = judge_dkim(rec, records, count, detail);
		break;
	case CHECK_DMARC:
		v = judge_tagged(rec, records, count, "DMARC1", "p", policies, detail);
		break;
	case CHECK_STS:
		tag_value(rec->value, "id", &id);
		ids[0] = id.data;
		v = judge_tagged(rec, records, count, "STSv1", "id", ids, detail);
		break;
	case CHECK_TLSRPT:
		v = judge_tagged(rec, records, count, "TLSRPTv1", "rua", NULL, detail);
		break;
	default:
		break;
	}
	buf_free(&id);
	return v;
}
