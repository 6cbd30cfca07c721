/* SORT and UID SORT (RFC 5256 3, with DISPLAYFROM and DISPLAYTO of RFC 5957 and ESORT's
 * RETURN options of RFC 5267, answered with ESEARCH), THREAD and UID THREAD (ORDEREDSUBJECT
 * and REFERENCES). The messages are chosen by SEARCH's code (imap_search_match); their
 * header sections come from the store in batches and give the keys (imap_sort_keys.h);
 * the answer, one line that can be long, is written in steps as the client reads it. */
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
	while (a->pos < a->text.len && !conn_output_full(s->conn)) {
		size_t n = a->text.len - a->pos < SORT_STEP_OCTETS ? a->text.len - a->pos : SORT_STEP_OCTETS;
		conn_write(s->conn, a->text.data + a->pos, n);
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

/* The keys of the messages at idx[0..n), from their header sections read SORT_BATCH at a
 * time. NULL when the store fails (logged). */
static struct sort_keys *read_keys(struct imap_session *s, const size_t *idx, size_t n)
{
	struct sort_keys *keys = xcalloc(n + 1, sizeof(*keys));
	uint32_t uids[SORT_BATCH];
	buf headers[SORT_BATCH];
	size_t done = 0;
	while (done < n) {
		size_t count = n - done < SORT_BATCH ? n - done : SORT_BATCH;
		for (size_t i = 0; i < count; i++) {
			uids[i] = s->box.messages[idx[done + i]].uid;
			buf_init(&headers[i]);
		}
		char *error = NULL;
		int r = store_message_headers(s->server->store, s->box.folder_id, uids, count,
					      SORT_HEADER_MAX, headers, &error);
		for (size_t i = 0; i < count; i++) {
			size_t end = header_end(headers[i].data, headers[i].len);
			sort_keys_read(headers[i].data, end > 0 ? end : headers[i].len, &keys[done + i]);
			buf_free(&headers[i]);
		}
		done += count;
		if (r < 0) {
			log_error("session=%s imap sort cannot read headers: %s", conn_id(s->conn), error);
			free(error);
			for (size_t i = 0; i < done; i++)
				sort_keys_free(&keys[i]);
			free(keys);
			return NULL;
		}
	}
	/* RFC 5256 2.2: without a Date that parses, the internal date is the sent date */
	for (size_t i = 0; i < n; i++)
		if (!keys[i].dated)
			keys[i].sent = s->box.messages[idx[i]].internal_date;
	return keys;
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

/* charset 1*(SP search-key) at args: the matches, after answering when it fails. */
static int search(struct imap_session *s, const struct imap_cmd *cmd, const struct imap_arg *args,
		  size_t count, size_t **idx_r, size_t *n_r, bool *modseq_key_r)
{
	/* mandatory, also after ENABLE UTF8=ACCEPT (RFC 6855 3 forbids it in SEARCH only) */
	int r = imap_search_charset(imap_arg_astring(&args[0]));
	if (r != 0) {
		if (r < 0)
			imap_tagged(s, cmd->tag, "BAD The charset must be an atom or string");
		else
			imap_tagged(s, cmd->tag, "NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
		return -1;
	}
	const char *error;
	if (imap_search_match(s, args + 1, count - 1, idx_r, n_r, modseq_key_r, &error) < 0) {
		imap_tagged(s, cmd->tag, "BAD %s", error);
		return -1;
	}
	return 0;
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
		if (ret < 0 || (ret & RETURN_SAVE)) {
			imap_tagged(s, cmd->tag, "BAD RETURN needs a list of MIN, MAX, ALL, COUNT");
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
	size_t *idx, n;
	bool modseq_key;
	if (search(s, cmd, args + 1, count - 1, &idx, &n, &modseq_key) < 0) {
		free(crit);
		return;
	}
	struct sort_keys *keys = read_keys(s, idx, n);
	if (keys == NULL) {
		imap_tagged(s, cmd->tag, "NO [UNAVAILABLE] Cannot read the messages now");
		free(crit);
		free(idx);
		return;
	}
	const struct imap_message **msgs = xcalloc(n + 1, sizeof(*msgs));
	size_t *order = xcalloc(n + 1, sizeof(*order));
	for (size_t i = 0; i < n; i++) {
		msgs[i] = &s->box.messages[idx[i]];
		order[i] = i;
	}
	struct sort_ctx ctx = { crit, (size_t)crit_count, keys, msgs };
	qsort_r(order, n, sizeof(*order), compare, &ctx);
	uint32_t *nums = xcalloc(n + 1, sizeof(*nums));
	uint64_t modseq = 0;
	for (size_t i = 0; i < n; i++) {
		const struct imap_message *m = msgs[order[i]];
		nums[i] = cmd->uid ? m->uid : (uint32_t)(idx[order[i]] + 1);
		if (modseq_key && m->modseq > modseq)
			modseq = m->modseq;
	}
	buf text;
	buf_init(&text);
	if (ret != 0) {
		/* MODSEQ of MIN or MAX alone: of the messages returned (RFC 7162 3.1.5) */
		if (modseq_key && !(ret & (RETURN_ALL | RETURN_COUNT)) && n > 0) {
			modseq = 0;
			if (ret & RETURN_MIN)
				modseq = msgs[order[0]]->modseq;
			if ((ret & RETURN_MAX) && msgs[order[n - 1]]->modseq > modseq)
				modseq = msgs[order[n - 1]]->modseq;
		}
		imap_write_esearch(&text, cmd, ret, nums, n, modseq);
	} else {
		buf_puts(&text, "* SORT");
		for (size_t i = 0; i < n; i++)
			buf_printf(&text, " %u", nums[i]);
		if (n > 0 && modseq > 0) /* RFC 7162 3.1.5 */
			buf_printf(&text, " (MODSEQ %" PRIu64 ")", modseq);
	}
	buf_puts(&text, "\r\n");
	free(nums);
	free(order);
	free(msgs);
	keys_free(keys, n);
	free(idx);
	free(crit);
	answer(s, cmd, "SORT", &text);
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
	size_t *idx, n;
	bool modseq_key;
	if (search(s, cmd, cmd->args + 1, cmd->count - 1, &idx, &n, &modseq_key) < 0)
		return;
	struct sort_keys *keys = read_keys(s, idx, n);
	if (keys == NULL) {
		imap_tagged(s, cmd->tag, "NO [UNAVAILABLE] Cannot read the messages now");
		free(idx);
		return;
	}
	struct thread_message *msgs = xcalloc(n + 1, sizeof(*msgs));
	for (size_t i = 0; i < n; i++) {
		const struct imap_message *m = &s->box.messages[idx[i]];
		msgs[i] = (struct thread_message){
			.number = cmd->uid ? m->uid : (uint32_t)(idx[i] + 1),
			.sent = keys[i].sent,
			.subject = keys[i].subject,
			.reply = keys[i].reply,
			.message_id = keys[i].message_id,
			.refs = &keys[i].refs,
		};
	}
	buf text;
	buf_init(&text);
	buf_puts(&text, "* THREAD");
	if (n > 0)
		buf_putc(&text, ' ');
	imap_thread_write(alg, msgs, n, &text);
	buf_puts(&text, "\r\n");
	free(msgs);
	keys_free(keys, n);
	free(idx);
	answer(s, cmd, "THREAD", &text);
}
