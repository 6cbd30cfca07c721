/* estafeta export ADDRESS DIR: every folder of an account written as a Maildir++ tree that
 * estafeta import maildir reads back as it was and Dovecot can serve: INBOX in DIR's cur/,
 * new/ and tmp/, other folders in DIR/.Name.Sub (modified UTF-7); each message in cur/ under
 * "DATE.UuidVuidvalidity.estafeta,S=size,W=size:2,LETTERS" with LF line ends (as Dovecot and
 * mbsync write them; W= is the stored CRLF size, IMAP's RFC822.SIZE), its mtime the internal
 * date; keywords as letters named by dovecot-keywords ($Forwarded also as P, which mutt and
 * mbsync read), and dovecot-uidlist carrying the folder's UIDVALIDITY, UIDNEXT and UIDs.
 * DIR must be new or empty; it is written as the server's user (run_as). */
#include "cli/admin.h"
#include "cli/mail_transfer.h"
#include "core/fsutil.h"
#include "core/xalloc.h"
#include "mail/line_ends.h"
#include "mail/maildir_name.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>

struct exporter {
	struct store *st;
	const char *root;
	struct progress progress;
	uint64_t messages;
	unsigned folders, folders_skipped;
	uint64_t keywords_dropped; /* beyond the 26 letters a folder has */
};

/* The keywords a folder's messages carry, in the order first met; at most 26. */
struct folder_keywords {
	strlist names;
};

static uint32_t keyword_letters(struct exporter *ex, struct folder_keywords *fk, const char *keywords,
				bool *forwarded_r)
{
	uint32_t lower = 0;
	*forwarded_r = false;
	for (const char *p = keywords != NULL ? keywords : ""; *p != '\0';) {
		size_t n = strcspn(p, " "), i = 0;
		for (; i < fk->names.count; i++)
			if (strlen(fk->names.items[i]) == n && strncasecmp(fk->names.items[i], p, n) == 0)
				break;
		if (n > 0 && i == fk->names.count && i < 26) {
			char *name = xstrndup(p, n);
			strlist_add(&fk->names, name);
			free(name);
		}
		if (n > 0 && i < 26)
			lower |= 1u << i;
		else if (n > 0)
			ex->keywords_dropped++;
		*forwarded_r = *forwarded_r || (n == 10 && strncasecmp(p, "$Forwarded", 10) == 0);
		p += n + (p[n] == ' ');
	}
	return lower;
}

static int make_dirs(const char *dir, bool inbox, char **error_r)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	for (size_t i = 0; i < 3; i++) {
		char *path = xasprintf("%s/%s", dir, subs[i]);
		int r = fs_mkdir_p(path, 0700, error_r);
		free(path);
		if (r < 0)
			return -1;
	}
	/* Maildir++: a folder below the root says so */
	char *marker = xasprintf("%s/maildirfolder", dir);
	int r = inbox ? 0 : fs_write_atomic(marker, "", 0, 0600, error_r);
	free(marker);
	return r;
}

/* Writes one message into dir/cur and appends its uidlist line: 1, 0 when it was expunged
 * meanwhile, -1. */
static int export_message(struct exporter *ex, const struct folder *f, const struct message *m,
			  const char *dir, struct folder_keywords *fk, buf *stored, buf *lf,
			  buf *uidlist, char **error_r)
{
	buf_clear(stored);
	buf_clear(lf);
	int r = store_message_read(ex->st, f->id, m->uid, stored, error_r);
	if (r <= 0)
		return r; /* 0: expunged since the list was read */
	line_ends_lf(stored->data, stored->len, lf);
	bool forwarded;
	uint32_t lower = keyword_letters(ex, fk, m->keywords, &forwarded);
	uint32_t upper = maildir_flags_letters(m->flags) | (forwarded ? MAILDIR_LETTER('P') : 0);
	char *base = xasprintf("%lld.U%uV%u.estafeta", (long long)m->internal_date, m->uid, f->uidvalidity);
	buf name;
	buf_init(&name);
	maildir_name_format(&name, base, lf->len, stored->len, upper, lower);
	char *path = xasprintf("%s/cur/%s", dir, name.data);
	r = fs_write_atomic(path, lf->data, lf->len, 0600, error_r);
	/* Maildir's INTERNALDATE is the file's mtime (Dovecot's rule) */
	struct timeval times[2] = { { m->internal_date, 0 }, { m->internal_date, 0 } };
	if (r == 0 && utimes(path, times) < 0) {
		*error_r = xasprintf("cannot set the time of %s: %s", path, strerror(errno));
		r = -1;
	}
	buf_printf(uidlist, "%u :%.*s\n", m->uid, (int)strcspn(name.data, ":"), name.data);
	free(path);
	free(base);
	buf_free(&name);
	return r < 0 ? -1 : 1;
}

static int export_folder(struct exporter *ex, const struct folder *f, char **error_r)
{
	bool inbox = strcmp(f->name, "INBOX") == 0;
	buf dir;
	buf_init(&dir);
	buf_puts(&dir, ex->root);
	buf_putc(&dir, '/');
	if (!inbox && maildir_folder_dir(f->name, &dir) < 0) {
		cli_error("%s not exported: a level of its name holds a '.', which Maildir++ cannot carry "
			  "(rename it over IMAP first)", f->name);
		ex->folders_skipped++;
		buf_free(&dir);
		return 0;
	}
	struct message *msgs = NULL;
	size_t count = 0;
	int r = make_dirs(dir.data, inbox, error_r);
	if (r == 0)
		r = store_message_list(ex->st, f->id, &msgs, &count, error_r);
	struct folder_keywords fk;
	strlist_init(&fk.names);
	buf stored, lf, uidlist;
	buf_init(&stored);
	buf_init(&lf);
	buf_init(&uidlist);
	/* Dovecot's header: version 3, UIDVALIDITY, next UID, the mailbox GUID */
	buf_printf(&uidlist, "3 V%u N%u G%08x%08x%08x%08x\n", f->uidvalidity, f->uidnext, arc4random(),
		   arc4random(), arc4random(), arc4random());
	for (size_t i = 0; i < count && r == 0; i++) {
		r = export_message(ex, f, &msgs[i], dir.data, &fk, &stored, &lf, &uidlist, error_r);
		ex->messages += r > 0;
		r = r < 0 ? -1 : 0;
		progress_step(&ex->progress, f->name);
	}
	buf keywords;
	buf_init(&keywords);
	for (size_t i = 0; i < fk.names.count; i++)
		buf_printf(&keywords, "%zu %s\n", i, fk.names.items[i]);
	char *uidlist_path = xasprintf("%s/dovecot-uidlist", dir.data);
	char *keywords_path = xasprintf("%s/dovecot-keywords", dir.data);
	if (r == 0)
		r = fs_write_atomic(uidlist_path, uidlist.data, uidlist.len, 0600, error_r);
	if (r == 0 && keywords.len > 0)
		r = fs_write_atomic(keywords_path, keywords.data, keywords.len, 0600, error_r);
	ex->folders += r == 0;
	free(uidlist_path);
	free(keywords_path);
	for (size_t i = 0; i < count; i++)
		message_clear(&msgs[i]);
	free(msgs);
	strlist_free(&fk.names);
	buf_free(&keywords);
	buf_free(&stored);
	buf_free(&lf);
	buf_free(&uidlist);
	buf_free(&dir);
	return r;
}

/* 0 when path is missing (made now) or an empty folder; -1 after saying why not. */
static int fresh_root(const char *path)
{
	char *error = NULL;
	DIR *d = opendir(path);
	if (d == NULL && errno == ENOENT) {
		if (fs_mkdir_p(path, 0700, &error) == 0)
			return 0;
		cli_error("%s", error);
		free(error);
		return -1;
	}
	if (d == NULL) {
		cli_error("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	int entries = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	if (entries > 0)
		cli_error("%s is not empty: export into a new folder", path);
	return entries > 0 ? -1 : 0;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
	if (argc != 3) {
		cli_error("usage: estafeta export ADDRESS DIR");
		return 2;
	}
	char *address = cli_address(argv[1], false);
	struct exporter ex = { .root = argv[2], .st = address != NULL ? cli_store(cli) : NULL };
	if (ex.st == NULL) {
		free(address);
		return 1;
	}
	struct account account = { 0 };
	char *error = NULL;
	int r = store_user_get(ex.st, address, &account, &error);
	if (r == 0)
		cli_error("no account %s (see: estafeta user list)", address);
	struct folder *folders = NULL;
	size_t count = 0;
	if (r == 1 && fresh_root(ex.root) < 0)
		r = 0;
	if (r == 1)
		r = store_folder_list(ex.st, account.id, &folders, &count, &error);
	progress_init(&ex.progress, "export");
	for (size_t i = 0; i < count && r >= 0; i++)
		r = export_folder(&ex, &folders[i], &error);
	int status = r < 0 ? cli_fail(error) : r == 0 && count == 0;
	if (status == 0)
		printf("exported %llu messages in %u folders of %s to %s; %u folders not exported, "
		       "%llu keywords beyond a folder's 26 left out\n",
		       (unsigned long long)ex.messages, ex.folders, address, ex.root, ex.folders_skipped,
		       (unsigned long long)ex.keywords_dropped);
	for (size_t i = 0; i < count; i++)
		folder_clear(&folders[i]);
	free(folders);
	account_clear(&account);
	free(address);
	return status != 0 || ex.folders_skipped > 0;
}
