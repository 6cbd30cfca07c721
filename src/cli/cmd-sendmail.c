/* estafeta sendmail: the command every Unix program expects for sending mail (also run as
 * "sendmail", the link `make install` lays, and "mailq"). It reads the message on standard
 * input, makes it one SMTP can carry (mail/local_message.h), and drops it into the
 * maildrop (deliver/maildrop.h) for the server to pick up: no network and no password, so it
 * works from cron and scripts; the file owner tells the server which local user sent it.
 * Exit status as sendmail's (sysexits.h): 0 once the message is on stable storage.
 *   -t        recipients also from To, Cc and Bcc (added to those given, as Postfix does)
 *   -f FROM   envelope sender ("<>" for none); default: login name @ sendmail.origin. The
 *             server keeps it only for root and sendmail.trusted_users (deliver/pickup.h)
 *   -F NAME   the sender's full name for a From field the message lacks
 *   -i, -oi   a line of a single "." does not end the message
 *   -bp       list the queue (mailq);  -bm  deliver (the default)
 * Other sendmail options (-o..., -B, -v, -N, -R, -V, -X, -L) are accepted and ignored. */
#include "cli/cli.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/strlist.h"
#include "core/xalloc.h"
#include "deliver/maildrop.h"
#include "mail/local_message.h"
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

struct sendmail_args {
	bool extract, dot_ends;
	const char *from, *full_name;
	strlist rcpts;      /* as given */
	bool list_queue;
};

/* Options with a value take it attached ("-fx") or as the next word. */
static int parse_args(int argc, char **argv, struct sendmail_args *a)
{
	a->dot_ends = true;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		}
		char letter = opt[1];
		const char *value = NULL;
		if (strchr("fFoBNRVXLCrh", letter) != NULL && opt[2] == '\0' && letter != 'o') {
			if (i + 1 >= argc) {
				cli_error("sendmail: -%c needs a value", letter);
				return -1;
			}
			value = argv[++i];
		} else {
			value = opt + 2;
		}
		switch (letter) {
		case 't':
			a->extract = true;
			break;
		case 'i':
			a->dot_ends = false;
			break;
		case 'o':
			if (strcmp(value, "i") == 0)
				a->dot_ends = false;
			break;
		case 'f':
		case 'r':
			a->from = value;
			break;
		case 'F':
			a->full_name = value;
			break;
		case 'b':
			if (strcmp(value, "p") == 0) {
				a->list_queue = true;
			} else if (strcmp(value, "m") != 0 && strcmp(value, "i") != 0) {
				cli_error("sendmail: -b%s is not supported (only -bm, -bp, -bi)", value);
				return -1;
			}
			break;
		case 'B': case 'N': case 'R': case 'V': case 'X': case 'L': case 'C': case 'h': case 'v':
		case 'm': case 'e': case 'U':
			break;
		default:
			cli_error("sendmail: unknown option %s", opt);
			return -1;
		}
	}
	for (; i < argc; i++) {
		/* a comma list in one argument is several recipients, as sendmail reads it */
		char *copy = xstrdup(argv[i]), *save = NULL;
		for (char *t = strtok_r(copy, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save))
			strlist_add(&a->rcpts, t);
		free(copy);
	}
	return 0;
}

static int read_all(FILE *in, buf *out)
{
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		buf_append(out, chunk, n);
	return ferror(in) ? -1 : 0;
}

/* The file is fsync'd, renamed into place, and the rename made durable: through the folder
 * when we may open it, else (an ordinary user cannot read a 1733 folder) by syncing the
 * whole file system, which carries the folder's entry with it. */
static int drop(const char *dir, const buf *file, char **error_r)
{
	char *tmp = xasprintf("%s/.tmp.%08x%08x", dir, arc4random(), arc4random());
	char *final = xasprintf("%s/%lld.%08x%08x%08x", dir, (long long)time(NULL), arc4random(),
				arc4random(), arc4random());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int status = -1;
	if (fd < 0) {
		*error_r = xasprintf("cannot write into %s: %s%s", dir, strerror(errno),
				     errno == ENOENT ? " (is the server set up? estafeta serve creates it)" : "");
		goto done;
	}
	if (fchmod(fd, 0644) < 0 || fs_write_all(fd, file->data, file->len) < 0 || fsync(fd) < 0 ||
	    rename(tmp, final) < 0 || (fs_fsync_dir(dir) < 0 && syncfs(fd) < 0)) {
		*error_r = xasprintf("cannot write the message into %s: %s", dir, strerror(errno));
		unlink(tmp);
		close(fd);
		goto done;
	}
	close(fd);
	status = 0;
done:
	free(tmp);
	free(final);
	return status;
}

static int sendmail_run(struct cli *cli, struct sendmail_args *a)
{
	struct config *cfg = cli_config(cli);
	if (cfg == NULL)
		return EX_CONFIG;
	const char *origin = config_str(cfg, "sendmail.origin");
	if (*origin == '\0')
		origin = config_hostname(cfg);
	struct passwd *pw = getpwuid(getuid());
	const char *login = pw != NULL ? pw->pw_name : "nobody";
	char sender[1024] = "", canonical[1024];
	if (a->from != NULL && strcmp(a->from, "<>") != 0 && a->from[0] != '\0') {
		const char *f = a->from;
		size_t len = strlen(f);
		if (f[0] == '<' && len > 1 && f[len - 1] == '>')
			f++, len -= 2;
		if (local_address(f, len, origin, sender, sizeof(sender)) < 0) {
			cli_error("sendmail: -f %s is not an address", a->from);
			return EX_USAGE;
		}
	} else if (a->from == NULL && local_address(login, strlen(login), origin, sender, sizeof(sender)) < 0) {
		cli_error("sendmail: the login name %s makes no address; give one with -f", login);
		return EX_USAGE;
	}
	strlist rcpts;
	strlist_init(&rcpts);
	for (size_t i = 0; i < a->rcpts.count; i++) {
		if (local_address(a->rcpts.items[i], strlen(a->rcpts.items[i]), origin, canonical,
				  sizeof(canonical)) < 0) {
			cli_error("sendmail: %s is not an address", a->rcpts.items[i]);
			strlist_free(&rcpts);
			return EX_DATAERR;
		}
		strlist_add_unique(&rcpts, canonical);
	}
	/* the name for a missing From: -F, else the account's full name */
	char *gecos = pw != NULL && pw->pw_gecos != NULL ? xstrndup(pw->pw_gecos, strcspn(pw->pw_gecos, ",")) : NULL;
	char from_addr[1024];
	snprintf(from_addr, sizeof(from_addr), "%s", sender[0] != '\0' ? sender : login);
	struct local_message_opts o = {
		.dot_ends = a->dot_ends,
		.extract = a->extract,
		.from_addr = from_addr,
		.from_name = a->full_name != NULL ? a->full_name : (gecos != NULL && gecos[0] != '\0' ? gecos : NULL),
		.origin = origin,
		.now = time(NULL),
	};
	buf in, msg, file;
	buf_init(&in);
	buf_init(&msg);
	buf_init(&file);
	const char *why = NULL;
	char *error = NULL;
	int status = EX_OK;
	if (read_all(stdin, &in) < 0) {
		cli_error("sendmail: cannot read the message: %s", strerror(errno));
		status = EX_IOERR;
	} else if (local_message(in.data != NULL ? in.data : "", in.len, &o, &msg, &rcpts, &why) < 0) {
		cli_error("sendmail: %s", why);
		status = EX_DATAERR;
	} else if (rcpts.count == 0) {
		cli_error("sendmail: no recipients (give addresses, or -t to take them from To, Cc and Bcc)");
		status = EX_USAGE;
	} else if (rcpts.count > MAILDROP_MAX_RECIPIENTS) {
		cli_error("sendmail: more than %d recipients", MAILDROP_MAX_RECIPIENTS);
		status = EX_USAGE;
	} else if ((uint64_t)msg.len > (uint64_t)config_int(cfg, "smtp.max_message_size")) {
		cli_error("sendmail: the message is larger than smtp.max_message_size (%lld octets)",
			  config_int(cfg, "smtp.max_message_size"));
		status = EX_DATAERR;
	} else {
		maildrop_write_envelope(&file, sender, (const char *const *)rcpts.items, rcpts.count);
		buf_append(&file, msg.data, msg.len);
		char *dir = xasprintf("%s/maildrop", config_path(cfg, "data_dir"));
		if (drop(dir, &file, &error) < 0) {
			cli_error("sendmail: %s", error);
			status = EX_CANTCREAT;
		}
		free(dir);
	}
	free(error);
	free(gecos);
	buf_free(&in);
	buf_free(&msg);
	buf_free(&file);
	strlist_free(&rcpts);
	return status;
}

int cmd_sendmail(struct cli *cli, int argc, char **argv)
{
	struct sendmail_args a = { 0 };
	strlist_init(&a.rcpts);
	int status = parse_args(argc, argv, &a);
	if (status < 0)
		status = EX_USAGE;
	else if (a.list_queue)
		status = cmd_mailq(cli, 1, argv);
	else
		status = sendmail_run(cli, &a);
	strlist_free(&a.rcpts);
	return status;
}
