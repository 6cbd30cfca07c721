/* SORT and UID SORT (RFC 5256 3, with DISPLAYFROM and DISPLAYTO of RFC 5957, ESORT's RETURN
 * options of RFC 5267 answered with ESEARCH, and SAVE of RFC 5182), THREAD and UID THREAD
 * (ORDEREDSUBJECT and REFERENCES). The messages are chosen by SEARCH's code
 * (imap_search_match); their header sections come from the store in batches, read on a
 * worker while the session waits, and give the keys (imap_sort_keys.h); the answer, one
 * line that can be long, is written in steps as the client reads it. */
#include "imap/imap.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "imap/imap_sort_keys.h"
#include "imap/imap_thread.h"
#include "mail/header.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Messages whose header sections one store call reads, and how much of each it reads. */
#define SORT_BATCH 256
#define SORT_HEADER_MAX (64 * 1024)
/* What one step of the answer writes at most. */
#define SORT_STEP_OCTETS (64 * 1024)

enum sort_key {
	SORT_ARRIVAL, SORT_CC, SORT_DATE, SORT_FROM, SORT_SIZE, SORT_SUBJECT, SORT_TO,
	SORT_DISPLAYFROM, SORT_DISPLAYTO,
};

static const char *const sort_key_names[] = {
	"ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO",
};

struct sort_criterion {
	enum sort_key key;
	bool reverse;
};

/* What the comparison sees: the matches' keys and their messages. */
struct sort_ctx {
	const struct sort_criterion *crit;
	size_t crit_count;
	const struct sort_keys *keys;
	const struct imap_message *const *msgs;
};

/* The answer being written: text from pos on, then the tagged OK. */
struct answer {
	buf text;
	size_t pos;
	char *tag;
	const char *name;
	bool uid, expunges;
};

static bool answer_step(struct imap_session *s, void *state)
{
	struct answer *a = state;
	while (a->pos < a->text.len && !imap_output_full(s)) {
		size_t n = a->text.len - a->pos < SORT_STEP_OCTETS ? a->text.len - a->pos : SORT_STEP_OCTETS;
		imap_write(s, a->text.data + a->pos, n);
		a->pos += n;
	}
	if (a->pos < a->text.len)
		return false;
	imap_mailbox_sync(s, a->expunges);
	imap_tagged(s, a->tag, "OK %s%s completed", a->uid ? "UID " : "", a->name);
	return true;
}

static void answer_free(void *state)
{
	struct answer *a = state;
	buf_free(&a->text);
	free(a->tag);
	free(a);
}

/* Sends text (taken over) and the tagged OK, in steps. */
static void answer(struct imap_session *s, const struct imap_cmd *cmd, const char *name, buf *text)
{
	struct answer *a = xcalloc(1, sizeof(*a));
	a->text = *text;
	a->tag = xstrdup(cmd->tag);
	a->name = name;
	a->uid = cmd->uid;
	a->expunges = cmd->expunges;
	imap_run_steps(s, answer_step, answer_free, a);
}

/* A SORT or THREAD: its criteria, its matches and their keys. */
struct sort_query {
	struct imap_session *s;
	struct imap_cmd cmd;      /* tag (owned), uid and expunges; no arguments */
	bool thread;
	enum thread_alg alg;
	struct sort_criterion *crit;
	size_t crit_count;
	int ret;
	bool modseq_key;
	size_t *idx;              /* the matches' indexes in the view, ascending */
	size_t n;
	int64_t folder_id;
	uint32_t *uids;
	struct sort_keys *keys;
	int status;
	char *error;
};

/* The keys of the matches, from their header sections read SORT_BATCH at a time. */
static void read_keys(struct store *st, struct sort_query *q)
{
	q->keys = xcalloc(q->n + 1, sizeof(*q->keys));
	q->status = 0;
	buf headers[SORT_BATCH];
	for (size_t done = 0; done < q->n;) {
		size_t count = q->n - done < SORT_BATCH ? q->n - done : SORT_BATCH;
		for (size_t i = 0; i < count; i++)
			buf_init(&headers[i]);
		if (q->status == 0)
			q->status = store_message_headers(st, q->folder_id, q->uids + done, count,
							    SORT_HEADER_MAX, headers, &q->error);
		for (size_t i = 0; i < count; i++) {
			size_t end = header_end(headers[i].data, headers[i].len);
			sort_keys_read(headers[i].data, end > 0 ? end : headers[i].len, &q->keys[done + i]);
			buf_free(&headers[i]);
		}
		done += count;
	}
}

static void keys_free(struct sort_keys *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sort_keys_free(&keys[i]);
	free(keys);
}

static int compare_numbers(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int compare_one(const struct sort_ctx *c, enum sort_key key, size_t x, size_t y)
{
	const struct sort_keys *a = &c->keys[x], *b = &c->keys[y];
	switch (key) {
	case SORT_ARRIVAL:
		return compare_numbers((uint64_t)c->msgs[x]->internal_date, (uint64_t)c->msgs[y]->internal_date);
	case SORT_DATE:
		return a->sent < b->sent ? -1 : a->sent > b->sent;
	case SORT_SIZE:
		return compare_numbers(c->msgs[x]->size, c->msgs[y]->size);
	case SORT_CC:
		return imap_sort_strcmp(a->cc, b->cc);
	case SORT_FROM:
		return imap_sort_strcmp(a->from, b->from);
	case SORT_TO:
		return imap_sort_strcmp(a->to, b->to);
	case SORT_SUBJECT:
		return imap_sort_strcmp(a->subject, b->subject);
	case SORT_DISPLAYFROM:
		return imap_sort_strcmp(a->display_from, b->display_from);
	case SORT_DISPLAYTO:
		return imap_sort_strcmp(a->display_to, b->display_to);
	}
	return 0;
}

/* The criteria in turn, then mailbox order (RFC 5256 3: the implicit sequence number,
 * which REVERSE does not turn). */
static int compare(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	size_t x = *(const size_t *)pa, y = *(const size_t *)pb;
	for (size_t i = 0; i < c->crit_count; i++) {
		int r = compare_one(c, c->crit[i].key, x, y);
		if (r != 0)
			return c->crit[i].reverse ? -r : r;
	}
	return x < y ? -1 : x > y;
}

/* sort-criteria = "(" sort-criterion *(SP sort-criterion) ")";
 * sort-criterion = ["REVERSE" SP] sort-key. The count, or -1. */
static ssize_t parse_criteria(const struct imap_arg *a, struct sort_criterion **out)
{
	if (a->type != IMAP_ARG_LIST || a->count == 0)
		return -1;
	*out = xcalloc(a->count, sizeof(**out));
	size_t n = 0;
	for (size_t i = 0; i < a->count; i++) {
		bool reverse = imap_arg_atom_is(&a->list[i], "REVERSE");
		size_t k = 0;
		if (reverse && ++i == a->count)
			k = sizeof(sort_key_names) / sizeof(sort_key_names[0]);
		while (k < sizeof(sort_key_names) / sizeof(sort_key_names[0]) &&
		       !imap_arg_atom_is(&a->list[i], sort_key_names[k]))
			k++;
		if (k == sizeof(sort_key_names) / sizeof(sort_key_names[0])) {
			xfree(out);
			return -1;
		}
		(*out)[n++] = (struct sort_criterion){ (enum sort_key)k, reverse };
	}
	return (ssize_t)n;
}

/* The SORT response, or ESEARCH for RETURN, from the keys read. */
static void write_sort_answer(struct imap_session *s, const struct sort_query *q, buf *text)
{
	size_t n = q->n;
	const struct imap_message **msgs = xcalloc(n + 1, sizeof(*msgs));
	size_t *order = xcalloc(n + 1, sizeof(*order));
	for (size_t i = 0; i < n; i++) {
		msgs[i] = &s->box.messages[q->idx[i]];
		order[i] = i;
	}
	struct sort_ctx ctx = { q->crit, q->crit_count, q->keys, msgs };
	qsort_r(order, n, sizeof(*order), compare, &ctx);
	uint32_t *nums = xcalloc(n + 1, sizeof(*nums));
	uint64_t modseq = 0;
	for (size_t i = 0; i < n; i++) {
		const struct imap_message *m = msgs[order[i]];
		nums[i] = q->cmd.uid ? m->uid : (uint32_t)(q->idx[order[i]] + 1);
		if (q->modseq_key && m->modseq > modseq)
			modseq = m->modseq;
	}
	if (q->ret & RETURN_SAVE)
		imap_search_save(s, &q->cmd, nums, n, q->ret);
	if (q->ret == RETURN_SAVE) {
		/* SAVE alone: the result is kept, not sent (RFC 5182) */
	} else if (q->ret != 0) {
		/* MODSEQ of MIN or MAX alone: of the messages returned (RFC 7162 3.1.5) */
		if (q->modseq_key && !(q->ret & (RETURN_ALL | RETURN_COUNT)) && n > 0) {
			modseq = 0;
			if (q->ret & RETURN_MIN)
				modseq = msgs[order[0]]->modseq;
			if ((q->ret & RETURN_MAX) && msgs[order[n - 1]]->modseq > modseq)
				modseq = msgs[order[n - 1]]->modseq;
		}
		imap_write_esearch(text, &q->cmd, q->ret & ~RETURN_SAVE, nums, n, modseq);
	} else {
		buf_puts(text, "* SORT");
		for (size_t i = 0; i < n; i++)
			buf_printf(text, " %u", nums[i]);
		if (n > 0 && modseq > 0) /* RFC 7162 3.1.5 */
			buf_printf(text, " (MODSEQ %" PRIu64 ")", modseq);
	}
	if (text->len > 0)
		buf_puts(text, "\r\n");
	free(nums);
	free(order);
	free(msgs);
}

static void write_thread_answer(struct imap_session *s, const struct sort_query *q, buf *text)
{
	struct thread_message *msgs = xcalloc(q->n + 1, sizeof(*msgs));
	for (size_t i = 0; i < q->n; i++) {
		const struct imap_message *m = &s->box.messages[q->idx[i]];
		const struct sort_keys *k = &q->keys[i];
		msgs[i] = (struct thread_message){
			.number = q->cmd.uid ? m->uid : (uint32_t)(q->idx[i] + 1),
			.sent = k->sent,
			.subject = k->subject,
			.reply = k->reply,
			.message_id = k->message_id,
			.refs = &k->refs,
		};
	}
	buf_puts(text, q->n > 0 ? "* THREAD " : "* THREAD");
	imap_thread_write(q->alg, msgs, q->n, text);
	buf_puts(text, "\r\n");
	free(msgs);
}

static void sort_query_free(struct sort_query *q)
{
	if (q->keys != NULL)
		keys_free(q->keys, q->n);
	free((char *)q->cmd.tag);
	free(q->crit);
	free(q->idx);
	free(q->uids);
	free(q->error);
	free(q);
}

/* The answer, from the keys read. */
static void write_answer(struct sort_query *q)
{
	struct imap_session *s = q->s;
	if (q->status < 0) {
		log_error("session=%s imap %s cannot read headers: %s", conn_id(s->conn),
			  q->thread ? "thread" : "sort", q->error);
		imap_tagged(s, q->cmd.tag, "NO [UNAVAILABLE] Cannot read the messages now");
	} else {
		/* RFC 5256 2.2: without a Date that parses, the internal date is the sent date */
		for (size_t i = 0; i < q->n; i++)
			if (!q->keys[i].dated)
				q->keys[i].sent = s->box.messages[q->idx[i]].internal_date;
		buf text;
		buf_init(&text);
		if (q->thread)
			write_thread_answer(s, q, &text);
		else
			write_sort_answer(s, q, &text);
		answer(s, &q->cmd, q->thread ? "THREAD" : "SORT", &text);
	}
}

/* Searches with charset 1*(SP search-key) at args, reads the matches' keys and answers;
 * frees q. */
static void sort_query_run(struct imap_session *s, const struct imap_cmd *cmd,
			   const struct imap_arg *args, size_t count, struct sort_query *q)
{
	q->s = s;
	q->cmd = (struct imap_cmd){ .tag = xstrdup(cmd->tag), .name = cmd->name, .uid = cmd->uid,
				      .expunges = cmd->expunges };
	/* mandatory, also after ENABLE UTF8=ACCEPT (RFC 6855 3 forbids it in SEARCH only) */
	int r = imap_search_charset(imap_arg_astring(&args[0]));
	const char *error;
	if (r < 0) {
		imap_tagged(s, cmd->tag, "BAD The charset must be an atom or string");
	} else if (r > 0) {
		if (q->ret & RETURN_SAVE) /* a NO empties "$" */
			imap_search_save(s, cmd, NULL, 0, 0);
		imap_tagged(s, cmd->tag, "NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
	} else if (imap_search_match(s, args + 1, count - 1, &q->idx, &q->n, &q->modseq_key,
				     &error) < 0) {
		imap_tagged(s, cmd->tag, "BAD %s", error);
	} else {
		q->folder_id = s->box.folder_id;
		q->uids = xcalloc(q->n + 1, sizeof(*q->uids));
		for (size_t i = 0; i < q->n; i++)
			q->uids[i] = s->box.messages[q->idx[i]].uid;
		read_keys(s->store, q);
		write_answer(q);
	}
	sort_query_free(q);
}

/* sort = ["UID" SP] "SORT" [SP "RETURN" SP "(" [sort-return-opts] ")"] SP sort-criteria SP
 *        search-criteria   (RFC 5256 5, RFC 5267 3.2) */
void imap_cmd_sort(struct imap_session *s, const struct imap_cmd *cmd)
{
	const struct imap_arg *args = cmd->args;
	size_t count = cmd->count;
	int ret = 0; /* 0: the SORT response */
	if (imap_arg_atom_is(&args[0], "RETURN")) {
		ret = count >= 5 ? imap_search_parse_return(&args[1]) : -1;
		if (ret < 0) {
			imap_tagged(s, cmd->tag, "BAD RETURN needs a list of MIN, MAX, ALL, COUNT, SAVE");
			return;
		}
		args += 2;
		count -= 2;
	}
	struct sort_criterion *crit;
	ssize_t crit_count = parse_criteria(&args[0], &crit);
	if (crit_count < 0) {
		imap_tagged(s, cmd->tag, "BAD Sort criteria: a list of [REVERSE] ARRIVAL, CC, DATE, "
			    "FROM, SIZE, SUBJECT, TO, DISPLAYFROM, DISPLAYTO");
		return;
	}
	struct sort_query *q = xcalloc(1, sizeof(*q));
	q->crit = crit;
	q->crit_count = (size_t)crit_count;
	q->ret = ret;
	sort_query_run(s, cmd, args + 1, count - 1, q);
}

/* thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria   (RFC 5256 5) */
void imap_cmd_thread(struct imap_session *s, const struct imap_cmd *cmd)
{
	enum thread_alg alg;
	if (imap_arg_atom_is(&cmd->args[0], "ORDEREDSUBJECT")) {
		alg = THREAD_ORDEREDSUBJECT;
	} else if (imap_arg_atom_is(&cmd->args[0], "REFERENCES")) {
		alg = THREAD_REFERENCES;
	} else {
		imap_tagged(s, cmd->tag, "BAD Threading algorithm: ORDEREDSUBJECT or REFERENCES");
		return;
	}
	struct sort_query *q = xcalloc(1, sizeof(*q));
	q->thread = true;
	q->alg = alg;
	sort_query_run(s, cmd, cmd->args + 1, cmd->count - 1, q);
}
