/* estafeta queue: the outbound queue for administrators. Changes are made in the store; a
 * running server's queue runner polls the store every second, so flush and retry take effect
 * there within a second (no signal needed).
 *   queue list            one line per message, TAB-separated: queue id, sender ("<>" for the
 *                         null sender), pending recipients (comma-separated), age, attempts
 *                         (the most of any recipient), next attempt ("now", in how long, or
 *                         "held"), last error ("-" for none)
 *   queue hold            the senders held, one a line
 *   queue hold ID | --sender ADDRESS
 *                         no more delivery attempts for the message, or for every message of
 *                         the sender, queued now or later; the messages stay queued (an
 *                         attempt already under way finishes)
 *   queue release ID | --sender ADDRESS
 *                         lets them go again
 *   queue show ID         the message's envelope and each recipient's state
 *   queue flush [ID]      makes every pending recipient (of ID) due now
 *   queue retry ID        the same for one message
 *   queue delete ID       removes the message from the queue without delivering it
 * estafeta mailq (sendmail -bp) lists the same in the layout of sendmail's and Postfix's
 * mailq, which scripts and people already read, with the maildrop's waiting files counted. */
#include "cli/admin.h"
#include "core/buf.h"
#include "core/strlist.h"
#include "core/xalloc.h"
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const status_words[] = { "pending", "sent", "bounced" };

/* "3d4h", "12m", "40s": an interval as a person reads it. */
static void put_interval(buf *b, long long s)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		buf_printf(b, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		buf_printf(b, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		buf_printf(b, "%lldm%llds", s / 60, s % 60);
	else
		buf_printf(b, "%llds", s);
}

static int load(struct cli *cli, const char *id, struct queue_msg ***msgs, size_t *count)
{
	struct store *st = cli_store(cli);
	if (st == NULL)
		return 1;
	char *error = NULL;
	if (store_queue_list(st, id, msgs, count, &error) < 0)
		return cli_fail(error);
	if (id != NULL && *count == 0) {
		cli_error("no message %s in the queue (see: estafeta queue list)", id);
		return 1;
	}
	return 0;
}

static int queue_list(struct cli *cli, int argc, char **argv, unsigned options)
{
	struct queue_msg **msgs;
	size_t count;
	int r = load(cli, NULL, &msgs, &count);
	if (r != 0)
		return r;
	time_t now = time(NULL);
	for (size_t i = 0; i < count; i++) {
		struct queue_msg *m = msgs[i];
		buf line;
		buf_init(&line);
		buf_printf(&line, "%s\t<%s>\t", m->queue_id, m->sender);
		int attempts = 0, n = 0;
		time_t next = 0;
		const char *error = NULL;
		for (size_t k = 0; k < m->rcpt_count; k++) {
			struct queue_rcpt *q = &m->rcpts[k];
			if (q->status != QUEUE_PENDING)
				continue;
			buf_printf(&line, "%s%s", n++ > 0 ? "," : "", q->recipient);
			if (q->attempts > attempts)
				attempts = q->attempts;
			if (n == 1 || q->next_attempt < next)
				next = q->next_attempt;
			if (q->last_error != NULL)
				error = q->last_error;
		}
		buf_putc(&line, '\t');
		put_interval(&line, now - m->arrival);
		buf_printf(&line, "\t%d\t", attempts);
		if (m->held)
			buf_puts(&line, "held");
		else if (next <= now)
			buf_puts(&line, "now");
		else
			put_interval(&line, next - now);
		buf_printf(&line, "\t%s", error != NULL ? error : "-");
		puts(line.data);
		buf_free(&line);
	}
	queue_msgs_free(msgs, count);
	return 0;
}

static int queue_show(struct cli *cli, int argc, char **argv, unsigned options)
{
	struct queue_msg **msgs;
	size_t count;
	int r = load(cli, argv[0], &msgs, &count);
	if (r != 0)
		return r;
	struct queue_msg *m = msgs[0];
	char date[64];
	struct tm tm;
	gmtime_r(&m->arrival, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("id: %s\nsender: <%s>\narrival: %s\nsize: %llu\n", m->queue_id, m->sender, date,
	       (unsigned long long)m->size);
	if (m->envid != NULL)
		printf("envid: %s\n", m->envid);
	if (m->held)
		puts("held: yes (estafeta queue release)");
	for (size_t k = 0; k < m->rcpt_count; k++) {
		struct queue_rcpt *q = &m->rcpts[k];
		printf("recipient: %s status=%s attempts=%d", q->recipient, status_words[q->status],
		       q->attempts);
		if (q->status == QUEUE_PENDING) {
			gmtime_r(&q->next_attempt, &tm);
			strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
			printf(" next=%s", date);
		}
		printf(" error=%s\n", q->last_error != NULL ? q->last_error : "-");
	}
	queue_msgs_free(msgs, count);
	return 0;
}

static int queue_flush(struct cli *cli, int argc, char **argv, unsigned options)
{
	struct store *st = cli_store(cli);
	if (st == NULL)
		return 1;
	char *error = NULL;
	int n = store_queue_flush(st, argc > 0 ? argv[0] : NULL, NULL, false, &error);
	if (n < 0)
		return cli_fail(error);
	if (n == 0 && argc > 0) {
		/* nothing made due: an id that is not there is an error, as for queue show */
		struct queue_msg **msgs;
		size_t count;
		int r = load(cli, argv[0], &msgs, &count);
		if (r != 0)
			return r;
		queue_msgs_free(msgs, count);
	}
	printf("%d recipients due now\n", n);
	return 0;
}

static int queue_delete(struct cli *cli, int argc, char **argv, unsigned options)
{
	struct store *st = cli_store(cli);
	if (st == NULL)
		return 1;
	char *error = NULL;
	int r = store_queue_delete(st, argv[0], &error);
	if (r < 0)
		return cli_fail(error);
	if (r == 0) {
		cli_error("no message %s in the queue (see: estafeta queue list)", argv[0]);
		return 1;
	}
	return 0;
}

/* hold and release: argv[0] is a queue id, or with --sender an address ("<>" the null sender). */
static int queue_set_held(struct cli *cli, char **argv, unsigned options, bool held)
{
	struct store *st = cli_store(cli);
	if (st == NULL)
		return 1;
	char *sender = NULL;
	if (options & 1) {
		sender = strcmp(argv[0], "<>") == 0 ? xstrdup("") : cli_address(argv[0], false);
		if (sender == NULL)
			return 1;
	}
	char *error = NULL;
	int n = store_queue_hold(st, sender != NULL ? NULL : argv[0], sender, held, &error);
	if (n < 0) {
		free(sender);
		return cli_fail(error);
	}
	if (sender != NULL)
		printf("%d messages %s; sender <%s> %s\n", n, held ? "held" : "released", sender,
		       held ? "held until released" : "released");
	int status = 0;
	if (sender == NULL && n == 0) {
		cli_error("no message %s in the queue (see: estafeta queue list)", argv[0]);
		status = 1;
	}
	free(sender);
	return status;
}

static int queue_hold(struct cli *cli, int argc, char **argv, unsigned options)
{
	if (argc == 1)
		return queue_set_held(cli, argv, options, true);
	if (options != 0) {
		cli_error("usage: estafeta queue hold --sender ADDRESS");
		return 2;
	}
	struct store *st = cli_store(cli);
	if (st == NULL)
		return 1;
	strlist senders;
	strlist_init(&senders);
	char *error = NULL;
	if (store_queue_held_senders(st, &senders, &error) < 0)
		return cli_fail(error);
	for (size_t i = 0; i < senders.count; i++)
		printf("<%s>\n", senders.items[i]);
	strlist_free(&senders);
	return 0;
}

static int queue_release(struct cli *cli, int argc, char **argv, unsigned options)
{
	return queue_set_held(cli, argv, options, false);
}

static const struct cli_subcommand queue_commands[] = {
	{ "list", "", 0, 0, NULL, queue_list },
	{ "show", "ID", 1, 1, NULL, queue_show },
	{ "flush", "[ID]", 0, 1, NULL, queue_flush },
	{ "retry", "ID", 1, 1, NULL, queue_flush },
	{ "delete", "ID", 1, 1, NULL, queue_delete },
	{ "hold", "[ID | --sender ADDRESS]", 0, 1, "--sender", queue_hold },
	{ "release", "ID | --sender ADDRESS", 1, 1, "--sender", queue_release },
};

int cmd_queue(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, queue_commands,
				  sizeof(queue_commands) / sizeof(queue_commands[0]));
}

/* Files sendmail dropped that the server has not picked up yet (it is down, or busy). */
static int maildrop_waiting(struct cli *cli)
{
	char *dir = xasprintf("%s/maildrop", config_path(cli->cfg, "data_dir"));
	DIR *d = opendir(dir);
	free(dir);
	int n = 0;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

int cmd_mailq(struct cli *cli, int argc, char **argv)
{
	struct queue_msg **msgs;
	size_t count;
	int r = load(cli, NULL, &msgs, &count);
	if (r != 0)
		return r;
	int waiting = maildrop_waiting(cli);
	if (count == 0)
		puts("Mail queue is empty");
	else
		puts("-Queue ID-------- --Size-- ----Arrival Time---- -Sender/Recipient-------");
	unsigned long long total = 0;
	size_t pending_msgs = 0;
	for (size_t i = 0; i < count; i++) {
		struct queue_msg *m = msgs[i];
		char date[64];
		struct tm tm;
		localtime_r(&m->arrival, &tm);
		strftime(date, sizeof(date), "%a %b %e %H:%M:%S", &tm);
		printf("%-17s %8llu %s  %s\n", m->queue_id, (unsigned long long)m->size, date,
		       m->sender[0] != '\0' ? m->sender : "MAILER-DAEMON");
		for (size_t k = 0; k < m->rcpt_count; k++) {
			struct queue_rcpt *q = &m->rcpts[k];
			if (q->status != QUEUE_PENDING)
				continue;
			if (q->last_error != NULL)
				printf("%50s(%s)\n", "", q->last_error);
			printf("%50s%s\n", "", q->recipient);
		}
		putchar('\n');
		total += m->size;
		pending_msgs++;
	}
	if (count > 0)
		printf("-- %llu Kbytes in %zu Request%s.\n", (total + 1023) / 1024, pending_msgs,
		       pending_msgs == 1 ? "" : "s");
	if (waiting > 0)
		printf("-- %d message%s in the maildrop, not yet picked up by the server.\n", waiting,
		       waiting == 1 ? "" : "s");
	queue_msgs_free(msgs, count);
	return 0;
}
