/* What `estafeta serve` runs (cmd-serve.c) and how it reloads (serve-reload.c). The reload is a
 * function that fills a report, so SIGHUP logs it and `estafeta reload` (through the control
 * socket) also returns it. */
#ifndef ESTAFETA_SERVE_H
#define ESTAFETA_SERVE_H
#include "cli/cli.h"
#include "core/control.h"
#include "core/strlist.h"
#include <event2/event.h>
#include <openssl/ssl.h>

struct serve {
	struct cli *cli;            /* cli->cfg is the configuration in effect */
	struct event_base *base;
	struct smtp_server *smtp;
	struct pop3_server *pop3;
	struct imap_server *imap;
	struct queue_runner *queue;
	struct committer *committer;
	struct pickup *pickup;
	struct login_limits *login_limits; /* shared by every protocol */
	SSL_CTX *tls;               /* NULL only when TLS is off (tls.cert empty at start) */
	int log_fd;
};

/* Points the log at log.file (standard error when empty) at log.level, closing the file
 * *fd_r held before. Returns 0, or -1 with *error_r (the log unchanged). */
int serve_setup_log(const struct config *cfg, int *fd_r, char **error_r);

/* From best to worst; a report has the worst of what happened. A reload command succeeds for
 * RELOAD_OK and RELOAD_RESTART_NEEDED and fails for the others. */
enum reload_status {
	RELOAD_OK,             /* every changed setting is in effect, the certificate re-read */
	RELOAD_RESTART_NEEDED, /* all else applied; restart_needed lists what waits for a restart */
	RELOAD_KEPT_OLD,       /* applied, but something kept its old state (see warnings): the
				* old certificate when the new one cannot be read or does not match */
	RELOAD_FAILED,         /* nothing changed: the config cannot be used (see error) */
};

struct reload_report {
	enum reload_status status;
	strlist applied;            /* names of the changed settings now in effect */
	strlist restart_needed;     /* names of the changed settings still at their old values */
	strlist warnings;           /* one sentence each: what kept its old state, and why */
	const char *tls;            /* "reloaded", "kept-old" or "off" */
	char *error;                /* RELOAD_FAILED: why */
};

/* Re-reads the config file (and relayhost.password_file) and the certificate, as the run_as
 * user, and applies what can change while running. TLS never switches itself off: a
 * certificate that cannot be loaded leaves the old one in place. Fills *r (free it with
 * reload_report_free) and returns r->status. Blocks (reads files). */
enum reload_status serve_reload(struct serve *sv, struct reload_report *r);
/* Logs the report: one warning line for each warning (or an error line when nothing changed),
 * then "serve reloaded config=... applied=... restart_needed=... tls=...". */
void reload_report_log(const struct reload_report *r, const char *config_path);
void reload_report_free(struct reload_report *r);
/* A reload as SIGHUP and `estafeta reload` make it: the service manager hears it start and
 * end (RELOADING=1, READY=1), the report is logged and, with out, written there as lines
 * (each warning, then " applied=... restart_needed=... tls=..."). Returns r->status; free r. */
enum reload_status serve_reload_report(struct serve *sv, struct reload_report *r, buf *out);
/* Serves "reload" on the control socket (estafeta reload). */
void serve_control_register(struct control *ctl, struct serve *sv);
#endif
