/* Tests for a backup's manifest: what is written reads back the same, and a changed byte, an
 * unknown line or a path outside the data folder is refused. */
#include "store/backup_manifest.h"
#include "core/xalloc.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const char sha_a[] = "3a54f773522f1c35eccf577ecedd9e3fc431495a51158a65fc29139cb83b8d5c";
static const char sha_b[] = "0000000000000000000000000000000000000000000000000000000000000001";

static char *sample(void)
{
	struct manifest m = { .schema = 6, .created = 1795396341, .messages = 3, .queued = 1 };
	manifest_add(&m, "estafeta.db", 4096, sha_a);
	manifest_add(&m, "messages/3f/9c0e1d", 17, sha_b);
	char *text = manifest_format(&m);
	manifest_free(&m);
	return text;
}

static void test_round_trip(void **state)
{
	char *text = sample(), *error = NULL;
	struct manifest m;
	assert_int_equal(manifest_parse(text, strlen(text), &m, &error), 0);
	assert_int_equal(m.schema, 6);
	assert_int_equal(m.created, 1795396341);
	assert_int_equal(m.messages, 3);
	assert_int_equal(m.queued, 1);
	assert_int_equal(m.bytes, 4096 + 17);
	assert_int_equal(m.count, 2);
	const struct manifest_file *f = manifest_find(&m, "messages/3f/9c0e1d");
	assert_non_null(f);
	assert_int_equal(f->size, 17);
	assert_string_equal(f->sha256, sha_b);
	assert_null(manifest_find(&m, "messages/3f/other"));
	manifest_free(&m);
	free(text);
}

/* Expects text to be refused with a message containing words. */
static void refused(const char *text, const char *words)
{
	char *error = NULL;
	struct manifest m;
	assert_int_equal(manifest_parse(text, strlen(text), &m, &error), -1);
	assert_non_null(strstr(error, words));
	free(error);
	manifest_free(&m);
}

/* The manifest with its checksum line made anew, so only the content's own checks apply. */
static char *resealed(const char *body)
{
	char sha[SHA256_HEX_SIZE];
	sha256_hex(body, strlen(body), sha);
	return xasprintf("%smanifest-sha256 %s\n", body, sha);
}

static void test_refusals(void **state)
{
	char *text = sample();
	char *changed = xstrdup(text);
	strstr(changed, "messages 3")[9] = '4';
	refused(changed, "checksum");
	refused("not a manifest\n", "not a manifest");
	static const struct {
		const char *line, *words;
	} bad[] = {
		{ "file SHA 1 ../../etc/passwd\n", "names a file wrongly" },
		{ "file SHA 1 messages/3f/../../x\n", "names a file wrongly" },
		{ "file SHA 1 /etc/passwd\n", "names a file wrongly" },
		{ "owner root\n", "does not know" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *sha = strstr(bad[i].line, "SHA");
		char *line = sha == NULL ? xstrdup(bad[i].line)
			   : xasprintf("%.*s%s%s", (int)(sha - bad[i].line), bad[i].line, sha_b, sha + 3);
		char *body = xasprintf("estafeta-backup 1\nschema 6\nbytes 4096\nfile %s 4096 estafeta.db\n%s",
				       sha_a, line);
		char *sealed = resealed(body);
		refused(sealed, bad[i].words);
		free(sealed);
		free(body);
		free(line);
	}
	char *no_db = resealed("estafeta-backup 1\nschema 6\nbytes 0\n");
	refused(no_db, "incomplete");
	free(no_db);
	free(changed);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests_name("backup_manifest", tests, NULL, NULL);
}
