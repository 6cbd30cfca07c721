/* The POP3 services as the rest of the program sees them: started by `serve`, reconfigured on
 * SIGHUP, stopped at exit. Port 110 (pop3, STLS) and 995 (pop3s, implicit TLS, RFC 8314), on
 * every address in "listen"; a port of 0 turns its service off. */
#ifndef ESTAFETA_POP3_SERVER_H
#define ESTAFETA_POP3_SERVER_H
#include "auth/login_limits.h"
#include "core/config.h"
#include "core/workq.h"
#include "store/store.h"
#include "store/store_workers.h"
#include <event2/event.h>
#include <openssl/ssl.h>

struct pop3_server;

/* Binds the listeners (call while still root). NULL with *error_r when one cannot be bound. */
struct pop3_server *pop3_server_new(struct event_base *base, const struct config *cfg,
				    SSL_CTX *tls, char **error_r);
/* Gives the server what it needs once privileges are dropped: the loop's store (logins),
 * the store workers (the maildrop's reads and removals), the worker pool (password checks)
 * and the limits on failed logins that every protocol shares. */
void pop3_server_attach(struct pop3_server *srv, struct store *st, struct store_workers *sw,
			struct workq *wq, struct login_limits *login_limits);
/* Takes new settings and TLS context (SIGHUP); ports and addresses stay as bound. cfg and
 * tls must outlive the server or the next call. */
void pop3_server_configure(struct pop3_server *srv, const struct config *cfg, SSL_CTX *tls);
/* Stops listening and reading commands (shutdown); sessions stay until pop3_server_free. */
void pop3_server_stop(struct pop3_server *srv);
void pop3_server_free(struct pop3_server **srv);
#endif
