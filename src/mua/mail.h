/* `estafeta mail`: the command-line mail client. A session holds the account, one IMAP
 * connection (opened on first need) and the folder whose messages the numbers N refer to:
 * 1 is the oldest, as `list` shows them. Each command is a function over the session; the
 * same functions serve one-shot commands and the interactive mode (shell.c). */
#ifndef ESTAFETA_MUA_MAIL_H
#define ESTAFETA_MUA_MAIL_H
#include "core/buf.h"
#include "mua/account.h"
#include "mua/imap_client.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

struct mail_session {
	struct mail_account acct;
	struct imap_client *imap;
	char *folder;            /* selected, UTF-8 */
	uint32_t *uids;          /* message N is uids[N-1] */
	size_t count;
	char *roles[4];          /* Sent, Drafts, Trash, Junk folder names, found once */
	bool roles_known;
	bool interactive;        /* bodies are typed, ended by "." */
};

enum folder_role { ROLE_SENT, ROLE_DRAFTS, ROLE_TRASH, ROLE_JUNK };

/* Runs one command (argv[0] is its name or its one-letter form). Returns the exit status:
 * 0, 1 after a failure (the error printed), 2 for a usage error. */
int mail_command(struct mail_session *s, int argc, char **argv);
void mail_session_free(struct mail_session *s);
/* The interactive mode: a prompt reading commands until "q" or the end of input. */
int mail_shell(struct mail_session *s);
/* Lists the commands with their one-letter forms. */
void mail_usage(FILE *out);
/* Prints "estafeta mail: MESSAGE" on stderr; returns 1. */
int mail_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
