/* Tests for the SQLite store: the directory (domains, accounts, aliases, lists) round trips
 * with its rules, the default folders, and store_deliver: one message file shared by every
 * local recipient, ascending UIDs, byte-exact reads, and nothing left behind by a delivery that
 * fails, the outbound queue, and the full-text index in its own file. Each test gets a fresh data folder under /tmp. */
#include "store/msgfile.h"
#include "store/sqlite_internal.h"
#include "store/store.h"
#include "core/xalloc.h"
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

struct fixture {
	char dir[64];
	struct store *st;
	int64_t alice, bob; /* account ids, for the delivery tests */
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char *error = NULL;
	f->st = store_open(f->dir, &error);
	assert_null(error);
	assert_non_null(f->st);
	*state = f;
	return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(&f->st);
	nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Fails the test with the store's message when a call fails. */
#define OK(call)                                                                          \
	do {                                                                              \
		char *error_ = NULL;                                                      \
		char **error_r = &error_;                                                 \
		int r_ = (call);                                                          \
		if (r_ < 0) {                                                             \
			fprintf(stderr, "%s: %s\n", #call, error_);                      \
			fail();                                                           \
		}                                                                         \
	} while (0)

/* Expects call to fail with a message containing words. */
#define EXPECT_ERROR(call, words)                                                         \
	do {                                                                              \
		char *error_ = NULL;                                                      \
		char **error_r = &error_;                                                 \
		assert_int_equal((call), -1);                                             \
		expect_words(error_, words);                                              \
	} while (0)

static void expect_words(char *error, const char *words)
{
	assert_non_null(error);
	if (strstr(error, words) == NULL) {
		fprintf(stderr, "error \"%s\" does not mention \"%s\"\n", error, words);
		fail();
	}
	free(error);
}

static strlist list_of(const char *first, ...)
{
	strlist l;
	strlist_init(&l);
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
		strlist_add(&l, s);
	va_end(ap);
	return l;
}

static void assert_list(const strlist *l, const char *first, ...)
{
	va_list ap;
	va_start(ap, first);
	size_t i = 0;
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *), i++) {
		assert_true(i < l->count);
		assert_string_equal(l->items[i], s);
	}
	va_end(ap);
	assert_int_equal(l->count, i);
}

static void add_account(struct fixture *f, const char *address, int64_t *id_r)
{
	OK(store_user_add(f->st, address, "$y$hash", "4096:c2FsdA==:a2V5:a2V5", error_r));
	struct account a = { 0 };
	OK(store_user_get(f->st, address, &a, error_r));
	*id_r = a.id;
	account_clear(&a);
}

static int64_t sql_int(struct fixture *f, const char *sql)
{
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(f->st->db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/* Regular files below data_dir/sub. */
static int count_files(struct fixture *f, const char *sub)
{
	char *path = xasprintf("%s/%s", f->dir, sub);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (e->d_type == DT_DIR) {
			char *inner = xasprintf("%s/%s", sub, e->d_name);
			n += count_files(f, inner);
			free(inner);
		} else {
			n++;
		}
	}
	closedir(d);
	free(path);
	return n;
}

static void test_domains(void **state)
{
	struct fixture *f = *state;
	char *error = NULL;
	strlist l;
	strlist_init(&l);

	OK(store_domain_add(f->st, "example.com", error_r));
	OK(store_domain_add(f->st, "b.org", error_r));
	EXPECT_ERROR(store_domain_add(f->st, "Example.COM", error_r), "already exists");
	assert_int_equal(store_domain_exists(f->st, "EXAMPLE.com", &error), 1);
	assert_int_equal(store_domain_exists(f->st, "other.org", &error), 0);
	OK(store_domain_list(f->st, &l, error_r));
	assert_list(&l, "b.org", "example.com", NULL);
	strlist_free(&l);

	OK(store_domain_del(f->st, "b.org", error_r));
	EXPECT_ERROR(store_domain_del(f->st, "b.org", error_r), "no domain b.org");

	/* A domain with an account, alias or list in it stays. */
	int64_t id;
	add_account(f, "alice@example.com", &id);
	strlist targets = list_of("alice@example.com", NULL);
	OK(store_alias_add(f->st, "info@example.com", &targets, error_r));
	EXPECT_ERROR(store_domain_del(f->st, "example.com", error_r),
		     "1 account(s), 1 alias(es) and 0 distribution list(s)");
	OK(store_alias_del(f->st, "info@example.com", &targets, error_r));
	OK(store_user_del(f->st, "alice@example.com", error_r));
	OK(store_domain_del(f->st, "example.com", error_r));
	assert_int_equal(store_domain_exists(f->st, "example.com", &error), 0);
	strlist_free(&targets);
}

static void test_accounts(void **state)
{
	struct fixture *f = *state;
	char *error = NULL;
	struct account a = { 0 };
	strlist l;
	strlist_init(&l);

	EXPECT_ERROR(store_user_add(f->st, "alice@example.com", "h", "s", error_r),
		     "example.com is not a local domain");
	OK(store_domain_add(f->st, "example.com", error_r));
	OK(store_domain_add(f->st, "example.org", error_r));
	OK(store_user_add(f->st, "alice@example.com", "$y$one", "scram-one", error_r));
	OK(store_user_add(f->st, "Bob@example.com", "$y$two", "scram-two", error_r));
	OK(store_user_add(f->st, "carol@example.org", "$y$three", "scram-three", error_r));
	EXPECT_ERROR(store_user_add(f->st, "ALICE@example.com", "h", "s", error_r),
		     "is already an account");

	/* Lookups ignore case; the address comes back as it was created. */
	assert_int_equal(store_user_get(f->st, "bob@EXAMPLE.com", &a, &error), 1);
	assert_string_equal(a.address, "Bob@example.com");
	assert_string_equal(a.password_hash, "$y$two");
	assert_string_equal(a.scram_sha256, "scram-two");
	assert_true(a.id > 0);
	account_clear(&a);
	assert_int_equal(store_user_get(f->st, "nobody@example.com", &a, &error), 0);

	OK(store_user_set_password(f->st, "alice@example.com", "$y$new", "scram-new", error_r));
	assert_int_equal(store_user_get(f->st, "alice@example.com", &a, &error), 1);
	assert_string_equal(a.password_hash, "$y$new");
	assert_string_equal(a.scram_sha256, "scram-new");
	account_clear(&a);
	EXPECT_ERROR(store_user_set_password(f->st, "nobody@example.com", "h", "s", error_r),
		     "no account nobody@example.com");

	OK(store_user_list(f->st, NULL, &l, error_r));
	assert_list(&l, "alice@example.com", "Bob@example.com", "carol@example.org", NULL);
	strlist_free(&l);
	OK(store_user_list(f->st, "example.org", &l, error_r));
	assert_list(&l, "carol@example.org", NULL);
	strlist_free(&l);

	OK(store_user_del(f->st, "BOB@example.com", error_r));
	assert_int_equal(store_user_get(f->st, "bob@example.com", &a, &error), 0);
	EXPECT_ERROR(store_user_del(f->st, "bob@example.com", error_r), "no account");
	/* Its folders went with it. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM folders"), 12);
}

static void test_default_folders(void **state)
{
	static const char *const names[] = { "Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash" };
	static const char *const uses[] = { "\\Archive", "\\Drafts", NULL, "\\Junk", "\\Sent", "\\Trash" };
	struct fixture *f = *state;
	char *error = NULL;
	int64_t alice;
	OK(store_domain_add(f->st, "example.com", error_r));
	add_account(f, "alice@example.com", &alice);

	struct folder *folders;
	size_t count;
	OK(store_folder_list(f->st, alice, &folders, &count, error_r));
	assert_int_equal(count, 6);
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(folders[i].name, names[i]);
		if (uses[i] == NULL)
			assert_null(folders[i].special_use);
		else
			assert_string_equal(folders[i].special_use, uses[i]);
		assert_true(folders[i].subscribed);
		assert_int_equal(folders[i].uidnext, 1);
		assert_int_equal(folders[i].messages, 0);
		assert_true(folders[i].uidvalidity > 0);
		/* No two folders share a UIDVALIDITY, even when created in one second. */
		for (size_t k = 0; k < i; k++)
			assert_int_not_equal(folders[i].uidvalidity, folders[k].uidvalidity);
		folder_clear(&folders[i]);
	}
	free(folders);

	struct folder inbox = { 0 };
	assert_int_equal(store_folder_get(f->st, alice, "inbox", &inbox, &error), 1);
	assert_string_equal(inbox.name, "INBOX");
	folder_clear(&inbox);
	/* Only INBOX is case-insensitive. */
	assert_int_equal(store_folder_get(f->st, alice, "sent", &inbox, &error), 0);
	assert_int_equal(store_folder_get(f->st, alice + 1, "INBOX", &inbox, &error), 0);
}

static void test_aliases(void **state)
{
	struct fixture *f = *state;
	int64_t id;
	strlist l;
	strlist_init(&l);
	strlist two = list_of("alice@example.com", "bob@remote.org", NULL);
	strlist one = list_of("bob@remote.org", NULL);
	strlist none;
	strlist_init(&none);

	EXPECT_ERROR(store_alias_add(f->st, "info@example.com", &two, error_r),
		     "not a local domain");
	OK(store_domain_add(f->st, "example.com", error_r));
	add_account(f, "alice@example.com", &id);
	OK(store_alias_add(f->st, "info@example.com", &two, error_r));
	OK(store_alias_add(f->st, "INFO@example.com", &one, error_r)); /* already there: no-op */
	OK(store_alias_add(f->st, "@example.com", &one, error_r));     /* catch-all */

	OK(store_alias_targets(f->st, "Info@Example.com", &l, error_r));
	assert_list(&l, "alice@example.com", "bob@remote.org", NULL);
	strlist_free(&l);
	OK(store_alias_list(f->st, "info@example.com", &l, error_r));
	assert_list(&l, "info@example.com alice@example.com", "info@example.com bob@remote.org", NULL);
	strlist_free(&l);
	OK(store_alias_list(f->st, NULL, &l, error_r));
	assert_list(&l, "@example.com bob@remote.org", "info@example.com alice@example.com",
		    "info@example.com bob@remote.org", NULL);
	strlist_free(&l);
	OK(store_aliases_only_to(f->st, "BOB@remote.org", &l, error_r));
	assert_list(&l, "@example.com", NULL); /* info@ leads to alice@ too */
	strlist_free(&l);
	OK(store_alias_targets(f->st, "nobody@example.com", &l, error_r));
	assert_int_equal(l.count, 0);

	/* An address is one thing: account, alias or list. */
	EXPECT_ERROR(store_alias_add(f->st, "alice@example.com", &one, error_r),
		     "alice@example.com is already an account");
	EXPECT_ERROR(store_user_add(f->st, "info@example.com", "h", "s", error_r),
		     "is already an alias");
	EXPECT_ERROR(store_list_add(f->st, "info@example.com", &one, error_r),
		     "is already an alias");
	strlist self = list_of("info@example.com", NULL);
	EXPECT_ERROR(store_alias_add(f->st, "info@example.com", &self, error_r), "itself");
	strlist_free(&self);
	EXPECT_ERROR(store_alias_add(f->st, "x@example.com", &none, error_r),
		     "needs at least one target");

	/* Removing: a target that is not there changes nothing. */
	strlist wrong = list_of("bob@remote.org", "carol@remote.org", NULL);
	EXPECT_ERROR(store_alias_del(f->st, "info@example.com", &wrong, error_r),
		     "carol@remote.org is not a target of alias info@example.com");
	strlist_free(&wrong);
	OK(store_alias_targets(f->st, "info@example.com", &l, error_r));
	assert_int_equal(l.count, 2);
	strlist_free(&l);
	OK(store_alias_del(f->st, "info@example.com", &one, error_r));
	OK(store_alias_targets(f->st, "info@example.com", &l, error_r));
	assert_list(&l, "alice@example.com", NULL);
	strlist_free(&l);
	OK(store_alias_del(f->st, "info@example.com", &none, error_r));
	OK(store_alias_targets(f->st, "info@example.com", &l, error_r));
	assert_int_equal(l.count, 0);
	EXPECT_ERROR(store_alias_del(f->st, "info@example.com", &none, error_r),
		     "no alias info@example.com");
	strlist_free(&two);
	strlist_free(&one);
}

static void test_lists(void **state)
{
	struct fixture *f = *state;
	char *error = NULL;
	int64_t id;
	strlist l;
	strlist_init(&l);
	strlist members = list_of("alice@example.com", "bob@remote.org", "ALICE@example.com", NULL);
	strlist bob = list_of("bob@remote.org", NULL);
	strlist none;
	strlist_init(&none);

	OK(store_domain_add(f->st, "example.com", error_r));
	add_account(f, "alice@example.com", &id);
	EXPECT_ERROR(store_list_add(f->st, "team@other.org", &members, error_r),
		     "not a local domain");
	OK(store_list_add(f->st, "team@example.com", &members, error_r));
	OK(store_list_add(f->st, "all@example.com", &bob, error_r));
	assert_int_equal(store_list_members(f->st, "TEAM@example.com", &l, &error), 1);
	assert_list(&l, "alice@example.com", "bob@remote.org", NULL); /* duplicate ignored */
	strlist_free(&l);
	assert_int_equal(store_list_members(f->st, "nolist@example.com", &l, &error), 0);
	OK(store_list_all(f->st, &l, error_r));
	assert_list(&l, "all@example.com", "team@example.com", NULL);
	strlist_free(&l);

	EXPECT_ERROR(store_list_add(f->st, "alice@example.com", &bob, error_r),
		     "is already an account");
	EXPECT_ERROR(store_alias_add(f->st, "team@example.com", &bob, error_r),
		     "is already a distribution list");

	OK(store_list_del(f->st, "team@example.com", &bob, error_r));
	assert_int_equal(store_list_members(f->st, "team@example.com", &l, &error), 1);
	assert_list(&l, "alice@example.com", NULL);
	strlist_free(&l);
	EXPECT_ERROR(store_list_del(f->st, "team@example.com", &bob, error_r),
		     "bob@remote.org is not a member of distribution list team@example.com");
	/* A list whose last member left still exists until it is deleted. */
	strlist alice = list_of("alice@example.com", NULL);
	OK(store_list_del(f->st, "team@example.com", &alice, error_r));
	assert_int_equal(store_list_members(f->st, "team@example.com", &l, &error), 1);
	assert_int_equal(l.count, 0);
	OK(store_list_del(f->st, "team@example.com", &none, error_r));
	assert_int_equal(store_list_members(f->st, "team@example.com", &l, &error), 0);
	EXPECT_ERROR(store_list_del(f->st, "team@example.com", &none, error_r),
		     "no distribution list team@example.com");
	strlist_free(&alice);
	strlist_free(&members);
	strlist_free(&bob);
}

/* ---- delivery ---- */

static int setup_mailboxes(void **state)
{
	setup(state);
	struct fixture *f = *state;
	OK(store_domain_add(f->st, "example.com", error_r));
	add_account(f, "alice@example.com", &f->alice);
	add_account(f, "bob@example.com", &f->bob);
	return 0;
}

static char *write_spool(struct fixture *f, const char *name, const char *content)
{
	char *path = xasprintf("%s/tmp/%s", f->dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(content, 1, strlen(content), fp), strlen(content));
	fclose(fp);
	return path;
}

static struct delivery *new_delivery(struct fixture *f, const char *name, const char *content)
{
	struct delivery *d = xcalloc(1, sizeof(*d));
	d->spool_path = write_spool(f, name, content);
	d->body_size = strlen(content);
	d->sender = xstrdup("sender@remote.org");
	d->arrival = 1795396341; /* 2026-11-23T01:12:21Z */
	d->queue_id = xstrdup(name);
	return d;
}

static void add_local(struct delivery *d, int64_t account_id, const char *folder,
		      const char *prefix, uint32_t flags)
{
	d->local = xrealloc(d->local, (d->local_count + 1) * sizeof(*d->local));
	d->local[d->local_count++] = (struct delivery_local){
		.account_id = account_id,
		.folder = folder,
		.header_prefix = prefix != NULL ? xstrdup(prefix) : NULL,
		.flags = flags,
	};
}

static void add_remote(struct delivery *d, const char *recipient)
{
	d->remote = xrealloc(d->remote, (d->remote_count + 1) * sizeof(*d->remote));
	d->remote[d->remote_count++] = (struct delivery_remote){ .recipient = xstrdup(recipient) };
}

static int64_t folder_id(struct fixture *f, int64_t account, const char *name)
{
	struct folder fo = { 0 };
	char *error = NULL;
	assert_int_equal(store_folder_get(f->st, account, name, &fo, &error), 1);
	int64_t id = fo.id;
	folder_clear(&fo);
	return id;
}

static void assert_message(struct fixture *f, int64_t folder, uint32_t uid, const char *prefix,
			   const char *body)
{
	buf b;
	buf_init(&b);
	char *error = NULL;
	int r = store_message_read(f->st, folder, uid, &b, &error);
	if (r < 0)
		fprintf(stderr, "store_message_read: %s\n", error);
	assert_int_equal(r, 1);
	assert_int_equal(b.len, strlen(prefix) + strlen(body));
	assert_memory_equal(b.data, prefix, strlen(prefix));
	assert_memory_equal(b.data + strlen(prefix), body, strlen(body));
	buf_free(&b);
}

static const char body_a[] = "Received: from x by y; Mon, 23 Nov 2026 01:12:21 +0000\r\n"
			     "Subject: first\r\n\r\nHello,\r\nworld.\r\n";
static const char body_b[] = "Subject: second\r\n\r\n\x01\xff 8-bit\r\nno final line end";
static const char prefix_alice[] = "Return-Path: <sender@remote.org>\r\nDelivered-To: alice@example.com\r\n";
static const char prefix_bob[] = "Return-Path: <sender@remote.org>\r\nDelivered-To: bob@example.com\r\n";

static void test_deliver_batch_shares_one_file(void **state)
{
	struct fixture *f = *state;
	struct delivery *batch[2];
	batch[0] = new_delivery(f, "a", body_a);
	add_local(batch[0], f->alice, "INBOX", prefix_alice, 0);
	add_local(batch[0], f->bob, "inbox", prefix_bob, 0);
	add_local(batch[0], f->alice, "Archive", prefix_alice, FLAG_SEEN);
	add_remote(batch[0], "carol@remote.org");
	add_remote(batch[0], "dave@remote.org");
	batch[1] = new_delivery(f, "b", body_b);
	add_local(batch[1], f->alice, "INBOX", prefix_alice, 0);

	assert_int_equal(store_deliver(f->st, batch, 2), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(batch[i]->status, 0);
		assert_null(batch[i]->error);
	}
	/* One file per message, however many recipients; the spool is empty. */
	assert_int_equal(count_files(f, "messages"), 2);
	assert_int_equal(count_files(f, "tmp"), 0);
	assert_int_equal(batch[0]->local[0].uid_r, 1);
	assert_int_equal(batch[0]->local[1].uid_r, 1);
	assert_int_equal(batch[0]->local[2].uid_r, 1);
	assert_int_equal(batch[1]->local[0].uid_r, 2);

	int64_t inbox = folder_id(f, f->alice, "INBOX"), archive = folder_id(f, f->alice, "Archive"),
		bob_inbox = folder_id(f, f->bob, "INBOX");
	struct message *m, *bm, *am;
	size_t n, bn, an;
	OK(store_message_list(f->st, inbox, &m, &n, error_r));
	OK(store_message_list(f->st, bob_inbox, &bm, &bn, error_r));
	OK(store_message_list(f->st, archive, &am, &an, error_r));
	assert_int_equal(n, 2);
	assert_int_equal(bn, 1);
	assert_int_equal(an, 1);
	assert_int_equal(m[0].uid, 1);
	assert_int_equal(m[1].uid, 2);
	assert_true(m[0].modseq < m[1].modseq);
	assert_int_equal(m[0].body_id, bm[0].body_id);
	assert_int_equal(m[0].body_id, am[0].body_id);
	assert_int_not_equal(m[0].body_id, m[1].body_id);
	assert_int_equal(m[0].size, strlen(prefix_alice) + strlen(body_a));
	assert_int_equal(m[0].internal_date, 1795396341);
	assert_int_equal(m[0].flags, 0);
	assert_int_equal(am[0].flags, FLAG_SEEN);
	for (size_t i = 0; i < n; i++)
		message_clear(&m[i]);
	message_clear(&bm[0]);
	message_clear(&am[0]);
	free(m);
	free(bm);
	free(am);

	assert_message(f, inbox, 1, prefix_alice, body_a);
	assert_message(f, bob_inbox, 1, prefix_bob, body_a);
	buf b;
	buf_init(&b);
	char *error = NULL;
	assert_int_equal(store_message_read(f->st, inbox, 3, &b, &error), 0);
	buf_free(&b);

	struct folder fo = { 0 };
	assert_int_equal(store_folder_get(f->st, f->alice, "INBOX", &fo, &error), 1);
	assert_int_equal(fo.uidnext, 3);
	assert_int_equal(fo.messages, 2);
	assert_int_equal(fo.unseen, 2);
	assert_true(fo.highestmodseq >= 3);
	folder_clear(&fo);
	assert_int_equal(store_folder_get(f->st, f->alice, "Archive", &fo, &error), 1);
	assert_int_equal(fo.messages, 1);
	assert_int_equal(fo.unseen, 0);
	folder_clear(&fo);

	/* The remote recipients wait in the queue, with the same message file. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM queue_recipients r JOIN queue q "
				    "ON q.id = r.queue_row WHERE q.queue_id = 'a' AND r.status = 'pending' "
				    "AND q.sender = 'sender@remote.org'"),
			 2);
	assert_int_equal(sql_int(f, "SELECT count(DISTINCT body_id) FROM queue"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM bodies"), 2);
	delivery_free(&batch[0]);
	delivery_free(&batch[1]);

	/* A later batch goes on counting. */
	batch[0] = new_delivery(f, "c", body_b);
	add_local(batch[0], f->alice, "INBOX", NULL, 0);
	assert_int_equal(store_deliver(f->st, batch, 1), 0);
	assert_int_equal(batch[0]->local[0].uid_r, 3);
	assert_message(f, inbox, 3, "", body_b);
	delivery_free(&batch[0]);
}

static void test_deliver_failure_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct delivery *batch[4];
	batch[0] = new_delivery(f, "gone-account", body_a);
	add_local(batch[0], 9999, "INBOX", prefix_alice, 0);
	batch[1] = new_delivery(f, "good", body_a);
	add_local(batch[1], f->alice, "INBOX", prefix_alice, 0);
	batch[2] = new_delivery(f, "short", body_a);
	batch[2]->body_size += 10; /* the session thought it wrote more than is there */
	add_local(batch[2], f->bob, "INBOX", prefix_bob, 0);
	batch[3] = new_delivery(f, "missing", body_a);
	unlink(batch[3]->spool_path);
	add_local(batch[3], f->bob, "INBOX", prefix_bob, 0);

	assert_int_equal(store_deliver(f->st, batch, 4), -1);
	assert_int_equal(batch[1]->status, 0);
	assert_int_equal(batch[1]->local[0].uid_r, 1);
	const char *reasons[] = { "no longer exists", NULL, "expected", "missing" };
	for (int i = 0; i < 4; i++) {
		if (reasons[i] == NULL)
			continue;
		assert_int_equal(batch[i]->status, -1);
		assert_false(batch[i]->full);
		assert_non_null(batch[i]->error);
		if (strstr(batch[i]->error, reasons[i]) == NULL) {
			fprintf(stderr, "error \"%s\" lacks \"%s\"\n", batch[i]->error, reasons[i]);
			fail();
		}
	}
	assert_false(store_is_full(f->st));
	/* Only the good delivery left a file and rows. */
	assert_int_equal(count_files(f, "messages"), 1);
	assert_int_equal(count_files(f, "tmp"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM bodies"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM folder_messages"), 1);
	/* Bob's INBOX did not use up a UID on the failed ones. */
	struct folder fo = { 0 };
	char *error = NULL;
	assert_int_equal(store_folder_get(f->st, f->bob, "INBOX", &fo, &error), 1);
	assert_int_equal(fo.uidnext, 1);
	folder_clear(&fo);
	for (int i = 0; i < 4; i++)
		delivery_free(&batch[i]);
}

static void test_deliver_full_database(void **state)
{
	struct fixture *f = *state;
	/* Cap the database at its present size: the next insert of any size fails with
	 * SQLITE_FULL, as on a full disk. */
	char *sql = xasprintf("PRAGMA max_page_count = %lld", (long long)sql_int(f, "PRAGMA page_count"));
	assert_int_equal(sqlite3_exec(f->st->db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	char *big = xmalloc(200000);
	memset(big, 'x', 199997);
	strcpy(big + 199997, "\r\n");

	struct delivery *batch[2];
	batch[0] = new_delivery(f, "one", body_a);
	add_local(batch[0], f->alice, "INBOX", big, 0);
	batch[1] = new_delivery(f, "two", body_a);
	add_local(batch[1], f->bob, "INBOX", big, 0);
	assert_int_equal(store_deliver(f->st, batch, 2), -1);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(batch[i]->status, -1);
		assert_true(batch[i]->full);
		assert_non_null(batch[i]->error);
	}
	assert_true(store_is_full(f->st));
	assert_int_equal(count_files(f, "messages"), 0);
	assert_int_equal(count_files(f, "tmp"), 0);
	delivery_free(&batch[0]);
	delivery_free(&batch[1]);

	/* With room again, delivery works and the UIDs were not used up. */
	assert_int_equal(sqlite3_exec(f->st->db, "PRAGMA max_page_count = 1000000", NULL, NULL, NULL),
			 SQLITE_OK);
	batch[0] = new_delivery(f, "three", body_a);
	add_local(batch[0], f->alice, "INBOX", big, 0);
	assert_int_equal(store_deliver(f->st, batch, 1), 0);
	assert_false(store_is_full(f->st));
	assert_int_equal(batch[0]->local[0].uid_r, 1);
	assert_message(f, folder_id(f, f->alice, "INBOX"), 1, big, body_a);
	delivery_free(&batch[0]);
	free(big);
}

static void test_deliver_missing_folder_goes_to_inbox(void **state)
{
	struct fixture *f = *state;
	struct delivery *d = new_delivery(f, "filtered", body_a);
	add_local(d, f->alice, "Lists/Deleted", prefix_alice, 0);
	assert_int_equal(store_deliver(f->st, &d, 1), 0);
	assert_int_equal(d->local[0].uid_r, 1);
	assert_message(f, folder_id(f, f->alice, "INBOX"), 1, prefix_alice, body_a);
	delivery_free(&d);
}

static void test_user_del_removes_unshared_files(void **state)
{
	struct fixture *f = *state;
	struct delivery *batch[2];
	batch[0] = new_delivery(f, "shared", body_a);
	add_local(batch[0], f->alice, "INBOX", prefix_alice, 0);
	add_local(batch[0], f->bob, "INBOX", prefix_bob, 0);
	batch[1] = new_delivery(f, "alice-only", body_b);
	add_local(batch[1], f->alice, "INBOX", prefix_alice, 0);
	assert_int_equal(store_deliver(f->st, batch, 2), 0);
	assert_int_equal(count_files(f, "messages"), 2);
	struct folder before = { 0 };
	char *error = NULL;
	assert_int_equal(store_folder_get(f->st, f->bob, "INBOX", &before, &error), 1);

	/* Alice goes: her own message's file with her, the shared one stays for Bob. */
	OK(store_user_del(f->st, "alice@example.com", error_r));
	assert_int_equal(count_files(f, "messages"), 1);
	assert_message(f, before.id, 1, prefix_bob, body_a);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM bodies"), 1);

	OK(store_user_del(f->st, "bob@example.com", error_r));
	assert_int_equal(count_files(f, "messages"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM bodies"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM folder_messages"), 0);

	/* A recreated account's INBOX never reuses the old UIDVALIDITY. */
	int64_t bob;
	add_account(f, "bob@example.com", &bob);
	struct folder after = { 0 };
	assert_int_equal(store_folder_get(f->st, bob, "INBOX", &after, &error), 1);
	assert_int_not_equal(after.uidvalidity, before.uidvalidity);
	assert_int_equal(after.uidnext, 1);
	folder_clear(&before);
	folder_clear(&after);
	delivery_free(&batch[0]);
	delivery_free(&batch[1]);
}

/* store_messages_expunge: the entries go in one transaction with a new highestmodseq; a file
 * another folder still uses stays, one nothing uses goes; unknown UIDs are ignored. */
static void test_expunge(void **state)
{
	struct fixture *f = *state;
	struct delivery *batch[2];
	batch[0] = new_delivery(f, "shared", body_a);
	add_local(batch[0], f->alice, "INBOX", prefix_alice, 0);
	add_local(batch[0], f->bob, "INBOX", prefix_bob, 0);
	batch[1] = new_delivery(f, "alice-only", body_b);
	add_local(batch[1], f->alice, "INBOX", prefix_alice, 0);
	assert_int_equal(store_deliver(f->st, batch, 2), 0);
	int64_t inbox = folder_id(f, f->alice, "INBOX");
	struct folder before = { 0 }, after = { 0 };
	char *error = NULL;
	assert_int_equal(store_folder_get(f->st, f->alice, "INBOX", &before, &error), 1);

	const uint32_t uids[] = { 1, 2, 77 };
	OK(store_messages_expunge(f->st, inbox, uids, 3, error_r));
	assert_int_equal(store_folder_get(f->st, f->alice, "INBOX", &after, &error), 1);
	assert_int_equal(after.messages, 0);
	assert_true(after.highestmodseq > before.highestmodseq);
	assert_int_equal(count_files(f, "messages"), 1); /* Bob's copy keeps the shared file */
	assert_message(f, folder_id(f, f->bob, "INBOX"), 1, prefix_bob, body_a);
	buf b;
	buf_init(&b);
	assert_int_equal(store_message_read(f->st, inbox, 1, &b, &error), 0);
	buf_free(&b);

	/* Nothing to remove changes nothing, not even the modseq. */
	OK(store_messages_expunge(f->st, inbox, uids, 3, error_r));
	OK(store_messages_expunge(f->st, inbox, uids, 0, error_r));
	folder_clear(&before);
	assert_int_equal(store_folder_get(f->st, f->alice, "INBOX", &before, &error), 1);
	assert_int_equal(before.highestmodseq, after.highestmodseq);

	const uint32_t bob_uid = 1;
	OK(store_messages_expunge(f->st, folder_id(f, f->bob, "INBOX"), &bob_uid, 1, error_r));
	assert_int_equal(count_files(f, "messages"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM bodies"), 0);
	folder_clear(&before);
	folder_clear(&after);
	delivery_free(&batch[0]);
	delivery_free(&batch[1]);
}

/* While a backup holds the lock, an expunged message's file is kept (under its .expunged name,
 * which sweep leaves alone) for the backup to copy; unlocking removes it. */
static void test_expunge_during_backup(void **state)
{
	struct fixture *f = *state;
	struct delivery *d = new_delivery(f, "kept", body_a);
	add_local(d, f->alice, "INBOX", prefix_alice, 0);
	assert_int_equal(store_deliver(f->st, &d, 1), 0);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(f->st->db, "SELECT path FROM bodies", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	char *path = xstrdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);

	char *error = NULL;
	int lock = msgfile_backup_lock(f->dir, &error);
	assert_true(lock >= 0);
	const uint32_t uid = 1;
	OK(store_messages_expunge(f->st, folder_id(f, f->alice, "INBOX"), &uid, 1, error_r));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM bodies"), 0);
	char *full = xasprintf("%s/%s", f->dir, path);
	assert_int_equal(access(full, F_OK), -1);
	unsigned swept = 0;
	OK(store_sweep(f->st, -3600, &swept, error_r));
	assert_int_equal(swept, 0);
	int fd = msgfile_open_for_backup(f->dir, path);
	assert_true(fd >= 0);
	char data[sizeof(body_a)];
	assert_int_equal(read(fd, data, sizeof(data)), strlen(body_a));
	assert_memory_equal(data, body_a, strlen(body_a));
	close(fd);

	msgfile_backup_unlock(f->dir, lock);
	assert_int_equal(count_files(f, "messages"), 0);
	assert_int_equal(msgfile_open_for_backup(f->dir, path), -1);
	free(full);
	free(path);
	delivery_free(&d);
}

/* SORT's batch of header sections: each from its file's start, the per-recipient lines left
 * out, cut at max; nothing for a UID the folder does not have. */
static void test_message_headers(void **state)
{
	struct fixture *f = *state;
	struct delivery *batch[2];
	batch[0] = new_delivery(f, "a", body_a);
	add_local(batch[0], f->alice, "INBOX", prefix_alice, 0);
	batch[1] = new_delivery(f, "b", body_b);
	add_local(batch[1], f->alice, "INBOX", prefix_alice, 0);
	assert_int_equal(store_deliver(f->st, batch, 2), 0);
	int64_t inbox = folder_id(f, f->alice, "INBOX");
	const uint32_t uids[] = { 1, 2, 5 };
	buf h[3];
	for (int i = 0; i < 3; i++)
		buf_init(&h[i]);
	OK(store_message_headers(f->st, inbox, uids, 3, 64 * 1024, h, error_r));
	assert_int_equal(h[0].len, strlen(body_a)); /* a short file is read whole */
	assert_memory_equal(h[0].data, body_a, h[0].len);
	assert_true(h[1].len >= strlen("Subject: second\r\n\r\n"));
	assert_memory_equal(h[1].data, body_b, h[1].len);
	assert_int_equal(h[2].len, 0);
	for (int i = 0; i < 3; i++)
		buf_clear(&h[i]);
	OK(store_message_headers(f->st, inbox, uids, 2, 10, h, error_r));
	assert_int_equal(h[0].len, 10);
	assert_memory_equal(h[0].data, body_a, 10);
	delivery_free(&batch[0]);
	delivery_free(&batch[1]);
	/* a long header section is read to its end, a long body is not */
	buf big;
	buf_init(&big);
	for (int i = 0; i < 300; i++)
		buf_printf(&big, "X-Field-%03d: some value to make the header section long\r\n", i);
	size_t header_len = big.len + 2;
	buf_puts(&big, "\r\n");
	for (int i = 0; i < 20000; i++)
		buf_puts(&big, "body line\r\n");
	batch[0] = new_delivery(f, "big", big.data);
	add_local(batch[0], f->alice, "INBOX", prefix_alice, 0);
	assert_int_equal(store_deliver(f->st, batch, 1), 0);
	const uint32_t big_uid = 3;
	buf_clear(&h[0]);
	OK(store_message_headers(f->st, inbox, &big_uid, 1, 64 * 1024, h, error_r));
	assert_true(h[0].len >= header_len && h[0].len < header_len + 8192);
	assert_memory_equal(h[0].data, big.data, header_len);
	buf_free(&big);
	for (int i = 0; i < 3; i++)
		buf_free(&h[i]);
	delivery_free(&batch[0]);
}

/* \Recent: the first taker holds what no one took; what arrives later goes to the next taker;
 * a folder's status counts what no one has taken. */
static void test_take_recent(void **state)
{
	struct fixture *f = *state;
	int64_t inbox = folder_id(f, f->alice, "INBOX");
	for (int i = 0; i < 2; i++) {
		struct delivery *d = new_delivery(f, "r", body_a);
		add_local(d, f->alice, "INBOX", prefix_alice, 0);
		assert_int_equal(store_deliver(f->st, &d, 1), 0);
		delivery_free(&d);
	}
	char *error = NULL;
	struct folder fo = { 0 };
	assert_int_equal(store_folder_get(f->st, f->alice, "INBOX", &fo, &error), 1);
	assert_int_equal(fo.recent, 2);
	assert_int_equal(fo.recent_uid, 1);
	folder_clear(&fo);
	uint32_t first = 0;
	OK(store_folder_take_recent(f->st, inbox, 3, &first, error_r));
	assert_int_equal(first, 1); /* UIDs 1 and 2 are this taker's */
	OK(store_folder_take_recent(f->st, inbox, 3, &first, error_r));
	assert_int_equal(first, 3); /* none left for a second taker */
	assert_int_equal(store_folder_get(f->st, f->alice, "INBOX", &fo, &error), 1);
	assert_int_equal(fo.recent, 0);
	folder_clear(&fo);
	struct delivery *d = new_delivery(f, "r", body_a);
	add_local(d, f->alice, "INBOX", prefix_alice, 0);
	assert_int_equal(store_deliver(f->st, &d, 1), 0);
	delivery_free(&d);
	OK(store_folder_take_recent(f->st, inbox, 4, &first, error_r));
	assert_int_equal(first, 3);
}

/* Limits: the domain's by default, the account's own over them, none at all; usage is what
 * the folders hold, Trash and Junk apart when asked. */
static void test_quota(void **state)
{
	struct fixture *f = *state;
	char *error = NULL, **error_r = &error;
	struct quota q;
	assert_int_equal(store_quota_get(f->st, f->alice, false, &q, error_r), 1);
	assert_int_equal(q.storage_limit, QUOTA_NONE);
	assert_int_equal(q.message_limit, QUOTA_NONE);
	assert_int_equal(q.storage_used, 0);
	assert_true(quota_allows(&q, 1u << 30, 1000));
	const char *folders[] = { "INBOX", "Trash" };
	for (int i = 0; i < 2; i++) {
		struct delivery *d = new_delivery(f, "q", body_a);
		add_local(d, f->alice, folders[i], prefix_alice, 0);
		assert_int_equal(store_deliver(f->st, &d, 1), 0);
		delivery_free(&d);
	}
	uint64_t one = strlen(prefix_alice) + strlen(body_a);
	assert_int_equal(store_quota_set(f->st, "example.com", 10000, 5, error_r), 1);
	assert_int_equal(store_quota_get(f->st, f->alice, false, &q, error_r), 1);
	assert_int_equal(q.storage_limit, 10000);
	assert_int_equal(q.message_limit, 5);
	assert_int_equal(q.storage_used, 2 * one);
	assert_int_equal(q.messages_used, 2);
	assert_true(quota_allows(&q, 10000 - 2 * one, 3));
	assert_false(quota_allows(&q, 10000 - 2 * one + 1, 1));
	assert_false(quota_allows(&q, 1, 4));
	assert_int_equal(store_quota_get(f->st, f->alice, true, &q, error_r), 1);
	assert_int_equal(q.storage_used, one);
	assert_int_equal(q.messages_used, 1);
	/* the account's own storage limit; its message limit stays the domain's */
	assert_int_equal(store_quota_set(f->st, "alice@example.com", 100, QUOTA_KEEP, error_r), 1);
	assert_int_equal(store_quota_get(f->st, f->alice, false, &q, error_r), 1);
	assert_int_equal(q.storage_limit, 100);
	assert_int_equal(q.message_limit, 5);
	assert_int_equal(store_quota_get(f->st, f->bob, false, &q, error_r), 1);
	assert_int_equal(q.storage_limit, 10000);
	/* no limit for alice, whatever the domain says; then back to the domain's */
	assert_int_equal(store_quota_set(f->st, "alice@example.com", QUOTA_NONE, QUOTA_NONE, error_r), 1);
	assert_int_equal(store_quota_get(f->st, f->alice, false, &q, error_r), 1);
	assert_int_equal(q.storage_limit, QUOTA_NONE);
	assert_int_equal(q.message_limit, QUOTA_NONE);
	assert_int_equal(store_quota_set(f->st, "alice@example.com", QUOTA_DEFAULT, QUOTA_DEFAULT, error_r), 1);
	assert_int_equal(store_quota_get(f->st, f->alice, false, &q, error_r), 1);
	assert_int_equal(q.storage_limit, 10000);
	assert_int_equal(store_quota_set(f->st, "example.com", QUOTA_NONE, QUOTA_KEEP, error_r), 1);
	assert_int_equal(store_quota_get(f->st, f->alice, false, &q, error_r), 1);
	assert_int_equal(q.storage_limit, QUOTA_NONE);
	assert_int_equal(q.message_limit, 5);
	assert_int_equal(store_quota_set(f->st, "nobody@example.com", 1, 1, error_r), 0);
	assert_int_equal(store_quota_set(f->st, "example.org", 1, 1, error_r), 0);
	assert_int_equal(store_quota_get(f->st, 999, false, &q, error_r), 0);
	assert_true(quota_counts_folder(NULL, true));
	assert_false(quota_counts_folder("\\Junk", true));
	assert_true(quota_counts_folder("\\Junk", false));
}

/* The IMAP additions: flags with a new modseq, copy and move sharing the file with ascending
 * UIDs, and folders created, renamed with their children, unsubscribed and deleted with the
 * files only they used. */
/* Imported messages keep their UIDs where the folder takes the source's UIDVALIDITY (a fresh
 * folder, or one with that UIDVALIDITY already), with flags, keywords and internal dates; a
 * folder with messages of its own keeps its UIDVALIDITY and gives out its next UIDs. */
static void test_import(void **state)
{
	struct fixture *f = *state;
	char *error = NULL;
	int64_t inbox = folder_id(f, f->alice, "INBOX");
	assert_int_equal(store_folder_adopt_uidvalidity(f->st, inbox, 1700000000, &error), 1);
	struct import_message msgs[2] = {
		{ write_spool(f, "i1", "Subject: one\r\n\r\nx\r\n"), 19, 4, FLAG_SEEN | FLAG_RECENT,
		  "$Forwarded Junk", 1600000000, 0 },
		{ write_spool(f, "i2", "Subject: two\r\n\r\n"), 16, 0, FLAG_FLAGGED, "", 1600000001, 0 },
	};
	char *paths[2] = { msgs[0].spool_path, msgs[1].spool_path };
	OK(store_messages_import(f->st, inbox, msgs, 2, error_r));
	assert_int_equal(msgs[0].uid_r, 4);  /* below the source's UIDNEXT: its own UID */
	assert_int_equal(msgs[1].uid_r, 5);  /* none: the next */
	OK(store_folder_raise_uidnext(f->st, inbox, 9, error_r));
	OK(store_folder_raise_uidnext(f->st, inbox, 2, error_r)); /* never down */
	struct folder fo = { 0 };
	assert_int_equal(store_folder_get(f->st, f->alice, "INBOX", &fo, &error), 1);
	assert_int_equal(fo.uidvalidity, 1700000000);
	assert_int_equal(fo.uidnext, 9);
	folder_clear(&fo);
	struct message *list = NULL;
	size_t count = 0;
	OK(store_message_list(f->st, inbox, &list, &count, error_r));
	assert_int_equal(count, 2);
	assert_int_equal(list[0].uid, 4);
	assert_int_equal(list[0].flags, FLAG_SEEN);
	assert_string_equal(list[0].keywords, "$Forwarded Junk");
	assert_int_equal(list[0].internal_date, 1600000000);
	assert_int_equal(list[0].size, 19);
	assert_int_equal(list[1].flags, FLAG_FLAGGED);
	for (size_t i = 0; i < count; i++)
		message_clear(&list[i]);
	free(list);
	assert_message(f, inbox, 4, "", "Subject: one\r\n\r\nx\r\n");
	/* the spool files moved into the store */
	assert_int_equal(access(paths[0], F_OK), -1);
	free(paths[0]);
	free(paths[1]);

	/* Again with the same UIDVALIDITY: kept; a UID the folder has passed gets the next. */
	assert_int_equal(store_folder_adopt_uidvalidity(f->st, inbox, 1700000000, &error), 1);
	struct import_message again = { write_spool(f, "i3", "Subject: 3\r\n\r\n"), 14, 4, 0, NULL, 1, 0 };
	OK(store_messages_import(f->st, inbox, &again, 1, error_r));
	assert_int_equal(again.uid_r, 9);
	free(again.spool_path);
	/* Another UIDVALIDITY: the folder keeps its own. */
	assert_int_equal(store_folder_adopt_uidvalidity(f->st, inbox, 1800000000, &error), 0);
	/* A folder made later never repeats an adopted UIDVALIDITY. */
	int64_t big = folder_id(f, f->bob, "INBOX");
	assert_int_equal(store_folder_adopt_uidvalidity(f->st, big, 4000000000u, &error), 1);
	assert_int_equal(store_folder_create(f->st, f->bob, "New", &error), 1);
	assert_int_equal(store_folder_get(f->st, f->bob, "New", &fo, &error), 1);
	assert_true(fo.uidvalidity > 4000000000u);
	folder_clear(&fo);

	/* A spool file of the wrong size fails the batch: nothing added, no file left. */
	int files = count_files(f, "messages");
	struct import_message bad[2] = {
		{ write_spool(f, "i4", "ok\r\n"), 4, 0, 0, NULL, 1, 0 },
		{ write_spool(f, "i5", "short"), 99, 0, 0, NULL, 1, 0 },
	};
	EXPECT_ERROR(store_messages_import(f->st, inbox, bad, 2, error_r), "");
	assert_int_equal(count_files(f, "messages"), files);
	assert_int_equal(count_files(f, "tmp"), 0);
	free(bad[0].spool_path);
	free(bad[1].spool_path);
}

static void test_imap(void **state)
{
	struct fixture *f = *state;
	struct delivery *d = new_delivery(f, "one", body_a);
	add_local(d, f->alice, "INBOX", prefix_alice, 0);
	assert_int_equal(store_deliver(f->st, &d, 1), 0);
	int64_t inbox = folder_id(f, f->alice, "INBOX"), archive = folder_id(f, f->alice, "Archive");
	char *error = NULL;

	struct flag_update up = { 1, FLAG_SEEN | FLAG_RECENT, "$Work" };
	uint64_t modseq = 0;
	OK(store_flags_update(f->st, inbox, &up, 1, &modseq, error_r));
	struct message *list = NULL;
	size_t count = 0;
	OK(store_message_list(f->st, inbox, &list, &count, error_r));
	assert_int_equal(count, 1);
	assert_int_equal(list[0].flags, FLAG_SEEN); /* \Recent is never stored */
	assert_string_equal(list[0].keywords, "$Work");
	assert_int_equal(list[0].modseq, modseq);
	message_clear(&list[0]);
	free(list);

	const uint32_t uids[] = { 1, 9 };
	uint32_t out[2], uidvalidity = 0;
	assert_int_equal(store_messages_copy(f->st, inbox, archive, uids, 2, false, out, &uidvalidity,
					     &error), 1);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 0);
	assert_true(uidvalidity > 0);
	assert_int_equal(store_messages_copy(f->st, inbox, archive, uids, 1, true, out, &uidvalidity,
					     &error), 1);
	assert_int_equal(out[0], 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM folder_messages"), 2);
	assert_int_equal(count_files(f, "messages"), 1);
	assert_message(f, archive, 2, prefix_alice, body_a);

	assert_int_equal(store_folder_create(f->st, f->alice, "Work", &error), 1);
	assert_int_equal(store_folder_create(f->st, f->alice, "Work/2026", &error), 1);
	assert_int_equal(store_folder_create(f->st, f->alice, "inbox", &error), 0);
	assert_int_equal(store_folder_rename(f->st, f->alice, "Work", "Jobs", &error), 1);
	assert_int_equal(store_folder_rename(f->st, f->alice, "Nope", "X", &error), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM folders WHERE name = 'Jobs/2026'"), 1);
	/* subscriptions: none for created folders; they move with a rename, stay after a delete */
	const char *const subscribed_jobs =
		"SELECT count(*) FROM subscriptions WHERE name IN ('Jobs', 'Jobs/2026', 'Work/2026')";
	assert_int_equal(sql_int(f, subscribed_jobs), 0);
	assert_int_equal(store_folder_subscribe(f->st, f->alice, "Jobs", true, &error), 1);
	assert_int_equal(store_folder_subscribe(f->st, f->alice, "Jobs/2026", true, &error), 1);
	assert_int_equal(store_folder_subscribe(f->st, f->alice, "Nope", true, &error), 0);
	assert_int_equal(store_folder_subscribe(f->st, f->alice, "Jobs", false, &error), 1);
	assert_int_equal(store_folder_rename(f->st, f->alice, "Jobs", "Work", &error), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subscriptions WHERE name = 'Work/2026'"), 1);
	assert_int_equal(store_folder_delete(f->st, f->alice, "Archive", &error), 1);
	assert_int_equal(store_folder_delete(f->st, f->alice, "Archive", &error), 0);
	/* the levels above are made with a folder or a rename's new name; a parent stays while
	 * it has children */
	assert_int_equal(store_folder_create(f->st, f->alice, "Clients/Acme/2026", &error), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM folders "
				    "WHERE name IN ('Clients', 'Clients/Acme')"), 2);
	assert_int_equal(store_folder_rename(f->st, f->alice, "Clients/Acme", "Old/Clients/Acme",
					     &error), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM folders WHERE name IN "
				    "('Old', 'Old/Clients', 'Old/Clients/Acme', 'Old/Clients/Acme/2026')"), 4);
	assert_int_equal(store_folder_delete(f->st, f->alice, "Old/Clients", &error), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM folders WHERE name = 'Old/Clients'"), 1);
	assert_int_equal(store_folder_delete(f->st, f->alice, "Old/Clients/Acme/2026", &error), 1);
	assert_int_equal(store_folder_delete(f->st, f->alice, "Old/Clients/Acme", &error), 1);
	assert_int_equal(store_folder_delete(f->st, f->alice, "Old/Clients", &error), 1);
	strlist orphans;
	strlist_init(&orphans);
	OK(store_subscriptions_orphaned(f->st, f->alice, &orphans, error_r));
	assert_int_equal(orphans.count, 1);
	assert_string_equal(orphans.items[0], "Archive");
	strlist_free(&orphans);
	assert_int_equal(store_folder_subscribe(f->st, f->alice, "Archive", false, &error), 1);
	assert_int_equal(count_files(f, "messages"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM bodies"), 0);
	delivery_free(&d);
}

/* The APOP secret: none at first, set, read back, cleared. */
static void test_apop_secret(void **state)
{
	struct fixture *f = *state;
	struct account a = { 0 };
	char *error = NULL;
	assert_int_equal(store_user_get(f->st, "alice@example.com", &a, &error), 1);
	assert_null(a.apop_secret);
	account_clear(&a);
	OK(store_user_set_apop(f->st, "alice@example.com", "tanstaaf", error_r));
	assert_int_equal(store_user_get(f->st, "alice@example.com", &a, &error), 1);
	assert_string_equal(a.apop_secret, "tanstaaf");
	account_clear(&a);
	OK(store_user_set_apop(f->st, "alice@example.com", NULL, error_r));
	assert_int_equal(store_user_get(f->st, "alice@example.com", &a, &error), 1);
	assert_null(a.apop_secret);
	account_clear(&a);
	EXPECT_ERROR(store_user_set_apop(f->st, "nobody@example.com", "x", error_r), "no account");
}

static void test_reopen_keeps_everything(void **state)
{
	struct fixture *f = *state;
	struct delivery *d = new_delivery(f, "kept", body_a);
	add_local(d, f->alice, "INBOX", prefix_alice, 0);
	assert_int_equal(store_deliver(f->st, &d, 1), 0);
	delivery_free(&d);

	/* A second connection, as the command line opens while the server runs. */
	char *error = NULL;
	struct store *other = store_open(f->dir, &error);
	assert_non_null(other);
	assert_string_equal(store_data_dir(other), f->dir);
	struct account a = { 0 };
	assert_int_equal(store_user_get(other, "alice@example.com", &a, &error), 1);
	assert_int_equal(a.id, f->alice);
	account_clear(&a);
	store_close(&other);
	assert_null(other);
	store_close(&f->st);
	f->st = store_open(f->dir, &error);
	assert_non_null(f->st);
	assert_message(f, folder_id(f, f->alice, "INBOX"), 1, prefix_alice, body_a);
}

/* The outbound queue: due recipients grouped by message, one recipient's outcome at a time,
 * ETRN's domain flush, and the message file kept while a folder entry or a pending recipient
 * needs it and removed after. */
static void test_queue(void **state)
{
	struct fixture *f = *state;
	struct delivery *d = new_delivery(f, "q1", body_a);
	add_local(d, f->alice, "INBOX", prefix_alice, 0);
	add_remote(d, "x@remote.org");
	add_remote(d, "y@Sub.Remote.org");
	struct delivery *e = new_delivery(f, "q2", body_b);
	add_remote(e, "z@other.net");
	struct delivery *batch[] = { d, e };
	assert_int_equal(store_deliver(f->st, batch, 2), 0);
	delivery_free(&d);
	delivery_free(&e);

	struct queue_msg **msgs;
	size_t n;
	OK(store_queue_due(f->st, 1795396341, 10, NULL, 0, &msgs, &n, error_r));
	assert_int_equal(n, 2);
	assert_string_equal(msgs[0]->queue_id, "q1");
	assert_int_equal(msgs[0]->rcpt_count, 2);
	assert_string_equal(msgs[0]->rcpts[1].recipient, "y@Sub.Remote.org");
	buf body;
	buf_init(&body);
	OK(store_queue_read_body(f->st, msgs[0], &body, error_r));
	assert_string_equal(body.data, body_a);
	buf_free(&body);
	int64_t x = msgs[0]->rcpts[0].id, y = msgs[0]->rcpts[1].id;
	int64_t skip = msgs[0]->row;
	queue_msgs_free(msgs, n);
	/* A message in flight is left out. */
	OK(store_queue_due(f->st, 1795396341, 10, &skip, 1, &msgs, &n, error_r));
	assert_int_equal(n, 1);
	assert_string_equal(msgs[0]->queue_id, "q2");
	queue_msgs_free(msgs, n);

	/* x sent, y deferred an hour: q1 stays, with y alone due later. */
	OK(store_queue_update(f->st, x, QUEUE_SENT, 0, NULL, error_r));
	OK(store_queue_update(f->st, y, QUEUE_PENDING, 1795399941, "451 4.3.0 later", error_r));
	OK(store_queue_due(f->st, 1795396341, 10, NULL, 0, &msgs, &n, error_r));
	assert_int_equal(n, 1);
	assert_string_equal(msgs[0]->queue_id, "q2");
	queue_msgs_free(msgs, n);
	OK(store_queue_list(f->st, "q1", &msgs, &n, error_r));
	assert_int_equal(n, 1);
	assert_int_equal(msgs[0]->rcpts[0].status, QUEUE_SENT);
	assert_int_equal(msgs[0]->rcpts[1].status, QUEUE_PENDING);
	assert_int_equal(msgs[0]->rcpts[1].attempts, 1);
	assert_string_equal(msgs[0]->rcpts[1].last_error, "451 4.3.0 later");
	queue_msgs_free(msgs, n);

	/* ETRN remote.org: the exact domain only; @remote.org: subdomains too. */
	char *error = NULL;
	assert_int_equal(store_queue_flush(f->st, NULL, "remote.org", false, &error), 0);
	assert_int_equal(store_queue_flush(f->st, NULL, "remote.org", true, &error), 1);
	OK(store_queue_due(f->st, 1795396341, 10, NULL, 0, &msgs, &n, error_r));
	assert_int_equal(n, 2);
	queue_msgs_free(msgs, n);

	/* y bounced: q1 leaves the queue; its file stays for alice's copy. q2 deleted: its file
	 * goes at once. */
	OK(store_queue_set_warned(f->st, y, error_r));
	OK(store_queue_update(f->st, y, QUEUE_BOUNCED, 0, "550 5.1.1 no", error_r));
	assert_int_equal(count_files(f, "messages"), 2);
	assert_int_equal(store_queue_delete(f->st, "q2", &error), 1);
	assert_int_equal(store_queue_delete(f->st, "q2", &error), 0);
	assert_int_equal(count_files(f, "messages"), 1);
	OK(store_queue_list(f->st, NULL, &msgs, &n, error_r));
	assert_int_equal(n, 0);
	queue_msgs_free(msgs, n);
	assert_message(f, folder_id(f, f->alice, "INBOX"), 1, prefix_alice, body_a);
}

/* A sender held before its mail arrives: its message is queued held and not due; release by
 * sender lets it go; hold and release by id. */
static void test_queue_hold(void **state)
{
	struct fixture *f = *state;
	char *error = NULL;
	assert_int_equal(store_queue_hold(f->st, NULL, "Sender@remote.org", true, &error), 0);
	struct delivery *d = new_delivery(f, "h1", body_a);
	add_remote(d, "x@remote.org");
	struct delivery *e = new_delivery(f, "h2", body_b);
	free(e->sender);
	e->sender = xstrdup("other@remote.org");
	add_remote(e, "x@remote.org");
	struct delivery *batch[] = { d, e };
	assert_int_equal(store_deliver(f->st, batch, 2), 0);
	delivery_free(&d);
	delivery_free(&e);
	struct queue_msg **msgs;
	size_t n;
	OK(store_queue_due(f->st, 1795396341, 10, NULL, 0, &msgs, &n, error_r));
	assert_int_equal(n, 1);
	assert_string_equal(msgs[0]->queue_id, "h2");
	queue_msgs_free(msgs, n);
	OK(store_queue_list(f->st, "h1", &msgs, &n, error_r));
	assert_true(msgs[0]->held);
	queue_msgs_free(msgs, n);
	strlist senders;
	strlist_init(&senders);
	OK(store_queue_held_senders(f->st, &senders, error_r));
	assert_int_equal(senders.count, 1);
	strlist_free(&senders);

	assert_int_equal(store_queue_hold(f->st, NULL, "sender@remote.org", false, &error), 1);
	assert_int_equal(store_queue_hold(f->st, "h2", NULL, true, &error), 1);
	assert_int_equal(store_queue_hold(f->st, "nosuch", NULL, true, &error), 0);
	OK(store_queue_due(f->st, 1795396341, 10, NULL, 0, &msgs, &n, error_r));
	assert_int_equal(n, 1);
	assert_string_equal(msgs[0]->queue_id, "h1");
	queue_msgs_free(msgs, n);
	OK(store_queue_held_senders(f->st, &senders, error_r));
	assert_int_equal(senders.count, 0);
	strlist_free(&senders);
}

/* Submitted messages count for their account within the hour; older rows go. */
static void test_submissions_counted(void **state)
{
	struct fixture *f = *state;
	time_t now = 1795396341;
	for (int i = 0; i < 3; i++) {
		struct delivery *d = new_delivery(f, i == 0 ? "s0" : i == 1 ? "s1" : "s2", body_a);
		add_local(d, f->bob, "INBOX", prefix_bob, 0);
		d->arrival = i == 0 ? now - 7200 : now - 60 * i;
		d->submitter_id = f->alice;
		d->submitter_rcpts = (size_t)(i + 2);
		struct delivery *batch[] = { d };
		assert_int_equal(store_deliver(f->st, batch, 1), 0);
		delivery_free(&d);
	}
	int64_t messages, recipients;
	OK(store_submitted_since(f->st, f->alice, now - 3600, &messages, &recipients, error_r));
	assert_int_equal(messages, 2);
	assert_int_equal(recipients, 3 + 4);
	OK(store_submitted_since(f->st, f->bob, now - 3600, &messages, &recipients, error_r));
	assert_int_equal(messages + recipients, 0);
	int64_t rows;
	OK(db_int(f->st, error_r, &rows, "SELECT count(*) FROM submissions", ""));
	assert_int_equal(rows, 2); /* the one two hours old went */
}

/* DKIM keys: only for a local domain, one selector each, retired keys kept and listed, every
 * key gone with its domain. */
static void test_dkim_keys(void **state)
{
	struct fixture *f = *state;
	char *error = NULL;
	struct dkim_key_row *rows;
	size_t n;
	OK(store_domain_add(f->st, "example.com", error_r));
	assert_int_equal(store_dkim_add(f->st, "example.com", "e1", "ed25519", "PEM1", 100, &error), 1);
	assert_int_equal(store_dkim_add(f->st, "example.com", "r1", "rsa", "PEM2", 200, &error), 1);
	assert_int_equal(store_dkim_add(f->st, "other.org", "e1", "ed25519", "PEM3", 100, &error), 0);
	EXPECT_ERROR(store_dkim_add(f->st, "example.com", "E1", "rsa", "PEM4", 300, error_r),
		     "example.com already has a key with selector E1");
	assert_int_equal(store_dkim_retire(f->st, "example.com", "r1", 500, &error), 1);
	assert_int_equal(store_dkim_retire(f->st, "example.com", "r1", 600, &error), 0);
	assert_int_equal(store_dkim_retire(f->st, "other.org", "e1", 600, &error), 0);
	OK(store_dkim_list(f->st, "example.com", false, &rows, &n, error_r));
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].selector, "e1");
	assert_string_equal(rows[0].private_pem, "PEM1");
	assert_int_equal(rows[0].retired, 0);
	assert_string_equal(rows[1].algorithm, "rsa");
	assert_int_equal(rows[1].created, 200);
	assert_int_equal(rows[1].retired, 500);
	dkim_key_rows_free(rows, n);
	OK(store_dkim_list(f->st, NULL, true, &rows, &n, error_r));
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].domain, "example.com");
	dkim_key_rows_free(rows, n);
	OK(store_domain_del(f->st, "example.com", error_r));
	OK(store_dkim_list(f->st, NULL, false, &rows, &n, error_r));
	assert_int_equal(n, 0);
	dkim_key_rows_free(rows, n);
}

/* An observation of DMARC as the SMTP session makes it (message_checks_observation). */
static struct dmarc_observation *observation(time_t at, const char *ip, const char *dkim,
					     const char *rua)
{
	struct dmarc_observation *o = xcalloc(1, sizeof(*o));
	o->at = at;
	o->policy = (struct dmarc_policy_published){ xstrdup("a.test"), xstrdup("reject"), NULL,
						     NULL, 'r', 'r', 'n' };
	o->rua = xstrdup(rua);
	o->rec.source_ip = xstrdup(ip);
	o->rec.count = 1;
	o->rec.disposition = xstrdup(strcmp(dkim, "pass") == 0 ? "pass" : "quarantine");
	o->rec.dkim = xstrdup(dkim);
	o->rec.spf = xstrdup("fail");
	o->rec.header_from = xstrdup("a.test");
	o->rec.envelope_to = xstrdup("example.com");
	dmarc_report_add_auth(&o->rec, false, "a.test", "s1", dkim);
	dmarc_report_add_auth(&o->rec, true, "mail.a.test", "mfrom", "none");
	return o;
}

/* Observations come in with their messages (or alone), are grouped per identical row into a
 * report of their period, and go some days after it; received reports are kept once. */
static void test_dmarc_reports(void **state)
{
	struct fixture *f = *state;
	time_t day = 1700000000;
	/* one with its delivery, in the delivery's transaction */
	struct delivery *d = new_delivery(f, "dmarc", "Subject: x\r\n\r\nbody\r\n");
	add_local(d, f->alice, "INBOX", "", 0);
	d->dmarc = observation(day + 10, "192.0.2.1", "pass", "mailto:dmarc@a.test");
	assert_int_equal(store_deliver(f->st, &d, 1), 0);
	assert_non_null(d->body_path_r);
	assert_non_null(strstr(d->body_path_r, "messages/"));
	delivery_free(&d);
	/* two more like it, one failing, one from before the period's end's week */
	struct dmarc_observation *o[] = {
		observation(day + 20, "192.0.2.1", "pass", "mailto:dmarc@a.test"),
		observation(day + 30, "192.0.2.9", "fail", "mailto:new@a.test mailto:x@y.test"),
		observation(day - 30 * 86400, "192.0.2.7", "fail", "mailto:old@a.test"),
	};
	for (size_t i = 0; i < 3; i++)
		OK(store_dmarc_observe(f->st, o[i], error_r));
	time_t start;
	OK(store_dmarc_period_start(f->st, day - 86400, &start, error_r));
	assert_int_equal(start, day + 10);
	strlist domains;
	strlist_init(&domains);
	OK(store_dmarc_domains(f->st, start, day + 86400, &domains, error_r));
	assert_int_equal(domains.count, 1);
	assert_string_equal(domains.items[0], "a.test mailto:new@a.test mailto:x@y.test");
	strlist_free(&domains);
	struct dmarc_report r;
	OK(store_dmarc_collect(f->st, "a.test", start, day + 86400, &r, error_r));
	assert_string_equal(r.policy.domain, "a.test");
	assert_string_equal(r.policy.p, "reject");
	assert_null(r.policy.sp);
	assert_int_equal(r.policy.aspf, 'r');
	assert_int_equal(r.record_count, 2);
	assert_string_equal(r.records[0].source_ip, "192.0.2.1");
	assert_int_equal(r.records[0].count, 2);
	assert_string_equal(r.records[0].dkim, "pass");
	assert_null(r.records[0].envelope_from);
	assert_string_equal(r.records[0].envelope_to, "example.com");
	assert_int_equal(r.records[0].auth_count, 2);
	assert_string_equal(r.records[0].auth[0].selector, "s1");
	assert_true(r.records[0].auth[1].spf);
	assert_string_equal(r.records[0].auth[1].domain, "mail.a.test");
	assert_string_equal(r.records[1].source_ip, "192.0.2.9");
	assert_int_equal(r.records[1].count, 1);
	/* reported: the next period starts at its end, and the month-old row goes */
	OK(store_dmarc_reported(f->st, day + 86400, 8 * 86400, error_r));
	OK(store_dmarc_period_start(f->st, 0, &start, error_r));
	assert_int_equal(start, day + 86400);
	int64_t left;
	OK(db_int(f->st, error_r, &left, "SELECT count(*) FROM dmarc_observations", ""));
	assert_int_equal(left, 3);

	/* a report received, once */
	r.org_name = xstrdup("mx.b.test");
	r.email = xstrdup("postmaster@b.test");
	r.report_id = xstrdup("1.a.test@mx.b.test");
	r.end = day + 86400;
	char *error = NULL;
	assert_int_equal(store_dmarc_report_add(f->st, &r, day, &error), 1);
	assert_int_equal(store_dmarc_report_add(f->st, &r, day, &error), 0);
	struct dmarc_report *got;
	size_t n;
	OK(store_dmarc_reports(f->st, "A.test", 0, &got, &n, error_r));
	assert_int_equal(n, 1);
	assert_string_equal(got[0].org_name, "mx.b.test");
	assert_string_equal(got[0].report_id, "1.a.test@mx.b.test");
	assert_int_equal(got[0].record_count, 2);
	assert_int_equal(got[0].records[0].count, 2);
	assert_string_equal(got[0].records[1].disposition, "quarantine");
	dmarc_report_free(&got[0]);
	free(got);
	OK(store_dmarc_reports(f->st, "a.test", day + 86400, &got, &n, error_r));
	assert_int_equal(n, 0);
	free(got);
	dmarc_report_free(&r);
	for (size_t i = 0; i < 3; i++)
		dmarc_observation_free(&o[i]);
}

/* A database of schema version 2 (before hold, the hourly limits, index.db, \Recent and
 * subscriptions of their own) is brought up to date when opened, its mail kept. */
static void test_schema_upgrade_from_2(void **state)
{
	struct fixture *f = *state;
	char *error = NULL;
	assert_int_equal(sqlite3_exec(f->st->db,
				      "DROP TABLE submissions; DROP TABLE held_senders; "
				      "DROP INDEX queue_sender; ALTER TABLE queue DROP COLUMN held; "
				      "CREATE VIRTUAL TABLE search_text USING fts5(header, body, "
				      "  tokenize = 'trigram');"
				      "CREATE TRIGGER bodies_search_gone AFTER DELETE ON bodies BEGIN "
				      "  DELETE FROM search_text WHERE rowid = old.id; END;"
				      "DELETE FROM meta WHERE name = 'index_epoch';"
				      "DROP TABLE subscriptions; ALTER TABLE folders DROP COLUMN recent_uid;"
				      "ALTER TABLE folders ADD COLUMN subscribed INTEGER NOT NULL DEFAULT 1;"
				      "UPDATE folders SET subscribed = 0 WHERE name <> 'INBOX';"
				      "ALTER TABLE domains DROP COLUMN quota_storage;"
				      "ALTER TABLE domains DROP COLUMN quota_messages;"
				      "ALTER TABLE accounts DROP COLUMN quota_storage;"
				      "ALTER TABLE accounts DROP COLUMN quota_messages;"
				      "DROP TABLE dkim_keys; ALTER TABLE queue DROP COLUMN local_origin;"
				      "DROP TABLE dmarc_report_records; DROP TABLE dmarc_reports;"
				      "DROP TABLE dmarc_observations;"
				      "ALTER TABLE queue DROP COLUMN arc_results;"
				      "PRAGMA user_version = 2;",
				      NULL, NULL, NULL), SQLITE_OK);
	store_close(&f->st);
	f->st = store_open(f->dir, &error);
	assert_null(error);
	int64_t version;
	OK(db_int(f->st, error_r, &version, "PRAGMA user_version", ""));
	assert_int_equal(version, 9);
	/* the subscribed folders keep their subscriptions; what was there is not recent */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subscriptions"),
			 sql_int(f, "SELECT count(*) FROM folders WHERE name = 'INBOX'"));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM folders WHERE recent_uid <> uidnext"), 0);
	OK(store_queue_hold(f->st, NULL, "a@b.example", true, error_r));
	int64_t messages, recipients;
	OK(store_submitted_since(f->st, 1, 0, &messages, &recipients, error_r));
	strlist l;
	strlist_init(&l);
	OK(store_user_list(f->st, NULL, &l, error_r));
	assert_int_equal(l.count, 2);
	strlist_free(&l);
}

/* Finds needle through the index of folder, as IMAP SEARCH asks: the hits and the UIDs the
 * caller must read itself, as "uid,uid/uid" (or "cannot" when the index cannot answer). */
static char *index_search(struct store *st, int64_t folder, const char *needle)
{
	uint32_t *uids, *unindexed;
	size_t count, unindexed_count;
	char *error = NULL;
	int r = store_search_text(st, folder, needle, STORE_TEXT_ALL, &uids, &count, &unindexed,
				  &unindexed_count, &error);
	assert_true(r >= 0);
	buf out;
	buf_init(&out);
	if (r == 1)
		buf_puts(&out, "cannot");
	for (size_t i = 0; r == 0 && i < count; i++)
		buf_printf(&out, "%s%u", i > 0 ? "," : "", uids[i]);
	for (size_t i = 0; r == 0 && i < unindexed_count; i++)
		buf_printf(&out, "%s%u", i > 0 ? "," : "/", unindexed[i]);
	free(uids);
	free(unindexed);
	return buf_steal(&out);
}

static void expect_search(struct store *st, int64_t folder, const char *needle, const char *want)
{
	char *got = index_search(st, folder, needle);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "search \"%s\": got \"%s\", want \"%s\"\n", needle, got, want);
	assert_string_equal(got, want);
	free(got);
}

/* The full-text index in its own file: other connections search it (read-only, from when it
 * exists); a message's text is cut at the bound (indexed = 2: hits in the first part come from
 * the index, the rest is the caller's to read); an open index transaction never holds up a
 * delivery; rows of removed files are pruned; the logs are truncated by a checkpoint. */
static void test_index(void **state)
{
	struct fixture *f = *state;
	struct delivery *d[2] = { new_delivery(f, "small", body_a), new_delivery(f, "large", body_b) };
	add_local(d[0], f->alice, "INBOX", prefix_alice, 0);
	add_local(d[1], f->alice, "INBOX", prefix_alice, 0);
	assert_int_equal(store_deliver(f->st, d, 2), 0);
	int64_t inbox = folder_id(f, f->alice, "INBOX");
	char *error = NULL;
	struct store *reader = store_open(f->dir, &error);
	assert_non_null(reader);
	expect_search(reader, inbox, "world", "cannot"); /* no index.db yet */

	OK(store_index_open(f->st, error_r));
	struct index_entry *entries;
	size_t count;
	OK(store_index_pending(f->st, 10, &entries, &count, error_r));
	assert_int_equal(count, 2);
	entries[0].header = xstrdup("Subject: first\n");
	entries[0].body = xstrdup("Hello,\nworld.\n");
	entries[0].envelope = xstrdup("(NIL \"first\")");
	entries[0].body_structure = xstrdup("(\"TEXT\" \"PLAIN\")");
	entries[0].bodystructure = xstrdup("(\"TEXT\" \"PLAIN\" NIL)");
	/* two megabytes of numbers (many distinct trigrams) between two markers */
	buf large;
	buf_init(&large);
	buf_puts(&large, "early marker\n");
	for (uint64_t i = 0; large.len < 2 * 1024 * 1024; i++)
		buf_printf(&large, "%llu ", (unsigned long long)(i * 2654435761u % 1000003));
	buf_puts(&large, "\nlate marker\n");
	entries[1].header = xstrdup("Subject: second\n");
	entries[1].body = buf_steal(&large);
	OK(store_index_add(f->st, entries, count, error_r));
	index_entries_free(entries, count);
	/* the structures kept, for a batch in one call: the second has none, UID 3 is no message */
	const uint32_t batch[] = { 1, 2, 3 };
	struct message_structure kept[3];
	OK(store_message_structures(reader, inbox, batch, 3, kept, error_r));
	assert_true(kept[0].kept && !kept[1].kept && !kept[2].kept);
	assert_string_equal(kept[0].envelope.data, "(NIL \"first\")");
	assert_string_equal(kept[0].body.data, "(\"TEXT\" \"PLAIN\")");
	assert_string_equal(kept[0].bodystructure.data, "(\"TEXT\" \"PLAIN\" NIL)");
	assert_int_equal(kept[1].envelope.len, 0);
	message_structures_free(kept, 3);
	assert_int_equal(sql_int(f, "SELECT indexed FROM bodies ORDER BY id LIMIT 1"), 1);
	assert_int_equal(sql_int(f, "SELECT indexed FROM bodies ORDER BY id DESC LIMIT 1"), 2);
	assert_true(sql_int(f, "SELECT max(length(body)) FROM ix.search_text") <= 1024 * 1024);

	expect_search(reader, inbox, "WORLD", "1/2");
	expect_search(reader, inbox, "early marker", "2/2");
	expect_search(reader, inbox, "late marker", "/2");
	expect_search(reader, inbox, "second", "2/2");

	/* the index's write lock is not the deliveries' */
	assert_int_equal(sqlite3_exec(f->st->db, "BEGIN; INSERT INTO ix.search_text (rowid, body) "
				      "VALUES (999, 'pending');", NULL, NULL, NULL), SQLITE_OK);
	struct delivery *more = new_delivery(f, "more", body_a);
	add_local(more, f->bob, "INBOX", prefix_bob, 0);
	assert_int_equal(store_deliver(reader, &more, 1), 0);
	assert_int_equal(sqlite3_exec(f->st->db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);

	const uint32_t first = 1;
	OK(store_messages_expunge(reader, inbox, &first, 1, error_r));
	int pruned = store_index_prune(f->st, 100, &error);
	assert_int_equal(pruned, 1);
	assert_int_equal(store_index_prune(f->st, 100, &error), 0);
	expect_search(reader, inbox, "world", "/2");

	assert_int_equal(store_checkpoint(f->st), 0);
	char *wal = xasprintf("%s/index.db-wal", f->dir);
	struct stat sb;
	assert_true(stat(wal, &sb) < 0 || sb.st_size == 0);
	free(wal);
	store_close(&reader);
	delivery_free(&d[0]);
	delivery_free(&d[1]);
	delivery_free(&more);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_batch_shares_one_file, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_failure_leaves_nothing, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_full_database, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_missing_folder_goes_to_inbox, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_user_del_removes_unshared_files, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_expunge, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_expunge_during_backup, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_message_headers, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_apop_secret, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_dkim_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dmarc_reports, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_imap, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_import, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_take_recent, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_quota, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_queue, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_queue_hold, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_submissions_counted, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_schema_upgrade_from_2, setup_mailboxes, teardown),
		cmocka_unit_test_setup_teardown(test_index, setup_mailboxes, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
