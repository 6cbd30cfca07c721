/* The queue runner: the scheduler of outbound delivery, on the event loop. Every second it
 * asks the store for recipients that are due (so `estafeta queue flush`, `retry` and ETRN,
 * which make rows due in the store, reach a running server within a second without any
 * signal), groups them by destination domain, routes each domain (dns.c) and hands its
 * messages to one SMTP client connection (smtp_client.c), at most
 * outbound.max_connections_per_domain at once per domain. Each recipient's outcome is
 * committed the moment it is known; 4xx and connection failures retry on
 * queue.retry_schedule until queue.max_age, 5xx bounce at once (bounce.c). */
#ifndef ESTAFETA_QUEUE_RUNNER_H
#define ESTAFETA_QUEUE_RUNNER_H
#include "core/config.h"
#include "deliver/committer.h"
#include "store/store.h"
#include "store/store_workers.h"
#include <event2/event.h>

struct queue_runner;

/* st is the loop thread's store connection (the outcomes, small transactions), sw the store
 * workers (the polls and the message files); bounces go through cm. NULL with *error_r when
 * a setting is wrong. */
struct queue_runner *queue_runner_new(struct event_base *base, const struct config *cfg,
				      struct store *st, struct store_workers *sw,
				      struct committer *cm, char **error_r);
/* New settings (SIGHUP). Returns 0, or -1 with *error_r keeping the old ones. */
int queue_runner_configure(struct queue_runner *qr, const struct config *cfg, char **error_r);
/* Stops starting deliveries and ends those in progress (their recipients stay pending). */
void queue_runner_stop(struct queue_runner *qr);
void queue_runner_free(struct queue_runner **qr);
#endif
