/* Reloading a running server (SIGHUP); see serve.h. */
#include "auth/login.h"
#include "cli/instance.h"
#include "cli/serve.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/tls.h"
#include "core/xalloc.h"
#include "deliver/pickup.h"
#include "imap/imap_server.h"
#include "pop3/pop3_server.h"
#include "queue/queue_runner.h"
#include "smtp/smtp_server.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read only at start: the ports are bound and the privilege dropped, the store is open. */
static const char *const restart_only[] = {
	"data_dir", "imap.port", "imaps.port", "listen", "pop3.port", "pop3s.port", "run_as",
	"smtp.port", "store.workers", "submission.port", "submissions.port",
};

int serve_setup_log(const struct config *cfg, int *fd_r, char **error_r)
{
	int level = log_level_parse(config_str(cfg, "log.level"));
	if (level < 0) {
		*error_r = xstrdup("log.level must be debug, info, warn or error");
		return -1;
	}
	int fd = 2;
	const char *path = config_path(cfg, "log.file");
	if (*path != '\0') {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0) {
			*error_r = xasprintf("cannot open log file %s as the run_as user: %m", path);
			return -1;
		}
	}
	if (*fd_r > 2)
		close(*fd_r);
	*fd_r = fd;
	log_setup(fd, (enum log_level)level);
	return 0;
}

static void worsen(struct reload_report *r, enum reload_status status)
{
	if (status > r->status)
		r->status = status;
}

static void warn(struct reload_report *r, char *sentence)
{
	strlist_add_owned(&r->warnings, sentence);
	worsen(r, RELOAD_KEPT_OLD);
}

static bool same(const struct config *a, const struct config *b, const char *name)
{
	return strcmp(config_str(a, name), config_str(b, name)) == 0;
}

/* The new certificate, or the old one when it cannot be loaded: TLS never goes off by itself. */
static SSL_CTX *reload_tls(struct serve *sv, struct config *cfg, const struct config *old,
			   struct reload_report *r)
{
	if (*config_path(cfg, "tls.cert") == '\0' && sv->tls != NULL) {
		config_keep(cfg, old, "tls.cert");
		config_keep(cfg, old, "tls.key");
		warn(r, xstrdup("kept the old TLS certificate: tls.cert is empty, and TLS goes off only "
				"with a restart"));
		r->tls = "kept-old";
		return sv->tls;
	}
	if (*config_path(cfg, "tls.cert") == '\0') {
		r->tls = "off";
		return NULL;
	}
	char *error = NULL;
	SSL_CTX *ctx = tls_server_context(config_path(cfg, "tls.cert"), config_path(cfg, "tls.key"), &error);
	if (ctx != NULL) {
		r->tls = "reloaded";
		return ctx;
	}
	config_keep(cfg, old, "tls.cert");
	config_keep(cfg, old, "tls.key");
	r->tls = sv->tls != NULL ? "kept-old" : "off";
	warn(r, xasprintf("kept the old TLS certificate: %s", error));
	free(error);
	return sv->tls;
}

enum reload_status serve_reload(struct serve *sv, struct reload_report *r)
{
	memset(r, 0, sizeof(*r));
	strlist_init(&r->applied);
	strlist_init(&r->restart_needed);
	strlist_init(&r->warnings);
	r->tls = sv->tls != NULL ? "kept-old" : "off";
	const char *path = sv->cli->config_path;
	struct config *old = sv->cli->cfg;
	struct config *cfg = config_load(path, &r->error);
	if (cfg != NULL && (config_load_secrets(cfg, &r->error) < 0 ||
			    instance_check_secrets(cfg, path, &r->error) < 0))
		config_free(&cfg);
	if (cfg == NULL) {
		r->status = RELOAD_FAILED;
		return r->status;
	}
	for (size_t i = 0; i < sizeof(restart_only) / sizeof(restart_only[0]); i++) {
		if (!same(cfg, old, restart_only[i])) {
			strlist_add(&r->restart_needed, restart_only[i]);
			config_keep(cfg, old, restart_only[i]);
			worsen(r, RELOAD_RESTART_NEEDED);
		}
	}
	char *error = NULL;
	if (serve_setup_log(cfg, &sv->log_fd, &error) < 0) {
		config_keep(cfg, old, "log.file");
		config_keep(cfg, old, "log.level");
		warn(r, xasprintf("the log stays as it was: %s", error));
		xfree(&error);
	}
	SSL_CTX *tls = reload_tls(sv, cfg, old, r);
	if (login_limits_configure(sv->login_limits, cfg, &error) < 0) {
		config_keep(cfg, old, "auth.trusted_networks");
		warn(r, xasprintf("auth.trusted_networks keeps its old value: %s", error));
		xfree(&error);
	}
	smtp_server_configure(sv->smtp, cfg, tls);
	pop3_server_configure(sv->pop3, cfg, tls);
	imap_server_configure(sv->imap, cfg, tls);
	if (sv->pickup != NULL)
		pickup_configure(sv->pickup, cfg);
	if (sv->queue != NULL && queue_runner_configure(sv->queue, cfg, &error) < 0) {
		warn(r, xasprintf("the outbound queue keeps its old settings: %s", error));
		free(error);
	}
	/* Sessions in progress hold their own references to the old context. */
	if (tls != sv->tls) {
		SSL_CTX_free(sv->tls);
		sv->tls = tls;
	}
	for (size_t i = 0; setting_at(i) != NULL; i++)
		if (!same(cfg, old, setting_at(i)->name))
			strlist_add(&r->applied, setting_at(i)->name);
	config_free(&sv->cli->cfg);
	sv->cli->cfg = cfg;
	return r->status;
}

static void put_list(buf *b, const char *key, const strlist *l)
{
	buf_printf(b, " %s=", key);
	if (l->count == 0)
		buf_puts(b, "none");
	for (size_t i = 0; i < l->count; i++)
		buf_printf(b, "%s%s", i > 0 ? "," : "", l->items[i]);
}

/* " applied=... restart_needed=... tls=...", the words of the log line and of `estafeta
 * reload`. */
static void put_summary(buf *b, const struct reload_report *r)
{
	put_list(b, "applied", &r->applied);
	put_list(b, "restart_needed", &r->restart_needed);
	buf_printf(b, " tls=%s", r->tls);
}

void reload_report_log(const struct reload_report *r, const char *config_path)
{
	if (r->status == RELOAD_FAILED) {
		log_error("serve reload failed, nothing changed: %s", r->error);
		return;
	}
	for (size_t i = 0; i < r->warnings.count; i++)
		log_warn("serve reload %s", r->warnings.items[i]);
	buf b;
	buf_init(&b);
	put_summary(&b, r);
	log_info("serve reloaded config=%s%s", config_path, b.data);
	buf_free(&b);
}

enum reload_status serve_reload_report(struct serve *sv, struct reload_report *r, buf *out)
{
	notify_service_manager("RELOADING=1");
	serve_reload(sv, r);
	reload_report_log(r, sv->cli->config_path);
	notify_service_manager("READY=1");
	if (out != NULL && r->status != RELOAD_FAILED) {
		for (size_t i = 0; i < r->warnings.count; i++)
			buf_printf(out, "%s\n", r->warnings.items[i]);
		put_summary(out, r);
		buf_puts(out, "\n");
	}
	return r->status;
}

/* `estafeta reload` on the server's side: fails when something kept its old state. */
static int control_reload(void *ctx, const char *arg, buf *out, char **error_r)
{
	if (*arg != '\0') {
		*error_r = xstrdup("reload takes no argument");
		return -1;
	}
	struct reload_report r;
	enum reload_status status = serve_reload_report(ctx, &r, out);
	if (status == RELOAD_FAILED)
		*error_r = xasprintf("nothing changed: %s", r.error);
	else if (status == RELOAD_KEPT_OLD)
		*error_r = xstrdup("reloaded, but something kept its old state (see above)");
	reload_report_free(&r);
	return status == RELOAD_FAILED || status == RELOAD_KEPT_OLD ? -1 : 0;
}

/* `estafeta import` told of messages it added for an account (its id): the indexer takes
 * them, and the account's IMAP sessions in IDLE look at once. */
static int control_imported(void *ctx, const char *arg, buf *out, char **error_r)
{
	struct serve *sv = ctx;
	char *end;
	long long id = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || id <= 0) {
		*error_r = xstrdup("imported takes an account id");
		return -1;
	}
	committer_index_now(sv->committer);
	imap_wake_idlers_of(sv->imap, id);
	return 0;
}

void serve_control_register(struct control *ctl, struct serve *sv)
{
	control_register(ctl, "reload", control_reload, sv);
	control_register(ctl, "imported", control_imported, sv);
}

void reload_report_free(struct reload_report *r)
{
	strlist_free(&r->applied);
	strlist_free(&r->restart_needed);
	strlist_free(&r->warnings);
	xfree(&r->error);
}
