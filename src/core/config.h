/* Configuration: every setting lives in one table (config.c) with its type, default and one
 * line of documentation, as Postfix's mail_params.h does; `estafeta config list` prints it.
 * The file format is "name = value" lines; '#' starts a comment line. Unknown names and values
 * that do not parse are errors at load time, so a typo never silently falls back to a default. */
#ifndef ESTAFETA_CONFIG_H
#define ESTAFETA_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

enum setting_type {
	SET_STRING,
	SET_INT,      /* decimal, >= 0 */
	SET_BOOL,     /* yes/no */
	SET_SIZE,     /* bytes, with optional K, M or G suffix */
	SET_DURATION, /* seconds, with optional s, m, h or d suffix */
	SET_PATH,     /* relative paths are taken from the config file's folder */
	SET_LIST,     /* comma-separated */
	SET_NETWORKS, /* comma-separated CIDR networks (core/netaddr.h) */
	SET_PORT,     /* 0 to 65535 */
	SET_LOG_LEVEL,/* a level name of log.h */
	SET_DURATIONS,/* comma-separated positive durations, at most CONFIG_MAX_DURATIONS */
	SET_IPS,      /* comma-separated IPv4 or IPv6 literals */
	SET_SOCKETS,  /* comma-separated IP, IP:port or [IPv6]:port */
	SET_HOSTPORT, /* host, host:port or [host]:port; may be empty */
	SET_CHOICE,   /* one of the words config.c's choices table gives the setting */
};
#define CONFIG_MAX_DURATIONS 32

struct setting {
	const char *name;
	enum setting_type type;
	const char *def;
	const char *doc;
};

struct config;

/* Reads the file at path. Returns NULL and an allocated message in *error_r on failure. */
struct config *config_load(const char *path, char **error_r);
void config_free(struct config **cfg);

/* Reads the settings kept in files of their own (relayhost.password_file into
 * relayhost.password). Returns 0, or -1 with *error_r when a file cannot be read or both the
 * setting and its file are set. Blocks (reads files). */
int config_load_secrets(struct config *cfg, char **error_r);
/* Sets cfg's value of name to from's (a reload keeps what only a restart can change). */
void config_keep(struct config *cfg, const struct config *from, const char *name);

/* The path of the config file for a command: -c FILE, else $ESTAFETA_CONF, else
 * ./estafeta.conf, else CONFIG_SYSTEM_PATH when it exists (the link the README has the
 * administrator make, so cron's sendmail finds the instance). Never NULL; the string is
 * static or the argument. */
#define CONFIG_SYSTEM_PATH "/etc/estafeta/estafeta.conf"
const char *config_default_path(const char *from_option);

/* Typed readers. name must be in the settings table (a wrong name is a programming error and
 * aborts). The returned strings are owned by cfg. */
const char *config_str(const struct config *cfg, const char *name);
long long config_int(const struct config *cfg, const char *name);
bool config_bool(const struct config *cfg, const char *name);
/* The "hostname" setting, or the system's name when it is empty ("localhost" when even that
 * is unknown). The string is owned by cfg or static. */
const char *config_hostname(const struct config *cfg);
/* For SET_PATH: the absolute path. */
const char *config_path(const struct config *cfg, const char *name);
/* The folder that holds the config file; relative paths start here. */
const char *config_dir(const struct config *cfg);

/* Looks a setting up by name; NULL when there is none. */
const struct setting *setting_find(const char *name);
/* The i-th setting of the table (sorted by name); NULL past the end. */
const struct setting *setting_at(size_t i);
/* Checks value against the setting's type: the one check for loading a file (serve, SIGHUP)
 * and for `config set`, so a value the server would refuse is never written. Returns 0 or
 * -1 with *error_r. */
int setting_check(const struct setting *s, const char *value, char **error_r);

/* Changes one setting in the file: replaces its line or appends one, keeping every other line
 * and comment, and writes atomically (temp file, fsync, rename). Returns 0 or -1 with *error_r. */
int config_file_set(const char *path, const char *name, const char *value, char **error_r);

/* Prints "name = value" for every setting to out; with only_changed, just those that differ
 * from the default; with docs, each preceded by its "# doc" line. */
void config_print(const struct config *cfg, FILE *out, bool only_changed, bool docs);

/* Parsers shared by the settings checks and the code that uses the values; return 0 or -1. */
int parse_size(const char *s, long long *out);
int parse_duration(const char *s, long long *seconds_out);
/* SET_DURATIONS: up to CONFIG_MAX_DURATIONS values into out, their number in *count_r. */
int parse_durations(const char *s, long long out[CONFIG_MAX_DURATIONS], size_t *count_r);
/* An IPv4 or IPv6 literal with port into *out and its length into *len_r. */
int parse_ip_address(const char *s, int port, struct sockaddr_storage *out, socklen_t *len_r);
/* SET_HOSTPORT: the host (allocated) and the port (default_port when none); *bracketed_r when
 * it was written [host] (take it as it is, no MX lookup). -1 with *error_r. */
int parse_hostport(const char *s, int default_port, char **host_r, int *port_r, bool *bracketed_r,
		   char **error_r);
#endif
