/* The authenticated state's mailbox commands (RFC 3501 6.3): SELECT and EXAMINE, CREATE,
 * DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE, LIST and LSUB (with the CHILDREN and SPECIAL-USE
 * attributes, RFC 3348 and 6154), STATUS, and NAMESPACE (RFC 2342). Mailbox names use "/" as
 * the hierarchy delimiter; INBOX is matched without regard to case. */
#include "imap/imap.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The flags a client may set (RFC 3501 7.2.6); "\*": keywords may be made up. */

static void store_failed(struct imap_session *s, const struct imap_cmd *cmd, char *error)
{
	log_error("session=%s imap %s failed: %s", conn_id(s->conn), cmd->name, error);
	free(error);
	imap_tagged(s, cmd->tag, "NO [SERVERBUG] Internal error, try again later");
}

/* Answers a store call's result r: OK, NO with not_found's text for 0, NO after logging for -1. */
static void answer(struct imap_session *s, const struct imap_cmd *cmd, int r, char *error,
		   const char *not_found)
{
	if (r < 0)
		store_failed(s, cmd, error);
	else if (r == 0)
		imap_tagged(s, cmd->tag, "NO %s", not_found);
	else
		imap_tagged(s, cmd->tag, "OK %s completed", cmd->name);
}

/* Looks the mailbox argument up; true when found, else the command is answered. */
static bool find_folder(struct imap_session *s, const struct imap_cmd *cmd,
			const struct imap_arg *arg, struct folder *f)
{
	char *name = imap_arg_mailbox(s, arg);
	if (name == NULL) {
		imap_mailbox_refused(s, cmd, arg, "[NONEXISTENT] No such mailbox");
		return false;
	}
	char *error = NULL;
	int r = store_folder_get(s->store, s->user_id, name, f, &error);
	free(name);
	if (r <= 0)
		answer(s, cmd, r, error, "[NONEXISTENT] No such mailbox");
	return r > 0;
}

static bool is_below(const char *child, const char *name, size_t len)
{
	return strncmp(child, name, len) == 0 && child[len] == '/';
}

/* True when some folder of the list lies below name. */
static bool has_children(const struct folder *folders, size_t count, const char *name)
{
	size_t len = strlen(name);
	for (size_t j = 0; j < count; j++)
		if (is_below(folders[j].name, name, len))
			return true;
	return false;
}

/* "* LIST (attributes) "/" name" (or LSUB) for folder f, without the line's end: the child
 * attribute always (RFC 3348), \Subscribed and the special use when asked, \Noselect for
 * LSUB's unsubscribed parents. */
static void write_list(const struct imap_session *s, buf *line, const char *verb,
		       const struct folder *f, bool children, bool subscribed, bool special,
		       bool noselect)
{
	buf_printf(line, "* %s (%s%s", verb, noselect ? "\\Noselect " : "",
		   children ? "\\HasChildren" : "\\HasNoChildren");
	if (subscribed && f->subscribed)
		buf_puts(line, " \\Subscribed");
	if (special && f->special_use != NULL)
		buf_printf(line, " %s", f->special_use);
	buf_puts(line, ") \"/\" ");
	imap_write_mailbox(s, line, f->name);
}

/* IMAP4rev2's LIST response to SELECT and EXAMINE (RFC 9051 6.3.2): the selected mailbox's
 * attributes, with OLDNAME when the name the client gave is not how it is kept ("inbox",
 * or a decomposed accent, RFC 9051 6.3.9.7). */
static void list_selected(struct imap_session *s, const struct folder *f, const char *given)
{
	struct folder *folders = NULL;
	size_t count = 0;
	char *error = NULL;
	if (store_folder_list(s->store, s->user_id, &folders, &count, &error) < 0) {
		log_error("session=%s imap select list failed: %s", conn_id(s->conn), error);
		free(error);
	}
	buf line;
	buf_init(&line);
	write_list(s, &line, "LIST", f, has_children(folders, count, f->name), false, true, false);
	if (given != NULL && strcmp(given, f->name) != 0) {
		buf_puts(&line, " (\"OLDNAME\" (");
		imap_write_string(&line, given, strlen(given));
		buf_puts(&line, "))");
	}
	imap_reply(s, "%s", line.data);
	buf_free(&line);
	for (size_t i = 0; i < count; i++)
		folder_clear(&folders[i]);
	free(folders);
}

/* select  = "SELECT" SP mailbox [SP "(" select-param *(SP select-param) ")"]
 * examine = "EXAMINE" SP mailbox [...]; select-param = "CONDSTORE" / "QRESYNC" SP (...)
 * (RFC 7162 3.1.8, 3.2.5). A SELECT that fails leaves no mailbox selected (RFC 3501 6.3.1). */
void imap_cmd_select(struct imap_session *s, const struct imap_cmd *cmd)
{
	const struct imap_arg *params = cmd->count > 1 ? &cmd->args[1] : NULL;
	bool condstore = false, qresync = false;
	struct imap_qresync q;
	if (params != NULL && params->type != IMAP_ARG_LIST) {
		imap_tagged(s, cmd->tag, "BAD %s takes a mailbox name and parameters", cmd->name);
		return;
	}
	for (size_t i = 0; params != NULL && i < params->count; i++) {
		const struct imap_arg *p = &params->list[i];
		if (imap_arg_atom_is(p, "CONDSTORE")) {
			condstore = true;
		} else if (imap_arg_atom_is(p, "QRESYNC") && i + 1 < params->count && !qresync) {
			/* RFC 7162 3.2.5: only after ENABLE QRESYNC */
			if (!s->qresync || imap_qresync_parse(&params->list[++i], &q) < 0) {
				imap_tagged(s, cmd->tag, "BAD %s", s->qresync ? "Invalid QRESYNC parameter"
									    : "QRESYNC is not enabled");
				return;
			}
			qresync = true;
		} else {
			imap_tagged(s, cmd->tag, "BAD Unknown %s parameter", cmd->name);
			return;
		}
	}
	/* a BAD changes nothing (RFC 9051 3): the name is checked before the mailbox is left */
	if (!imap_arg_is_name(s, &cmd->args[0])) {
		imap_tagged(s, cmd->tag, "BAD Invalid mailbox name");
		return;
	}
	/* RFC 7162 3.2.11: the mailbox left behind is announced, so that the responses that
	 * follow are known to belong to the new one */
	if (s->state == IMAP_STATE_SELECTED && (s->qresync || s->rev2))
		imap_reply(s, "* OK [CLOSED] Previous mailbox closed");
	imap_mailbox_close(s);
	struct folder f = { 0 };
	if (!find_folder(s, cmd, &cmd->args[0], &f))
		return;
	if (condstore)
		imap_condstore_on(s);
	struct imap_mailbox *b = &s->box;
	b->folder_id = f.id;
	b->name = xstrdup(f.name);
	b->read_only = strcmp(cmd->name, "EXAMINE") == 0;
	b->uidvalidity = f.uidvalidity;
	b->uncounted = !quota_counts_folder(f.special_use, s->server->quota_exclude_trash_junk);
	b->uidnext = f.uidnext;
	b->takes_recent = !b->read_only;
	b->recent_uid = f.recent_uid;
	s->state = IMAP_STATE_SELECTED;
	/* loads the messages, takes the recent ones, says EXISTS (and RECENT to IMAP4rev1) */
	imap_mailbox_sync(s, true);
	if (b->count == 0)
		imap_reply(s, "* 0 EXISTS");
	if (b->count == 0 && !s->rev2)
		imap_reply(s, "* 0 RECENT");
	for (size_t i = 0; i < b->count; i++)
		imap_keywords_learn(s, b->messages[i].keywords);
	buf flags;
	buf_init(&flags);
	imap_write_mailbox_flags(s, &flags);
	/* FLAGS here, PERMANENTFLAGS after UNSEEN, as clients are used to */
	size_t flags_len = strcspn(flags.data, "\n") + 1;
	imap_write(s, flags.data, flags_len);
	if (s->rev2) { /* RFC 9051 E: LIST instead of RECENT and UNSEEN */
		list_selected(s, &f, imap_arg_astring(&cmd->args[0]));
	} else {
		size_t i = 0;
		while (i < b->count && (b->messages[i].flags & FLAG_SEEN))
			i++;
		if (i < b->count)
			imap_reply(s, "* OK [UNSEEN %zu] First unseen", i + 1);
	}
	imap_write(s, flags.data + flags_len, flags.len - flags_len);
	buf_free(&flags);
	imap_reply(s, "* OK [UIDVALIDITY %u] UIDs valid", b->uidvalidity);
	imap_reply(s, "* OK [UIDNEXT %u] Predicted next UID", b->uidnext);
	/* RFC 7162 3.1.2.1: every SELECT of a server with CONDSTORE says it */
	imap_reply(s, "* OK [HIGHESTMODSEQ %" PRIu64 "] Highest", b->modseq);
	folder_clear(&f);
	if (qresync)
		imap_qresync_select(s, &q);
	log_info("session=%s imap select mailbox=%s messages=%zu", conn_id(s->conn), b->name, b->count);
	imap_tagged(s, cmd->tag, "OK [%s] %s completed", b->read_only ? "READ-ONLY" : "READ-WRITE",
		    cmd->name);
}

/* list-mailbox wildcards (RFC 3501 6.3.8): "*" matches anything, "%" anything but the
 * hierarchy delimiter. Backtracking is bounded by the pattern's length times the name's. */
static bool pattern_match(const char *pat, const char *name)
{
	if (*pat == '\0')
		return *name == '\0';
	if (*pat == '*' || *pat == '%') {
		for (const char *n = name;; n++) {
			if (pattern_match(pat + 1, n))
				return true;
			if (*n == '\0' || (*pat == '%' && *n == '/'))
				return false;
		}
	}
	return *name == *pat && pattern_match(pat + 1, name + 1);
}

/* What LIST was asked (RFC 9051 6.3.9, LIST-EXTENDED and LIST-STATUS). */
struct list_query {
	bool lsub;
	bool subscribed;       /* selection: only subscribed mailboxes */
	bool special_only;     /* selection SPECIAL-USE (RFC 6154 3): only those with one */
	bool recursive;        /* RECURSIVEMATCH: parents of selected ones too, with CHILDINFO */
	bool return_subscribed;
	bool return_special;   /* LIST shows special-use attributes always; LSUB never */
	const struct imap_arg *status; /* RETURN (STATUS (...)): the items, or NULL */
	char **patterns;       /* reference + pattern, INBOX canonical */
	size_t pattern_count;
	bool delimiter_only;   /* an empty pattern asks for the hierarchy delimiter */
};

/* status-att items of STATUS and LIST-STATUS into line ("MESSAGES 3 UNSEEN 1"); the error
 * text for an unknown item, or NULL. */
static const char *status_items(struct imap_session *s, const struct folder *f,
				const struct imap_arg *atts, buf *line)
{
	for (size_t i = 0; i < atts->count; i++) {
		const struct imap_arg *a = &atts->list[i];
		if (i > 0)
			buf_putc(line, ' ');
		if (imap_arg_atom_is(a, "MESSAGES"))
			buf_printf(line, "MESSAGES %u", f->messages);
		else if (imap_arg_atom_is(a, "RECENT")) /* IMAP4rev2 has no \Recent (RFC 9051 E) */
			buf_printf(line, "RECENT %u", s->rev2 ? 0 : f->recent);
		else if (imap_arg_atom_is(a, "UIDNEXT"))
			buf_printf(line, "UIDNEXT %u", f->uidnext);
		else if (imap_arg_atom_is(a, "UIDVALIDITY"))
			buf_printf(line, "UIDVALIDITY %u", f->uidvalidity);
		else if (imap_arg_atom_is(a, "UNSEEN"))
			buf_printf(line, "UNSEEN %u", f->unseen);
		else if (imap_arg_atom_is(a, "APPENDLIMIT")) /* RFC 7889 4 */
			buf_printf(line, "APPENDLIMIT %" PRIu64, s->server->limits.max_literal);
		else if (imap_arg_atom_is(a, "HIGHESTMODSEQ") && (imap_condstore_on(s), true))
			buf_printf(line, "HIGHESTMODSEQ %" PRIu64, f->highestmodseq);
		else if (imap_arg_atom_is(a, "SIZE") || imap_arg_atom_is(a, "DELETED")) {
			uint64_t size;
			uint32_t deleted;
			char *error = NULL;
			if (store_folder_totals(s->store, f->id, &size, &deleted, &error) < 0) {
				log_error("session=%s imap status totals failed: %s", conn_id(s->conn), error);
				free(error);
				size = 0, deleted = 0;
			}
			if (imap_arg_atom_is(a, "SIZE"))
				buf_printf(line, "SIZE %" PRIu64, size);
			else
				buf_printf(line, "DELETED %u", deleted);
		} else
			return "Unknown STATUS item";
	}
	return NULL;
}

static void write_status(struct imap_session *s, buf *line, const struct folder *f,
			 const char *items)
{
	buf_puts(line, "* STATUS ");
	imap_write_mailbox(s, line, f->name);
	buf_printf(line, " (%s)\r\n", items);
}

/* Parses the extended LIST arguments around the reference and pattern(s). Returns the error
 * text for BAD, or NULL. */
static const char *list_parse(struct imap_session *s, const struct imap_cmd *cmd,
			      struct list_query *q)
{
	const struct imap_arg *args = cmd->args;
	size_t count = cmd->count, at = 0;
	q->lsub = strcmp(cmd->name, "LSUB") == 0;
	q->recursive = q->lsub;
	q->return_special = !q->lsub;
	if (!q->lsub && count > 0 && args[0].type == IMAP_ARG_LIST) {
		for (size_t i = 0; i < args[0].count; i++) {
			const struct imap_arg *o = &args[0].list[i];
			if (imap_arg_atom_is(o, "SUBSCRIBED"))
				q->subscribed = q->return_subscribed = true;
			else if (imap_arg_atom_is(o, "SPECIAL-USE"))
				q->special_only = true;
			else if (imap_arg_atom_is(o, "RECURSIVEMATCH"))
				q->recursive = true;
			else if (!imap_arg_atom_is(o, "REMOTE"))
				return "Unknown LIST selection option";
		}
		/* RFC 5258 3.1: RECURSIVEMATCH alone means nothing */
		if (q->recursive && !q->subscribed && !q->special_only)
			return "RECURSIVEMATCH needs another selection option";
		at = 1;
	}
	if (count < at + 2)
		return "LIST takes a reference and a mailbox pattern";
	const struct imap_arg *pat = &args[at + 1];
	size_t npat = pat->type == IMAP_ARG_LIST ? pat->count : 1;
	if (npat == 0 || (q->lsub && pat->type == IMAP_ARG_LIST))
		return "LIST takes a reference and a mailbox pattern";
	/* a reference or pattern whose modified UTF-7 does not decode is still well-formed:
	 * it matches no mailbox */
	char *ref = imap_arg_mailbox(s, &args[at]);
	if (ref == NULL && !imap_arg_is_name(s, &args[at]))
		return "Invalid reference name";
	q->patterns = xcalloc(npat, sizeof(*q->patterns));
	for (size_t i = 0; i < npat; i++) {
		const struct imap_arg *pa = pat->type == IMAP_ARG_LIST ? &pat->list[i] : pat;
		char *p = ref != NULL ? imap_arg_mailbox(s, pa) : NULL;
		if (p == NULL && !imap_arg_is_name(s, pa)) {
			free(ref);
			return "Invalid mailbox pattern";
		}
		if (p == NULL)
			continue;
		q->delimiter_only = pat->type != IMAP_ARG_LIST && *p == '\0';
		char *joined = xasprintf("%s%s", ref, p);
		imap_inbox_canonical(joined);
		q->patterns[q->pattern_count++] = joined;
		free(p);
	}
	free(ref);
	at += 2;
	if (at == count)
		return NULL;
	if (q->lsub || count != at + 2 || !imap_arg_atom_is(&args[at], "RETURN") ||
	    args[at + 1].type != IMAP_ARG_LIST)
		return "Unknown LIST arguments";
	const struct imap_arg *ret = &args[at + 1];
	for (size_t i = 0; i < ret->count; i++) {
		const struct imap_arg *o = &ret->list[i];
		if (imap_arg_atom_is(o, "SUBSCRIBED"))
			q->return_subscribed = true;
		else if (imap_arg_atom_is(o, "SPECIAL-USE") || imap_arg_atom_is(o, "CHILDREN"))
			continue; /* given anyway */
		else if (imap_arg_atom_is(o, "STATUS") && i + 1 < ret->count &&
			 ret->list[i + 1].type == IMAP_ARG_LIST && ret->list[i + 1].count > 0)
			q->status = &ret->list[++i];
		else
			return "Unknown LIST return option";
	}
	return NULL;
}

/* Whether f meets the selection options (subscribed, special use). */
static bool list_selects(const struct list_query *q, const struct folder *f)
{
	return !((q->lsub || q->subscribed) && !f->subscribed) &&
	       !(q->special_only && f->special_use == NULL);
}

static bool list_pattern_matches(const struct list_query *q, const char *name)
{
	for (size_t i = 0; i < q->pattern_count; i++)
		if (pattern_match(q->patterns[i], name))
			return true;
	return false;
}

/* RECURSIVEMATCH (RFC 9051 6.3.9.6): whether a mailbox below name meets the selection yet
 * is not listed itself, which CHILDINFO then tells; a subscription whose folder is gone
 * (orphans) meets the SUBSCRIBED selection. */
static bool list_child_selected(const struct list_query *q, const struct folder *folders,
				size_t count, const strlist *orphans, const char *name)
{
	size_t len = strlen(name);
	for (size_t j = 0; j < count && q->recursive; j++)
		if (is_below(folders[j].name, name, len) && list_selects(q, &folders[j]) &&
		    !list_pattern_matches(q, folders[j].name))
			return true;
	for (size_t j = 0; j < orphans->count && q->recursive && !q->special_only; j++)
		if (is_below(orphans->items[j], name, len) && !list_pattern_matches(q, orphans->items[j]))
			return true;
	return false;
}

/* The subscribed names whose folders are gone, for the SUBSCRIBED selection and LSUB (RFC
 * 5258 3.4: \NonExistent with \Subscribed; LSUB says \Noselect). */
static void list_orphans(struct imap_session *s, const struct imap_cmd *cmd,
			 const struct list_query *q, const strlist *orphans)
{
	buf line;
	buf_init(&line);
	for (size_t i = 0; i < orphans->count && !q->special_only; i++) {
		if (!list_pattern_matches(q, orphans->items[i]))
			continue;
		buf_clear(&line);
		buf_printf(&line, "* %s (%s) \"/\" ", cmd->name,
			   q->lsub ? "\\Noselect" : "\\NonExistent \\Subscribed");
		imap_write_mailbox(s, &line, orphans->items[i]);
		buf_puts(&line, "\r\n");
		imap_write(s, line.data, line.len);
	}
	buf_free(&line);
}

/* list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
 * lsub = "LSUB" SP mailbox SP list-mailbox
 * The reference is put before the pattern (6.3.8); an empty pattern asks for the delimiter. */
void imap_cmd_list(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct list_query q = { 0 };
	const char *bad = list_parse(s, cmd, &q);
	struct folder *folders = NULL;
	size_t count = 0;
	char *error = NULL;
	strlist orphans;
	strlist_init(&orphans);
	if (bad == NULL && (q.lsub || q.subscribed) &&
	    store_subscriptions_orphaned(s->store, s->user_id, &orphans, &error) < 0) {
		store_failed(s, cmd, error);
	} else if (bad != NULL) {
		imap_tagged(s, cmd->tag, "BAD %s", bad);
	} else if (q.delimiter_only) {
		if (!q.lsub)
			imap_reply(s, "* LIST (\\Noselect) \"/\" \"\"");
		imap_tagged(s, cmd->tag, "OK LIST completed");
	} else if (store_folder_list(s->store, s->user_id, &folders, &count, &error) < 0) {
		store_failed(s, cmd, error);
	} else {
		buf line, items;
		buf_init(&line);
		buf_init(&items);
		for (size_t i = 0; i < count && bad == NULL; i++) {
			const struct folder *f = &folders[i];
			bool selected = list_selects(&q, f);
			bool childinfo = list_child_selected(&q, folders, count, &orphans, f->name);
			if (!list_pattern_matches(&q, f->name) || !(selected || childinfo))
				continue;
			buf_clear(&line);
			/* LSUB "%" shows the unsubscribed parent of a subscribed mailbox as \Noselect
			 * (RFC 3501 6.3.9); LIST (... RECURSIVEMATCH) says CHILDINFO instead */
			write_list(s, &line, cmd->name, f, has_children(folders, count, f->name),
				   q.return_subscribed, q.return_special, q.lsub && !selected);
			if (childinfo && !q.lsub)
				buf_printf(&line, " (\"CHILDINFO\" (%s%s%s))",
					   q.subscribed ? "\"SUBSCRIBED\"" : "",
					   q.subscribed && q.special_only ? " " : "",
					   q.special_only ? "\"SPECIAL-USE\"" : "");
			buf_puts(&line, "\r\n");
			if (q.status != NULL) { /* RFC 9051 6.3.9.8: STATUS right after its LIST */
				buf_clear(&items);
				bad = status_items(s, f, q.status, &items);
				write_status(s, &line, f, items.data);
			}
			if (bad == NULL)
				imap_write(s, line.data, line.len);
		}
		buf_free(&line);
		buf_free(&items);
		if (bad == NULL)
			list_orphans(s, cmd, &q, &orphans);
		if (bad != NULL)
			imap_tagged(s, cmd->tag, "BAD %s", bad);
		else
			imap_tagged(s, cmd->tag, "OK %s completed", cmd->name);
	}
	for (size_t i = 0; i < count; i++)
		folder_clear(&folders[i]);
	free(folders);
	strlist_free(&orphans);
	for (size_t i = 0; i < q.pattern_count; i++)
		free(q.patterns[i]);
	free(q.patterns);
}

/* status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
 * status-att = "MESSAGES" / "RECENT" / "UIDNEXT" / "UIDVALIDITY" / "UNSEEN" /
 *              "HIGHESTMODSEQ" (RFC 7162 3.1.6) / "SIZE" / "DELETED" (RFC 9051 6.3.11;
 *              SIZE is RFC 8438's STATUS=SIZE) */
void imap_cmd_status(struct imap_session *s, const struct imap_cmd *cmd)
{
	const struct imap_arg *atts = &cmd->args[1];
	if (atts->type != IMAP_ARG_LIST || atts->count == 0) {
		imap_tagged(s, cmd->tag, "BAD STATUS takes a mailbox and a list of items");
		return;
	}
	struct folder f = { 0 };
	if (!find_folder(s, cmd, &cmd->args[0], &f))
		return;
	buf items, line;
	buf_init(&items);
	buf_init(&line);
	const char *bad = status_items(s, &f, atts, &items);
	if (bad != NULL) {
		imap_tagged(s, cmd->tag, "BAD %s", bad);
	} else {
		write_status(s, &line, &f, items.data);
		imap_write(s, line.data, line.len);
		imap_tagged(s, cmd->tag, "OK STATUS completed");
	}
	buf_free(&items);
	buf_free(&line);
	folder_clear(&f);
}

/* namespace = "NAMESPACE": one personal namespace with no prefix, no shared ones. */
void imap_cmd_namespace(struct imap_session *s, const struct imap_cmd *cmd)
{
	imap_reply(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL");
	imap_tagged(s, cmd->tag, "OK NAMESPACE completed");
}

/* The mailbox argument of CREATE, DELETE, RENAME and (UN)SUBSCRIBE, with INBOX canonical and
 * a trailing "/" dropped (RFC 3501 6.3.3); NULL after answering BAD (no name by syntax) or NO
 * (a name no mailbox may have: RFC 9051 6.3.4 wants NO for any failure to create). */
static char *mailbox_arg(struct imap_session *s, const struct imap_cmd *cmd,
			 const struct imap_arg *a)
{
	char *name = imap_arg_mailbox(s, a);
	if (name == NULL) {
		imap_mailbox_refused(s, cmd, a, "[CANNOT] Invalid mailbox name");
		return NULL;
	}
	size_t len = strlen(name);
	if (len > 1 && name[len - 1] == '/')
		name[len - 1] = '\0';
	if (!imap_mailbox_name_valid(name)) {
		free(name);
		imap_tagged(s, cmd->tag, "NO [CANNOT] Invalid mailbox name");
		return NULL;
	}
	return name;
}

/* After CREATE or RENAME in IMAP4rev2: the new mailbox's LIST with OLDNAME when the name the
 * client gave is not how it is kept (RFC 9051 6.3.4, 6.3.9.7). */
static void announce_normalized(struct imap_session *s, const struct imap_arg *a, const char *name)
{
	const char *given = imap_arg_astring(a);
	size_t len = given != NULL ? strlen(given) : 0;
	if (len > 1 && given[len - 1] == '/')
		len--;
	if (!s->rev2 || given == NULL || (strlen(name) == len && memcmp(given, name, len) == 0))
		return;
	buf line;
	buf_init(&line);
	buf_puts(&line, "* LIST () \"/\" ");
	imap_write_mailbox(s, &line, name);
	buf_puts(&line, " (\"OLDNAME\" (");
	imap_write_string(&line, given, len);
	buf_puts(&line, "))");
	imap_reply(s, "%s", line.data);
	buf_free(&line);
}

/* 1 when the account has a mailbox of that name, 0 when not, -1 with *error_r. */
static int folder_exists(struct imap_session *s, const char *name, char **error_r)
{
	struct folder f = { 0 };
	int r = store_folder_get(s->store, s->user_id, name, &f, error_r);
	folder_clear(&f);
	return r;
}

/* create = "CREATE" SP mailbox. The levels above it are created too when missing (by the
 * store, in the same transaction). */
void imap_cmd_create(struct imap_session *s, const struct imap_cmd *cmd)
{
	char *name = mailbox_arg(s, cmd, &cmd->args[0]);
	if (name == NULL)
		return;
	char *error = NULL;
	int r = store_folder_create(s->store, s->user_id, name, &error);
	if (r > 0)
		announce_normalized(s, &cmd->args[0], name);
	answer(s, cmd, r, error, "[ALREADYEXISTS] Mailbox exists");
	free(name);
}

/* delete = "DELETE" SP mailbox. INBOX cannot be deleted (RFC 3501 6.3.4), nor a mailbox with
 * mailboxes below it, since every name listed is a mailbox that can be selected (RFC 9051
 * 6.3.4 leaves the choice: this one keeps \Noselect names out of the store). */
void imap_cmd_delete(struct imap_session *s, const struct imap_cmd *cmd)
{
	char *name = mailbox_arg(s, cmd, &cmd->args[0]);
	if (name == NULL)
		return;
	char *error = NULL;
	int r;
	if (strcmp(name, "INBOX") == 0) {
		imap_tagged(s, cmd->tag, "NO [CANNOT] INBOX cannot be deleted");
	} else if ((r = store_folder_delete(s->store, s->user_id, name, &error)) == 2) {
		imap_tagged(s, cmd->tag,
			    "NO [HASCHILDREN] Mailbox has mailboxes below it; delete those first");
	} else {
		/* the mailbox this session had selected: it is closed, and CLOSED says so */
		if (r > 0 && s->state == IMAP_STATE_SELECTED && strcmp(s->box.name, name) == 0) {
			imap_mailbox_close(s);
			imap_reply(s, "* OK [CLOSED] The selected mailbox was deleted");
		}
		answer(s, cmd, r, error, "[NONEXISTENT] No such mailbox");
	}
	free(name);
}

/* RFC 3501 6.3.5: renaming INBOX moves all its messages into a new mailbox and leaves INBOX
 * empty. Returns 1, or -1 with *error_r. */
static int rename_inbox(struct imap_session *s, const char *to, char **error_r)
{
	struct store *st = s->store;
	struct folder inbox = { 0 }, dest = { 0 };
	struct message *list = NULL;
	size_t count = 0;
	int r = store_folder_create(st, s->user_id, to, error_r);
	if (r >= 0)
		r = store_folder_get(st, s->user_id, "INBOX", &inbox, error_r);
	if (r > 0)
		r = store_folder_get(st, s->user_id, to, &dest, error_r);
	if (r > 0)
		r = store_message_list(st, inbox.id, &list, &count, error_r);
	uint32_t *uids = xcalloc(count + 1, sizeof(*uids)), *new_uids = xcalloc(count + 1, sizeof(*uids));
	for (size_t i = 0; i < count; i++) {
		uids[i] = list[i].uid;
		message_clear(&list[i]);
	}
	uint32_t uidvalidity;
	if (r >= 0 && count > 0)
		r = store_messages_copy(st, inbox.id, dest.id, uids, count, true, new_uids, &uidvalidity,
					error_r);
	free(list);
	free(uids);
	free(new_uids);
	folder_clear(&inbox);
	folder_clear(&dest);
	return r < 0 ? -1 : 1;
}

/* rename = "RENAME" SP mailbox SP mailbox. The levels above the new name are created; the
 * mailboxes below the old one move with it (the store does both in the rename's
 * transaction). */
void imap_cmd_rename(struct imap_session *s, const struct imap_cmd *cmd)
{
	char *from = mailbox_arg(s, cmd, &cmd->args[0]);
	char *to = from != NULL ? mailbox_arg(s, cmd, &cmd->args[1]) : NULL;
	char *error = NULL;
	int r;
	if (to == NULL) {
		/* answered */
	} else if ((r = folder_exists(s, from, &error)) <= 0) {
		answer(s, cmd, r, error, "[NONEXISTENT] No such mailbox");
	} else if ((r = folder_exists(s, to, &error)) != 0) {
		/* the new name is taken (1), or the lookup failed (-1) */
		answer(s, cmd, r < 0 ? -1 : 0, error, "[ALREADYEXISTS] Mailbox exists");
	} else if (strncmp(to, from, strlen(from)) == 0 && to[strlen(from)] == '/') {
		imap_tagged(s, cmd->tag, "NO [CANNOT] A mailbox cannot move below itself");
	} else {
		r = strcmp(from, "INBOX") == 0
			    ? rename_inbox(s, to, &error)
			    : store_folder_rename(s->store, s->user_id, from, to, &error);
		if (r > 0)
			announce_normalized(s, &cmd->args[1], to);
		answer(s, cmd, r, error, "[NONEXISTENT] No such mailbox");
	}
	free(from);
	free(to);
}

/* subscribe = "SUBSCRIBE" SP mailbox; unsubscribe = "UNSUBSCRIBE" SP mailbox. Only existing
 * mailboxes can be subscribed (RFC 3501 6.3.6 allows refusing others); any name can be
 * unsubscribed, such as that of a deleted mailbox. */
void imap_cmd_subscribe(struct imap_session *s, const struct imap_cmd *cmd)
{
	char *name = mailbox_arg(s, cmd, &cmd->args[0]);
	if (name == NULL)
		return;
	char *error = NULL;
	bool subscribe = cmd->name[0] == 'S';
	int r = store_folder_subscribe(s->store, s->user_id, name, subscribe, &error);
	/* 0: no such mailbox. RFC 9051 6.3.8 lets a name be unsubscribed whether or not a
	 * mailbox has it, so UNSUBSCRIBE is OK there; SUBSCRIBE is not */
	answer(s, cmd, r == 0 && !subscribe ? 1 : r, error, "[NONEXISTENT] No such mailbox");
	free(name);
}
