/* `estafeta serve`: runs every service in the foreground until SIGTERM or SIGINT; SIGHUP
 * reloads the configuration and the TLS certificate (listening addresses and ports stay as
 * bound: changing them needs a restart). */
#include "cli/cli.h"
#include "core/inbox.h"
#include "core/ip_counts.h"
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
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct serve {
	struct cli *cli;
	struct event_base *base;
	struct smtp_server *smtp;
	struct pop3_server *pop3;
	struct imap_server *imap;
	struct queue_runner *queue;
	SSL_CTX *tls;
	int log_fd;
};

/* Opens the log named by the configuration (stderr when none). Returns -1 after an error. */
static int setup_log(const struct config *cfg, int *fd_r)
{
	int level = log_level_parse(config_str(cfg, "log.level"));
	if (level < 0) {
		cli_error("log.level must be debug, info, warn or error");
		return -1;
	}
	int fd = 2;
	const char *path = config_path(cfg, "log.file");
	if (*path != '\0') {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0) {
			cli_error("cannot open log file %s: %m", path);
			return -1;
		}
	}
	if (*fd_r > 2)
		close(*fd_r);
	*fd_r = fd;
	log_setup(fd, (enum log_level)level);
	return 0;
}

/* A missing or broken certificate leaves TLS off (with a warning) rather than the server down. */
static SSL_CTX *load_tls(const struct config *cfg)
{
	char *error = NULL;
	SSL_CTX *ctx = tls_server_context(config_path(cfg, "tls.cert"), config_path(cfg, "tls.key"), &error);
	if (ctx == NULL) {
		log_warn("tls disabled: %s", error);
		free(error);
	}
	return ctx;
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

static void on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct serve *sv = arg;
	char *error = NULL;
	struct config *cfg = config_load(sv->cli->config_path, &error);
	if (cfg == NULL) {
		log_error("reload failed, keeping the old configuration: %s", error);
		free(error);
		return;
	}
	if (setup_log(cfg, &sv->log_fd) < 0) {
		config_free(&cfg);
		return;
	}
	SSL_CTX *tls = load_tls(cfg);
	smtp_server_configure(sv->smtp, cfg, tls);
	pop3_server_configure(sv->pop3, cfg, tls);
	imap_server_configure(sv->imap, cfg, tls);
	char *qerror = NULL;
	if (sv->queue != NULL && queue_runner_configure(sv->queue, cfg, &qerror) < 0) {
		log_error("reload: outbound queue keeps its old settings: %s", qerror);
		free(qerror);
	}
	/* Sessions in progress hold their own references to the old context. */
	SSL_CTX_free(sv->tls);
	sv->tls = tls;
	config_free(&sv->cli->cfg);
	sv->cli->cfg = cfg;
	log_info("serve reloaded config=%s", sv->cli->config_path);
}

/* SIGHUP: the service manager hears of the reload, and that it ended, whatever its outcome. */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	notify_service_manager("RELOADING=1");
	on_reload(sig, what, arg);
	notify_service_manager("READY=1");
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	if (argc != 1) {
		cli_error("usage: estafeta serve");
		return 2;
	}
	struct config *cfg = cli_config(cli);
	struct serve sv = { .cli = cli, .log_fd = 2 };
	if (cfg == NULL || setup_log(cfg, &sv.log_fd) < 0)
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
	sv.tls = load_tls(cfg);
	struct ip_counts *login_failures = ip_counts_new();
	char *error = NULL;
	sv.smtp = smtp_server_new(sv.base, cfg, sv.tls, &error);
	if (sv.smtp != NULL)
		sv.pop3 = pop3_server_new(sv.base, cfg, sv.tls, &error);
	if (sv.pop3 != NULL)
		sv.imap = imap_server_new(sv.base, cfg, sv.tls, &error);
	/* Ports are bound: from here on, never root again. */
	if (sv.imap == NULL || privilege_drop(config_str(cfg, "run_as"), &error) < 0) {
		cli_error("%s", error);
		free(error);
		for (size_t i = 0; i < 3; i++)
			event_free(sigs[i]);
		smtp_server_free(&sv.smtp);
		pop3_server_free(&sv.pop3);
		imap_server_free(&sv.imap);
		ip_counts_free(&login_failures);
		SSL_CTX_free(sv.tls);
		event_base_free(sv.base);
		return 1;
	}
	const char *data_dir = config_path(cfg, "data_dir");
	struct store *st = store_open(data_dir, &error);
	/* the loop must not wait for the disk: its writes are flags and states (store.h) */
	if (st != NULL && store_relax_sync(st, &error) < 0)
		store_close(&st);
	struct inbox *inbox = inbox_new(sv.base);
	struct committer *committer = st != NULL ? committer_new(data_dir, inbox, &error) : NULL;
	int status = 0;
	if (committer == NULL) {
		cli_error("%s", error);
		free(error);
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
		smtp_server_attach(sv.smtp, st, wq, committer, login_failures);
		pop3_server_attach(sv.pop3, st, wq, login_failures);
		imap_server_attach(sv.imap, st, wq, committer, login_failures);
		committer_watch(committer, imap_server_delivered, sv.imap);
		sv.queue = queue_runner_new(sv.base, cfg, st, committer, &error);
		if (sv.queue == NULL) {
			log_error("outbound delivery disabled: %s", error);
			free(error);
		}
		char *spool_dir = xasprintf("%s/tmp", data_dir);
		struct inject_env env = { st, committer, spool_dir,
					  config_str(cfg, "delivery.recipient_delimiter") };
		struct pickup *pickup = pickup_new(sv.base, &env, data_dir, config_hostname(cfg),
						   (uint64_t)config_int(cfg, "smtp.max_message_size"), &error);
		free(spool_dir);
		if (pickup == NULL) {
			log_error("estafeta sendmail's mail is not picked up: %s", error);
			free(error);
		}
		log_info("serve started pid=%d config=%s", (int)getpid(), cli->config_path);
		/* Every port is bound and every part running: systemd may start what needs us. */
		notify_service_manager("READY=1");
		event_base_dispatch(sv.base);
		/* Messages handed over are committed before exit; their sessions are not answered,
		 * so a client retries and at worst a message arrives twice, never not at all. */
		queue_runner_free(&sv.queue);
		committer_free(&committer);
		workq_free(&wq);
		event_base_loop(sv.base, EVLOOP_NONBLOCK); /* runs the completions they posted */
		pickup_free(&pickup);
		log_info("serve stopped");
	}
	for (size_t i = 0; i < 3; i++)
		event_free(sigs[i]);
	smtp_server_free(&sv.smtp);
	pop3_server_free(&sv.pop3);
	imap_server_free(&sv.imap);
	inbox_free(&inbox);
	store_close(&st);
	ip_counts_free(&login_failures);
	SSL_CTX_free(sv.tls);
	event_base_free(sv.base);
	return status;
}
