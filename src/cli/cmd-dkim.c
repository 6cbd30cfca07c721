/* estafeta dkim keygen|list|retire: the DKIM signing keys of local domains (RFC 6376), kept
 * in the store so every node signs with the same keys; the server reads them for each
 * outbound job (queue/outbound_dkim.c), so a new or retired key counts at once, without a
 * reload. keygen makes an Ed25519 key (RFC 8463) and an RSA-2048 key by default: receivers
 * that know Ed25519 check that one, the others the RSA one. verify checks the signatures of a
 * message as a receiver does (verify/dkim_verify.c), for an administrator testing their DNS
 * records or a message that failed elsewhere. */
#include "cli/admin.h"
#include "core/dns.h"
#include "core/xalloc.h"
#include "mail/address.h"
#include "mail/dkim_key.h"
#include "mail/header.h"
#include "mail/line_ends.h"
#include "verify/dkim_verify.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void format_time(time_t t, char out[32])
{
	struct tm tm;
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

/* "DOMAIN SELECTOR ALGORITHM CREATED STATE" (tab-separated), then, indented, the TXT record to
 * publish as a zone-file line. */
static int print_key(const struct dkim_key_row *k)
{
	buf record, strings;
	buf_init(&record);
	buf_init(&strings);
	int r = dkim_key_record_of_pem(k->private_pem, &record);
	char created[32], retired[32];
	format_time(k->created, created);
	format_time(k->retired, retired);
	printf("%s\t%s\t%s\t%s\t%s%s\n", k->domain, k->selector, k->algorithm, created,
	       k->retired != 0 ? "retired " : "active", k->retired != 0 ? retired : "");
	if (r == 0) {
		dkim_txt_strings(record.data, &strings);
		printf("\t%s._domainkey.%s. IN TXT %s\n", k->selector, k->domain, strings.data);
	} else {
		cli_error("the key %s of %s in the store cannot be read", k->selector, k->domain);
	}
	buf_free(&record);
	buf_free(&strings);
	return r == 0 ? 0 : 1;
}

/* A selector argument lower-cased; it is a domain name's labels (RFC 6376 3.1). NULL after an
 * error. */
static char *selector_arg(const char *arg)
{
	char *s = xstrdup(arg);
	for (char *p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!address_domain_valid(s, strlen(s), false) || strlen(s) > 63) {
		cli_error("\"%s\" is not a selector (letters, digits, hyphens and dots, at most 63)", arg);
		xfree(&s);
	}
	return s;
}

/* 0 when none of the selectors is taken for the domain, else 1 after saying which. */
static int selectors_free(struct store *st, const char *domain, char *const *selectors, size_t n)
{
	struct dkim_key_row *rows = NULL;
	size_t count = 0;
	char *error = NULL;
	int status = store_dkim_list(st, domain, false, &rows, &count, &error) < 0 ? cli_fail(error) : 0;
	for (size_t i = 0; i < count && status == 0; i++)
		for (size_t k = 0; k < n && status == 0; k++)
			if (strcmp(rows[i].selector, selectors[k]) == 0) {
				cli_error("%s already has a key with selector %s; choose another with "
					  "--selector", domain, selectors[k]);
				status = 1;
			}
	dkim_key_rows_free(rows, count);
	return status;
}

/* Makes and stores one key. 0, or 1 after an error. */
static int add_key(struct store *st, const char *domain, const char *selector,
		   enum dkim_algorithm alg, time_t now)
{
	EVP_PKEY *key = dkim_key_generate(alg);
	char *pem = key != NULL ? dkim_key_to_pem(key) : NULL;
	EVP_PKEY_free(key);
	if (pem == NULL) {
		cli_error("cannot make a %s key (OpenSSL failed)", dkim_algorithm_name(alg));
		return 1;
	}
	char *error = NULL;
	int r = store_dkim_add(st, domain, selector, dkim_algorithm_name(alg), pem, now, &error);
	OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	if (r < 0)
		return cli_fail(error);
	if (r == 0)
		cli_local_domain(st, domain); /* removed meanwhile: it says so */
	return r == 1 ? 0 : 1;
}

/* Prints the domain's keys with these selectors, as list does. */
static int print_selectors(struct store *st, const char *domain, char *const *selectors, size_t n)
{
	struct dkim_key_row *rows = NULL;
	size_t count = 0;
	char *error = NULL;
	int status = store_dkim_list(st, domain, false, &rows, &count, &error) < 0 ? cli_fail(error) : 0;
	for (size_t i = 0; i < count; i++)
		for (size_t k = 0; k < n; k++)
			if (strcmp(rows[i].selector, selectors[k]) == 0)
				status |= print_key(&rows[i]);
	dkim_key_rows_free(rows, count);
	return status;
}

/* dkim keygen DOMAIN [--algorithm ed25519|rsa [--selector S]]. The default selectors carry the
 * algorithm's letter and the day (UTC): e20261204 (Ed25519), r20261204 (RSA). */
static int dkim_keygen(struct cli *cli, int argc, char **argv, unsigned options)
{
	const char *selector_opt = cli->option_values[0], *alg_opt = cli->option_values[1];
	enum dkim_algorithm algs[2] = { DKIM_ED25519, DKIM_RSA };
	size_t n = 2;
	if (alg_opt != NULL && dkim_algorithm_parse(alg_opt, &algs[0]) < 0) {
		cli_error("unknown algorithm %s; use ed25519 or rsa", alg_opt);
		return 2;
	}
	if (alg_opt == NULL && selector_opt != NULL) {
		cli_error("--selector names one key: add --algorithm ed25519 or --algorithm rsa");
		return 2;
	}
	if (alg_opt != NULL)
		n = 1;
	char *domain = cli_domain(argv[0]);
	char *selectors[2] = { NULL, NULL };
	time_t now = time(NULL);
	struct tm tm;
	char day[16];
	strftime(day, sizeof(day), "%Y%m%d", gmtime_r(&now, &tm));
	for (size_t i = 0; i < n; i++)
		selectors[i] = selector_opt != NULL ? selector_arg(selector_opt)
						    : xasprintf("%c%s", algs[i] == DKIM_ED25519 ? 'e' : 'r', day);
	struct store *st = domain != NULL && selectors[0] != NULL ? cli_store(cli) : NULL;
	int status = st != NULL && cli_local_domain(st, domain) == 1 ? 0 : 1;
	if (status == 0)
		status = selectors_free(st, domain, selectors, n);
	for (size_t i = 0; i < n && status == 0; i++)
		status = add_key(st, domain, selectors[i], algs[i], now);
	if (status == 0)
		status = print_selectors(st, domain, selectors, n);
	if (status == 0)
		printf("Publish the TXT record%s above in DNS: receivers look the key up there. Mail "
		       "from %s is signed from now on.\n", n > 1 ? "s" : "", domain);
	free(domain);
	free(selectors[0]);
	free(selectors[1]);
	return status;
}

/* dkim list [DOMAIN] */
static int dkim_list(struct cli *cli, int argc, char **argv, unsigned options)
{
	char *domain = argc > 0 ? cli_domain(argv[0]) : NULL;
	struct store *st = argc == 0 || domain != NULL ? cli_store(cli) : NULL;
	struct dkim_key_row *rows = NULL;
	size_t count = 0;
	char *error = NULL;
	int status = st != NULL ? 0 : 1;
	if (st != NULL && store_dkim_list(st, domain, false, &rows, &count, &error) < 0)
		status = cli_fail(error);
	for (size_t i = 0; i < count; i++)
		status |= print_key(&rows[i]);
	dkim_key_rows_free(rows, count);
	free(domain);
	return status;
}

/* dkim retire DOMAIN SELECTOR */
static int dkim_retire(struct cli *cli, int argc, char **argv, unsigned options)
{
	char *domain = cli_domain(argv[0]);
	char *selector = domain != NULL ? selector_arg(argv[1]) : NULL;
	struct store *st = selector != NULL ? cli_store(cli) : NULL;
	char *error = NULL;
	int status = 1, r = st != NULL ? store_dkim_retire(st, domain, selector, time(NULL), &error) : 0;
	if (r < 0)
		cli_fail(error);
	else if (r == 0 && st != NULL)
		cli_error("%s has no active key with selector %s (estafeta dkim list %s shows its keys)",
			  domain, selector, domain);
	else if (r == 1)
		status = 0;
	if (r == 1)
		printf("%s of %s no longer signs. Keep its TXT record published for a week, so mail "
		       "already sent still verifies, then remove it.\n", selector, domain);
	free(domain);
	free(selector);
	return status;
}

/* Gives v the message on standard input as it is read, LF line ends made CRLF (a CR at the
 * end of a read waits for the next, which may bring its LF). A message without the empty line
 * is all header. */
static void stream_stdin(struct dkim_verify *v)
{
	buf raw, crlf, header;
	buf_init(&raw);
	buf_init(&crlf);
	buf_init(&header);
	bool in_header = true, eof = false;
	char chunk[65536];
	while (!eof) {
		size_t n = fread(chunk, 1, sizeof(chunk), stdin);
		eof = n < sizeof(chunk);
		buf_append(&raw, chunk, n);
		size_t take = !eof && raw.len > 0 && raw.data[raw.len - 1] == '\r' ? raw.len - 1 : raw.len;
		buf_clear(&crlf);
		line_ends_crlf(raw.data != NULL ? raw.data : "", take, &crlf);
		buf_consume(&raw, take);
		if (!in_header) {
			dkim_verify_body(v, crlf.data, crlf.len);
			continue;
		}
		buf_append(&header, crlf.data, crlf.len);
		size_t end = header_end(header.data != NULL ? header.data : "", header.len);
		if (end == 0 && eof) {
			buf_append(&header, "\r\n", 2);
			end = header.len;
		}
		if (end > 0) {
			dkim_verify_header(v, header.data, end);
			dkim_verify_body(v, header.data + end, header.len - end);
			in_header = false;
		}
	}
	buf_free(&raw);
	buf_free(&crlf);
	buf_free(&header);
}

static void verify_done(void *arg)
{
	event_base_loopbreak(arg);
}

/* One line per signature, as Authentication-Results names the properties (RFC 8601 2.7.1). */
static void print_result(const struct dkim_signature_result *r)
{
	printf("dkim=%s header.d=%s header.s=%s header.a=%s (", dkim_result_name(r->result), r->domain,
	       r->selector, r->algorithm);
	if (r->reason != NULL)
		printf("%s", r->reason);
	else
		printf("%u-bit key", r->key_bits);
	printf("%s)\n", r->partial_body ? "; l= leaves part of the body unsigned" : "");
}

/* dkim verify [--resolver IP:PORT] < MESSAGE */
static int dkim_verify_stdin(struct cli *cli, int argc, char **argv, unsigned options)
{
	const char *resolver = cli->option_values[0] != NULL ? cli->option_values[0] : "";
	struct event_base *base = event_base_new();
	char *error = NULL;
	struct dns *d = base != NULL ? dns_new(base, resolver, &error) : NULL;
	if (d == NULL) {
		cli_error("%s; give --resolver IP or IP:PORT", error != NULL ? error : "cannot make an event loop");
		free(error);
		if (base != NULL)
			event_base_free(base);
		return 2;
	}
	struct dkim_verify *v = dkim_verify_new(d, time(NULL));
	stream_stdin(v);
	dkim_verify_finish(v, verify_done, base);
	event_base_dispatch(base);
	const struct dkim_signature_result *results;
	size_t count = dkim_verify_results(v, &results);
	for (size_t i = 0; i < count; i++)
		print_result(&results[i]);
	if (count == 0)
		printf("dkim=none\n");
	dkim_verify_free(&v);
	dns_free(&d);
	event_base_free(base);
	return 0;
}

static const struct cli_subcommand dkim_commands[] = {
	{ "keygen", "DOMAIN [--algorithm ed25519|rsa [--selector S]]", 1, 1, "--selector= --algorithm=",
	  dkim_keygen },
	{ "list", "[DOMAIN]", 0, 1, NULL, dkim_list },
	{ "retire", "DOMAIN SELECTOR", 2, 2, NULL, dkim_retire },
	{ "verify", "[--resolver IP:PORT] < MESSAGE", 0, 0, "--resolver=", dkim_verify_stdin },
};

int cmd_dkim(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, dkim_commands,
				  sizeof(dkim_commands) / sizeof(dkim_commands[0]));
}
