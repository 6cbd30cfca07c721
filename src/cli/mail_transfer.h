/* What estafeta import and estafeta export share: the progress line of a long run, the
 * meaning of Maildir's flag letters, and how IMAP folder names ("Work/Projects", the server's
 * hierarchy separator being "/") map to Maildir++ folders (".Work.Projects" beside INBOX's cur/
 * and new/, each level in modified UTF-7 as Dovecot writes them). */
#ifndef ESTAFETA_CLI_MAIL_TRANSFER_H
#define ESTAFETA_CLI_MAIL_TRANSFER_H
#include "core/buf.h"
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Counts messages and prints "estafeta: WHAT: N messages (FOLDER)" on stderr every 1000, or
 * every second when stderr is a terminal. */
struct progress {
	const char *what;  /* "import", "export" */
	uint64_t count;
	bool terminal;
	time_t last;
};
void progress_init(struct progress *p, const char *what);
void progress_step(struct progress *p, const char *folder);

/* The system flags (enum message_flag) and the $Forwarded keyword a Maildir info stands for:
 * D \Draft, F \Flagged, P $Forwarded (passed, as mutt and mbsync write it), R \Answered,
 * S \Seen, T \Deleted. */
uint32_t maildir_letters_flags(uint32_t upper, bool *forwarded_r);
/* The capitals for the system flags. */
uint32_t maildir_flags_letters(uint32_t flags);

/* The IMAP name of a Maildir++ folder: dir without its leading '.', each level between dots
 * decoded from modified UTF-7 (taken as it is when it is not valid), joined with '/'. */
void maildir_folder_name(const char *dir, buf *out);
/* The Maildir++ folder (".Work.Projects") of an IMAP name, appended to out; -1 when a level
 * holds a '.', which Maildir++ cannot carry. */
int maildir_folder_dir(const char *name, buf *out);

/* A keyword IMAP can carry (RFC 3501 flag-keyword: an atom, no '\'). */
bool keyword_valid(const char *s, size_t len);
#endif
