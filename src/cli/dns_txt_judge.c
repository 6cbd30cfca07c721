/* The judging of TXT records; see dns_txt_judge.h. */
#include "cli/dns_txt_judge.h"
#include "core/dns.h"
#include "core/xalloc.h"
#include "mail/dkim_tags.h"
#include "mail/dmarc_record.h"
#include "mail/mta_sts.h"
#include "verify/spf_record.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The value of tag name in a tag-list record (RFC 6376 3.2: TLSRPT and MTA-STS records use
 * the same form), into out; false when it has none or the list cannot be read. */
static bool tag_value(const char *record, const char *name, buf *out)
{
	size_t len = strlen(record), pos = 0;
	struct dkim_tag t;
	while (dkim_tag_next(record, len, &pos, &t) == 1)
		if (t.name_len == strlen(name) && strncmp(t.name, name, t.name_len) == 0) {
			buf_clear(out);
			buf_append(out, t.value, t.value_len);
			return true;
		}
	return false;
}

/* Whether the record's first tag is v=version (TLSRPT records must start with it). */
static bool has_version(const char *record, const char *version)
{
	size_t pos = 0;
	struct dkim_tag t;
	return dkim_tag_next(record, strlen(record), &pos, &t) == 1 && t.name_len == 1 &&
	       t.name[0] == 'v' && t.value_len == strlen(version) &&
	       strncmp(t.value, version, t.value_len) == 0;
}

/* Whether ip lies in the term's ip4: or ip6: network. */
static bool in_network(const struct spf_term *t, const char *ip)
{
	unsigned char a[16];
	int n = dns_address_octets(ip, a);
	if (n != (t->mechanism == SPF_IP4 ? 4 : 16))
		return false;
	int bits = n == 4 ? t->cidr4 : t->cidr6;
	for (int i = 0; i < bits; i++)
		if (((a[i / 8] ^ t->network[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

/* Whether a term of the SPF record lets ip send for domain outright: mx or a (of the domain
 * itself; the MX and address lines judge where they lead), or an ip4:/ip6: network holding it. */
static bool spf_authorizes(const struct spf_record *r, const char *domain, const char *ip)
{
	for (size_t i = 0; i < r->count; i++) {
		const struct spf_term *t = &r->terms[i];
		if (t->qualifier != '+')
			continue;
		if ((t->mechanism == SPF_MX || t->mechanism == SPF_A) &&
		    (t->domain_spec == NULL || strcasecmp(t->domain_spec, domain) == 0))
			return true;
		if ((t->mechanism == SPF_IP4 || t->mechanism == SPF_IP6) && in_network(t, ip))
			return true;
	}
	return false;
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
		if (spf_record_is_spf(records[i])) {
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
	struct spf_record parsed;
	char *error = NULL;
	if (spf_record_parse(spf, &parsed, &error) < 0) {
		found_records(detail, &spf, 1, rec->value);
		buf_printf(detail, " (receivers cannot read it: %s)", error);
		free(error);
		return DNS_VERDICT_DIFFERS;
	}
	const char *domain = rec->owner;
	char *bare = xasprintf("%.*s", (int)strlen(domain) - 1, domain);
	buf missing;
	buf_init(&missing);
	for (size_t i = 0; i < addresses->count; i++)
		if (!spf_authorizes(&parsed, bare, addresses->items[i]))
			buf_printf(&missing, "%s%s", missing.len > 0 ? ", " : "", addresses->items[i]);
	free(bare);
	bool further = parsed.redirect != NULL;
	for (size_t i = 0; i < parsed.count; i++)
		further |= parsed.terms[i].mechanism == SPF_INCLUDE;
	spf_record_free(&parsed);
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

/* The key of a DKIM record, decoded (RFC 6376 3.6.1); empty when it has none or cannot be
 * read. */
static void dkim_p(const char *record, buf *out)
{
	struct dkim_key_tags key;
	const char *error;
	buf_clear(out);
	if (dkim_key_tags_parse(record, strlen(record), &key, &error) == 0)
		buf_append(out, key.key.data, key.key.len);
	dkim_key_tags_free(&key);
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
		if (have.len > 0 && have.len == want.len && memcmp(have.data, want.data, have.len) == 0)
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

/* The verdict on the n records of a kind found (found: the one judged): OK when it is the
 * only one and valid, else DIFFERS, saying why (invalid: what is wrong with it). */
static enum dns_verdict one_record(const struct dns_record *rec, char *const *records,
				   size_t count, char *const *found, size_t n, bool valid,
				   const char *invalid, buf *detail)
{
	if (n == 0)
		return DNS_VERDICT_MISSING;
	if (n == 1 && valid) {
		buf_printf(detail, "\"%s\"", *found);
		return DNS_VERDICT_OK;
	}
	found_records(detail, records, count, rec->value);
	if (n > 1)
		buf_puts(detail, " (they are all ignored when there is more than one)");
	else if (invalid != NULL)
		buf_printf(detail, " (%s)", invalid);
	return DNS_VERDICT_DIFFERS;
}

/* DMARC: one record as receivers read it, with a policy to apply (draft-ietf-dmarc-dmarcbis
 * 4.10: several records at one name are all ignored). */
static enum dns_verdict judge_dmarc(const struct dns_record *rec, char *const *records,
				    size_t count, buf *detail)
{
	size_t n = 0, valid = 0;
	char *const *found = NULL;
	for (size_t i = 0; i < count; i++) {
		struct dmarc_record r;
		if (dmarc_record_parse(records[i], &r) != 1)
			continue;
		n++;
		if (r.applies && found == NULL) {
			found = &records[i];
			valid++;
		}
		dmarc_record_free(&r);
	}
	return one_record(rec, records, count, found, n, valid == 1,
			  "no valid p=: receivers apply no policy", detail);
}

/* MTA-STS: the one record beginning with v=STSv1, valid as senders read it, with the id of
 * the policy printed (RFC 8461 3.1: senders fetch the policy again only when it changes). */
static enum dns_verdict judge_sts(const struct dns_record *rec, char *const *records,
				  size_t count, buf *detail)
{
	size_t n = 0;
	char *const *found = NULL;
	for (size_t i = 0; i < count; i++)
		if (strncmp(records[i], "v=STSv1", 7) == 0) {
			found = &records[i];
			n++;
		}
	char want[33], have[33];
	bool valid = n == 1 && mta_sts_record_id(rec->value, want) &&
		     mta_sts_record_id(*found, have) && strcmp(want, have) == 0;
	return one_record(rec, records, count, found, n, valid, NULL, detail);
}

/* TLSRPT (RFC 8460 3): one v=TLSRPTv1 record with a rua= to send reports to. */
static enum dns_verdict judge_tlsrpt(const struct dns_record *rec, char *const *records,
				     size_t count, buf *detail)
{
	char *const *found = NULL;
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		if (has_version(records[i], "TLSRPTv1")) {
			found = found != NULL ? found : &records[i];
			n++;
		}
	buf rua;
	buf_init(&rua);
	bool valid = n == 1 && tag_value(*found, "rua", &rua) && rua.len > 0;
	buf_free(&rua);
	return one_record(rec, records, count, found, n, valid, "no rua= to send reports to", detail);
}

enum dns_verdict dns_judge_txt(const struct dns_record *rec, const strlist *addresses,
			       char *const *records, size_t count, buf *detail)
{
	enum dns_verdict v = DNS_VERDICT_MISSING;
	switch (count > 0 ? rec->check : CHECK_NONE) {
	case CHECK_SPF:
		v = judge_spf(rec, addresses, records, count, detail);
		break;
	case CHECK_DKIM:
		v = judge_dkim(rec, records, count, detail);
		break;
	case CHECK_DMARC:
		v = judge_dmarc(rec, records, count, detail);
		break;
	case CHECK_STS:
		v = judge_sts(rec, records, count, detail);
		break;
	case CHECK_TLSRPT:
		v = judge_tlsrpt(rec, records, count, detail);
		break;
	default:
		break;
	}
	return v;
}
