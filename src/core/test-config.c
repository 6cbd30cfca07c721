/* Tests for the config's secret files and rewrites: relayhost.password_file fills
 * relayhost.password (first line only), is refused beside an inline password and when it
 * cannot be read; config_keep copies a running value back; config_file_set keeps the file's
 * mode. Each test writes in a fresh folder under /tmp. */
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

static void test_settings_in_order(void **state)
{
	size_t n = 0;
	for (; setting_at(n + 1) != NULL; n++)
		assert_true(strcmp(setting_at(n)->name, setting_at(n + 1)->name) < 0);
	assert_true(n > 10);
	assert_ptr_equal(setting_at(0), setting_find(setting_at(0)->name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_password_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_keeps_the_mode, setup, teardown),
		cmocka_unit_test(test_settings_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
