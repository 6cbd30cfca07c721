/* SEARCH and UID SEARCH (RFC 3501 6.4.4) with every key: ALL, the flag keys and their UN-
 * forms, NEW, OLD, RECENT, KEYWORD, UNKEYWORD, LARGER, SMALLER, UID, sequence sets, NOT, OR,
 * parenthesised lists, BEFORE/ON/SINCE (internal date), SENTBEFORE/SENTON/SENTSINCE (the
 * Date field), SUBJECT, FROM, TO, CC, BCC, HEADER (decoded RFC 2047 values, case-insensitive
 * substring), BODY and TEXT (the decoded text of mail/text.h, from the full-text index for
 * needles of three characters or more), MODSEQ (RFC 7162); ESEARCH's RETURN options.
 * CHARSET US-ASCII and UTF-8 are accepted. */
#include "imap/imap.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "mail/header.h"
#include "mail/mime.h"
#include "mail/text.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct search {
	struct imap_session *s;
	size_t i;            /* the message being tested */
	bool check_only;     /* first pass: syntax only */
	buf msg;             /* its text, read when a key needs it */
	bool loaded;
	const char *error;
	bool modseq_key;     /* MODSEQ was used: the response tells the highest (RFC 7162 3.1.5) */
	struct text_hits *hits; /* BODY and TEXT keys answered by the full-text index */
	size_t hit_count;
	struct set_key *sets;   /* sequence-set keys, parsed once */
	size_t set_count;
};

/* A sequence-set key of the command (a set of numbers, or UID's), resolved. */
struct set_key {
	const char *text;
	struct imap_seqset set;
};

/* The answer of the full-text index to one BODY or TEXT key of the command. */
struct text_hits {
	const struct imap_arg *key;  /* the needle's argument: one lookup per key */
	int status;                  /* 0: uids hold the answer; else search the message */
	uint32_t *uids;
	size_t count;
	uint32_t *unindexed;         /* not (all) in the index: search them when not in uids */
	size_t unindexed_count;
};

static const struct {
	const char *key;
	uint32_t flag;
	bool set;
} flag_keys[] = {
	{ "ANSWERED", FLAG_ANSWERED, true }, { "DELETED", FLAG_DELETED, true },
	{ "DRAFT", FLAG_DRAFT, true },       { "FLAGGED", FLAG_FLAGGED, true },
	{ "SEEN", FLAG_SEEN, true },         { "UNANSWERED", FLAG_ANSWERED, false },
	{ "UNDELETED", FLAG_DELETED, false },{ "UNDRAFT", FLAG_DRAFT, false },
	{ "UNFLAGGED", FLAG_FLAGGED, false },{ "UNSEEN", FLAG_SEEN, false },
	{ "RECENT", FLAG_RECENT, true },     { "OLD", FLAG_RECENT, false },
};

static const char *header_keys[] = { "SUBJECT", "FROM", "TO", "CC", "BCC" };

static bool load(struct search *se)
{
	if (!se->loaded) {
		char *error = NULL;
		buf_clear(&se->msg);
		int r = store_message_read(se->s->store, se->s->box.folder_id,
					   se->s->box.messages[se->i].uid, &se->msg, &error);
		free(error);
		if (r <= 0)
			buf_clear(&se->msg);
		se->loaded = true;
	}
	return se->msg.len > 0;
}

/* date = date-text / DQUOTE date-text DQUOTE; date-text = date-day "-" date-month "-"
 * date-year. Returns yyyymmdd, or -1. */
static long parse_date(const char *s)
{
	int day, year, month;
	char mon[4];
	if (sscanf(s, "%2d-%3[A-Za-z]-%4d", &day, mon, &year) != 3 || day < 1 || day > 31 ||
	    (month = header_month(mon)) < 0)
		return -1;
	return (long)year * 10000 + (month + 1) * 100 + day;
}

static long message_day(time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* True when a header field named name has value containing needle (decoded, any case). */
static bool header_contains(struct search *se, const char *name, const char *needle)
{
	if (!load(se))
		return false;
	size_t end = header_end(se->msg.data, se->msg.len);
	size_t pos = 0, len = end > 0 ? end : se->msg.len;
	struct header_field f;
	int r;
	bool found = false;
	buf v;
	buf_init(&v);
	while (!found && (r = header_next(se->msg.data, len, &pos, &f)) != 0) {
		if (r < 0 || strlen(name) != f.name_len || strncasecmp(f.name, name, f.name_len) != 0)
			continue;
		buf_clear(&v);
		text_header_field(f.name, f.name_len, f.value, f.value_len, &v);
		found = strcasestr(v.data, needle) != NULL;
	}
	buf_free(&v);
	return found;
}

/* The set a sequence-set key names, parsed and resolved the first time the key is met (the
 * mailbox does not change during the search); NULL when it is no sequence set. */
static const struct imap_seqset *set_for(struct search *se, const char *text, bool by_uid)
{
	for (size_t i = 0; i < se->set_count; i++)
		if (se->sets[i].text == text)
			return &se->sets[i].set;
	struct imap_seqset set;
	if (imap_seqset_parse(text, IMAP_SEQSET_MAX_RANGES, &set) < 0)
		return NULL;
	const struct imap_mailbox *b = &se->s->box;
	imap_seqset_resolve(&set, by_uid ? (b->count > 0 ? b->messages[b->count - 1].uid : 0)
					 : (uint32_t)b->count);
	se->sets = xrealloc(se->sets, (se->set_count + 1) * sizeof(*se->sets));
	se->sets[se->set_count] = (struct set_key){ text, set };
	return &se->sets[se->set_count++].set;
}

/* The index's answer for this key, asked the first time the key is met. */
static struct text_hits *hits_for(struct search *se, const struct imap_arg *key,
				  enum store_text_part part)
{
	for (size_t i = 0; i < se->hit_count; i++)
		if (se->hits[i].key == key)
			return &se->hits[i];
	se->hits = xrealloc(se->hits, (se->hit_count + 1) * sizeof(*se->hits));
	struct text_hits *h = &se->hits[se->hit_count++];
	memset(h, 0, sizeof(*h));
	h->key = key;
	char *error = NULL;
	h->status = store_search_text(se->s->store, se->s->box.folder_id, key->str, part,
				      &h->uids, &h->count, &h->unindexed, &h->unindexed_count, &error);
	if (h->status < 0) {
		log_error("session=%s imap search index failed: %s", conn_id(se->s->conn), error);
		free(error);
	}
	return h;
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static bool has_uid(const uint32_t *uids, size_t count, uint32_t uid)
{
	return count > 0 && bsearch(&uid, uids, count, sizeof(uid), uid_cmp) != NULL;
}

/* Whether the index answers this key for the message: it can, and has the message. */
static bool indexed(struct search *se, struct text_hits *h)
{
	uint32_t uid = se->s->box.messages[se->i].uid;
	return h->status == 0 && !has_uid(h->unindexed, h->unindexed_count, uid);
}

/* Whether the index rules the message out for this key: it answers, without the message. */
static bool ruled_out(struct search *se, const struct imap_arg *key, enum store_text_part part)
{
	struct text_hits *h = hits_for(se, key, part);
	return indexed(se, h) && !has_uid(h->uids, h->count, se->s->box.messages[se->i].uid);
}

/* BODY and TEXT: the needle in the decoded text (mail/text.h), any case; from the index when
 * it can answer, else from the message itself. A message indexed only up to the index's
 * bound is found by the index in what it holds, and read for the rest. */
static bool text_contains(struct search *se, const struct imap_arg *key, bool body_only)
{
	enum store_text_part part = body_only ? STORE_TEXT_BODY : STORE_TEXT_ALL;
	struct text_hits *h = hits_for(se, key, part);
	if (h->status == 0 && has_uid(h->uids, h->count, se->s->box.messages[se->i].uid))
		return true;
	if (indexed(se, h))
		return false;
	if (!load(se))
		return false;
	buf header, body;
	buf_init(&header);
	buf_init(&body);
	message_text(se->msg.data, se->msg.len, body_only ? NULL : &header, &body);
	bool found = strcasestr(header.data, key->str) != NULL || strcasestr(body.data, key->str) != NULL;
	buf_free(&header);
	buf_free(&body);
	return found;
}

/* The day of the message's Date field (SENTBEFORE, SENTON, SENTSINCE), the internal date's
 * when it has none that parses. */
static long sent_day(struct search *se)
{
	const struct imap_message *m = &se->s->box.messages[se->i];
	if (!load(se))
		return message_day(m->internal_date);
	size_t end = header_end(se->msg.data, se->msg.len);
	size_t pos = 0, len = end > 0 ? end : se->msg.len;
	struct header_field f;
	int r;
	while ((r = header_next(se->msg.data, len, &pos, &f)) != 0) {
		if (r > 0 && f.name_len == 4 && strncasecmp(f.name, "Date", 4) == 0) {
			long day = header_date_day(f.value, f.value_len);
			if (day > 0)
				return day;
		}
	}
	return message_day(m->internal_date);
}

static int key(struct search *se, const struct imap_arg *args, size_t count, size_t *pos);

/* search-key list: every key must match (AND). */
static int all_of(struct search *se, const struct imap_arg *args, size_t count)
{
	int result = 1;
	for (size_t pos = 0; pos < count;) {
		int r = key(se, args, count, &pos);
		if (r < 0)
			return -1;
		if (r == 0)
			result = 0;
	}
	return result;
}

/* The string argument after a key, or NULL after noting the error. */
static const char *string_arg(struct search *se, const struct imap_arg *args, size_t count,
			      size_t *pos)
{
	const char *v = *pos < count ? imap_arg_astring(&args[*pos]) : NULL;
	if (v == NULL)
		se->error = "Missing argument";
	else
		(*pos)++;
	return v;
}

/* One search-key at args[*pos]: 1 match, 0 no match, -1 bad syntax (se->error). */
static int key(struct search *se, const struct imap_arg *args, size_t count, size_t *pos)
{
	const struct imap_arg *a = &args[(*pos)++];
	const struct imap_message *m = se->check_only ? NULL : &se->s->box.messages[se->i];
	if (a->type == IMAP_ARG_LIST)
		return all_of(se, a->list, a->count);
	if (a->type != IMAP_ARG_ATOM) {
		se->error = "Unknown search key";
		return -1;
	}
	const char *k = a->str;
	if (strcasecmp(k, "ALL") == 0)
		return 1;
	for (size_t i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++)
		if (strcasecmp(k, flag_keys[i].key) == 0)
			return m == NULL || ((m->flags & flag_keys[i].flag) != 0) == flag_keys[i].set;
	if (strcasecmp(k, "NEW") == 0) /* RFC 3501 6.4.4: RECENT UNSEEN */
		return m == NULL || (m->flags & (FLAG_RECENT | FLAG_SEEN)) == FLAG_RECENT;
	if (strcasecmp(k, "NOT") == 0) {
		if (*pos >= count) {
			se->error = "NOT needs a key";
			return -1;
		}
		int r = key(se, args, count, pos);
		return r < 0 ? -1 : m == NULL ? 1 : !r;
	}
	if (strcasecmp(k, "OR") == 0) {
		if (*pos + 1 >= count) {
			se->error = "OR needs two keys";
			return -1;
		}
		int r1 = key(se, args, count, pos);
		int r2 = r1 < 0 || *pos >= count ? -1 : key(se, args, count, pos);
		if (r1 < 0 || r2 < 0) {
			se->error = se->error != NULL ? se->error : "OR needs two keys";
			return -1;
		}
		return r1 || r2;
	}
	if (strcasecmp(k, "KEYWORD") == 0 || strcasecmp(k, "UNKEYWORD") == 0) {
		const char *kw = string_arg(se, args, count, pos);
		if (kw == NULL)
			return -1;
		return m == NULL || imap_has_keyword(m->keywords, kw) == ((k[0] | 0x20) == 'k');
	}
	if (strcasecmp(k, "LARGER") == 0 || strcasecmp(k, "SMALLER") == 0) {
		const char *v = string_arg(se, args, count, pos);
		char *e;
		unsigned long long n = v != NULL ? strtoull(v, &e, 10) : 0;
		if (v == NULL || *v < '0' || *v > '9' || *e != '\0') {
			se->error = "Bad number";
			return -1;
		}
		return m == NULL || (k[0] == 'L' || k[0] == 'l' ? m->size > n : m->size < n);
	}
	bool sent = strncasecmp(k, "SENT", 4) == 0;
	const char *when = sent ? k + 4 : k;
	if (strcasecmp(when, "BEFORE") == 0 || strcasecmp(when, "ON") == 0 || strcasecmp(when, "SINCE") == 0) {
		const char *v = string_arg(se, args, count, pos);
		long d = v != NULL ? parse_date(v) : -1;
		if (d < 0) {
			se->error = "Bad date";
			return -1;
		}
		if (m == NULL)
			return 1;
		long md = sent ? sent_day(se) : message_day(m->internal_date);
		return (when[0] | 0x20) == 'b' ? md < d : (when[0] | 0x20) == 'o' ? md == d : md >= d;
	}
	/* SUBJECT, FROM, TO, CC, BCC: the index (header fields, decoded) rules most messages out,
	 * the field itself is then checked in the few others */
	for (size_t i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]); i++)
		if (strcasecmp(k, header_keys[i]) == 0) {
			const struct imap_arg *needle = *pos < count ? &args[*pos] : NULL;
			const char *v = string_arg(se, args, count, pos);
			if (v == NULL)
				return -1;
			return m == NULL || (!ruled_out(se, needle, STORE_TEXT_HEADER) &&
					     header_contains(se, header_keys[i], v));
		}
	if (strcasecmp(k, "HEADER") == 0) {
		const char *name = string_arg(se, args, count, pos);
		const char *v = name != NULL ? string_arg(se, args, count, pos) : NULL;
		if (v == NULL)
			return -1;
		/* not from the index: it lacks the per-recipient fields (Return-Path, Delivered-To) */
		return m == NULL || header_contains(se, name, v);
	}
	if (strcasecmp(k, "BODY") == 0 || strcasecmp(k, "TEXT") == 0) {
		const struct imap_arg *key = *pos < count ? &args[*pos] : NULL;
		if (string_arg(se, args, count, pos) == NULL)
			return -1;
		return m == NULL || text_contains(se, key, (k[0] | 0x20) == 'b');
	}
	if (strcasecmp(k, "MODSEQ") == 0) {
		/* "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer; the entry
		 * names a flag whose own modseq is asked, but one modseq per message serves all */
		if (*pos + 2 < count && args[*pos].type == IMAP_ARG_STRING)
			*pos += 2;
		uint64_t since;
		if (*pos >= count || !imap_parse_modseq(&args[*pos], true, &since)) {
			se->error = "Bad MODSEQ";
			return -1;
		}
		(*pos)++;
		se->modseq_key = true;
		return m == NULL || m->modseq >= since;
	}
	bool by_uid = strcasecmp(k, "UID") == 0;
	const char *set = by_uid ? string_arg(se, args, count, pos) : k;
	if (set != NULL && strcmp(set, "$") == 0) /* the saved result, as UIDs (RFC 9051 6.4.4.1) */
		return m == NULL || imap_saved_contains(&se->s->box, m->uid);
	const struct imap_seqset *ss = set != NULL ? set_for(se, set, by_uid) : NULL;
	if (ss == NULL) {
		se->error = set == NULL ? se->error : "Unknown search key";
		return -1;
	}
	return m == NULL || imap_seqset_contains(ss, by_uid ? m->uid : (uint32_t)(se->i + 1));
}

int imap_search_parse_return(const struct imap_arg *a)
{
	static const struct { const char *name; int bit; } opts[] = {
		{ "MIN", RETURN_MIN }, { "MAX", RETURN_MAX }, { "ALL", RETURN_ALL }, { "COUNT", RETURN_COUNT },
		{ "SAVE", RETURN_SAVE },
	};
	if (a->type != IMAP_ARG_LIST)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < a->count; i++) {
		size_t j = 0;
		while (j < sizeof(opts) / sizeof(opts[0]) && !imap_arg_atom_is(&a->list[i], opts[j].name))
			j++;
		if (j == sizeof(opts) / sizeof(opts[0]))
			return -1;
		ret |= opts[j].bit;
	}
	return ret != 0 ? ret : RETURN_ALL;
}

void imap_write_esearch(buf *out, const struct imap_cmd *cmd, int ret, const uint32_t *nums,
			  size_t n, uint64_t modseq)
{
	buf_puts(out, "* ESEARCH (TAG ");
	imap_write_string(out, cmd->tag, strlen(cmd->tag));
	buf_putc(out, ')');
	if (cmd->uid)
		buf_puts(out, " UID");
	if ((ret & RETURN_MIN) && n > 0)
		buf_printf(out, " MIN %u", nums[0]);
	if ((ret & RETURN_MAX) && n > 0)
		buf_printf(out, " MAX %u", nums[n - 1]);
	if (ret & RETURN_COUNT)
		buf_printf(out, " COUNT %zu", n);
	if ((ret & RETURN_ALL) && n > 0) {
		buf_puts(out, " ALL ");
		imap_write_uid_set(out, nums, n);
	}
	if (modseq > 0)
		buf_printf(out, " MODSEQ %" PRIu64, modseq);
}

/* Whether the i-th of n matches is among those returned: with MIN or MAX but neither ALL nor
 * COUNT, only the ends asked for are (RFC 4731 3.2 for MODSEQ, RFC 9051 6.4.4.1 for SAVE). */
static bool is_returned(int ret, size_t i, size_t n)
{
	bool ends_only = (ret & (RETURN_MIN | RETURN_MAX)) && !(ret & (RETURN_ALL | RETURN_COUNT));
	return !ends_only || ((ret & RETURN_MIN) && i == 0) || ((ret & RETURN_MAX) && i == n - 1);
}

/* The highest mod-sequence of the messages returned; modseqs are the matches', in order. */
static uint64_t returned_modseq(const uint64_t *modseqs, size_t n, int ret)
{
	uint64_t highest = 0;
	for (size_t i = 0; i < n; i++)
		if (is_returned(ret, i, n) && modseqs[i] > highest)
			highest = modseqs[i];
	return highest;
}

void imap_search_save(struct imap_session *s, const struct imap_cmd *cmd, const uint32_t *nums,
		      size_t n, int ret)
{
	struct imap_mailbox *b = &s->box;
	free(b->saved);
	b->saved = xcalloc(n + 1, sizeof(*b->saved));
	b->saved_count = 0;
	for (size_t i = 0; i < n; i++)
		if (is_returned(ret, i, n))
			b->saved[b->saved_count++] = cmd->uid ? nums[i] : b->messages[nums[i] - 1].uid;
	qsort(b->saved, b->saved_count, sizeof(*b->saved), uid_cmp); /* SORT's are in its order */
}

static void search_free(struct search *se)
{
	buf_free(&se->msg);
	for (size_t i = 0; i < se->hit_count; i++) {
		free(se->hits[i].uids);
		free(se->hits[i].unindexed);
	}
	free(se->hits);
	for (size_t i = 0; i < se->set_count; i++)
		imap_seqset_free(&se->sets[i].set);
	free(se->sets);
}

int imap_search_charset(const char *charset)
{
	if (charset == NULL)
		return -1;
	return strcasecmp(charset, "UTF-8") != 0 && strcasecmp(charset, "US-ASCII") != 0;
}

int imap_search_match(struct imap_session *s, const struct imap_arg *args, size_t count,
		      size_t **idx_r, size_t *count_r, bool *modseq_key_r, const char **error_r)
{
	struct search se = { .s = s, .check_only = true };
	buf_init(&se.msg);
	if (all_of(&se, args, count) < 0) {
		*error_r = se.error != NULL ? se.error : "Bad search key";
		search_free(&se);
		return -1;
	}
	if (se.modseq_key)
		imap_condstore_on(s);
	se.check_only = false;
	size_t *idx = xcalloc(s->box.count + 1, sizeof(*idx)), n = 0;
	for (se.i = 0; se.i < s->box.count; se.i++) {
		se.loaded = false;
		if (all_of(&se, args, count) > 0)
			idx[n++] = se.i;
	}
	*idx_r = idx;
	*count_r = n;
	*modseq_key_r = se.modseq_key;
	search_free(&se);
	return 0;
}

/* search = "SEARCH" [SP "RETURN" SP "(" ... ")"] [SP "CHARSET" SP astring] 1*(SP search-key) */
void imap_cmd_search(struct imap_session *s, const struct imap_cmd *cmd)
{
	const struct imap_arg *args = cmd->args;
	size_t count = cmd->count;
	int ret = 0; /* 0: the SEARCH response of RFC 3501 */
	if (imap_mailbox_gone(s, cmd) < 0) /* its messages are gone: nothing to match */
		return;
	if (imap_arg_atom_is(&args[0], "RETURN")) {
		if (count < 3 || (ret = imap_search_parse_return(&args[1])) < 0) {
			imap_tagged(s, cmd->tag, "BAD RETURN needs a list of MIN, MAX, ALL, COUNT, SAVE");
			return;
		}
		args += 2;
		count -= 2;
	}
	if (ret == 0 && s->rev2) /* IMAP4rev2 answers ESEARCH only (RFC 9051 6.4.4) */
		ret = RETURN_ALL;
	if (imap_arg_atom_is(&args[0], "CHARSET")) {
		const char *cs = count > 2 ? imap_arg_astring(&args[1]) : NULL;
		if (s->utf8) { /* RFC 6855 3: the two charset labels would conflict */
			imap_tagged(s, cmd->tag, "BAD No CHARSET after ENABLE UTF8=ACCEPT");
			return;
		}
		int r = imap_search_charset(cs);
		if (r < 0) {
			imap_tagged(s, cmd->tag, "BAD CHARSET needs a name and search keys");
			return;
		}
		if (r > 0) {
			if (ret & RETURN_SAVE) /* a NO empties "$"; a BAD leaves it */
				imap_search_save(s, cmd, NULL, 0, 0);
			imap_tagged(s, cmd->tag, "NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
			return;
		}
		args += 2;
		count -= 2;
	}
	size_t *idx, n;
	bool modseq_key;
	const char *error;
	if (imap_search_match(s, args, count, &idx, &n, &modseq_key, &error) < 0) {
		imap_tagged(s, cmd->tag, "BAD %s", error);
		return;
	}
	uint32_t *nums = xcalloc(n + 1, sizeof(*nums));
	uint64_t *modseqs = xcalloc(n + 1, sizeof(*modseqs));
	for (size_t i = 0; i < n; i++) {
		const struct imap_message *m = &s->box.messages[idx[i]];
		modseqs[i] = m->modseq;
		nums[i] = cmd->uid ? m->uid : (uint32_t)(idx[i] + 1);
	}
	free(idx);
	uint64_t modseq = modseq_key ? returned_modseq(modseqs, n, ret) : 0;
	free(modseqs);
	buf line;
	buf_init(&line);
	if (ret & RETURN_SAVE)
		imap_search_save(s, cmd, nums, n, ret);
	if (ret == RETURN_SAVE) {
		/* SAVE alone: the result is kept, not sent (RFC 9051 6.4.4.1) */
	} else if (ret != 0) {
		imap_write_esearch(&line, cmd, ret & ~RETURN_SAVE, nums, n, modseq);
	} else {
		buf_puts(&line, "* SEARCH");
		for (size_t i = 0; i < n; i++)
			buf_printf(&line, " %u", nums[i]);
		/* RFC 7162 3.1.5: the highest modseq of what was found, when there is any */
		if (n > 0 && modseq > 0)
			buf_printf(&line, " (MODSEQ %" PRIu64 ")", modseq);
	}
	if (line.len > 0) {
		buf_puts(&line, "\r\n");
		imap_write(s, line.data, line.len);
	}
	buf_free(&line);
	free(nums);
	imap_mailbox_sync(s, cmd->expunges);
	imap_tagged(s, cmd->tag, "OK %sSEARCH completed", cmd->uid ? "UID " : "");
}
