/* The mail client's IMAP side (RFC 3501, with the extensions it uses when the server has
 * them: LITERAL+, SASL-IR, MOVE, UIDPLUS, SPECIAL-USE): a blocking connection that logs in
 * over TLS, runs one command at a time and hands each untagged response, parsed
 * (imap_reply.h), to a callback. Mailbox names go out in modified UTF-7. */
#ifndef ESTAFETA_MUA_IMAP_CLIENT_H
#define ESTAFETA_MUA_IMAP_CLIENT_H
#include "core/buf.h"
#include "core/strlist.h"
#include "mua/imap_reply.h"
#include "mua/net.h"

struct imap_client {
	struct net *net;
	unsigned tag;
	strlist caps;      /* capability atoms, upper case */
};

/* A command being built: its text, and where a synchronizing literal must wait for the
 * server's "+" before the rest is sent. */
struct imap_cmd {
	buf text;
	size_t waits[16];
	size_t wait_count;
};

/* Connects (implicit TLS, or STARTTLS, which must then be offered) and logs in:
 * AUTHENTICATE SCRAM-SHA-256 or PLAIN (with SASL-IR when offered), else LOGIN. NULL with
 * *error_r. */
struct imap_client *imap_client_open(const char *host, int port, bool implicit_tls, bool verify,
				     const char *user, const char *password, char **error_r);
/* LOGOUT and close. */
void imap_client_close(struct imap_client **c);
bool imap_client_has(const struct imap_client *c, const char *capability);

void imap_cmd_init(struct imap_cmd *cmd);
void imap_cmd_free(struct imap_cmd *cmd);
void imap_cmd_raw(struct imap_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A string argument: quoted when it can be, else a literal (non-synchronizing with
 * LITERAL+). */
void imap_cmd_string(struct imap_client *c, struct imap_cmd *cmd, const char *s, size_t len);
/* A mailbox name given in UTF-8. */
void imap_cmd_mailbox(struct imap_client *c, struct imap_cmd *cmd, const char *name);

/* Called for each untagged response: top->items[0] is "*". */
typedef void imap_untagged_fn(const struct imap_value *top, void *arg);
/* Sends cmd with a new tag and reads up to its completion. 0 for OK; -1 with *error_r for
 * NO or BAD (the server's words) or a broken connection. */
int imap_run(struct imap_client *c, struct imap_cmd *cmd, imap_untagged_fn *fn, void *arg,
	     char **error_r);
/* imap_run for a command with no arguments to quote. */
int imap_simple(struct imap_client *c, imap_untagged_fn *fn, void *arg, char **error_r,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The UTF-8 form of a mailbox name as the server sent it. */
char *imap_mailbox_from_wire(const char *name);
#endif
