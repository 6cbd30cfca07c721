/* Unit tests for config.c: the checks `config set` and config_load share, one case per kind of
 * value, and the host:port parser the relayhost uses; the config's secret files and rewrites:
 * relayhost.password_file fills relayhost.password (first line only), is refused beside an
 * inline password and when it cannot be read; config_keep copies a running value back;
 * config_file_set keeps the file's mode; a retired setting still loads. Those tests write in
 * a fresh folder under /tmp. */
#include "core/config.h"
#include "core/xalloc.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

struct fixture {
	char dir[64];
	char *conf, *secret;
};

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/test-config-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->conf = xasprintf("%s/estafeta.conf", f->dir);
	f->secret = xasprintf("%s/relay-password", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->conf);
	unlink(f->secret);
	rmdir(f->dir);
	free(f->conf);
	free(f->secret);
	free(f);
	return 0;
}

static struct config *load(const char *path)
{
	char *error = NULL;
	struct config *cfg = config_load(path, &error);
	assert_null(error);
	assert_non_null(cfg);
	return cfg;
}

static void test_password_file(void **state)
{
	struct fixture *f = *state;
	write_file(f->conf, "relayhost.password_file = relay-password\n", 0644);
	write_file(f->secret, "s3cret word\r\nsecond line\n", 0600);
	struct config *cfg = load(f->conf);
	char *error = NULL;
	assert_string_equal(config_str(cfg, "relayhost.password"), "");
	assert_int_equal(config_load_secrets(cfg, &error), 0);
	assert_string_equal(config_str(cfg, "relayhost.password"), "s3cret word");
	config_free(&cfg);
}

static void test_password_file_errors(void **state)
{
	struct fixture *f = *state;
	write_file(f->conf, "relayhost.password_file = relay-password\n", 0644);
	struct config *cfg = load(f->conf);
	char *error = NULL;
	assert_int_equal(config_load_secrets(cfg, &error), -1);
	assert_non_null(strstr(error, "relay-password (relayhost.password_file): No such file"));
	free(error);
	config_free(&cfg);

	write_file(f->secret, "x\n", 0600);
	write_file(f->conf, "relayhost.password = inline\nrelayhost.password_file = relay-password\n", 0600);
	cfg = load(f->conf);
	error = NULL;
	assert_int_equal(config_load_secrets(cfg, &error), -1);
	assert_string_equal(error, "both relayhost.password and relayhost.password_file are set: "
				   "keep only relayhost.password_file");
	free(error);
	config_free(&cfg);

	write_file(f->conf, "relayhost.password = inline\n", 0600); /* no file: the inline one */
	cfg = load(f->conf);
	assert_int_equal(config_load_secrets(cfg, &error), 0);
	assert_string_equal(config_str(cfg, "relayhost.password"), "inline");
	config_free(&cfg);
}

static void test_keep(void **state)
{
	struct fixture *f = *state;
	write_file(f->conf, "listen = 127.0.0.1\ndata_dir = data\n", 0644);
	struct config *old = load(f->conf);
	write_file(f->conf, "listen = 0.0.0.0\ndata_dir = other\n", 0644);
	struct config *cfg = load(f->conf);
	config_keep(cfg, old, "listen");
	config_keep(cfg, old, "data_dir");
	assert_string_equal(config_str(cfg, "listen"), "127.0.0.1");
	assert_string_equal(config_path(cfg, "data_dir"), config_path(old, "data_dir"));
	config_free(&cfg);
	config_free(&old);
}

static void test_set_keeps_the_mode(void **state)
{
	struct fixture *f = *state;
	write_file(f->conf, "# mine\nsmtp.port = 25\n", 0640);
	char *error = NULL;
	assert_int_equal(config_file_set(f->conf, "smtp.port", "2525", &error), 0);
	struct stat st;
	assert_int_equal(stat(f->conf, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	struct config *cfg = load(f->conf);
	assert_int_equal(config_int(cfg, "smtp.port"), 2525);
	config_free(&cfg);
}

/* A setting an earlier version read still loads (with a warning), so an upgrade starts. */
static void test_retired_setting_loads(void **state)
{
	struct fixture *f = *state;
	write_file(f->conf, "auth.max_failures_per_ip = 10\nsmtp.port = 2525\n", 0644);
	struct config *cfg = load(f->conf);
	assert_int_equal(config_int(cfg, "smtp.port"), 2525);
	assert_null(setting_find("auth.max_failures_per_ip"));
	config_free(&cfg);
}

static void test_settings_in_order(void **state)
{
	size_t n = 0;
	for (; setting_at(n + 1) != NULL; n++)
		assert_true(strcmp(setting_at(n)->name, setting_at(n + 1)->name) < 0);
	assert_true(n > 10);
	assert_ptr_equal(setting_at(0), setting_find(setting_at(0)->name));
}

static void check(const char *name, const char *value, const char *error_part)
{
	const struct setting *s = setting_find(name);
	assert_non_null(s);
	char *error = NULL;
	int r = setting_check(s, value, &error);
	if (error_part == NULL) {
		if (r != 0)
			fail_msg("%s = %s refused: %s", name, value, error);
	} else {
		assert_int_equal(r, -1);
		if (strstr(error, error_part) == NULL)
			fail_msg("%s = %s: \"%s\" lacks \"%s\"", name, value, error, error_part);
		free(error);
	}
}

static void test_values_the_server_refuses_are_refused(void **state)
{
	check("log.level", "debug", NULL);
	check("log.level", "debugg", "log.level must be debug, info, warn or error, not \"debugg\"");
	check("smtp.port", "2525", NULL);
	check("smtp.port", "65536", "port number from 0 to 65535");
	check("smtp.port", "-1", "port number");
	check("smtp.max_recipients", "x", "a whole number");
	check("smtp.expn", "true", "yes or no");
	check("smtp.max_message_size", "10Q", "a size");
	check("smtp.timeout", "5 min", "a duration");
	check("queue.retry_schedule", "5m,10m,1h", NULL);
	check("queue.retry_schedule", "5m,soon", "a list of at most 32 durations");
	check("queue.retry_schedule", "5m,0s", "durations above 0");
	check("queue.retry_schedule", "", "durations");
	check("listen", "127.0.0.1, ::1", NULL);
	check("listen", "localhost", "IPv4 or IPv6 addresses");
	check("dns.resolvers", "", NULL);
	check("dns.resolvers", "192.0.2.53,[2001:db8::53]:5353,127.0.0.1:5353", NULL);
	check("dns.resolvers", "dns.example", "IP, IP:port");
	check("relayhost", "", NULL);
	check("relayhost", "[smtp.example.org]:587", NULL);
	check("relayhost", "smtp.example.org:x", "host, host:port or [host]:port");
	check("relayhost", "[smtp.example.org", "host, host:port");
}

static void test_hostport(void **state)
{
	char *host = NULL, *error = NULL;
	int port;
	bool bracketed;
	assert_int_equal(parse_hostport("[mx.example]:2525", 25, &host, &port, &bracketed, &error), 0);
	assert_string_equal(host, "mx.example");
	assert_int_equal(port, 2525);
	assert_true(bracketed);
	free(host);
	assert_int_equal(parse_hostport("relay.example", 25, &host, &port, &bracketed, &error), 0);
	assert_string_equal(host, "relay.example");
	assert_int_equal(port, 25);
	assert_false(bracketed);
	free(host);
	assert_int_equal(parse_hostport(":25", 25, &host, &port, &bracketed, &error), -1);
	assert_non_null(strstr(error, "no host name"));
	free(error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_password_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_keeps_the_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retired_setting_loads, setup, teardown),
		cmocka_unit_test(test_settings_in_order),
		cmocka_unit_test(test_values_the_server_refuses_are_refused),
		cmocka_unit_test(test_hostport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
