/* The IMAP services: imap (port 143, STARTTLS before login) and imaps (port 993, implicit
 * TLS). Created before privileges are dropped (binding the ports), attached to the store
 * afterwards, as the SMTP and POP3 servers are. */
#ifndef ESTAFETA_IMAP_SERVER_H
#define ESTAFETA_IMAP_SERVER_H
#include "auth/login_limits.h"
#include "core/config.h"
#include "core/workq.h"
#include "deliver/committer.h"
#include "store/store.h"
#include "store/store_workers.h"
#include <event2/event.h>
#include <openssl/ssl.h>

struct imap_server;

/* Binds the listeners of the services whose port is not 0. Returns NULL with *error_r when a
 * port cannot be bound. */
struct imap_server *imap_server_new(struct event_base *base, const struct config *cfg,
				    SSL_CTX *tls, char **error_r);
/* Reads the settings again (SIGHUP); cfg and tls must outlive the server or the next call. */
void imap_server_configure(struct imap_server *srv, const struct config *cfg, SSL_CTX *tls);
/* Gives the server the loop thread's store (for logins), the store workers every other
 * store call runs on, the workers for password checks, the committer that makes APPENDed
 * messages durable and the limits on failed logins that every protocol shares. */
void imap_server_attach(struct imap_server *srv, struct store *st, struct store_workers *sw,
			struct workq *wq, struct committer *cm, struct login_limits *login_limits);
/* The committer's watch (committer_watch with the server as arg): a committed delivery wakes
 * its recipients' sessions in IDLE. */
void imap_server_delivered(const struct delivery *d, void *arg);
/* Mail came into the account's folders another way (estafeta import): its sessions in IDLE
 * look at once. */
void imap_wake_idlers_of(struct imap_server *srv, int64_t account_id);
/* Stops accepting and reading commands (shutdown). */
void imap_server_stop(struct imap_server *srv);
void imap_server_free(struct imap_server **srv);
#endif
