/* The settings table and the config file reader and writer; see config.h. */
#include "core/config.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/xalloc.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event2/util.h>

/* Every setting estafeta reads. Keep it sorted by name. */
static const struct setting settings[] = {
	{ "arc.trusted_sealers", SET_LIST, "",
	  "forwarders (ARC sealer domains, the d= of their ARC-Seal) whose passing ARC chain saying "
	  "dmarc=pass lets a message that fails DMARC here be delivered as if it passed" },
	{ "auth.allow_plaintext_loopback", SET_BOOL, "yes",
	  "offer password authentication without TLS on loopback connections (for learning with telnet)" },
	{ "auth.failure_delay", SET_DURATION, "2s", "delay before answering a failed authentication" },
	{ "auth.failure_window", SET_DURATION, "15m",
	  "how long a failed login counts against its account and client address (after the pair's last failure)" },
	{ "auth.known_ip_time", SET_DURATION, "30d",
	  "how long an address (IPv6: its /64) an account logged in from stays exempt from auth.max_accounts_per_ip and auth.max_failures_per_account for it (in memory)" },
	{ "auth.max_accounts_per_ip", SET_INT, "5",
	  "accounts with failed logins from one client address (IPv6: its /64) within auth.failure_window before logins for further accounts from it are refused (0: no limit)" },
	{ "auth.max_failures", SET_INT, "3", "failed authentications before the connection is closed" },
	{ "auth.max_failures_per_account", SET_INT, "30",
	  "failed logins for one account from all addresses within auth.failure_window before it is refused from addresses it has not logged in from lately (0: no limit)" },
	{ "auth.max_failures_per_ip_account", SET_INT, "10",
	  "failed logins for one account from one client address (IPv6: its /64) within auth.failure_window before that account is refused from it (0: no limit)" },
	{ "auth.min_password_length", SET_INT, "10",
	  "fewest characters of a password that user add and user passwd accept" },
	{ "auth.trusted_networks", SET_NETWORKS, "",
	  "client networks (CIDR, IPv4 or IPv6, comma-separated) whose failed logins are neither counted nor refused, such as a webmail host" },
	{ "data_dir", SET_PATH, ".", "folder for the database, message files and queue" },
	{ "delivery.recipient_delimiter", SET_STRING, "+",
	  "characters that start an address extension (alice+tag@ goes to alice@); empty disables" },
	{ "dmarc.enforce", SET_CHOICE, "quarantine",
	  "what a message failing its author's DMARC policy gets: quarantine (p=quarantine and "
	  "p=reject go to Junk), reject (p=reject answered 550 5.7.1, p=quarantine to Junk) or none" },
	{ "dns.resolvers", SET_SOCKETS, "",
	  "DNS servers for outbound mail and the checks of port 25's clients, IP or IP:port (default: those of /etc/resolv.conf)" },
	{ "hostname", SET_STRING, "", "this server's name in greetings, Received lines and Authentication-Results (default: the system's)" },
	{ "imap.command_timeout", SET_DURATION, "1m",
	  "time one IMAP command line may take from its first octet to its end, however steadily it trickles in" },
	{ "imap.login_timeout", SET_DURATION, "1m", "time an IMAP client has from connecting to log in (LOGIN or AUTHENTICATE)" },
	{ "imap.max_connections", SET_INT, "1000", "simultaneous IMAP connections in all" },
	{ "imap.max_connections_per_ip", SET_INT, "50", "simultaneous IMAP connections from one client address" },
	{ "imap.max_line_length", SET_INT, "65536",
	  "longest IMAP command line after login, literals apart (RFC 7162 4 asks for 8192 at least; before login at most 8192); a longer one is answered BAD" },
	{ "imap.max_login_connections", SET_INT, "900",
	  "IMAP connections not logged in yet; past it the oldest of them is dropped, so the rest of max_connections stays for users who logged in" },
	{ "imap.port", SET_PORT, "143", "port for IMAP, STARTTLS then login (0 disables)" },
	{ "imap.timeout", SET_DURATION, "30m",
	  "idle time allowed between IMAP commands, IDLE included (RFC 3501 5.4: at least 30 minutes)" },
	{ "imaps.port", SET_PORT, "993", "port for IMAP over implicit TLS (0 disables)" },
	{ "listen", SET_IPS, "127.0.0.1", "addresses every listener binds" },
	{ "log.file", SET_PATH, "", "file the log is appended to (default: standard error)" },
	{ "log.level", SET_LOG_LEVEL, "info", "lowest level logged: debug, info, warn or error" },
	{ "outbound.max_connections_per_domain", SET_INT, "10",
	  "simultaneous outbound SMTP connections to one destination domain" },
	{ "outbound.mta_sts_port", SET_PORT, "443",
	  "port of the HTTPS servers MTA-STS policies are fetched from (only tests change it)" },
	{ "outbound.port", SET_PORT, "25", "port used to reach MX hosts (only tests change it)" },
	{ "outbound.tls_ca_file", SET_PATH, "",
	  "CA certificates (PEM) that MTA-STS policy hosts and the MX hosts of enforced policies "
	  "must chain to (default: the system's); read at start" },
	{ "pop3.command_timeout", SET_DURATION, "1m",
	  "time one POP3 command line may take from its first octet to its end, however steadily it trickles in" },
	{ "pop3.login_timeout", SET_DURATION, "1m", "time a POP3 client has from connecting to log in (USER/PASS, APOP or AUTH)" },
	{ "pop3.max_connections", SET_INT, "1000", "simultaneous POP3 connections in all" },
	{ "pop3.max_connections_per_ip", SET_INT, "50", "simultaneous POP3 connections from one client address" },
	{ "pop3.max_login_connections", SET_INT, "900",
	  "POP3 connections not logged in yet; past it the oldest of them is dropped, so the rest of max_connections stays for users who logged in" },
	{ "pop3.port", SET_PORT, "110", "port for POP3, STLS then login (0 disables)" },
	{ "pop3.timeout", SET_DURATION, "10m", "idle time allowed between POP3 commands (RFC 1939 3: at least 10 minutes)" },
	{ "pop3s.port", SET_PORT, "995", "port for POP3 over implicit TLS (0 disables)" },
	{ "queue.delay_warning", SET_DURATION, "4h",
	  "tell the sender when a message is still undelivered after this long (0: never)" },
	{ "queue.max_age", SET_DURATION, "5d", "how long a message is retried before it bounces" },
	{ "queue.retry_schedule", SET_DURATIONS, "5m,10m,20m,40m,80m,160m,4h",
	  "waits between delivery attempts; the last one repeats" },
	{ "quota.exclude_trash_junk", SET_BOOL, "no",
	  "messages in the Trash and Junk folders do not count against an account's quota (estafeta user quota)" },
	{ "quota.permanent_failure", SET_BOOL, "no",
	  "SMTP mail for an account over its quota gets 552 5.2.2, a permanent failure, instead of 452 4.2.2 (the sender's server retries)" },
	{ "relayhost", SET_HOSTPORT, "",
	  "send all outbound mail through this host, [host]:port or host:port (default: by MX)" },
	{ "relayhost.password", SET_STRING, "",
	  "password for AUTH PLAIN at the relayhost (better: relayhost.password_file)" },
	{ "relayhost.password_file", SET_PATH, "",
	  "file holding the relayhost password (first line), readable by root and the run_as group only" },
	{ "relayhost.username", SET_STRING, "",
	  "user name for AUTH PLAIN at the relayhost (sent only over TLS); empty: no AUTH" },
	{ "run_as", SET_STRING, "estafeta",
	  "user the server becomes after binding its ports when started as root (never root)" },
	{ "sendmail.corrupt_max_age", SET_DURATION, "7d",
	  "how long a maildrop file that breaks the format is kept as .corrupt.NAME for inspection" },
	{ "sendmail.origin", SET_STRING, "",
	  "domain of mail from local programs (estafeta sendmail): it follows login names and unqualified recipients (default: hostname)" },
	{ "sendmail.trusted_users", SET_LIST, "",
	  "local users (besides root) whose sendmail -f may name any envelope sender; others' -f is replaced by their own address" },
	{ "smtp.checks", SET_BOOL, "yes",
	  "check the mail of port 25's clients: reverse DNS, HELO, SPF, DKIM and DMARC, written in "
	  "Authentication-Results (no: none of them, for a server behind a filter that checks)" },
	{ "smtp.command_timeout", SET_DURATION, "1m",
	  "time one SMTP command line may take from its first octet to its end, however steadily it trickles in" },
	{ "smtp.etrn_domains", SET_LIST, "",
	  "domains (with their subdomains) whose queued mail a client may release with ETRN; others get 459" },
	{ "smtp.etrn_max_per_ip", SET_INT, "10", "ETRN requests one client address may make in each smtp.etrn_window; past it 458" },
	{ "smtp.etrn_window", SET_DURATION, "1h", "the window smtp.etrn_max_per_ip counts in" },
	{ "smtp.expn", SET_BOOL, "no", "answer EXPN for distribution lists (otherwise 502)" },
	{ "smtp.login_timeout", SET_DURATION, "1m", "time an SMTP client has from connecting to authenticate or, on port 25, begin a mail transaction (MAIL)" },
	{ "smtp.max_connections", SET_INT, "1000", "simultaneous SMTP connections in all" },
	{ "smtp.max_connections_per_ip", SET_INT, "50", "simultaneous SMTP connections from one client address" },
	{ "smtp.max_header_size", SET_SIZE, "1M", "largest header section of a message" },
	{ "smtp.max_line_length", SET_INT, "998", "longest line of a message, without CRLF (RFC 5322 2.1.1)" },
	{ "smtp.max_login_connections", SET_INT, "900",
	  "SMTP connections not logged in yet (no AUTH, and on port 25 no MAIL yet); past it the oldest of them is dropped, so the rest of max_connections stays for users who logged in" },
	{ "smtp.max_message_size", SET_SIZE, "50M", "largest message accepted, announced with SIZE" },
	{ "smtp.max_recipients", SET_INT, "1000", "recipients per message (RFC 5321 asks for at least 100)" },
	{ "smtp.port", SET_PORT, "25", "port for mail from other servers (0 disables)" },
	{ "smtp.timeout", SET_DURATION, "5m", "idle time allowed while waiting for a command or data (RFC 5321 4.5.3.2)" },
	{ "store.workers", SET_INT, "4",
	  "threads that run the store calls of IMAP sessions, each with its own database connection, so a slow command never holds up the others (at least 1)" },
	{ "submission.allow_foreign_from", SET_BOOL, "no",
	  "accept submitted mail whose From or Sender names an address the authenticated user does not own (otherwise 553 5.7.1)" },
	{ "submission.authenticated_header", SET_BOOL, "yes",
	  "name the authenticated user in the Received line of submitted mail (as Postfix's smtpd_sasl_authenticated_header)" },
	{ "submission.max_messages_per_hour", SET_INT, "200",
	  "messages one authenticated user may submit in an hour; then MAIL gets 451 4.7.1 (0: no limit)" },
	{ "submission.max_recipients_per_hour", SET_INT, "1000",
	  "recipients one authenticated user may submit to in an hour; then RCPT gets 451 4.7.1 (0: no limit)" },
	{ "submission.port", SET_PORT, "587", "port for mail from users, STARTTLS then AUTH (0 disables)" },
	{ "submissions.port", SET_PORT, "465", "port for mail from users over implicit TLS (0 disables)" },
	{ "tls.cert", SET_PATH, "tls/cert.pem", "certificate chain (PEM)" },
	{ "tls.key", SET_PATH, "tls/key.pem", "private key (PEM)" },
};
#define SETTINGS_COUNT (sizeof(settings) / sizeof(settings[0]))

struct config {
	char *dir;
	char *values[SETTINGS_COUNT];
	char *paths[SETTINGS_COUNT]; /* resolved SET_PATH values */
};

const struct setting *setting_find(const char *name)
{
	for (size_t i = 0; i < SETTINGS_COUNT; i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

const struct setting *setting_at(size_t i)
{
	return i < SETTINGS_COUNT ? &settings[i] : NULL;
}

static size_t setting_index(const char *name)
{
	const struct setting *s = setting_find(name);
	if (s == NULL) {
		fprintf(stderr, "estafeta: internal error: unknown setting %s\n", name);
		abort();
	}
	return (size_t)(s - settings);
}

int parse_size(const char *s, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || errno != 0 || v < 0)
		return -1;
	long long mult = 1;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': mult = 1024; end++; break;
	case 'M': mult = 1024 * 1024; end++; break;
	case 'G': mult = 1024LL * 1024 * 1024; end++; break;
	default: return -1;
	}
	if (*end != '\0' || v > LLONG_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

int parse_duration(const char *s, long long *seconds_out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || errno != 0 || v < 0)
		return -1;
	long long mult = 1;
	switch (*end) {
	case '\0': break;
	case 's': end++; break;
	case 'm': mult = 60; end++; break;
	case 'h': mult = 3600; end++; break;
	case 'd': mult = 86400; end++; break;
	default: return -1;
	}
	if (*end != '\0' || v > LLONG_MAX / mult)
		return -1;
	*seconds_out = v * mult;
	return 0;
}

int parse_durations(const char *s, long long out[CONFIG_MAX_DURATIONS], size_t *count_r)
{
	size_t n = 0;
	char *copy = xstrdup(s), *save = NULL;
	int r = 0;
	for (char *tok = strtok_r(copy, ", ", &save); tok != NULL && r == 0;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (n == CONFIG_MAX_DURATIONS || parse_duration(tok, &out[n]) < 0 || out[n] <= 0)
			r = -1;
		n++;
	}
	free(copy);
	*count_r = n;
	return r == 0 && n > 0 ? 0 : -1;
}

int parse_ip_address(const char *s, int port, struct sockaddr_storage *out, socklen_t *len_r)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *in = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len_r = sizeof(*in);
	} else if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len_r = sizeof(*in6);
	} else {
		return -1;
	}
	return 0;
}

int parse_hostport(const char *s, int default_port, char **host_r, int *port_r, bool *bracketed_r,
		   char **error_r)
{
	*bracketed_r = *s == '[';
	const char *h = s + (*s == '[');
	const char *end = *s == '[' ? strchr(h, ']') : strrchr(h, ':');
	if (*s == '[' && end == NULL) {
		*error_r = xasprintf("\"%s\": missing ']'", s);
		return -1;
	}
	if (end == NULL)
		end = h + strlen(h);
	if (end == h) {
		*error_r = xasprintf("\"%s\": no host name", s);
		return -1;
	}
	const char *colon = *s == '[' ? end + 1 : end;
	int port = default_port;
	if (*colon == ':') {
		char *e;
		long p = strtol(colon + 1, &e, 10);
		if (*e != '\0' || p <= 0 || p > 65535) {
			*error_r = xasprintf("\"%s\": bad port", s);
			return -1;
		}
		port = (int)p;
	} else if (*colon != '\0') {
		*error_r = xasprintf("\"%s\": expected host, host:port or [host]:port", s);
		return -1;
	}
	*host_r = xstrndup(h, (size_t)(end - h));
	*port_r = port;
	return 0;
}

/* Whether every comma- or space-separated item of value passes item_ok. */
static bool each_item(const char *value, bool (*item_ok)(const char *item))
{
	char *copy = xstrdup(value), *save = NULL;
	bool ok = true;
	for (char *tok = strtok_r(copy, ", ", &save); tok != NULL && ok; tok = strtok_r(NULL, ", ", &save))
		ok = item_ok(tok);
	free(copy);
	return ok;
}

static bool is_ip(const char *item)
{
	struct sockaddr_storage ss;
	socklen_t len;
	return parse_ip_address(item, 0, &ss, &len) == 0;
}

static bool is_socket_address(const char *item)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	return evutil_parse_sockaddr_port(item, (struct sockaddr *)&ss, &len) == 0;
}

/* The words each SET_CHOICE setting allows, separated by "|", and how errors name them. */
static const struct choices {
	const char *name, *words, *says;
} choice_table[] = {
	{ "dmarc.enforce", "none|quarantine|reject", "none, quarantine or reject" },
};

static const struct choices *choices_of(const struct setting *s)
{
	for (size_t i = 0; i < sizeof(choice_table) / sizeof(choice_table[0]); i++)
		if (strcmp(choice_table[i].name, s->name) == 0)
			return &choice_table[i];
	abort(); /* every SET_CHOICE setting has its row */
}

/* Whether value is one of the "|"-separated words of choices. */
static bool is_choice(const char *choices, const char *value)
{
	size_t len = strlen(value);
	for (const char *c = choices; *c != '\0';) {
		size_t n = strcspn(c, "|");
		if (n == len && strncmp(c, value, len) == 0)
			return true;
		c += n + (c[n] == '|');
	}
	return false;
}

#define TEXT_OF(x) #x
#define NUMBER_TEXT(x) TEXT_OF(x)
#define MAX_DURATIONS_TEXT NUMBER_TEXT(CONFIG_MAX_DURATIONS)

/* What a value of the setting's type must look like; NULL when value is one. */
static const char *type_mismatch(const struct setting *s, const char *value)
{
	long long n;
	char *end;
	switch (s->type) {
	case SET_INT:
	case SET_PORT:
		errno = 0;
		n = strtoll(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno != 0 || n < 0)
			return s->type == SET_INT ? "a whole number" : "a port number from 0 to 65535";
		return s->type == SET_PORT && n > 65535 ? "a port number from 0 to 65535" : NULL;
	case SET_BOOL:
		return strcmp(value, "yes") != 0 && strcmp(value, "no") != 0 ? "yes or no" : NULL;
	case SET_SIZE:
		return parse_size(value, &n) < 0 ? "a size such as 10485760, 512K or 50M" : NULL;
	case SET_DURATION:
		return parse_duration(value, &n) < 0 ? "a duration such as 30s, 5m, 4h or 5d" : NULL;
	case SET_LOG_LEVEL:
		return log_level_parse(value) < 0 ? "debug, info, warn or error" : NULL;
	case SET_DURATIONS: {
		long long d[CONFIG_MAX_DURATIONS];
		size_t count;
		return parse_durations(value, d, &count) < 0
			       ? "a list of at most " MAX_DURATIONS_TEXT " durations above 0, such as 5m,10m,1h"
			       : NULL;
	}
	case SET_IPS:
		return !each_item(value, is_ip) ? "a list of IPv4 or IPv6 addresses, such as 127.0.0.1, ::1" : NULL;
	case SET_SOCKETS:
		return !each_item(value, is_socket_address)
			       ? "a list of IP, IP:port or [IPv6]:port, such as 192.0.2.53, [2001:db8::53]:5353"
			       : NULL;
	case SET_CHOICE:
		return !is_choice(choices_of(s)->words, value) ? choices_of(s)->says : NULL;
	case SET_HOSTPORT: {
		char *host = NULL, *error = NULL;
		int port;
		bool bracketed;
		bool bad = *value != '\0' && parse_hostport(value, 0, &host, &port, &bracketed, &error) < 0;
		free(host);
		free(error);
		return bad ? "host, host:port or [host]:port" : NULL;
	}
	default:
		return NULL;
	}
}

int setting_check(const struct setting *s, const char *value, char **error_r)
{
	if (s->type == SET_NETWORKS) {
		struct netaddr_net *nets;
		char *error = NULL;
		if (netaddr_networks_parse(value, &nets, &error) < 0) {
			*error_r = xasprintf("%s: %s", s->name, error);
			free(error);
			return -1;
		}
		free(nets);
		return 0;
	}
	const char *want = type_mismatch(s, value);
	if (want != NULL) {
		*error_r = xasprintf("%s must be %s, not \"%s\"", s->name, want, value);
		return -1;
	}
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Splits "name = value" in place. Returns 0, 1 for a blank or comment line, -1 when malformed. */
static int split_line(char *line, char **name_r, char **value_r)
{
	char *s = trim(line);
	if (*s == '\0' || *s == '#')
		return 1;
	char *eq = strchr(s, '=');
	if (eq == NULL)
		return -1;
	*eq = '\0';
	*name_r = trim(s);
	*value_r = trim(eq + 1);
	return 0;
}

static char *dir_of(const char *path)
{
	char *abs = realpath(path, NULL);
	if (abs == NULL)
		abs = xstrdup(path);
	char *slash = strrchr(abs, '/');
	if (slash == NULL) {
		free(abs);
		return xstrdup(".");
	}
	if (slash == abs)
		slash[1] = '\0';
	else
		*slash = '\0';
	return abs;
}

static void resolve_paths(struct config *cfg)
{
	for (size_t i = 0; i < SETTINGS_COUNT; i++) {
		if (settings[i].type != SET_PATH)
			continue;
		const char *v = cfg->values[i];
		free(cfg->paths[i]);
		if (*v == '\0' || v[0] == '/')
			cfg->paths[i] = xstrdup(v);
		else if (strcmp(v, ".") == 0)
			cfg->paths[i] = xstrdup(cfg->dir);
		else
			cfg->paths[i] = xasprintf("%s/%s", cfg->dir, v);
	}
}

/* Settings of earlier versions. A file that still has one loads, with a warning naming what
 * took its place, so an upgrade never stops a server that ran. */
static const struct {
	const char *name, *successor;
} retired[] = {
	{ "auth.max_failures_per_ip",
	  "auth.max_failures_per_ip_account, auth.max_accounts_per_ip and auth.max_failures_per_account" },
};

static const char *retired_successor(const char *name)
{
	for (size_t i = 0; i < sizeof(retired) / sizeof(retired[0]); i++)
		if (strcmp(retired[i].name, name) == 0)
			return retired[i].successor;
	return NULL;
}

struct config *config_load(const char *path, char **error_r)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		*error_r = xasprintf("cannot read config %s: %s (create one with: estafeta init DIR --domain DOMAIN)",
				     path, strerror(errno));
		return NULL;
	}
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	cfg->dir = dir_of(path);
	for (size_t i = 0; i < SETTINGS_COUNT; i++)
		cfg->values[i] = xstrdup(settings[i].def);

	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;
	while (getline(&line, &cap, f) > 0) {
		char *name, *value;
		lineno++;
		int r = split_line(line, &name, &value);
		if (r == 1)
			continue;
		const struct setting *s = r == 0 ? setting_find(name) : NULL;
		const char *successor = s == NULL && r == 0 ? retired_successor(name) : NULL;
		if (successor != NULL) {
			log_warn("%s:%d: %s is no longer read; in its place: %s", path, lineno, name,
				 successor);
			continue;
		}
		if (r < 0) {
			*error_r = xasprintf("%s:%d: expected \"name = value\"", path, lineno);
		} else if (s == NULL) {
			*error_r = xasprintf("%s:%d: unknown setting \"%s\" (see: estafeta config list)",
					     path, lineno, name);
		} else if (setting_check(s, value, error_r) == 0) {
			size_t i = (size_t)(s - settings);
			free(cfg->values[i]);
			cfg->values[i] = xstrdup(value);
			continue;
		} else {
			char *inner = *error_r;
			*error_r = xasprintf("%s:%d: %s", path, lineno, inner);
			free(inner);
		}
		free(line);
		fclose(f);
		config_free(&cfg);
		return NULL;
	}
	free(line);
	fclose(f);
	resolve_paths(cfg);
	return cfg;
}

void config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < SETTINGS_COUNT; i++) {
		free(cfg->values[i]);
		free(cfg->paths[i]);
	}
	free(cfg->dir);
	free(cfg);
	*cfgp = NULL;
}

/* Settings whose value may come from a file of its own, so that the config needs no secret
 * and can stay readable by every local user (estafeta sendmail reads it). */
static const struct {
	const char *setting, *file_setting;
} secret_files[] = {
	{ "relayhost.password", "relayhost.password_file" },
};

int config_load_secrets(struct config *cfg, char **error_r)
{
	for (size_t i = 0; i < sizeof(secret_files) / sizeof(secret_files[0]); i++) {
		const char *path = config_path(cfg, secret_files[i].file_setting);
		if (*path == '\0')
			continue;
		size_t at = setting_index(secret_files[i].setting);
		if (*cfg->values[at] != '\0') {
			*error_r = xasprintf("both %s and %s are set: keep only %s", secret_files[i].setting,
					     secret_files[i].file_setting, secret_files[i].file_setting);
			return -1;
		}
		char *data;
		size_t len;
		if (fs_read_file(path, &data, &len) < 0) {
			*error_r = xasprintf("cannot read %s (%s): %s", path, secret_files[i].file_setting,
					     strerror(errno));
			return -1;
		}
		data[strcspn(data, "\r\n")] = '\0';
		free(cfg->values[at]);
		cfg->values[at] = data;
	}
	return 0;
}

void config_keep(struct config *cfg, const struct config *from, const char *name)
{
	size_t i = setting_index(name);
	free(cfg->values[i]);
	cfg->values[i] = xstrdup(from->values[i]);
	if (from->paths[i] != NULL) {
		free(cfg->paths[i]);
		cfg->paths[i] = xstrdup(from->paths[i]);
	}
}

const char *config_default_path(const char *from_option)
{
	if (from_option != NULL)
		return from_option;
	const char *env = getenv("ESTAFETA_CONF");
	if (env != NULL && *env != '\0')
		return env;
	/* programs that run sendmail (cron, scripts) set neither: the system-wide link */
	if (access("estafeta.conf", F_OK) != 0 && access(CONFIG_SYSTEM_PATH, F_OK) == 0)
		return CONFIG_SYSTEM_PATH;
	return "estafeta.conf";
}

const char *config_str(const struct config *cfg, const char *name)
{
	return cfg->values[setting_index(name)];
}

long long config_int(const struct config *cfg, const char *name)
{
	size_t i = setting_index(name);
	long long v = 0;
	switch (settings[i].type) {
	case SET_SIZE: parse_size(cfg->values[i], &v); break;
	case SET_DURATION: parse_duration(cfg->values[i], &v); break;
	default: v = strtoll(cfg->values[i], NULL, 10); break;
	}
	return v;
}

bool config_bool(const struct config *cfg, const char *name)
{
	return strcmp(cfg->values[setting_index(name)], "yes") == 0;
}

const char *config_hostname(const struct config *cfg)
{
	static char system_name[256];
	const char *name = config_str(cfg, "hostname");
	if (*name != '\0')
		return name;
	if (system_name[0] == '\0' && gethostname(system_name, sizeof(system_name) - 1) < 0)
		strcpy(system_name, "localhost");
	return system_name;
}

const char *config_path(const struct config *cfg, const char *name)
{
	return cfg->paths[setting_index(name)];
}

const char *config_dir(const struct config *cfg)
{
	return cfg->dir;
}

int config_file_set(const char *path, const char *name, const char *value, char **error_r)
{
	const struct setting *s = setting_find(name);
	if (s == NULL) {
		*error_r = xasprintf("unknown setting \"%s\" (see: estafeta config list)", name);
		return -1;
	}
	if (strchr(value, '\n') != NULL) {
		*error_r = xasprintf("a value cannot span lines");
		return -1;
	}
	if (setting_check(s, value, error_r) < 0)
		return -1;

	buf out;
	buf_init(&out);
	bool replaced = false;
	struct stat st = { .st_uid = (uid_t)-1 };
	mode_t mode = 0644; /* readable by all: estafeta sendmail reads it (no secrets in it) */
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		/* the administrator's mode stays (0640 for a config with a secret in it) */
		if (fstat(fileno(f), &st) == 0)
			mode = st.st_mode & 07777;
		else
			st.st_uid = (uid_t)-1;
		char *line = NULL;
		size_t cap = 0;
		while (getline(&line, &cap, f) > 0) {
			char *copy = xstrdup(line), *n, *v;
			bool match = split_line(copy, &n, &v) == 0 && strcmp(n, name) == 0;
			free(copy);
			if (match && !replaced) {
				buf_printf(&out, "%s = %s\n", name, value);
				replaced = true;
			} else if (!match) {
				buf_puts(&out, line);
				if (line[strlen(line) - 1] != '\n')
					buf_putc(&out, '\n');
			}
		}
		free(line);
		fclose(f);
	} else if (errno != ENOENT) {
		*error_r = xasprintf("cannot read %s: %s", path, strerror(errno));
		buf_free(&out);
		return -1;
	}
	if (!replaced)
		buf_printf(&out, "%s = %s\n", name, value);
	int r = fs_write_atomic(path, out.data, out.len, mode, error_r);
	/* and its owners: root:RUNAS 0640 must stay readable by the server after a rewrite */
	if (r == 0 && geteuid() == 0 && st.st_uid != (uid_t)-1 && chown(path, st.st_uid, st.st_gid) < 0) {
		*error_r = xasprintf("cannot keep the owner of %s: %s", path, strerror(errno));
		r = -1;
	}
	buf_free(&out);
	return r;
}

void config_print(const struct config *cfg, FILE *out, bool only_changed, bool docs)
{
	for (size_t i = 0; i < SETTINGS_COUNT; i++) {
		const char *v = cfg != NULL ? cfg->values[i] : settings[i].def;
		if (only_changed && strcmp(v, settings[i].def) == 0)
			continue;
		/* A doc that says what an empty default means names the default itself. */
		if (docs && strstr(settings[i].doc, "(default: ") != NULL)
			fprintf(out, "# %s\n", settings[i].doc);
		else if (docs)
			fprintf(out, "# %s (default: %s)\n", settings[i].doc,
				*settings[i].def ? settings[i].def : "empty");
		fprintf(out, "%s = %s\n", settings[i].name, v);
	}
}
