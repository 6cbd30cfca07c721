/* The client's account settings; see account.h. */
#include "mua/account.h"
#include "core/fsutil.h"
#include "core/xalloc.h"
#include "mua/discover.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

/* A yes/no setting: its offset, marked by the top bit (string settings have it clear). */
#define BOOL_FLAG ((size_t)1 << (sizeof(size_t) * 8 - 1))
#define BOOL_KEY(field) (offsetof(struct mail_account, field) | BOOL_FLAG)

static const struct {
	const char *key, *env;
	size_t offset;
} keys[] = {
	{ "address", "ESTAFETA_MAIL_ADDRESS", offsetof(struct mail_account, address) },
	{ "name", "ESTAFETA_MAIL_NAME", offsetof(struct mail_account, name) },
	{ "user", "ESTAFETA_MAIL_USER", offsetof(struct mail_account, user) },
	{ "password", "ESTAFETA_MAIL_PASSWORD", offsetof(struct mail_account, password) },
	{ "password_command", "ESTAFETA_MAIL_PASSWORD_COMMAND", offsetof(struct mail_account, password_command) },
	{ "imap", "ESTAFETA_MAIL_IMAP", offsetof(struct mail_account, imap_setting) },
	{ "smtp", "ESTAFETA_MAIL_SMTP", offsetof(struct mail_account, smtp_setting) },
	{ "resolvers", "ESTAFETA_MAIL_RESOLVERS", offsetof(struct mail_account, resolvers) },
	{ "pgp_key", "ESTAFETA_MAIL_PGP_KEY", offsetof(struct mail_account, pgp_key) },
	{ "smime_cert", "ESTAFETA_MAIL_SMIME_CERT", offsetof(struct mail_account, smime_cert) },
	{ "smime_key", "ESTAFETA_MAIL_SMIME_KEY", offsetof(struct mail_account, smime_key) },
	{ "tls_verify", "ESTAFETA_MAIL_TLS_VERIFY", BOOL_KEY(verify) },
	{ "sign_by_default", "ESTAFETA_MAIL_SIGN_BY_DEFAULT", BOOL_KEY(sign_by_default) },
	{ "encrypt_when_possible", "ESTAFETA_MAIL_ENCRYPT_WHEN_POSSIBLE", BOOL_KEY(encrypt_when_possible) },
};
#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int set(struct mail_account *a, size_t k, const char *value, char **error_r)
{
	if (keys[k].offset & BOOL_FLAG) {
		if (strcasecmp(value, "yes") != 0 && strcasecmp(value, "no") != 0) {
			*error_r = xasprintf("%s must be yes or no, not \"%s\"", keys[k].key, value);
			return -1;
		}
		*(bool *)((char *)a + (keys[k].offset & ~BOOL_FLAG)) = strcasecmp(value, "yes") == 0;
		return 0;
	}
	char **slot = (char **)((char *)a + keys[k].offset);
	free(*slot);
	*slot = xstrdup(value);
	return 0;
}

static char *config_file(void)
{
	const char *path = getenv("ESTAFETA_MAIL_CONFIG");
	if (path != NULL && *path != '\0')
		return xstrdup(path);
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (xdg != NULL && *xdg != '\0')
		return xasprintf("%s/estafeta/mail.conf", xdg);
	return xasprintf("%s/.config/estafeta/mail.conf", home != NULL ? home : ".");
}

static int read_file(struct mail_account *a, char **error_r)
{
	char *path = config_file();
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		int r = errno == ENOENT ? 0 : -1;
		if (r < 0)
			*error_r = xasprintf("cannot read %s: %s", path, strerror(errno));
		free(path);
		return r;
	}
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, status = 0;
	while (status == 0 && getline(&line, &cap, f) > 0) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		size_t k = KEY_COUNT;
		if (eq != NULL) {
			*eq = '\0';
			for (k = 0; k < KEY_COUNT && strcmp(keys[k].key, trim(s)) != 0; k++)
				;
		}
		if (k == KEY_COUNT) {
			*error_r = xasprintf("%s line %d: expected one of address, name, user, password, "
					     "password_command, imap, smtp, tls_verify, resolvers, pgp_key, smime_cert, "
					     "smime_key, sign_by_default, encrypt_when_possible = value", path, lineno);
			status = -1;
		} else {
			status = set(a, k, trim(eq + 1), error_r);
		}
	}
	free(line);
	fclose(f);
	free(path);
	return status;
}

int mail_account_load(struct mail_account *a, char **error_r)
{
	memset(a, 0, sizeof(*a));
	a->verify = true;
	if (read_file(a, error_r) < 0)
		return -1;
	for (size_t k = 0; k < KEY_COUNT; k++) {
		const char *v = getenv(keys[k].env);
		if (v != NULL && *v != '\0' && set(a, k, v, error_r) < 0)
			return -1;
	}
	if (a->address == NULL || strchr(a->address, '@') == NULL) {
		*error_r = xstrdup("no account: set ESTAFETA_MAIL_ADDRESS (or address = ... in "
				   "~/.config/estafeta/mail.conf)");
		return -1;
	}
	if (a->user == NULL)
		a->user = xstrdup(a->address);
	return 0;
}

/* The schemes a server setting may start with: implicit TLS or STARTTLS on any port. */
static const struct {
	const char *prefix;
	bool imap;
	int port;
	bool implicit_tls;
} schemes[] = {
	{ "imaps://", true, 993, true },	 { "imap://", true, 143, false },
	{ "smtps://", false, 465, true },	 { "smtp://", false, 587, false },
	{ "submission://", false, 587, false },
};

/* "[scheme://]host[:port]" ("[v6]:port" too). Without a scheme, the implicit TLS port (993,
 * 465) is implicit TLS and any other STARTTLS. */
static int parse_server(const char *setting, bool imap, struct server *s, char **error_r)
{
	const char *text = setting;
	int tls_port = imap ? 993 : 465;
	s->port = tls_port;
	int scheme = -1;
	const char *sep = strstr(text, "://");
	if (sep != NULL) {
		for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]) && scheme < 0; i++)
			if (schemes[i].imap == imap &&
			    strncasecmp(text, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
				scheme = (int)i;
		if (scheme < 0) {
			*error_r = xasprintf("\"%s\": the %s server is written %s", setting,
					     imap ? "IMAP" : "SMTP",
					     imap ? "imaps://host:port (implicit TLS) or imap://host:port (STARTTLS)"
						  : "smtps://host:port (implicit TLS) or smtp://host:port (STARTTLS)");
			return -1;
		}
		text = sep + 3;
		s->port = schemes[scheme].port;
	}
	size_t len = strlen(text);
	if (len > 0 && text[len - 1] == '/')
		len--;
	const char *end = text + len;
	const char *colon = text[0] == '[' ? memmem(text, len, "]:", 2) : memrchr(text, ':', len);
	if (colon != NULL && text[0] == '[')
		colon++;
	size_t host_len = colon != NULL ? (size_t)(colon - text) : len;
	if (text[0] == '[' && host_len >= 2)
		s->host = xstrndup(text + 1, host_len - 2);
	else
		s->host = xstrndup(text, host_len);
	if (colon != NULL) {
		char *port_end;
		long port = strtol(colon + 1, &port_end, 10);
		if (port_end != end || port < 1 || port > 65535) {
			*error_r = xasprintf("\"%s\" is not host:port", setting);
			xfree(&s->host);
			return -1;
		}
		s->port = (int)port;
	}
	s->implicit_tls = scheme >= 0 ? schemes[scheme].implicit_tls : s->port == tls_port;
	return 0;
}

int mail_account_server(struct mail_account *a, bool imap, char **error_r)
{
	struct server *s = imap ? &a->imap : &a->smtp;
	if (s->host != NULL)
		return 0;
	const char *setting = imap ? a->imap_setting : a->smtp_setting;
	if (setting != NULL)
		return parse_server(setting, imap, s, error_r);
	return discover(strchr(a->address, '@') + 1, imap ? DISCOVER_IMAP : DISCOVER_SUBMISSION,
			a->resolvers, &s->host, &s->port, &s->implicit_tls, error_r);
}

static int password_from_command(struct mail_account *a, char **error_r)
{
	FILE *p = popen(a->password_command, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = p != NULL ? getline(&line, &cap, p) : -1;
	int status = p != NULL ? pclose(p) : -1;
	if (n <= 0 || status != 0) {
		free(line);
		*error_r = xasprintf("the password command \"%s\" failed", a->password_command);
		return -1;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	a->password = line;
	return 0;
}

static int password_from_terminal(struct mail_account *a, char **error_r)
{
	FILE *tty = fopen("/dev/tty", "r+");
	if (tty == NULL) {
		*error_r = xstrdup("no password: set ESTAFETA_MAIL_PASSWORD or password_command, or run "
				   "on a terminal");
		return -1;
	}
	/* Echo goes off before the prompt shows: what is typed once it shows is never echoed,
	 * nor thrown away by the switch (TCSAFLUSH drops only what was typed before). */
	struct termios old, quiet;
	bool restore = tcgetattr(fileno(tty), &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	fprintf(tty, "Password for %s: ", a->user);
	fflush(tty);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, tty);
	if (restore) /* what is typed after the password stays for the commands */
		tcsetattr(fileno(tty), TCSANOW, &old);
	fputc('\n', tty);
	fclose(tty);
	if (n <= 0) {
		free(line);
		*error_r = xstrdup("no password given");
		return -1;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	a->password = line;
	return 0;
}

int mail_account_password(struct mail_account *a, char **error_r)
{
	if (a->password != NULL)
		return 0;
	if (a->password_command != NULL)
		return password_from_command(a, error_r);
	return password_from_terminal(a, error_r);
}

void mail_account_free(struct mail_account *a)
{
	for (size_t k = 0; k < KEY_COUNT; k++)
		if (!(keys[k].offset & BOOL_FLAG))
			free(*(char **)((char *)a + keys[k].offset));
	free(a->imap.host);
	free(a->smtp.host);
	memset(a, 0, sizeof(*a));
}

char *mail_data_dir(const char *sub)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char *dir = xdg != NULL && *xdg != '\0' ? xasprintf("%s/estafeta/%s", xdg, sub)
						 : xasprintf("%s/.local/share/estafeta/%s", home != NULL ? home : ".", sub);
	char *error = NULL;
	if (fs_mkdir_p(dir, 0700, &error) < 0)
		free(error); /* reading it then fails, and says so */
	return dir;
}
