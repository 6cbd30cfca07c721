/* The server's side of the maildrop (maildrop.h): it watches data_dir/maildrop with inotify,
 * and scans it at start and every minute (files left by a failed attempt, or dropped while
 * the server was down). Each complete file is checked, given a Received line naming the
 * local user who wrote it (the file's owner, which nobody can forge), and handed to the
 * committer; recipients of ours that do not exist get a bounce, as Postfix's pickup does; the
 * file goes once the delivery is durable. A file that breaks the format is renamed to
 * ".corrupt.NAME" and logged, never lost and never retried. */
#ifndef ESTAFETA_PICKUP_H
#define ESTAFETA_PICKUP_H
#include "deliver/inject.h"
#include <event2/event.h>
#include <stdint.h>

struct pickup;

/* Creates the maildrop folder (mode 1733) when it is missing and starts watching it; env's
 * store and committer must outlive the pickup (its strings are copied). NULL with *error_r. */
struct pickup *pickup_new(struct event_base *base, const struct inject_env *env,
			  const char *data_dir, const char *hostname, uint64_t max_size,
			  char **error_r);
void pickup_free(struct pickup **p);
#endif
