/* `estafeta serve`: runs every service in the foreground until SIGTERM or SIGINT; SIGHUP
 * reloads the configuration and the TLS certificate (serve-reload.c). Started as root, it
 * gives the instance its owners and modes (instance.c), reads the certificate, binds the
 * ports, becomes run_as for good, and only then opens log.file. The control socket lets
 * commands reach it. */
#include "auth/login.h"
#include "auth/login_control.h"
#include "cli/admin.h"
#include "cli/instance.h"
#include "cli/serve.h"
#include "core/control.h"
#include "core/inbox.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/privilege.h"
#include "core/tls.h"
#include "core/workq.h"
#include "core/xalloc.h"
#include "deliver/committer.h"
#include "deliver/pickup.h"
#include "queue/queue_runner.h"
#include "imap/imap_server.h"
#include "pop3/pop3_server.h"
#include "smtp/smtp_server.h"
#include "store/store_workers.h"
#include "verify/dmarc_reports.h"
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* At start a certificate that is configured but cannot be loaded is fatal, never a quiet
 * fallback to plaintext. TLS is off only when tls.cert is empty. Returns 0 or -1 (printed). */
static int load_tls(const struct config *cfg, SSL_CTX **ctx_r)
{
	*ctx_r = NULL;
	if (*config_path(cfg, "tls.cert") == '\0') {
		log_warn("tls off: tls.cert is empty, so STARTTLS is not offered");
		return 0;
	}
	char *error = NULL;
	*ctx_r = tls_server_context(config_path(cfg, "tls.cert"), config_path(cfg, "tls.key"), &error);
	if (*ctx_r != NULL)
		return 0;
	cli_error("%s (tls.cert and tls.key must name a certificate and its key, or tls.cert be empty "
		  "to serve without TLS)", error);
	free(error);
	return -1;
}

/* The config (with its secret files) and the instance's owners and modes, as root. */
static int prepare(struct cli *cli, struct config *cfg)
{
	char *error = NULL;
	int level = log_level_parse(config_str(cfg, "log.level"));
	if (level < 0)
		return cli_fail(xstrdup("log.level must be debug, info, warn or error"));
	/* standard error until the privilege drop: log.file is opened by the run_as user */
	log_setup(2, (enum log_level)level);
	if (config_load_secrets(cfg, &error) < 0 || instance_prepare(cfg, cli->config_path, true, &error) < 0)
		return cli_fail(error);
	return 0;
}

/* After the stop: the store calls in flight finish and their completions run (and the calls
 * those make), for a few seconds at most; no session takes a new command any more. */
static void drain_store_workers(struct event_base *base, const struct store_workers *sw)
{
	time_t end = time(NULL) + 5;
	while (store_workers_pending(sw) > 0 && time(NULL) < end)
		event_base_loop(base, EVLOOP_ONCE);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct serve *sv = arg;
	notify_service_manager("STOPPING=1");
	log_info("serve stopping signal=%d", (int)sig);
	smtp_server_stop(sv->smtp);
	pop3_server_stop(sv->pop3);
	imap_server_stop(sv->imap);
	if (sv->queue != NULL)
		queue_runner_stop(sv->queue);
	event_base_loopexit(sv->base, NULL);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct reload_report r;
	serve_reload_report(arg, &r, NULL);
	reload_report_free(&r);
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	if (argc != 1) {
		cli_error("usage: estafeta serve");
		return 2;
	}
	/* what the server creates is its own: files 0600, folders 0700 (the maildrop is chmod'd) */
	umask(077);
	struct config *cfg = cli_config(cli);
	struct serve sv = { .cli = cli, .log_fd = 2 };
	if (cfg == NULL || prepare(cli, cfg) != 0 || load_tls(cfg, &sv.tls) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	sv.base = event_base_new();
	/* Signals are caught from the start: a SIGTERM during start-up stops the loop once it
	 * runs instead of killing the process half-way. */
	struct event *sigs[] = {
		evsignal_new(sv.base, SIGTERM, on_stop, &sv),
		evsignal_new(sv.base, SIGINT, on_stop, &sv),
		evsignal_new(sv.base, SIGHUP, on_hup, &sv),
	};
	for (size_t i = 0; i < 3; i++)
		event_add(sigs[i], NULL);
	sv.login_limits = login_limits_new();
	char *error = NULL;
	if (login_limits_configure(sv.login_limits, cfg, &error) == 0)
		sv.smtp = smtp_server_new(sv.base, cfg, sv.tls, &error);
	if (sv.smtp != NULL)
		sv.pop3 = pop3_server_new(sv.base, cfg, sv.tls, &error);
	if (sv.pop3 != NULL)
		sv.imap = imap_server_new(sv.base, cfg, sv.tls, &error);
	/* Ports are bound and the key read: from here on, never root again. */
	if (sv.imap == NULL || privilege_drop(config_str(cfg, "run_as"), &error) < 0 ||
	    serve_setup_log(cfg, &sv.log_fd, &error) < 0) {
		cli_error("%s", error);
		free(error);
		for (size_t i = 0; i < 3; i++)
			event_free(sigs[i]);
		smtp_server_free(&sv.smtp);
		pop3_server_free(&sv.pop3);
		imap_server_free(&sv.imap);
		login_limits_free(&sv.login_limits);
		SSL_CTX_free(sv.tls);
		event_base_free(sv.base);
		return 1;
	}
	const char *data_dir = config_path(cfg, "data_dir");
	/* made as the server's user, so the socket is theirs (and root's) alone */
	char *control_path = control_socket_path(cfg);
	struct control *control = control_new(sv.base, control_path, &error);
	free(control_path);
	struct store *st = control != NULL ? store_open(data_dir, &error) : NULL;
	/* the loop must not wait for the disk: its writes are flags and states (store.h) */
	if (st != NULL && store_relax_sync(st, &error) < 0)
		store_close(&st);
	struct inbox *inbox = inbox_new(sv.base);
	long long workers = config_int(cfg, "store.workers");
	struct store_workers *sw = st != NULL ? store_workers_new(inbox, data_dir,
							   workers > 0 ? (int)workers : 1, &error) : NULL;
	struct committer *committer = sw != NULL ? committer_new(data_dir, inbox, &error) : NULL;
	int status = 0;
	if (committer == NULL) {
		cli_error("%s", error);
		free(error);
		store_workers_free(&sw);
		status = 1;
	} else {
		/* What an earlier crash left (an hour old at least, so never a delivery in flight
		 * elsewhere) goes before any new mail comes in. */
		unsigned swept = 0;
		if (store_sweep(st, 3600, &swept, &error) < 0) {
			log_warn("store sweep failed: %s", error);
			xfree(&error);
		} else if (swept > 0) {
			log_info("store sweep removed=%u files left by an interrupted delivery", swept);
		}
		struct workq *wq = workq_new(inbox, 2);
		smtp_server_attach(sv.smtp, st, sw, wq, committer, sv.login_limits);
		pop3_server_attach(sv.pop3, st, sw, wq, sv.login_limits);
		imap_server_attach(sv.imap, st, sw, wq, committer, sv.login_limits);
		login_control_register(control, sv.login_limits);
		sv.committer = committer;
		serve_control_register(control, &sv);
		committer_watch(committer, imap_server_delivered, sv.imap);
		sv.queue = queue_runner_new(sv.base, cfg, st, sw, committer, &error);
		if (sv.queue == NULL) {
			log_error("outbound delivery disabled: %s", error);
			free(error);
		}
		struct dmarc_reporter *dmarc = dmarc_reporter_new(sv.base, cfg, sw, committer, &error);
		if (dmarc != NULL) {
			dmarc_reporter_control_register(control, dmarc);
		} else {
			log_error("DMARC aggregate reports are not sent: %s", error);
			xfree(&error);
		}
		char *spool_dir = xasprintf("%s/tmp", data_dir);
		struct inject_env env = { st, committer, spool_dir,
					  config_str(cfg, "delivery.recipient_delimiter") };
		sv.pickup = pickup_new(sv.base, &env, wq, cfg, &error);
		free(spool_dir);
		if (sv.pickup == NULL) {
			log_error("estafeta sendmail's mail is not picked up: %s", error);
			free(error);
		}
		log_info("serve started pid=%d config=%s", (int)getpid(), cli->config_path);
		/* Every port is bound and every part running: systemd may start what needs us. */
		notify_service_manager("READY=1");
		event_base_dispatch(sv.base);
		/* Messages handed over are committed before exit; their sessions are not answered,
		 * so a client retries and at worst a message arrives twice, never not at all. */
		pickup_stop(sv.pickup);
		drain_store_workers(sv.base, sw);
		dmarc_reporter_free(&dmarc);
		queue_runner_free(&sv.queue);
		committer_free(&committer);
		workq_free(&wq);
		event_base_loop(sv.base, EVLOOP_NONBLOCK); /* runs the completions they posted */
		drain_store_workers(sv.base, sw);          /* and the store calls those made */
		store_workers_free(&sw);
		pickup_free(&sv.pickup);
		log_info("serve stopped");
	}
	for (size_t i = 0; i < 3; i++)
		event_free(sigs[i]);
	smtp_server_free(&sv.smtp);
	pop3_server_free(&sv.pop3);
	imap_server_free(&sv.imap);
	inbox_free(&inbox);
	store_close(&st);
	control_free(&control);
	login_limits_free(&sv.login_limits);
	SSL_CTX_free(sv.tls);
	event_base_free(sv.base);
	return status;
}
