/* estafeta mailbox list|show|del: what is in an account's folder, read straight from the store, for
 * administrators and for tests that check what arrived.
 *   mailbox list ADDRESS [FOLDER]      a header row naming the columns, then one line per
 *                                      message, TAB-separated: uid, flags ("\Seen \Flagged",
 *                                      "-" for none), size, internal date
 *                                      (2026-11-23T01:12:21Z), From, Subject
 *   mailbox show ADDRESS UID [FOLDER]  the stored message, byte for byte
 *   mailbox del ADDRESS FOLDER         deletes a folder and its messages, as IMAP DELETE does
 *                                      (not INBOX, nor a folder with folders below it); an
 *                                      IMAP session that has it selected sees its messages
 *                                      expunged at its next command */
#include "cli/admin.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "mail/header.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The system flags in the order of RFC 3501 2.3.2. */
static const struct {
	enum message_flag flag;
	const char *name;
} flag_names[] = {
	{ FLAG_SEEN, "\\Seen" },         { FLAG_ANSWERED, "\\Answered" }, { FLAG_FLAGGED, "\\Flagged" },
	{ FLAG_DELETED, "\\Deleted" },   { FLAG_DRAFT, "\\Draft" },       { FLAG_RECENT, "\\Recent" },
};

/* Says that the account has no folder name, and which folders it has. */
static void no_such_folder(struct store *st, const struct account *account, const char *name)
{
	struct folder *folders = NULL;
	size_t count = 0;
	char *error = NULL;
	buf names;
	buf_init(&names);
	if (store_folder_list(st, account->id, &folders, &count, &error) < 0)
		free(error);
	for (size_t i = 0; i < count; i++) {
		buf_printf(&names, "%s%s", i > 0 ? ", " : "", folders[i].name);
		folder_clear(&folders[i]);
	}
	free(folders);
	cli_error("%s has no folder \"%s\"; its folders: %s", account->address, name, names.data);
	buf_free(&names);
}

/* Finds the account and its folder (INBOX when folder_name is NULL). Returns 0 with
 * *st_r and *folder_r set (and *account_id_r unless NULL), or -1 after printing what is
 * missing. */
static int open_folder(struct cli *cli, const char *address_arg, const char *folder_name,
		       struct store **st_r, struct folder *folder_r, int64_t *account_id_r)
{
	char *address = cli_address(address_arg, false);
	struct store *st = address != NULL ? cli_store(cli) : NULL;
	if (st == NULL) {
		free(address);
		return -1;
	}
	struct account account = { 0 };
	char *error = NULL;
	int r = store_user_get(st, address, &account, &error);
	if (r == 0)
		cli_error("no account %s (see: estafeta user list)", address);
	if (r == 1) {
		if (folder_name == NULL)
			folder_name = "INBOX";
		r = store_folder_get(st, account.id, folder_name, folder_r, &error);
		if (r == 0)
			no_such_folder(st, &account, folder_name);
	}
	if (r < 0)
		cli_fail(error);
	if (account_id_r != NULL)
		*account_id_r = account.id;
	account_clear(&account);
	free(address);
	*st_r = st;
	return r == 1 ? 0 : -1;
}

/* Appends the field's value unfolded onto one line: line ends dropped, tabs (which would
 * break the columns) made spaces, and the space around it trimmed. */
static void put_unfolded(buf *out, const struct header_field *f)
{
	size_t start = out->len;
	for (size_t i = 0; i < f->value_len; i++) {
		char c = f->value[i];
		if (c == '\t')
			c = ' ';
		if (c != '\r' && c != '\n' && (c != ' ' || out->len > start))
			buf_putc(out, c);
	}
	while (out->len > start && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
}

/* Appends TAB, From, TAB, Subject (each empty when missing) from the message's header. */
static void put_from_subject(buf *out, const char *msg, size_t len)
{
	size_t hdr_len = header_end(msg, len);
	if (hdr_len == 0)
		hdr_len = len; /* no empty line: all header */
	struct header_field from = { 0 }, subject = { 0 }, f;
	size_t pos = 0;
	int r;
	while ((r = header_next(msg, hdr_len, &pos, &f)) != 0) {
		if (r < 0)
			continue;
		if (from.name == NULL && f.name_len == 4 && strncasecmp(f.name, "From", 4) == 0)
			from = f;
		else if (subject.name == NULL && f.name_len == 7 && strncasecmp(f.name, "Subject", 7) == 0)
			subject = f;
	}
	buf_putc(out, '\t');
	put_unfolded(out, &from);
	buf_putc(out, '\t');
	put_unfolded(out, &subject);
}

/* One line of mailbox list for message m, whose stored bytes are msg. */
static void put_line(buf *out, const struct message *m, const char *msg, size_t len)
{
	buf_printf(out, "%u\t", m->uid);
	size_t flags_start = out->len;
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (m->flags & flag_names[i].flag)
			buf_printf(out, "%s%s", out->len > flags_start ? " " : "", flag_names[i].name);
	if (m->keywords != NULL && *m->keywords != '\0')
		buf_printf(out, "%s%s", out->len > flags_start ? " " : "", m->keywords);
	if (out->len == flags_start)
		buf_putc(out, '-');
	char date[32];
	struct tm tm;
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&m->internal_date, &tm));
	buf_printf(out, "\t%llu\t%s", (unsigned long long)m->size, date);
	put_from_subject(out, msg, len);
	buf_putc(out, '\n');
}

/* mailbox list ADDRESS [FOLDER] */
static int mailbox_list(struct cli *cli, int argc, char **argv, unsigned options)
{
	struct store *st;
	struct folder folder = { 0 };
	if (open_folder(cli, argv[0], argc > 1 ? argv[1] : NULL, &st, &folder, NULL) < 0)
		return 1;
	struct message *messages = NULL;
	size_t count = 0;
	char *error = NULL;
	int status = store_message_list(st, folder.id, &messages, &count, &error) < 0 ? cli_fail(error) : 0;
	buf msg, line;
	buf_init(&msg);
	buf_init(&line);
	if (status == 0)
		puts("UID\tFLAGS\tSIZE\tDATE\tFROM\tSUBJECT");
	for (size_t i = 0; i < count && status == 0; i++) {
		buf_clear(&msg);
		buf_clear(&line);
		/* 0: expunged since the list was read; not worth a line. */
		int r = store_message_read(st, folder.id, messages[i].uid, &msg, &error);
		if (r < 0) {
			status = cli_fail(error);
		} else if (r == 1) {
			put_line(&line, &messages[i], msg.data, msg.len);
			fwrite(line.data, 1, line.len, stdout);
		}
	}
	for (size_t i = 0; i < count; i++)
		message_clear(&messages[i]);
	free(messages);
	buf_free(&msg);
	buf_free(&line);
	folder_clear(&folder);
	return status;
}

/* mailbox show ADDRESS UID [FOLDER] */
static int mailbox_show(struct cli *cli, int argc, char **argv, unsigned options)
{
	char *end;
	errno = 0;
	unsigned long uid = strtoul(argv[1], &end, 10);
	if (argv[1][0] < '1' || argv[1][0] > '9' || *end != '\0' || errno != 0 || uid > UINT32_MAX) {
		cli_error("\"%s\" is not a UID (a number from 1; see: estafeta mailbox list %s)",
			  argv[1], argv[0]);
		return 2;
	}
	struct store *st;
	struct folder folder = { 0 };
	if (open_folder(cli, argv[0], argc > 2 ? argv[2] : NULL, &st, &folder, NULL) < 0)
		return 1;
	buf msg;
	buf_init(&msg);
	char *error = NULL;
	int status = 1;
	int r = store_message_read(st, folder.id, (uint32_t)uid, &msg, &error);
	if (r < 0)
		status = cli_fail(error);
	else if (r == 0)
		cli_error("no message with UID %lu in %s of %s (see: estafeta mailbox list %s %s)", uid,
			  folder.name, argv[0], argv[0], folder.name);
	else if (fwrite(msg.data, 1, msg.len, stdout) != msg.len || fflush(stdout) != 0)
		cli_error("cannot write the message: %s", strerror(errno));
	else
		status = 0;
	buf_free(&msg);
	folder_clear(&folder);
	return status;
}

/* mailbox del ADDRESS FOLDER */
static int mailbox_del(struct cli *cli, int argc, char **argv, unsigned options)
{
	struct store *st;
	struct folder folder = { 0 };
	if (strcasecmp(argv[1], "INBOX") == 0) {
		cli_error("INBOX cannot be deleted; its messages are the account's mail");
		return 2;
	}
	int64_t account_id;
	if (open_folder(cli, argv[0], argv[1], &st, &folder, &account_id) < 0)
		return 1;
	char *error = NULL;
	int status = 0;
	int r = store_folder_delete(st, account_id, folder.name, &error);
	if (r < 0)
		status = cli_fail(error);
	else if (r == 2)
		status = 1, cli_error("%s has folders below it; delete those first", folder.name);
	else if (r == 0)
		status = 1, cli_error("%s of %s was deleted meanwhile", folder.name, argv[0]);
	folder_clear(&folder);
	return status;
}

static const struct cli_subcommand mailbox_commands[] = {
	{ "list", "ADDRESS [FOLDER]", 1, 2, NULL, mailbox_list },
	{ "show", "ADDRESS UID [FOLDER]", 2, 3, NULL, mailbox_show },
	{ "del", "ADDRESS FOLDER", 2, 2, NULL, mailbox_del },
};

int cmd_mailbox(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, mailbox_commands,
				  sizeof(mailbox_commands) / sizeof(mailbox_commands[0]));
}
