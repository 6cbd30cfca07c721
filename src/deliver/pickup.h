/* The server's side of the maildrop (maildrop.h): it watches data_dir/maildrop with inotify,
 * and scans it at start and every minute (files left by a failed attempt, or dropped while
 * the server was down). Each complete file is read on a worker, checked, given a Received line
 * naming the local user who wrote it (the file's owner, which nobody can forge), and handed to
 * the committer; recipients of ours that do not exist get a bounce, as Postfix's pickup does;
 * the file goes once the delivery is durable. The envelope sender is the owner's own address
 * unless the owner is root or in sendmail.trusted_users (as sendmail's trusted users): another
 * -f is replaced, logged and noted in an X-Authentication-Warning field, as sendmail notes
 * it. A file that breaks the format is renamed to ".corrupt.NAME" and logged, never retried;
 * the scan removes it after sendmail.corrupt_max_age. */
#ifndef ESTAFETA_PICKUP_H
#define ESTAFETA_PICKUP_H
#include "core/config.h"
#include "core/workq.h"
#include "deliver/inject.h"
#include <event2/event.h>
#include <stdint.h>

struct pickup;

/* Creates the maildrop folder (mode 1733) when it is missing and starts watching it, with the
 * settings of cfg (data_dir, hostname, smtp.max_message_size, the sendmail.* ones); env's
 * store and committer and the worker pool wq must outlive the pickup (env's strings are
 * copied). NULL with *error_r. */
struct pickup *pickup_new(struct event_base *base, const struct inject_env *env,
			  struct workq *wq, const struct config *cfg, char **error_r);
/* Takes the sendmail.* settings again (SIGHUP); files being read keep the ones they had. */
void pickup_configure(struct pickup *p, const struct config *cfg);
/* Stops picking files (shutdown): reads still running end without a delivery, their files
 * left for the next start. Call before the committer goes; free after the worker pool. */
void pickup_stop(struct pickup *p);
void pickup_free(struct pickup **p);
#endif
