/* FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2; MODSEQ, CHANGEDSINCE and VANISHED of RFC 7162):
 * FLAGS, UID, INTERNALDATE, RFC822.SIZE, RFC822
 * (.HEADER, .TEXT), ENVELOPE, BODY, BODYSTRUCTURE, BODY[section]<partial> and BODY.PEEK, and
 * the macros ALL, FAST and FULL. Reading a body section without PEEK sets \Seen (in a
 * read-write mailbox), and the new flags go out with it. The MIME structure is parsed from the
 * stored message for each FETCH that needs it (keeping it in the store comes later). The
 * answer is written in steps as the client reads it (imap_run_steps), never all at once. */
#include "imap/imap.h"
#include "imap/imap_envelope.h"
#include "imap/imap_section.h"
#include "core/base64.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "mail/mime.h"
#include "mail/qp.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum fetch_kind {
	FETCH_FLAGS,
	FETCH_UID,
	FETCH_INTERNALDATE,
	FETCH_SIZE,
	FETCH_ENVELOPE,
	FETCH_BODY,      /* BODY without a section: the structure without extension data */
	FETCH_BODYSTRUCTURE,
	FETCH_SECTION,   /* BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT */
	FETCH_MODSEQ,    /* RFC 7162 3.1.4 */
	FETCH_BINARY,    /* BINARY[part]<partial>, BINARY.PEEK: decoded (RFC 9051 6.4.5) */
	FETCH_BINARY_SIZE,
};

struct fetch_item {
	enum fetch_kind kind;
	const char *name;          /* the response's item name ("RFC822", "BODY[") */
	char *section_echo;        /* BODY[section]: the section text as the client gave it */
	struct imap_section sec;
	bool sets_seen;
};

struct fetch {
	struct fetch_item *items;
	size_t count;
	bool needs_body;           /* the message's octets (sections, BINARY) */
	bool needs_structure;      /* ENVELOPE, BODY, BODYSTRUCTURE: kept by the indexer */
	bool sets_seen;
	bool has_flags, has_uid, has_modseq;
	bool changedsince;         /* only messages with a modseq above since (RFC 7162 3.1.4.1) */
	uint64_t since;
	bool vanished;             /* and the UIDs removed since (RFC 7162 3.2.6) */
};

static void fetch_free(struct fetch *f)
{
	for (size_t i = 0; i < f->count; i++) {
		free(f->items[i].section_echo);
		imap_section_free(&f->items[i].sec);
	}
	free(f->items);
}

static struct fetch_item *add_item(struct fetch *f, enum fetch_kind kind, const char *name)
{
	f->items = xrealloc(f->items, (f->count + 1) * sizeof(*f->items));
	struct fetch_item *it = &f->items[f->count++];
	memset(it, 0, sizeof(*it));
	strlist_init(&it->sec.fields);
	it->kind = kind;
	it->name = name;
	f->has_flags |= kind == FETCH_FLAGS;
	f->has_uid |= kind == FETCH_UID;
	f->has_modseq |= kind == FETCH_MODSEQ;
	f->needs_structure |= kind == FETCH_ENVELOPE || kind == FETCH_BODY || kind == FETCH_BODYSTRUCTURE;
	return it;
}

/* A section item: RFC822 is BODY[], RFC822.HEADER is BODY.PEEK[HEADER], RFC822.TEXT is
 * BODY[TEXT] (RFC 3501 6.4.5), answered under their own names. */
static struct fetch_item *add_section(struct fetch *f, const char *name,
				      enum imap_section_text text, bool seen)
{
	struct fetch_item *it = add_item(f, FETCH_SECTION, name);
	it->sec.text = text;
	it->sets_seen = seen;
	f->needs_body = true;
	f->sets_seen |= seen;
	return it;
}

/* "BINARY" [".PEEK"] section-binary [partial] / "BINARY.SIZE" section-binary, where
 * section-binary = "[" [section-part] "]": part numbers only (RFC 9051 6.4.5). */
static int parse_binary(struct fetch *f, const char *a)
{
	bool size = strncasecmp(a, "BINARY.SIZE[", 12) == 0;
	bool peek = strncasecmp(a, "BINARY.PEEK[", 12) == 0;
	const char *spec = a + (size || peek ? 12 : 7);
	if (!size && !peek && strncasecmp(a, "BINARY[", 7) != 0)
		return -1;
	const char *close = strchr(spec, ']');
	if (close == NULL || (size && close[1] != '\0'))
		return -1;
	struct fetch_item *it = add_item(f, size ? FETCH_BINARY_SIZE : FETCH_BINARY, "BINARY");
	it->section_echo = xstrndup(spec, (size_t)(close - spec));
	it->sets_seen = !size && !peek;
	f->needs_body = true;
	f->sets_seen |= it->sets_seen;
	if (imap_section_parse(spec, (size_t)(close - spec), close + 1, &it->sec) < 0 ||
	    it->sec.text != SECTION_ALL)
		return -1;
	return 0;
}

/* fetch-att = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822" [".HEADER" / ".SIZE" /
 *             ".TEXT"] / "BODY" ["STRUCTURE"] / "UID" /
 *             "BODY" section ["<" number "." nz-number ">"] /
 *             "BODY.PEEK" section ["<" number "." nz-number ">"] */
static int parse_att(struct fetch *f, const char *a)
{
	if (strcasecmp(a, "FLAGS") == 0)
		add_item(f, FETCH_FLAGS, "FLAGS");
	else if (strcasecmp(a, "UID") == 0)
		add_item(f, FETCH_UID, "UID");
	else if (strcasecmp(a, "MODSEQ") == 0)
		add_item(f, FETCH_MODSEQ, "MODSEQ");
	else if (strcasecmp(a, "INTERNALDATE") == 0)
		add_item(f, FETCH_INTERNALDATE, "INTERNALDATE");
	else if (strcasecmp(a, "RFC822.SIZE") == 0)
		add_item(f, FETCH_SIZE, "RFC822.SIZE");
	else if (strcasecmp(a, "RFC822") == 0)
		add_section(f, "RFC822", SECTION_ALL, true);
	else if (strcasecmp(a, "RFC822.HEADER") == 0)
		add_section(f, "RFC822.HEADER", SECTION_HEADER, false);
	else if (strcasecmp(a, "RFC822.TEXT") == 0)
		add_section(f, "RFC822.TEXT", SECTION_TEXT, true);
	else if (strcasecmp(a, "ENVELOPE") == 0)
		add_item(f, FETCH_ENVELOPE, "ENVELOPE");
	else if (strcasecmp(a, "BODY") == 0)
		add_item(f, FETCH_BODY, "BODY");
	else if (strcasecmp(a, "BODYSTRUCTURE") == 0)
		add_item(f, FETCH_BODYSTRUCTURE, "BODYSTRUCTURE");
	else if (strcasecmp(a, "FAST") == 0 || strcasecmp(a, "ALL") == 0 || strcasecmp(a, "FULL") == 0) {
		/* FAST = (FLAGS INTERNALDATE RFC822.SIZE), ALL adds ENVELOPE, FULL adds BODY too */
		add_item(f, FETCH_FLAGS, "FLAGS");
		add_item(f, FETCH_INTERNALDATE, "INTERNALDATE");
		add_item(f, FETCH_SIZE, "RFC822.SIZE");
		if (strcasecmp(a, "FAST") != 0)
			add_item(f, FETCH_ENVELOPE, "ENVELOPE");
		if (strcasecmp(a, "FULL") == 0)
			add_item(f, FETCH_BODY, "BODY");
	} else if (strncasecmp(a, "BINARY", 6) == 0) {
		return parse_binary(f, a);
	} else {
		bool peek = strncasecmp(a, "BODY.PEEK[", 10) == 0;
		if (!peek && strncasecmp(a, "BODY[", 5) != 0)
			return -1;
		const char *spec = a + (peek ? 10 : 5);
		/* the last "]": a quoted header-fld-name may hold one */
		const char *close = strrchr(spec, ']');
		if (close == NULL)
			return -1;
		struct fetch_item *it = add_section(f, "BODY", SECTION_ALL, !peek);
		it->section_echo = xstrndup(spec, (size_t)(close - spec));
		imap_section_free(&it->sec);
		if (imap_section_parse(spec, (size_t)(close - spec), close + 1, &it->sec) < 0)
			return -1;
	}
	return 0;
}

/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
static void write_date(buf *out, time_t t)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	localtime_r(&t, &tm);
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	off = off < 0 ? -off : off;
	buf_printf(out, "\"%2d-%s-%04d %02d:%02d:%02d %c%02ld%02ld\"", tm.tm_mday, months[tm.tm_mon],
		   tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
}

/* Writes one section item: its name, then the octets as a literal (the partial range of
 * them when asked, RFC 3501 6.4.5: an origin past the end gives an empty string). A NUL,
 * which only BINARY may send (RFC 9051 4.3), goes out as 0x80 (imap_write_literal): the
 * size stays what RFC822.SIZE said. */
static void write_section(buf *out, const struct fetch_item *it, const char *msg, size_t len,
			  const struct mime_tree *tree)
{
	buf data;
	buf_init(&data);
	imap_section_extract(&it->sec, msg, len, tree, &data);
	size_t start = 0, n = data.len;
	if (it->section_echo != NULL) {
		buf_printf(out, "BODY[%s]", it->section_echo);
		if (it->sec.partial) {
			buf_printf(out, "<%llu>", (unsigned long long)it->sec.offset);
			start = it->sec.offset < data.len ? (size_t)it->sec.offset : data.len;
			n = data.len - start < it->sec.length ? data.len - start : (size_t)it->sec.length;
		}
	} else {
		buf_puts(out, it->name);
	}
	buf_putc(out, ' ');
	imap_write_literal(out, data.data + start, n, false);
	buf_free(&data);
}

/* The decoded octets of the part a BINARY item names: its transfer encoding undone (RFC
 * 9051 6.4.5: BINARY.SIZE, and the offsets of a partial, count these octets). Base64 and
 * quoted-printable give exactly the octets they encode, as Dovecot and every MIME library
 * decode them; the line ends of a text part sent as it is (7bit, 8bit, binary) are the
 * storage's, which RFC 9051 6.4.5 has made CRLF. The whole message and non-leaf parts are
 * given as they are. -1 for an encoding nobody knows (UNKNOWN-CTE). */
static int binary_data(const struct fetch_item *it, const char *msg, size_t len,
		       const struct mime_tree *tree, buf *out)
{
	int at = imap_section_part(&it->sec, tree);
	if (at < 0)
		return 0; /* no such part: empty, as for BODY */
	const struct mime_part *p = &tree->parts[at];
	if (it->sec.part_count == 0 || p->first_child != MIME_NONE) {
		imap_section_extract(&it->sec, msg, len, tree, out);
		return 0;
	}
	const char *body = msg + p->body_off, *enc = p->encoding != NULL ? p->encoding : "7bit";
	if (strcasecmp(enc, "base64") == 0) {
		base64_decode_mime(body, p->body_len, out);
	} else if (strcasecmp(enc, "quoted-printable") == 0) {
		qp_decode(body, p->body_len, out); /* its line breaks come out as CRLF */
	} else if (strcasecmp(enc, "7bit") == 0 || strcasecmp(enc, "8bit") == 0 ||
		   strcasecmp(enc, "binary") == 0) {
		bool text = mime_part_is(p, "text", NULL);
		for (size_t i = 0; i < p->body_len; i++) {
			if (text && body[i] == '\n' && (i == 0 || body[i - 1] != '\r'))
				buf_putc(out, '\r');
			buf_putc(out, body[i]);
		}
	} else {
		return -1;
	}
	return 0;
}

/* Writes BINARY[part]<origin> with the decoded data (a literal8 when it holds a NUL, which
 * a plain literal may not), or BINARY.SIZE[part]. -1 for an unknown transfer encoding. */
static int write_binary(buf *out, const struct fetch_item *it, const char *msg, size_t len,
			const struct mime_tree *tree)
{
	buf data;
	buf_init(&data);
	if (binary_data(it, msg, len, tree, &data) < 0) {
		buf_free(&data);
		return -1;
	}
	if (it->kind == FETCH_BINARY_SIZE) {
		buf_printf(out, "BINARY.SIZE[%s] %zu", it->section_echo, data.len);
		buf_free(&data);
		return 0;
	}
	size_t start = 0, n = data.len;
	buf_printf(out, "BINARY[%s]", it->section_echo);
	if (it->sec.partial) {
		buf_printf(out, "<%llu>", (unsigned long long)it->sec.offset);
		start = it->sec.offset < data.len ? (size_t)it->sec.offset : data.len;
		n = data.len - start < it->sec.length ? data.len - start : (size_t)it->sec.length;
	}
	buf_putc(out, ' ');
	imap_write_literal(out, data.data + start, n, true);
	buf_free(&data);
	return 0;
}

/* Sets \Seen on the messages about to be read without it, in one store transaction. */
static void mark_seen(struct imap_session *s, const size_t *idx, size_t n)
{
	struct flag_update *up = xcalloc(n + 1, sizeof(*up));
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		const struct imap_message *m = &s->box.messages[idx[i]];
		if (!(m->flags & FLAG_SEEN))
			up[count++] = (struct flag_update){ m->uid, m->flags | FLAG_SEEN, m->keywords };
	}
	uint64_t modseq;
	char *error = NULL;
	if (count > 0 && store_flags_update(s->store, s->box.folder_id, up, count, &modseq,
					    &error) < 0) {
		log_error("session=%s imap cannot set \\Seen: %s", conn_id(s->conn), error);
		free(error);
		count = 0;
	}
	for (size_t i = 0, j = 0; i < n && j < count; i++) {
		struct imap_message *m = &s->box.messages[idx[i]];
		if (m->uid == up[j].uid) {
			m->flags |= FLAG_SEEN;
			m->modseq = modseq;
			j++;
		}
	}
	free(up);
}

enum fetch_result { FETCHED, UNREADABLE, UNKNOWN_CTE };

/* Writes "* n FETCH (...)" for message i; nothing when its text could not be read or a
 * BINARY item met an unknown transfer encoding. ENVELOPE, BODY and BODYSTRUCTURE come from
 * kept when the store had them, else from the parsed message. */
static enum fetch_result fetch_one(struct imap_session *s, const struct fetch *f, size_t i,
				   bool uid, bool seen_changed, const struct message_structure *kept,
				   buf *out)
{
	const struct imap_message *m = &s->box.messages[i];
	buf msg;
	buf_init(&msg);
	struct mime_tree tree = { 0 };
	bool use_kept = kept != NULL && kept->kept;
	if (f->needs_body || (f->needs_structure && !use_kept)) {
		char *error = NULL;
		int r = store_message_read(s->store, s->box.folder_id, m->uid, &msg, &error);
		if (r <= 0) {
			/* expunged by another session since our last sync: nothing to say yet */
			if (r < 0)
				log_error("session=%s imap fetch read failed uid=%u: %s", conn_id(s->conn),
					  m->uid, error);
			free(error);
			buf_free(&msg);
			return r == 0 ? FETCHED : UNREADABLE;
		}
		mime_parse(msg.data, msg.len, &mime_default_limits, &tree);
	}
	if (f->has_flags || seen_changed)
		imap_keywords_announce(s, m->keywords, out);
	size_t response = out->len;
	enum fetch_result result = FETCHED;
	buf_printf(out, "* %zu FETCH (", i + 1);
	size_t start = out->len;
	for (size_t k = 0; k < f->count; k++) {
		const struct fetch_item *it = &f->items[k];
		if (out->len > start)
			buf_putc(out, ' ');
		switch (it->kind) {
		case FETCH_FLAGS:
			buf_puts(out, "FLAGS ");
			imap_write_flags(out, m->flags, m->keywords);
			break;
		case FETCH_UID:
			buf_printf(out, "UID %u", m->uid);
			break;
		case FETCH_MODSEQ:
			buf_printf(out, "MODSEQ (%" PRIu64 ")", m->modseq);
			break;
		case FETCH_INTERNALDATE:
			buf_puts(out, "INTERNALDATE ");
			write_date(out, m->internal_date);
			break;
		case FETCH_SIZE:
			buf_printf(out, "RFC822.SIZE %llu", (unsigned long long)m->size);
			break;
		case FETCH_ENVELOPE:
			buf_puts(out, "ENVELOPE ");
			if (use_kept)
				buf_append(out, kept->envelope.data, kept->envelope.len);
			else
				imap_envelope_write(msg.data, tree.parts[0].hdr_len, out);
			break;
		case FETCH_BODY:
		case FETCH_BODYSTRUCTURE:
			buf_printf(out, "%s ", it->name);
			if (use_kept && it->kind == FETCH_BODY)
				buf_append(out, kept->body.data, kept->body.len);
			else if (use_kept)
				buf_append(out, kept->bodystructure.data, kept->bodystructure.len);
			else
				imap_bodystructure_write(&tree, 0, msg.data, it->kind == FETCH_BODYSTRUCTURE, out);
			break;
		case FETCH_SECTION:
			write_section(out, it, msg.data, msg.len, &tree);
			break;
		case FETCH_BINARY:
		case FETCH_BINARY_SIZE:
			if (write_binary(out, it, msg.data, msg.len, &tree) < 0)
				result = UNKNOWN_CTE;
			break;
		}
	}
	/* RFC 3501 6.4.5: UID FETCH always answers with UID; a \Seen just set goes out too. */
	if (uid && !f->has_uid)
		buf_printf(out, " UID %u", m->uid);
	if (seen_changed && !f->has_flags) {
		buf_puts(out, " FLAGS ");
		imap_write_flags(out, m->flags, m->keywords);
	}
	/* RFC 7162 3.1.4.1, 3.1.4.2: with CONDSTORE on, FLAGS go with MODSEQ; CHANGEDSINCE
	 * implies MODSEQ */
	if (!f->has_modseq && (f->changedsince || (s->condstore && (f->has_flags || seen_changed))))
		buf_printf(out, " MODSEQ (%" PRIu64 ")", m->modseq);
	buf_puts(out, ")\r\n");
	if (result != FETCHED) { /* RFC 9051 6.4.5: that message's answer is a NO, not data */
		out->len = response;
		out->data[response] = '\0';
	}
	mime_tree_free(&tree);
	buf_free(&msg);
	return result;
}

/* Messages whose kept structures one store call reads. */
#define STRUCTURE_BATCH 256

/* A FETCH under way: the messages it answers for, the next one, and what the tagged response
 * will say. The session takes no command until it finishes, so the view (box.messages)
 * stays as it was; a message expunged meanwhile by another session reads as gone. */
struct fetch_run {
	struct fetch f;
	size_t *idx, n, next;
	bool *was_seen;            /* before this FETCH set \Seen: its FLAGS go out with it */
	char *tag;
	bool uid, expunges;
	bool failed, unknown_cte;
	/* the kept structures of messages kept_from.. (when the items need them and no text) */
	struct message_structure kept[STRUCTURE_BATCH];
	size_t kept_from, kept_count;
};

static void fetch_run_free(void *state)
{
	struct fetch_run *run = state;
	message_structures_free(run->kept, run->kept_count);
	fetch_free(&run->f);
	free(run->idx);
	free(run->was_seen);
	free(run->tag);
	free(run);
}

/* The kept structures of the next messages, in one store call; a message the call cannot
 * give is read from its file. */
static void structures_read(struct imap_session *s, struct fetch_run *run)
{
	message_structures_free(run->kept, run->kept_count);
	size_t count = run->n - run->next < STRUCTURE_BATCH ? run->n - run->next : STRUCTURE_BATCH;
	uint32_t uids[STRUCTURE_BATCH];
	for (size_t i = 0; i < count; i++)
		uids[i] = s->box.messages[run->idx[run->next + i]].uid;
	char *error = NULL;
	if (store_message_structures(s->store, s->box.folder_id, uids, count, run->kept, &error) < 0) {
		log_error("session=%s imap fetch structures failed: %s", conn_id(s->conn), error);
		free(error);
	}
	run->kept_from = run->next;
	run->kept_count = count;
}

/* Writes the next messages' answers while the output is under the bound, in 64 KiB writes;
 * after the last one the tagged response. True once that is written. */
static bool fetch_step(struct imap_session *s, void *state)
{
	struct fetch_run *run = state;
	bool wants_kept = run->f.needs_structure && !run->f.needs_body;
	buf out;
	buf_init(&out);
	while (run->next < run->n && !imap_output_full(s)) {
		if (wants_kept && run->next >= run->kept_from + run->kept_count)
			structures_read(s, run);
		size_t i = run->next++;
		bool changed = !run->was_seen[i] && (s->box.messages[run->idx[i]].flags & FLAG_SEEN);
		const struct message_structure *kept = wants_kept ? &run->kept[i - run->kept_from] : NULL;
		enum fetch_result r = fetch_one(s, &run->f, run->idx[i], run->uid, changed, kept, &out);
		run->failed |= r == UNREADABLE;
		run->unknown_cte |= r == UNKNOWN_CTE;
		if (out.len >= 65536 || run->next == run->n) {
			imap_write(s, out.data, out.len);
			buf_clear(&out);
		}
	}
	buf_free(&out);
	if (run->next < run->n)
		return false;
	imap_mailbox_sync(s, run->expunges);
	if (run->unknown_cte)
		imap_tagged(s, run->tag, "NO [UNKNOWN-CTE] Cannot decode a part's transfer encoding");
	else if (run->failed)
		imap_tagged(s, run->tag, "NO [SERVERBUG] Some messages could not be read");
	else
		imap_tagged(s, run->tag, "OK %sFETCH completed", run->uid ? "UID " : "");
	return true;
}

/* fetch-modifier = "CHANGEDSINCE" SP mod-sequence-value / "VANISHED" (RFC 7162 3.1.4,
 * 3.2.6), in "(" ... ")" after the items. VANISHED needs UID FETCH, QRESYNC enabled and
 * CHANGEDSINCE. */
static bool parse_modifiers(struct imap_session *s, const struct imap_cmd *cmd, struct fetch *f)
{
	if (cmd->count < 3)
		return true;
	const struct imap_arg *mods = &cmd->args[2];
	if (mods->type != IMAP_ARG_LIST || mods->count == 0)
		return false;
	for (size_t i = 0; i < mods->count; i++) {
		const struct imap_arg *a = &mods->list[i];
		if (imap_arg_atom_is(a, "CHANGEDSINCE") && i + 1 < mods->count && !f->changedsince &&
		    imap_parse_modseq(&mods->list[i + 1], false, &f->since))
			f->changedsince = true, i++;
		else if (imap_arg_atom_is(a, "VANISHED") && cmd->uid && s->qresync)
			f->vanished = true;
		else
			return false;
	}
	return !f->vanished || f->changedsince;
}

/* fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
 *         "(" fetch-att *(SP fetch-att) ")") [SP "(" fetch-modifier ... ")"] */
void imap_cmd_fetch(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *set = imap_arg_astring(&cmd->args[0]);
	const struct imap_arg *atts = &cmd->args[1];
	struct fetch f = { 0 };
	bool ok = set != NULL && (atts->type == IMAP_ARG_ATOM ||
				  (atts->type == IMAP_ARG_LIST && atts->count > 0));
	if (atts->type == IMAP_ARG_ATOM)
		ok = ok && parse_att(&f, atts->str) == 0;
	for (size_t i = 0; ok && atts->type == IMAP_ARG_LIST && i < atts->count; i++)
		ok = atts->list[i].type == IMAP_ARG_ATOM && parse_att(&f, atts->list[i].str) == 0;
	if (!ok || !parse_modifiers(s, cmd, &f)) {
		fetch_free(&f);
		imap_tagged(s, cmd->tag, "BAD Invalid or unsupported FETCH items");
		return;
	}
	if (f.has_modseq || f.changedsince)
		imap_condstore_on(s);
	/* "changed since" asks about the store, not about this session's last look at it */
	if (f.changedsince)
		imap_mailbox_sync(s, cmd->expunges);
	size_t *idx = NULL, n = 0;
	if (imap_seqset_indexes(s, cmd, set, &idx, &n) < 0) {
		fetch_free(&f);
		return;
	}
	if (f.vanished && imap_vanished_since(s, f.since, set) < 0) {
		free(idx);
		fetch_free(&f);
		imap_tagged(s, cmd->tag, "NO [SERVERBUG] Cannot tell what vanished, try again later");
		return;
	}
	if (f.changedsince) { /* only what changed after the client's modseq */
		size_t kept = 0;
		for (size_t i = 0; i < n; i++)
			if (s->box.messages[idx[i]].modseq > f.since)
				idx[kept++] = idx[i];
		n = kept;
	}
	struct fetch_run *run = xcalloc(1, sizeof(*run));
	run->f = f;
	run->idx = idx;
	run->n = n;
	run->was_seen = xcalloc(n + 1, sizeof(*run->was_seen));
	for (size_t i = 0; i < n; i++)
		run->was_seen[i] = s->box.messages[idx[i]].flags & FLAG_SEEN;
	run->tag = xstrdup(cmd->tag);
	run->uid = cmd->uid;
	run->expunges = cmd->expunges;
	if (f.sets_seen && !s->box.read_only)
		mark_seen(s, idx, n);
	imap_run_steps(s, fetch_step, fetch_run_free, run);
}
