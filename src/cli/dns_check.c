/* The lookups of estafeta dns check; see dns_check.h. Every lookup starts at once on the
 * loop; each answer writes its lines into its record's slot, so they come out in the
 * records' order however the answers arrive. */
#include "cli/dns_check.h"
#include "cli/dns_txt_judge.h"
#include "cli/cli.h"
#include "core/dns.h"
#include "core/xalloc.h"
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct checker {
	const struct dns_records *recs;
	struct dns *dns;
	strlist *lines; /* one list per record */
	int pending;
	bool all_ok;
};

struct lookup {
	struct checker *ck;
	size_t slot;
	const struct dns_record *rec;
	char *name;      /* the owner without its trailing dot */
	char *ip;        /* a PTR lookup's address */
	bool leads_back; /* a PTR lookup's: the hostname's addresses hold ip */
};

static const char *const verdict_words[] = { "ok", "missing", "differs", "error" };

static void say(struct lookup *l, enum dns_verdict v, const char *name, const char *type,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void say(struct lookup *l, enum dns_verdict v, const char *name, const char *type,
		const char *fmt, ...)
{
	buf line;
	buf_init(&line);
	buf_printf(&line, "%-7s %s %s: ", verdict_words[v], name, type);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	strlist_add_owned(&l->ck->lines[l->slot], buf_steal(&line));
	if (v != DNS_VERDICT_OK)
		l->ck->all_ok = false;
}

/* A lookup's end, other than found or not: the record is missing, or the lookup failed. */
static void say_not_found(struct lookup *l, enum dns_status status)
{
	if (status == DNS_TEMPFAIL)
		say(l, DNS_VERDICT_FAILED, l->name, l->rec->type,
		    "the lookup failed (no answer, or a server failure); try again");
	else
		say(l, DNS_VERDICT_MISSING, l->name, l->rec->type, "publish %s", l->rec->data);
}

static struct lookup *lookup_new(struct checker *ck, size_t slot, const struct dns_record *rec)
{
	struct lookup *l = xcalloc(1, sizeof(*l));
	l->ck = ck;
	l->slot = slot;
	l->rec = rec;
	l->name = xasprintf("%.*s", (int)strlen(rec->owner) - 1, rec->owner);
	ck->pending++;
	return l;
}

static void lookup_done(struct lookup *l)
{
	l->ck->pending--;
	free(l->name);
	free(l->ip);
	free(l);
}

/* Host names compare without case and without the root's dot; "" and "." are the root. */
static bool same_host(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la > 0 && a[la - 1] == '.';
	lb -= lb > 0 && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

static void found_and_expected(buf *found, const char *expected, struct lookup *l)
{
	say(l, DNS_VERDICT_DIFFERS, l->name, l->rec->type, "found %s, expected \"%s\"", found->data,
	    expected);
}

static void on_mx(enum dns_status status, const unsigned char *answer, int len, void *arg)
{
	struct lookup *l = arg;
	struct ares_mx_reply *mx = NULL;
	if (status == DNS_OK && ares_parse_mx_reply(answer, len, &mx) != ARES_SUCCESS)
		status = DNS_NO_DATA;
	buf found;
	buf_init(&found);
	const struct ares_mx_reply *match = NULL;
	for (const struct ares_mx_reply *m = mx; m != NULL; m = m->next) {
		buf_printf(&found, "%s\"%u %s.\"", found.len > 0 ? ", " : "", m->priority, m->host);
		if (match == NULL && same_host(m->host, l->rec->value))
			match = m;
	}
	if (status != DNS_OK)
		say_not_found(l, status);
	else if (match != NULL)
		say(l, DNS_VERDICT_OK, l->name, "MX", "%u %s.", match->priority, match->host);
	else
		found_and_expected(&found, l->rec->data, l);
	buf_free(&found);
	if (mx != NULL)
		ares_free_data(mx);
	lookup_done(l);
}

static void on_ptr(enum dns_status status, char *const *names, size_t count, void *arg)
{
	struct lookup *l = arg;
	const char *host = l->ck->recs->hostname;
	char ptr[DNS_PTR_NAME_MAX];
	dns_ptr_name(l->ip, ptr);
	bool named = false;
	buf found;
	buf_init(&found);
	for (size_t i = 0; i < count; i++) {
		named |= same_host(names[i], host);
		buf_printf(&found, "%s\"%s.\"", i > 0 ? ", " : "", names[i]);
	}
	if (status == DNS_TEMPFAIL)
		say(l, DNS_VERDICT_FAILED, ptr, "PTR", "the lookup failed (no answer, or a server failure); try again");
	else if (status != DNS_OK)
		say(l, DNS_VERDICT_MISSING, ptr, "PTR",
		    "ask the provider of %s to set it to %s. (many receivers refuse mail from an address "
		    "without one)", l->ip, host);
	else if (named && l->leads_back)
		say(l, DNS_VERDICT_OK, ptr, "PTR", "%s. (and its address leads back: FCrDNS)", host);
	else if (named)
		say(l, DNS_VERDICT_DIFFERS, ptr, "PTR", "%s., whose addresses do not hold %s (publish its "
		    "address record above)", host, l->ip);
	else
		say(l, DNS_VERDICT_DIFFERS, ptr, "PTR", "found %s, expected \"%s.\" (ask the provider of "
		    "%s to change it)", found.data, host, l->ip);
	buf_free(&found);
	lookup_done(l);
}

static void check_ptr(struct lookup *from, const char *ip, bool leads_back)
{
	struct lookup *l = lookup_new(from->ck, from->slot, from->rec);
	l->ip = xstrdup(ip);
	l->leads_back = leads_back;
	dns_query_ptr(l->ck->dns, ip, on_ptr, l);
}

static void address_text(const struct ares_addrinfo_node *a, char out[INET6_ADDRSTRLEN])
{
	const void *bin = a->ai_family == AF_INET
				  ? (const void *)&((const struct sockaddr_in *)a->ai_addr)->sin_addr
				  : (const void *)&((const struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
	inet_ntop(a->ai_family, bin, out, INET6_ADDRSTRLEN);
}

/* An address record: the value must be among the name's addresses of its family; a
 * placeholder (no value) takes any address. For the hostname, the PTR of each address follows. */
static void on_addresses(enum dns_status status, struct ares_addrinfo *res, void *arg)
{
	struct lookup *l = arg;
	const struct dns_record *rec = l->rec;
	bool ours = !rec->commented && same_host(l->name, l->ck->recs->hostname);
	int family = strcmp(rec->type, "AAAA") == 0 ? AF_INET6 : AF_INET;
	buf found;
	buf_init(&found);
	for (const struct ares_addrinfo_node *a = res != NULL ? res->nodes : NULL; a != NULL; a = a->ai_next) {
		char text[INET6_ADDRSTRLEN];
		if (a->ai_family != family && rec->value != NULL)
			continue;
		address_text(a, text);
		buf_printf(&found, "%s\"%s\"", found.len > 0 ? ", " : "", text);
		if (rec->value == NULL && ours)
			check_ptr(l, text, true);
	}
	bool has = rec->value != NULL && dns_addrinfo_has(res, rec->value);
	const char *type = rec->value != NULL ? rec->type : "A/AAAA";
	if (status == DNS_TEMPFAIL)
		say_not_found(l, status);
	else if (found.len == 0 && rec->value == NULL)
		say(l, DNS_VERDICT_MISSING, l->name, type, "publish the server's public address");
	else if (found.len == 0)
		say_not_found(l, DNS_NO_DATA);
	else if (rec->value == NULL)
		say(l, DNS_VERDICT_OK, l->name, type, "%s", found.data);
	else if (has)
		say(l, DNS_VERDICT_OK, l->name, type, "%s", rec->value);
	else
		found_and_expected(&found, rec->value, l);
	if (rec->value != NULL && ours && status != DNS_TEMPFAIL)
		check_ptr(l, rec->value, has);
	buf_free(&found);
	if (res != NULL)
		ares_freeaddrinfo(res);
	lookup_done(l);
}

static void on_txt(enum dns_status status, char *const *records, size_t count, void *arg)
{
	struct lookup *l = arg;
	buf detail;
	buf_init(&detail);
	enum dns_verdict v = status == DNS_OK ? dns_judge_txt(l->rec, &l->ck->recs->addresses, records,
							       count, &detail)
					      : DNS_VERDICT_MISSING;
	if (v == DNS_VERDICT_MISSING)
		say_not_found(l, status == DNS_OK ? DNS_NO_DATA : status);
	else
		say(l, v, l->name, "TXT", "%s", detail.data);
	buf_free(&detail);
	lookup_done(l);
}

/* TLSA (RFC 6698 2.1): usage, selector, matching type, then the data, compared in hex. */
static void on_tlsa(enum dns_status status, const unsigned char *answer, int len, void *arg)
{
	struct lookup *l = arg;
	const unsigned char *rdata;
	int rdlen;
	buf found;
	buf_init(&found);
	bool match = false;
	for (size_t i = 0; status == DNS_OK && dns_answer_rdata(answer, len, 52, i, &rdata, &rdlen); i++) {
		if (rdlen < 3)
			continue;
		buf one;
		buf_init(&one);
		buf_printf(&one, "%u %u %u ", rdata[0], rdata[1], rdata[2]);
		for (int k = 3; k < rdlen; k++)
			buf_printf(&one, "%02x", rdata[k]);
		match |= strcasecmp(one.data, l->rec->value) == 0;
		buf_printf(&found, "%s\"%s\"", found.len > 0 ? ", " : "", one.data);
		buf_free(&one);
	}
	if (status == DNS_OK && found.len == 0)
		status = DNS_NO_DATA;
	if (status != DNS_OK)
		say_not_found(l, status);
	else if (match)
		say(l, DNS_VERDICT_OK, l->name, "TLSA", "%s (the current certificate's key)", l->rec->value);
	else
		found_and_expected(&found, l->rec->value, l);
	buf_free(&found);
	lookup_done(l);
}

/* SRV (RFC 2782): priority and weight are the administrator's choice; port and target are
 * what clients use. */
static void on_srv(enum dns_status status, const unsigned char *answer, int len, void *arg)
{
	struct lookup *l = arg;
	struct ares_srv_reply *srv = NULL;
	if (status == DNS_OK && ares_parse_srv_reply(answer, len, &srv) != ARES_SUCCESS)
		status = DNS_NO_DATA;
	buf found;
	buf_init(&found);
	const struct ares_srv_reply *match = NULL;
	bool offered = !same_host(l->rec->value, ".");
	for (const struct ares_srv_reply *s = srv; s != NULL; s = s->next) {
		buf_printf(&found, "%s\"%u %u %u %s.\"", found.len > 0 ? ", " : "", s->priority, s->weight,
			   s->port, s->host);
		/* the target "." says "not offered", whatever the port (RFC 2782) */
		if (match == NULL && same_host(s->host, l->rec->value) && (!offered || s->port == l->rec->port))
			match = s;
	}
	if (status != DNS_OK)
		say_not_found(l, status);
	else if (match != NULL)
		say(l, DNS_VERDICT_OK, l->name, "SRV", "%u %u %u %s.%s", match->priority, match->weight,
		    match->port, match->host, offered ? "" : " (not offered)");
	else
		found_and_expected(&found, l->rec->data, l);
	buf_free(&found);
	if (srv != NULL)
		ares_free_data(srv);
	lookup_done(l);
}

static void on_cname(enum dns_status status, const unsigned char *answer, int len, void *arg)
{
	struct lookup *l = arg;
	const unsigned char *rdata;
	int rdlen;
	char *target = NULL;
	long enclen;
	if (status == DNS_OK && (!dns_answer_rdata(answer, len, ns_t_cname, 0, &rdata, &rdlen) ||
				 ares_expand_name(rdata, answer, len, &target, &enclen) != ARES_SUCCESS))
		status = DNS_NO_DATA;
	if (status != DNS_OK)
		say_not_found(l, status);
	else if (same_host(target, l->rec->value))
		say(l, DNS_VERDICT_OK, l->name, "CNAME", "%s.", target);
	else
		say(l, DNS_VERDICT_DIFFERS, l->name, "CNAME", "found \"%s.\", expected \"%s\"", target,
		    l->rec->data);
	if (target != NULL)
		ares_free_string(target);
	lookup_done(l);
}

/* CAA (RFC 8659 4): any issue property will do (the certificate may come from another CA);
 * the expected one is said when it is there. */
static void on_caa(enum dns_status status, const unsigned char *answer, int len, void *arg)
{
	struct lookup *l = arg;
	struct ares_caa_reply *caa = NULL;
	if (status == DNS_OK && ares_parse_caa_reply(answer, len, &caa) != ARES_SUCCESS)
		status = DNS_NO_DATA;
	buf issuers;
	buf_init(&issuers);
	bool ours = false;
	for (const struct ares_caa_reply *c = caa; c != NULL; c = c->next) {
		if (strcasecmp((const char *)c->property, "issue") != 0)
			continue;
		const char *value = (const char *)c->value;
		size_t n = strcspn(value, "; ");
		ours |= n == strlen(l->rec->value) && strncasecmp(value, l->rec->value, n) == 0;
		buf_printf(&issuers, "%s%u issue \"%s\"", issuers.len > 0 ? ", " : "", c->critical, value);
	}
	if (status == DNS_OK && issuers.len == 0)
		status = DNS_NO_DATA;
	if (status != DNS_OK)
		say_not_found(l, status);
	else
		say(l, DNS_VERDICT_OK, l->name, "CAA", "%s%s", issuers.data,
		    ours ? "" : " (another CA than the record above names: right when the certificate "
				"comes from it)");
	buf_free(&issuers);
	if (caa != NULL)
		ares_free_data(caa);
	lookup_done(l);
}

static void check_record(struct checker *ck, size_t slot)
{
	const struct dns_record *rec = &ck->recs->items[slot];
	if (rec->check == CHECK_NONE)
		return;
	struct lookup *l = lookup_new(ck, slot, rec);
	switch (rec->check) {
	case CHECK_MX:
		dns_query(ck->dns, l->name, ns_t_mx, on_mx, l);
		break;
	case CHECK_ADDRESS:
		dns_addresses(ck->dns, l->name, on_addresses, l);
		break;
	case CHECK_TLSA:
		dns_query(ck->dns, l->name, 52, on_tlsa, l);
		break;
	case CHECK_SRV:
		dns_query(ck->dns, l->name, ns_t_srv, on_srv, l);
		break;
	case CHECK_CNAME:
		dns_query(ck->dns, l->name, ns_t_cname, on_cname, l);
		break;
	case CHECK_CAA:
		dns_query(ck->dns, l->name, 257, on_caa, l);
		break;
	default:
		dns_query_txt(ck->dns, l->name, on_txt, l);
		break;
	}
}

int dns_check_records(const struct dns_records *recs, const char *resolvers, FILE *out)
{
	struct event_base *base = event_base_new();
	char *error = NULL;
	struct checker ck = { recs, base != NULL ? dns_new(base, resolvers, &error) : NULL,
			      xcalloc(recs->count, sizeof(strlist)), 0, true };
	if (ck.dns == NULL) {
		cli_error("%s (--resolver takes IP or IP:PORT)", error != NULL ? error : "no event loop");
		free(error);
		free(ck.lines);
		if (base != NULL)
			event_base_free(base);
		return 2;
	}
	for (size_t i = 0; i < recs->count; i++)
		check_record(&ck, i);
	while (ck.pending > 0)
		event_base_loop(base, EVLOOP_ONCE);
	for (size_t i = 0; i < recs->count; i++) {
		for (size_t k = 0; k < ck.lines[i].count; k++)
			fprintf(out, "%s\n", ck.lines[i].items[k]);
		strlist_free(&ck.lines[i]);
	}
	free(ck.lines);
	dns_free(&ck.dns);
	event_base_free(base);
	return ck.all_ok ? 0 : 1;
}
