/* CONDSTORE and QRESYNC (RFC 7162) where they reach into several commands: enabling them,
 * the CHANGEDSINCE and UNCHANGEDSINCE modifiers' shared parsing, and the resynchronisation
 * a client asks for with SELECT (QRESYNC ...) or UID FETCH (CHANGEDSINCE n VANISHED): the
 * UIDs removed since its modseq (VANISHED (EARLIER), from the store's expunged table) and
 * the messages changed since (FETCH FLAGS MODSEQ). */
#include "imap/imap.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

bool imap_parse_modseq(const struct imap_arg *a, bool zero_ok, uint64_t *out)
{
	if (a->type != IMAP_ARG_ATOM || a->str[0] < '0' || a->str[0] > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(a->str, &end, 10);
	/* mod-sequence-value = 1*DIGIT, at most 2^63 - 1 (RFC 7162 7) */
	if (*end != '\0' || errno != 0 || v > INT64_MAX || (v == 0 && !zero_ok))
		return false;
	*out = v;
	return true;
}

void imap_condstore_on(struct imap_session *s)
{
	if (s->condstore)
		return;
	s->condstore = true;
	/* RFC 7162 3.1.2.1: the first enabling command in a selected mailbox tells its modseq */
	if (s->state == IMAP_STATE_SELECTED)
		imap_reply(s, "* OK [HIGHESTMODSEQ %" PRIu64 "] Highest", s->box.modseq);
}

/* Writes the UIDs in set removed since modseq since as "* VANISHED (EARLIER) ...". */
static int vanished_earlier(struct imap_session *s, uint64_t since, const struct imap_seqset *set)
{
	struct message *changed = NULL;
	uint32_t *gone = NULL;
	size_t changed_count = 0, gone_count = 0;
	char *error = NULL;
	if (store_folder_changes(s->store, s->box.folder_id, since, &changed, &changed_count,
				 &gone, &gone_count, &error) < 0) {
		log_error("session=%s imap vanished lookup failed: %s", conn_id(s->conn), error);
		free(error);
		return -1;
	}
	size_t n = 0;
	for (size_t i = 0; i < gone_count; i++)
		if (set == NULL || imap_seqset_contains(set, gone[i]))
			gone[n++] = gone[i];
	imap_send_vanished(s, true, gone, n);
	for (size_t i = 0; i < changed_count; i++)
		message_clear(&changed[i]);
	free(changed);
	free(gone);
	return 0;
}

int imap_vanished_since(struct imap_session *s, uint64_t since, const char *uid_set)
{
	struct imap_seqset set;
	if (imap_seqset_parse(uid_set, IMAP_SEQSET_MAX_RANGES, &set) < 0)
		return -1;
	imap_seqset_resolve(&set, s->box.uidnext > 1 ? s->box.uidnext - 1 : 0);
	int r = vanished_earlier(s, since, &set);
	imap_seqset_free(&set);
	return r;
}

int imap_qresync_parse(const struct imap_arg *a, struct imap_qresync *q)
{
	/* "(" uidvalidity SP mod-sequence-value [SP known-uids [SP seq-match-data]] ")" */
	memset(q, 0, sizeof(*q));
	if (a->type != IMAP_ARG_LIST || a->count < 2 || a->count > 4 ||
	    a->list[0].type != IMAP_ARG_ATOM || !imap_parse_modseq(&a->list[1], false, &q->modseq))
		return -1;
	char *end;
	unsigned long v = strtoul(a->list[0].str, &end, 10);
	if (*end != '\0' || v == 0 || v > UINT32_MAX)
		return -1;
	q->uidvalidity = (uint32_t)v;
	if (a->count >= 3) {
		struct imap_seqset check;
		if (a->list[2].type != IMAP_ARG_ATOM ||
		    imap_seqset_parse(a->list[2].str, IMAP_SEQSET_MAX_RANGES, &check) < 0)
			return -1;
		imap_seqset_free(&check);
		q->known_uids = a->list[2].str;
	}
	/* seq-match-data only helps a server without expunge records; ours has them */
	if (a->count == 4 && (a->list[3].type != IMAP_ARG_LIST || a->list[3].count != 2))
		return -1;
	return 0;
}

void imap_qresync_select(struct imap_session *s, const struct imap_qresync *q)
{
	struct imap_mailbox *b = &s->box;
	/* RFC 7162 3.2.5.1: a different UIDVALIDITY means the client must start over */
	if (q->uidvalidity != b->uidvalidity)
		return;
	struct imap_seqset known;
	bool have_known = q->known_uids != NULL &&
			  imap_seqset_parse(q->known_uids, IMAP_SEQSET_MAX_RANGES, &known) == 0;
	if (have_known)
		imap_seqset_resolve(&known, b->uidnext > 1 ? b->uidnext - 1 : 0);
	vanished_earlier(s, q->modseq, have_known ? &known : NULL);
	for (size_t i = 0; i < b->count; i++) {
		const struct imap_message *m = &b->messages[i];
		if (m->modseq <= q->modseq || (have_known && !imap_seqset_contains(&known, m->uid)))
			continue;
		buf line;
		buf_init(&line);
		imap_keywords_announce(s, m->keywords, &line);
		buf_printf(&line, "* %zu FETCH (UID %u MODSEQ (%" PRIu64 ") FLAGS ", i + 1, m->uid,
			   m->modseq);
		imap_write_flags(&line, m->flags, m->keywords);
		buf_puts(&line, ")\r\n");
		imap_write(s, line.data, line.len);
		buf_free(&line);
	}
	if (have_known)
		imap_seqset_free(&known);
}
