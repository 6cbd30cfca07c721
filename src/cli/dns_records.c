/* The records to publish; see dns_records.h. The choices each comment explains are those a
 * new domain should start with; the administrator may tighten them later. */
#include "cli/dns_records.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/digest.h"
#include "core/xalloc.h"
#include "mail/dkim_key.h"
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Documentation addresses (RFC 5737, RFC 3849) where the public ones are not known. */
#define PLACEHOLDER_V4 "192.0.2.1"
#define PLACEHOLDER_V6 "2001:db8::1"
#define CA_DOMAIN "letsencrypt.org"

static struct dns_record *add(struct dns_records *r, char *comment, char *owner, const char *type,
			      char *data, enum dns_check_kind check, char *value)
{
	r->items = xrealloc(r->items, (r->count + 1) * sizeof(*r->items));
	struct dns_record *rec = &r->items[r->count++];
	*rec = (struct dns_record){ comment, owner, type, data, NULL, false, check, value, 0 };
	return rec;
}

static char *txt_data(const char *text)
{
	buf b;
	buf_init(&b);
	dkim_txt_strings(text, &b);
	return buf_steal(&b);
}

static void add_txt(struct dns_records *r, char *comment, char *owner, enum dns_check_kind check,
		    char *text)
{
	add(r, comment, owner, "TXT", txt_data(text), check, text);
}

static bool is_v6(const char *ip)
{
	return strchr(ip, ':') != NULL;
}

/* The A and AAAA records of name: the server's addresses, or a placeholder of each family
 * marked as one. */
static void add_addresses(struct dns_records *r, const char *name, char *comment, bool commented)
{
	const strlist *a = &r->addresses;
	for (size_t i = 0; i < a->count; i++) {
		/* The policy host's addresses may be another's: any address of it will do. */
		struct dns_record *rec = add(r, i == 0 ? comment : NULL, xasprintf("%s.", name),
					     is_v6(a->items[i]) ? "AAAA" : "A", xstrdup(a->items[i]),
					     commented && i > 0 ? CHECK_NONE : CHECK_ADDRESS,
					     commented ? NULL : xstrdup(a->items[i]));
		rec->commented = commented;
	}
	if (a->count > 0)
		return;
	struct dns_record *rec = add(r, comment, xasprintf("%s.", name), "A", xstrdup(PLACEHOLDER_V4),
				     CHECK_ADDRESS, NULL);
	rec->note = "placeholder: put the server's public IPv4 address here";
	rec->commented = commented;
	rec = add(r, NULL, xasprintf("%s.", name), "AAAA", xstrdup(PLACEHOLDER_V6), CHECK_NONE, NULL);
	rec->note = "placeholder: the public IPv6 address, or leave this line out";
	rec->commented = true;
}

static void add_mx_and_addresses(struct dns_records *r)
{
	add(r, xasprintf("Mail for %s goes to this server (RFC 5321 5.1).", r->domain),
	    xasprintf("%s.", r->domain), "MX", xasprintf("10 %s.", r->hostname), CHECK_MX,
	    xstrdup(r->hostname));
	char *comment = r->addresses.count > 0
				? xasprintf("The addresses of %s, where the MX leads (its PTR records, set by "
					    "the addresses' provider, should name it back).", r->hostname)
				: xasprintf("The addresses of %s, where the MX leads. The listen setting has "
					    "no public address (only loopback or every address): put the "
					    "server's public address in place of the placeholder below, or "
					    "run estafeta dns records %s --ip ADDRESS.",
					    r->hostname, r->domain);
	add_addresses(r, r->hostname, comment, false);
}

static void add_spf(struct dns_records *r)
{
	buf spf;
	buf_init(&spf);
	buf_puts(&spf, "v=spf1 mx");
	for (size_t i = 0; i < r->addresses.count; i++)
		buf_printf(&spf, " ip%c:%s", is_v6(r->addresses.items[i]) ? '6' : '4', r->addresses.items[i]);
	buf_puts(&spf, " -all");
	add_txt(r, xasprintf("SPF (RFC 7208): who may send mail from @%s. \"mx\": the hosts its MX "
			     "names, since this server sends from the addresses it receives on%s; "
			     "\"-all\": any other host fails, so forgers get no benefit of the doubt.",
			     r->domain, r->addresses.count > 0 ? " (and ip4:/ip6: name them outright)" : ""),
		xasprintf("%s.", r->domain), CHECK_SPF, buf_steal(&spf));
}

static void add_dkim(struct dns_records *r, const struct dkim_key_row *keys, size_t key_count)
{
	size_t added = 0;
	for (size_t i = 0; i < key_count; i++) {
		buf text;
		buf_init(&text);
		if (dkim_key_record_of_pem(keys[i].private_pem, &text) < 0) {
			cli_error("the key %s of %s in the store cannot be read; it is left out",
				  keys[i].selector, r->domain);
			buf_free(&text);
			continue;
		}
		add_txt(r, xasprintf("DKIM (RFC 6376): the public %s key of selector %s, which signs "
				     "mail from @%s.", keys[i].algorithm, keys[i].selector, r->domain),
			xasprintf("%s._domainkey.%s.", keys[i].selector, r->domain), CHECK_DKIM,
			buf_steal(&text));
		added++;
	}
	if (added == 0)
		add(r, xasprintf("DKIM: %s has no signing key yet. Make them with: estafeta dkim keygen "
				 "%s (then run this command again for their records).", r->domain, r->domain),
		    NULL, NULL, NULL, CHECK_NONE, NULL);
}

static void add_dmarc(struct dns_records *r)
{
	add_txt(r, xasprintf("DMARC (RFC 7489, RFC 9989): what receivers do with mail from @%s that "
			     "fails both SPF and DKIM, and where they send their daily reports. "
			     "p=quarantine (to Junk) to start, while the reports show whether all of "
			     "the domain's real mail passes; p=reject is the goal once it does.",
			     r->domain),
		xasprintf("_dmarc.%s.", r->domain), CHECK_DMARC,
		xasprintf("v=DMARC1; p=quarantine; rua=mailto:postmaster@%s", r->domain));
}

/* The policy (RFC 8461 3.2) in testing mode: receivers report failures (TLSRPT) but deliver
 * anyway, until the reports show every sender reaches us over TLS. */
static void add_mta_sts(struct dns_records *r)
{
	char *policy = xasprintf("version: STSv1\nmode: testing\nmx: %s\nmax_age: 604800\n", r->hostname);
	char hex[SHA256_HEX_SIZE];
	sha256_hex(policy, strlen(policy), hex);
	hex[16] = '\0'; /* the id changes with the policy; 64 bits tell versions apart */
	buf comment;
	buf_init(&comment);
	buf_printf(&comment, "MTA-STS (RFC 8461): senders that know it deliver to %s only over TLS "
			     "with a valid certificate. Serve this policy at https://mta-sts.%s/"
			     ".well-known/mta-sts.txt (mode testing: failures are reported but mail "
			     "is still delivered; make it enforce once the reports are clean). The id "
			     "below is a hash of the policy: publish the new one whenever the policy "
			     "changes.",
		   r->domain, r->domain);
	for (char *line = policy, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
		buf_printf(&comment, "\n  %.*s", (int)(nl - line), line);
	free(policy);
	add_txt(r, buf_steal(&comment), xasprintf("_mta-sts.%s.", r->domain), CHECK_STS,
		xasprintf("v=STSv1; id=%s", hex));
	char *host = xasprintf("mta-sts.%s", r->domain);
	add_addresses(r, host, xasprintf("The web server that serves the policy, with a certificate "
					 "for %s from a public CA (this server does not serve it):",
					 host),
		      true);
	free(host);
}

static void add_tlsrpt(struct dns_records *r)
{
	add_txt(r, xstrdup("TLS reporting (RFC 8460): where senders send their daily reports of TLS "
			   "successes and failures in reaching this server (what tells when MTA-STS "
			   "may enforce)."),
		xasprintf("_smtp._tls.%s.", r->domain), CHECK_TLSRPT,
		xasprintf("v=TLSRPTv1; rua=mailto:postmaster@%s", r->domain));
}

static void add_tlsa(struct dns_records *r, const char *tlsa_hash, const char *cert_problem)
{
	if (tlsa_hash == NULL) {
		add(r, xasprintf("DANE (RFC 7672): no TLSA record, %s.", cert_problem), NULL, NULL, NULL,
		    CHECK_NONE, NULL);
		return;
	}
	char *data = xasprintf("3 1 1 %s", tlsa_hash);
	add(r, xstrdup("DANE (RFC 7672): the SHA-256 of the certificate's public key (DANE-EE, "
		       "usage 3 1 1), for senders that validate DNSSEC; it holds while renewals "
		       "keep the key. Publish it only in a signed zone; before changing the key, "
		       "publish the new key's record beside this one."),
	    xasprintf("_25._tcp.%s.", r->hostname), "TLSA", data, CHECK_TLSA, xstrdup(data));
}

/* RFC 6186 and RFC 8314 5.1, most preferred (implicit TLS) first in each pair. */
static const struct {
	const char *service, *port_setting;
} srv_services[] = {
	{ "_submissions._tcp", "submissions.port" }, { "_submission._tcp", "submission.port" },
	{ "_imaps._tcp", "imaps.port" },             { "_imap._tcp", "imap.port" },
	{ "_pop3s._tcp", "pop3s.port" },             { "_pop3._tcp", "pop3.port" },
};

static void add_srv(struct dns_records *r, const struct config *cfg)
{
	size_t n = sizeof(srv_services) / sizeof(srv_services[0]);
	for (size_t i = 0; i < n; i++) {
		int port = (int)config_int(cfg, srv_services[i].port_setting);
		struct dns_record *rec = add(
			r, i == 0 ? xstrdup("Where mail programs find the server to send and read "
					    "mail (RFC 6186, RFC 8314), with the ports of the settings; "
					    "\"0 0 0 .\" says a service is not offered (its port is 0).")
				  : NULL,
			xasprintf("%s.%s.", srv_services[i].service, r->domain), "SRV",
			port != 0 ? xasprintf("0 1 %d %s.", port, r->hostname) : xstrdup("0 0 0 ."),
			CHECK_SRV, port != 0 ? xstrdup(r->hostname) : xstrdup("."));
		rec->port = port;
	}
}

static void add_client_names(struct dns_records *r)
{
	const char *names[] = { "autoconfig", "autodiscover" };
	for (size_t i = 0; i < 2; i++)
		add(r, i == 0 ? xstrdup("The names Thunderbird (autoconfig) and Outlook (autodiscover) "
					"try when setting up an account.")
			      : NULL,
		    xasprintf("%s.%s.", names[i], r->domain), "CNAME", xasprintf("%s.", r->hostname),
		    CHECK_CNAME, xstrdup(r->hostname));
}

static void add_caa(struct dns_records *r)
{
	add(r, xasprintf("CAA (RFC 8659): the one certificate authority that may issue certificates "
			 "for %s and its names; it names the CA the certificate comes from (Let's "
			 "Encrypt here): adjust it to yours.", r->domain),
	    xasprintf("%s.", r->domain), "CAA", xstrdup("0 issue \"" CA_DOMAIN "\""), CHECK_CAA,
	    xstrdup(CA_DOMAIN));
}

void dns_records_build(struct dns_records *out, const struct config *cfg, const char *domain,
		       const strlist *addresses, const struct dkim_key_row *keys, size_t key_count,
		       const char *tlsa_hash, const char *cert_problem)
{
	*out = (struct dns_records){ .domain = xstrdup(domain), .hostname = xstrdup(config_hostname(cfg)) };
	for (size_t i = 0; i < addresses->count; i++)
		strlist_add(&out->addresses, addresses->items[i]);
	add_mx_and_addresses(out);
	add_spf(out);
	add_dkim(out, keys, key_count);
	add_dmarc(out);
	add_mta_sts(out);
	add_tlsrpt(out);
	add_tlsa(out, tlsa_hash, cert_problem);
	add_srv(out, cfg);
	add_client_names(out);
	add_caa(out);
}

void dns_records_free(struct dns_records *r)
{
	for (size_t i = 0; i < r->count; i++) {
		free(r->items[i].comment);
		free(r->items[i].owner);
		free(r->items[i].data);
		free(r->items[i].value);
	}
	free(r->items);
	free(r->domain);
	free(r->hostname);
	strlist_free(&r->addresses);
}

/* One comment line: "; " then words up to the width; a line indented by two spaces (the
 * policy's) as it is. */
static void print_comment_line(FILE *out, const char *line, size_t len)
{
	enum { WIDTH = 96 };
	while (len > WIDTH && line[0] != ' ') {
		size_t cut = WIDTH;
		while (cut > 0 && line[cut] != ' ')
			cut--;
		if (cut == 0)
			break;
		fprintf(out, "; %.*s\n", (int)cut, line);
		line += cut + 1;
		len -= cut + 1;
	}
	fprintf(out, "; %.*s\n", (int)len, line);
}

void dns_records_print(const struct dns_records *r, FILE *out)
{
	fprintf(out, "; The DNS records of %s for the mail server %s (zone-file lines).\n", r->domain,
		r->hostname);
	for (size_t i = 0; i < r->count; i++) {
		const struct dns_record *rec = &r->items[i];
		if (rec->comment != NULL)
			fputc('\n', out);
		for (const char *line = rec->comment, *nl; line != NULL; line = nl != NULL ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			print_comment_line(out, line, nl != NULL ? (size_t)(nl - line) : strlen(line));
		}
		if (rec->owner != NULL)
			fprintf(out, "%s%s %d IN %s %s%s%s\n", rec->commented ? "; " : "", rec->owner,
				DNS_RECORD_TTL, rec->type, rec->data, rec->note != NULL ? " ; " : "",
				rec->note != NULL ? rec->note : "");
	}
}
