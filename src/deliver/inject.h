/* Mail that does not come over SMTP: the server's own (bounces) and what local programs drop
 * with `estafeta sendmail` (pickup.c). Both become a delivery the way an SMTP transaction does
 * (delivery_new, which the SMTP session uses too), with recipients resolved at once. */
#ifndef ESTAFETA_INJECT_H
#define ESTAFETA_INJECT_H
#include "deliver/committer.h"
#include "deliver/resolve.h"
#include "core/buf.h"
#include "deliver/spool.h"
#include <stdbool.h>

/* The delivery of the message in *sp (released into it) from sender to the resolved targets:
 * each account's copy carries its own Return-Path and Delivered-To lines (RFC 5321 4.4;
 * Delivered-To also lets a later hop see a forwarding loop). */
struct delivery *delivery_new(struct spool **sp, const char *sender, const char *queue_id,
			      const struct resolution *targets);

struct inject_env {
	struct store *st;       /* the loop thread's connection, for resolving */
	struct committer *cm;
	const char *spool_dir;  /* data_dir/tmp */
	const char *delimiter;  /* delivery.recipient_delimiter */
};

/* Writes msg to a spool file and hands it to the committer (done runs later, on the loop)
 * for sender and recipients rcpts[0..count). A recipient of ours that leads nowhere (unknown,
 * an alias loop, nested too deep) is left out and *refused_r[i] set true. Returns 1 when the
 * message went to the committer, 0 when no recipient was left, -1 with *error_r (the store
 * or the disk failed; *full_r when the disk is full). */
int inject_message(const struct inject_env *env, const char *sender, const char *const *rcpts,
		   size_t count, const char *msg, size_t len, const char *queue_id, bool *refused_r,
		   committer_done_fn *done, void *arg, bool *full_r, char **error_r);
/* The same for a message already written to the spool file *sp (flushed), which it takes:
 * handed to the committer, or removed. */
int inject_spool(const struct inject_env *env, const char *sender, const char *const *rcpts,
		 size_t count, struct spool **sp, const char *queue_id, bool *refused_r,
		 committer_done_fn *done, void *arg, char **error_r);

struct queue_msg;
struct bounce_rcpt;
/* Sends the DSN for m's failed (or, delayed, late) recipients to its envelope sender, from
 * the null sender, through inject_message: to the sender's mailbox when the sender is ours
 * (to its domain's postmaster when that sender has none: root@ from cron), to the queue when
 * not. Never for a message from the null sender (RFC 3464 2, RFC 5321
 * 4.5.5). hostname is the reporting MTA; original the message as stored. Logs the outcome. */
void inject_bounce(const struct inject_env *env, const char *hostname, const struct queue_msg *m,
		   const struct bounce_rcpt *rcpts, size_t count, const buf *original, bool delayed);
#endif
