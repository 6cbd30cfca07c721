/* The SMTP services as the rest of the program sees them: started by `serve`, reconfigured on
 * SIGHUP, stopped at exit. Port 25 (smtp), 587 (submission, STARTTLS) and 465 (submissions,
 * implicit TLS), on every address in "listen"; a port of 0 turns its service off. */
#ifndef ESTAFETA_SMTP_SERVER_H
#define ESTAFETA_SMTP_SERVER_H
#include "auth/login_limits.h"
#include "core/config.h"
#include "core/workq.h"
#include "deliver/committer.h"
#include "store/store.h"
#include "store/store_workers.h"
#include <event2/event.h>
#include <openssl/ssl.h>

struct smtp_server;

/* Binds the listeners (call while still root). NULL with *error_r when one cannot be bound. */
struct smtp_server *smtp_server_new(struct event_base *base, const struct config *cfg,
				    SSL_CTX *tls, char **error_r);
/* Gives the server what it needs once privileges are dropped: the loop's store (logins, the
 * end of DATA), the store workers (MAIL, RCPT, EXPN), the worker pool for password checks,
 * the committer and the limits on failed logins that every protocol shares. */
void smtp_server_attach(struct smtp_server *srv, struct store *st, struct store_workers *sw,
			struct workq *wq, struct committer *cm, struct login_limits *login_limits);
/* Takes new settings and TLS context (SIGHUP); ports and addresses stay as bound. cfg and
 * tls must outlive the server or the next call. */
void smtp_server_configure(struct smtp_server *srv, const struct config *cfg, SSL_CTX *tls);
/* Stops listening and reading commands (shutdown); sessions stay until smtp_server_free. */
void smtp_server_stop(struct smtp_server *srv);
void smtp_server_free(struct smtp_server **srv);
#endif
