/* estafeta import maildir|mbox: mail from another store into an account (cli/importer.h puts
 * it in; this file reads the sources, one message at a time).
 *   import maildir ADDRESS DIR   a Maildir or Maildir++ tree: INBOX in DIR's cur/ and new/,
 *                                folders in DIR/.Name.Sub (modified UTF-7) as Name/Sub; flags
 *                                from the file names, keywords from dovecot-keywords, and with
 *                                a dovecot-uidlist the UIDVALIDITY and UIDs Dovecot gave, so
 *                                clients that synced the Dovecot mailbox download nothing
 *                                again; without one, UIDs in the order of the file names
 *                                (their delivery time first). INTERNALDATE: the file's mtime,
 *                                as Dovecot keeps it.
 *   import mbox ADDRESS FILE [--folder F] [--format mboxrd|mboxo]
 *                                an mbox file into INBOX or F; INTERNALDATE from each From_
 *                                line; flags and keywords from Status, X-Status and
 *                                X-Keywords, which are removed (see mail/mbox.h)
 * Line ends become CRLF, as the store keeps SMTP's mail. The source is read as the server's
 * user (run_as), since the store is opened first. */
#include "cli/admin.h"
#include "cli/importer.h"
#include "core/fsutil.h"
#include "core/xalloc.h"
#include "mail/dovecot_uidlist.h"
#include "mail/line_ends.h"
#include "mail/maildir_name.h"
#include "mail/mbox.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert((int)MBOX_SEEN == FLAG_SEEN && (int)MBOX_ANSWERED == FLAG_ANSWERED &&
		       (int)MBOX_FLAGGED == FLAG_FLAGGED && (int)MBOX_DELETED == FLAG_DELETED &&
		       (int)MBOX_DRAFT == FLAG_DRAFT,
	       "mbox.h's flags are the store's");

/* ---- Maildir ---- */

/* One message file of a folder. */
struct maildir_file {
	char *path;     /* "cur/NAME" or "new/NAME" */
	size_t base_at; /* where NAME starts in path */
	uint32_t uid;   /* from dovecot-uidlist, 0 when it has none */
};

/* dovecot-uidlist's UID of each base, sorted by base for lookups. */
struct uid_entry {
	char *base;
	uint32_t uid;
};

struct maildir_folder {
	const char *name;
	char *dir;
	char *keywords[26];         /* dovecot-keywords: letter 'a' + i */
	struct uidlist_header header; /* uidvalidity 0: no dovecot-uidlist */
	struct uid_entry *uids;
	size_t uid_count;
	struct maildir_file *files;
	size_t file_count;
};

/* The lines of dir/name without their line ends, each passed to fn; 0 when the file is
 * missing, 1 when read, -1 (reported) when it cannot be read. */
static int read_lines(const char *dir, const char *name,
		      void (*fn)(struct maildir_folder *, const char *, size_t, bool first),
		      struct maildir_folder *mf)
{
	char *path = xasprintf("%s/%s", dir, name), *data;
	size_t len;
	int r = fs_read_file(path, &data, &len);
	if (r < 0 && errno != ENOENT)
		cli_error("cannot read %s: %s", path, strerror(errno));
	free(path);
	if (r < 0)
		return errno == ENOENT ? 0 : -1;
	for (size_t pos = 0; pos < len;) {
		const char *lf = memchr(data + pos, '\n', len - pos);
		size_t n = lf != NULL ? (size_t)(lf - data) - pos : len - pos;
		fn(mf, data + pos, n, pos == 0);
		pos += n + 1;
	}
	free(data);
	return 1;
}

static void keywords_line(struct maildir_folder *mf, const char *line, size_t n, bool first)
{
	unsigned index;
	const char *kw;
	size_t kw_len;
	if (keywords_line_parse(line, n, &index, &kw, &kw_len) == 0 && mf->keywords[index] == NULL)
		mf->keywords[index] = xstrndup(kw, kw_len);
}

static void uidlist_line(struct maildir_folder *mf, const char *line, size_t n, bool first)
{
	uint32_t uid;
	const char *base;
	size_t base_len;
	if (first) {
		if (uidlist_header_parse(line, n, &mf->header) < 0)
			cli_error("%s/dovecot-uidlist: no header line Dovecot writes; UIDs are given anew",
				  mf->dir);
		return;
	}
	if (mf->header.uidvalidity == 0 ||
	    uidlist_entry_parse(line, n, mf->header.version, &uid, &base, &base_len) < 0)
		return;
	/* the base up to ':' names the file, whatever its flags are now */
	const char *colon = memchr(base, ':', base_len);
	if (colon != NULL)
		base_len = (size_t)(colon - base);
	mf->uids = xrealloc(mf->uids, (mf->uid_count + 1) * sizeof(*mf->uids));
	mf->uids[mf->uid_count++] = (struct uid_entry){ xstrndup(base, base_len), uid };
}

static int uid_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct uid_entry *)a)->base, ((const struct uid_entry *)b)->base);
}

/* Messages with a UID first, in UID order; then the others by name (delivery time first). */
static int file_cmp(const void *a, const void *b)
{
	const struct maildir_file *x = a, *y = b;
	if (x->uid != y->uid && (x->uid == 0 || y->uid == 0))
		return x->uid == 0 ? 1 : -1;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return strcmp(x->path + x->base_at, y->path + y->base_at);
}

static uint32_t uid_of(const struct maildir_folder *mf, const char *name)
{
	if (mf->uid_count == 0)
		return 0;
	size_t base_len = strcspn(name, ":");
	char *base = xstrndup(name, base_len);
	struct uid_entry key = { base, 0 };
	const struct uid_entry *e = bsearch(&key, mf->uids, mf->uid_count, sizeof(*mf->uids), uid_entry_cmp);
	free(base);
	return e != NULL ? e->uid : 0;
}

/* The message files of cur/ and new/. -1 (reported) when a folder cannot be read. */
static int list_files(struct maildir_folder *mf)
{
	static const char *const subs[] = { "cur", "new" };
	for (size_t s = 0; s < 2; s++) {
		char *path = xasprintf("%s/%s", mf->dir, subs[s]);
		DIR *d = opendir(path);
		if (d == NULL && errno != ENOENT)
			cli_error("cannot read %s: %s", path, strerror(errno));
		free(path);
		if (d == NULL && errno != ENOENT)
			return -1;
		for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
			if (e->d_name[0] == '.')
				continue;
			mf->files = xrealloc(mf->files, (mf->file_count + 1) * sizeof(*mf->files));
			mf->files[mf->file_count++] = (struct maildir_file){
				xasprintf("%s/%s", subs[s], e->d_name), 4, uid_of(mf, e->d_name) };
		}
		if (d != NULL)
			closedir(d);
	}
	if (mf->file_count > 0)
		qsort(mf->files, mf->file_count, sizeof(*mf->files), file_cmp);
	return 0;
}

static void maildir_folder_free(struct maildir_folder *mf)
{
	for (size_t i = 0; i < 26; i++)
		free(mf->keywords[i]);
	for (size_t i = 0; i < mf->uid_count; i++)
		free(mf->uids[i].base);
	for (size_t i = 0; i < mf->file_count; i++)
		free(mf->files[i].path);
	free(mf->uids);
	free(mf->files);
	free(mf->dir);
}

/* The keywords of a file name's letters (and P's $Forwarded), space-separated. */
static void file_keywords(const struct maildir_folder *mf, uint32_t lower, bool forwarded, buf *out)
{
	if (forwarded)
		buf_puts(out, "$Forwarded");
	for (int i = 0; i < 26; i++)
		if ((lower & (1u << i)) && mf->keywords[i] != NULL)
			buf_printf(out, "%s%s", out->len > 0 ? " " : "", mf->keywords[i]);
}

/* One message file: read, made CRLF, added with its flags. -1 only on a store error. */
static int import_file(struct importer *imp, struct maildir_folder *mf, const struct maildir_file *f,
		       buf *raw, buf *msg, buf *keywords)
{
	char *path = xasprintf("%s/%s", mf->dir, f->path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	int r = 0;
	buf_clear(raw);
	buf_clear(msg);
	buf_clear(keywords);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		/* a file another program moved (new/ to cur/, a flag change) since the listing */
		cli_error("cannot read %s: %s", path, strerror(errno));
		importer_unreadable(imp);
	} else if ((uint64_t)sb.st_size > imp->max_size) {
		r = importer_add(imp, NULL, (size_t)sb.st_size, 0, 0, NULL, 0);
	} else {
		buf_reserve(raw, (size_t)sb.st_size);
		ssize_t n;
		while ((n = read(fd, raw->data + raw->len, raw->cap - raw->len - 1)) > 0) {
			raw->len += (size_t)n;
			buf_reserve(raw, 4096);
		}
		raw->data[raw->len] = '\0';
		if (n < 0) {
			cli_error("cannot read %s: %s", path, strerror(errno));
			importer_unreadable(imp);
		} else {
			struct maildir_name name;
			maildir_name_parse(f->path + f->base_at, strlen(f->path + f->base_at), &name);
			bool forwarded;
			uint32_t flags = maildir_letters_flags(name.upper, &forwarded);
			file_keywords(mf, name.lower, forwarded, keywords);
			line_ends_crlf(raw->data, raw->len, msg);
			r = importer_add(imp, msg->data, msg->len, f->uid, flags, keywords->data, sb.st_mtime);
		}
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

static int import_maildir_folder(struct importer *imp, const char *dir, const char *name)
{
	struct maildir_folder mf = { .name = name, .dir = xstrdup(dir) };
	int r = 0;
	if (read_lines(dir, "dovecot-keywords", keywords_line, &mf) < 0 ||
	    read_lines(dir, "dovecot-uidlist", uidlist_line, &mf) < 0)
		r = -1;
	if (mf.uid_count > 0)
		qsort(mf.uids, mf.uid_count, sizeof(*mf.uids), uid_entry_cmp);
	if (r == 0)
		r = list_files(&mf);
	if (r == 0)
		r = importer_folder(imp, name, mf.header.uidvalidity);
	buf raw, msg, keywords;
	buf_init(&raw);
	buf_init(&msg);
	buf_init(&keywords);
	for (size_t i = 0; i < mf.file_count && r == 0; i++)
		r = import_file(imp, &mf, &mf.files[i], &raw, &msg, &keywords);
	if (r == 0)
		r = importer_folder_end(imp, mf.header.uidnext);
	buf_free(&raw);
	buf_free(&msg);
	buf_free(&keywords);
	maildir_folder_free(&mf);
	return r;
}

static bool is_maildir(const char *dir)
{
	char *cur = xasprintf("%s/cur", dir), *new = xasprintf("%s/new", dir);
	struct stat sb;
	bool yes = (stat(cur, &sb) == 0 && S_ISDIR(sb.st_mode)) || (stat(new, &sb) == 0 && S_ISDIR(sb.st_mode));
	free(cur);
	free(new);
	return yes;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* import maildir ADDRESS DIR */
static int import_maildir(struct cli *cli, int argc, char **argv, unsigned options)
{
	struct importer imp;
	if (importer_init(&imp, cli, argv[0]) < 0)
		return importer_finish(&imp, 1);
	const char *root = argv[1];
	DIR *d = opendir(root);
	if (d == NULL) {
		cli_error("cannot read %s: %s (the import runs as the server's user, %s)", root,
			  strerror(errno), config_str(cli->cfg, "run_as"));
		return importer_finish(&imp, 1);
	}
	strlist subdirs;
	strlist_init(&subdirs);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		char *path = xasprintf("%s/%s", root, e->d_name);
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    is_maildir(path))
			strlist_add(&subdirs, e->d_name);
		free(path);
	}
	closedir(d);
	if (!is_maildir(root) && subdirs.count == 0) {
		cli_error("%s is no Maildir: it has no cur/ or new/ folder, nor Maildir++ folders (.Name)",
			  root);
		strlist_free(&subdirs);
		return importer_finish(&imp, 1);
	}
	/* parents before their children */
	if (subdirs.count > 0)
		qsort(subdirs.items, subdirs.count, sizeof(*subdirs.items), name_cmp);
	int r = is_maildir(root) ? import_maildir_folder(&imp, root, "INBOX") : 0;
	buf name;
	buf_init(&name);
	for (size_t i = 0; i < subdirs.count && r == 0; i++) {
		char *path = xasprintf("%s/%s", root, subdirs.items[i]);
		buf_clear(&name);
		maildir_folder_name(subdirs.items[i], &name);
		r = import_maildir_folder(&imp, path, strcasecmp(name.data, "INBOX") == 0 ? "INBOX" : name.data);
		free(path);
	}
	buf_free(&name);
	strlist_free(&subdirs);
	return importer_finish(&imp, r < 0);
}

/* ---- mbox ---- */

static time_t from_line_time(const struct mbox_message *m)
{
	struct mbox_date d;
	if (!mbox_from_line(m->from_line, m->from_len, &d))
		return time(NULL);
	if (d.zoned)
		return timegm(&d.tm) - d.offset;
	return mktime(&d.tm); /* the writer's local time, as mutt and Dovecot read it */
}

/* import mbox ADDRESS FILE [--folder F] [--format mboxrd|mboxo] */
static int import_mbox(struct cli *cli, int argc, char **argv, unsigned options)
{
	const char *folder = cli->option_values[0] != NULL ? cli->option_values[0] : "INBOX";
	const char *format_arg = cli->option_values[1] != NULL ? cli->option_values[1] : "mboxrd";
	if (strcmp(format_arg, "mboxrd") != 0 && strcmp(format_arg, "mboxo") != 0) {
		cli_error("--format takes mboxrd (the default: '>From ' lines lose one '>') or mboxo "
			  "(only '>From ' is unquoted), not \"%s\"", format_arg);
		return 2;
	}
	enum mbox_format format = strcmp(format_arg, "mboxo") == 0 ? MBOX_O : MBOX_RD;
	struct importer imp;
	if (importer_init(&imp, cli, argv[0]) < 0)
		return importer_finish(&imp, 1);
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		cli_error("cannot read %s: %s (the import runs as the server's user, %s)", argv[1],
			  strerror(errno), config_str(cli->cfg, "run_as"));
		if (fd >= 0)
			close(fd);
		return importer_finish(&imp, 1);
	}
	/* Mapped, so a file of any size is read in place; only the message at hand is copied. */
	size_t len = (size_t)sb.st_size;
	const char *data = len > 0 ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : "";
	close(fd);
	if (data == MAP_FAILED) {
		cli_error("cannot read %s: %s", argv[1], strerror(errno));
		return importer_finish(&imp, 1);
	}
	if (len > 0)
		madvise((void *)data, len, MADV_SEQUENTIAL);
	int r = importer_folder(&imp, folder, 0);
	struct mbox_message m;
	size_t pos = 0;
	buf built, msg, keywords;
	buf_init(&built);
	buf_init(&msg);
	buf_init(&keywords);
	while (r == 0 && mbox_next(data, len, &pos, &m)) {
		buf_clear(&built);
		buf_clear(&msg);
		buf_clear(&keywords);
		if (m.raw_len > imp.max_size) {
			r = importer_add(&imp, NULL, m.raw_len, 0, 0, NULL, 0);
			continue;
		}
		uint32_t flags;
		mbox_message_build(m.raw, m.raw_len, format, &built, &flags, &keywords);
		line_ends_crlf(built.data, built.len, &msg);
		r = importer_add(&imp, msg.data, msg.len, 0, flags, keywords.data, from_line_time(&m));
	}
	if (r == 0)
		r = importer_folder_end(&imp, 0);
	buf_free(&built);
	buf_free(&msg);
	buf_free(&keywords);
	if (len > 0)
		munmap((void *)data, len);
	return importer_finish(&imp, r < 0);
}

static const struct cli_subcommand import_commands[] = {
	{ "maildir", "ADDRESS DIR", 2, 2, NULL, import_maildir },
	{ "mbox", "ADDRESS FILE [--folder F] [--format mboxrd|mboxo]", 2, 2, "--folder= --format=", import_mbox },
};

int cmd_import(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, import_commands,
				  sizeof(import_commands) / sizeof(import_commands[0]));
}
