/* An IMAP server session: frames commands from the input (imap_parse.c), checks each one's
 * gates from the table, runs its handler, and keeps the session's view of the selected
 * mailbox in step with the store at the moments RFC 3501 7.4.1 allows. AUTHENTICATE and IDLE
 * take the following lines for themselves while they run. */
#include "imap/imap.h"
#include "auth/sasl.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "imap/imap_mutf7.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uninorm.h>

/* The command table (RFC 3501 6, RFC 2177, 2342, 2971, 3691, 4978, 5161, 6851). Gates: see enum
 * imap_gate. */
static const struct imap_command_def commands[] = {
	{ "CAPABILITY", imap_cmd_capability, 0, 0, 0 },
	{ "NOOP", imap_cmd_noop, GATE_STORE, 0, 0 },
	{ "LOGOUT", imap_cmd_logout, 0, 0, 0 },
	{ "ID", imap_cmd_id, 0, 1, 1 },
	{ "STARTTLS", imap_cmd_starttls, GATE_NOT_AUTH, 0, 0 },
	{ "LOGIN", imap_cmd_login, GATE_NOT_AUTH, 2, 2 },
	{ "AUTHENTICATE", imap_cmd_authenticate, GATE_NOT_AUTH, 1, 2 },
	{ "ENABLE", imap_cmd_enable, GATE_AUTH, 1, 255 },
	{ "SELECT", imap_cmd_select, GATE_AUTH | GATE_STORE, 1, 2 },
	{ "EXAMINE", imap_cmd_select, GATE_AUTH | GATE_STORE, 1, 2 },
	{ "CREATE", imap_cmd_create, GATE_AUTH | GATE_STORE, 1, 1 },
	{ "DELETE", imap_cmd_delete, GATE_AUTH | GATE_WRITES | GATE_STORE, 1, 1 },
	{ "RENAME", imap_cmd_rename, GATE_AUTH | GATE_WRITES | GATE_STORE, 2, 2 },
	{ "SUBSCRIBE", imap_cmd_subscribe, GATE_AUTH | GATE_STORE, 1, 1 },
	{ "UNSUBSCRIBE", imap_cmd_subscribe, GATE_AUTH | GATE_STORE, 1, 1 },
	{ "LIST", imap_cmd_list, GATE_AUTH | GATE_STORE, 2, 5 },
	{ "LSUB", imap_cmd_list, GATE_AUTH | GATE_STORE, 2, 2 },
	{ "STATUS", imap_cmd_status, GATE_AUTH | GATE_STORE, 2, 2 },
	{ "APPEND", imap_cmd_append, GATE_AUTH | GATE_STORE, 2, 4 },
	{ "GETQUOTA", imap_cmd_getquota, GATE_AUTH | GATE_STORE, 1, 1 },
	{ "GETQUOTAROOT", imap_cmd_getquotaroot, GATE_AUTH | GATE_STORE, 1, 1 },
	{ "SETQUOTA", imap_cmd_setquota, GATE_AUTH, 2, 2 },
	{ "NAMESPACE", imap_cmd_namespace, GATE_AUTH, 0, 0 },
	{ "IDLE", imap_cmd_idle, GATE_AUTH | GATE_STORE, 0, 0 },
	{ "COMPRESS", imap_cmd_compress, GATE_AUTH, 1, 1 },
	{ "CHECK", imap_cmd_noop, GATE_SELECTED | GATE_STORE, 0, 0 },
	{ "CLOSE", imap_cmd_close, GATE_SELECTED | GATE_WRITES | GATE_STORE, 0, 0 },
	{ "UNSELECT", imap_cmd_close, GATE_SELECTED | GATE_STORE, 0, 0 },
	{ "EXPUNGE", imap_cmd_expunge, GATE_SELECTED | GATE_UID | GATE_WRITES | GATE_STORE, 0, 1 },
	{ "FETCH", imap_cmd_fetch, GATE_SELECTED | GATE_UID | GATE_NO_EXPUNGE | GATE_WRITES | GATE_STORE, 2, 3 },
	{ "STORE", imap_cmd_store, GATE_SELECTED | GATE_UID | GATE_NO_EXPUNGE | GATE_WRITES | GATE_STORE, 3, 255 },
	{ "SEARCH", imap_cmd_search, GATE_SELECTED | GATE_UID | GATE_NO_EXPUNGE | GATE_STORE, 1, 255 },
	{ "SORT", imap_cmd_sort, GATE_SELECTED | GATE_UID | GATE_NO_EXPUNGE | GATE_STORE, 3, 255 },
	{ "THREAD", imap_cmd_thread, GATE_SELECTED | GATE_UID | GATE_NO_EXPUNGE | GATE_STORE, 3, 255 },
	{ "COPY", imap_cmd_copy, GATE_SELECTED | GATE_UID | GATE_NO_EXPUNGE | GATE_WRITES | GATE_STORE, 2, 2 },
	{ "MOVE", imap_cmd_copy, GATE_SELECTED | GATE_UID | GATE_WRITES | GATE_STORE, 2, 2 },
};

static const char *state_name(enum imap_state state)
{
	static const char *const names[] = { "not-authenticated", "authenticated", "selected", "logout" };
	return names[state];
}

static void write_line(struct imap_session *s, const char *prefix, const char *fmt, va_list ap)
{
	buf line;
	buf_init(&line);
	buf_puts(&line, prefix);
	buf_vprintf(&line, fmt, ap);
	buf_puts(&line, "\r\n");
	imap_write(s, line.data, line.len);
	buf_free(&line);
}

void imap_write(struct imap_session *s, const void *data, size_t len)
{
	if (s->job != NULL)
		buf_append(&s->out, data, len);
	else
		conn_write(s->conn, data, len);
}

bool imap_output_full(const struct imap_session *s)
{
	return s->job != NULL ? s->out.len > s->out_room : conn_output_full(s->conn);
}

void imap_reply(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	write_line(s, "", fmt, ap);
	va_end(ap);
}

void imap_tagged(struct imap_session *s, const char *tag, const char *fmt, ...)
{
	char *prefix = xasprintf("%s ", tag);
	va_list ap;
	va_start(ap, fmt);
	write_line(s, prefix, fmt, ap);
	va_end(ap);
	if (strncmp(fmt, "OK", 2) != 0) {
		va_start(ap, fmt);
		buf text;
		buf_init(&text);
		buf_vprintf(&text, fmt, ap);
		va_end(ap);
		log_info("session=%s imap reply state=%s reply=\"%s\"", conn_id(s->conn),
			 state_name(s->state), text.data);
		buf_free(&text);
	}
	free(prefix);
}

bool imap_auth_allowed(const struct imap_session *s)
{
	return login_plaintext_ok(&s->server->login, s->conn);
}

/* The capabilities of RFC 3501 7.2.1 for this moment: STARTTLS and the login methods before
 * login (LOGINDISABLED while passwords may not be sent), the extensions after. */
void imap_capabilities(const struct imap_session *s, buf *out)
{
	buf_puts(out, "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE "
		     "CHILDREN SPECIAL-USE CONDSTORE QRESYNC ESEARCH SEARCHRES SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES LIST-EXTENDED LIST-STATUS UTF8=ACCEPT BINARY STATUS=SIZE COMPRESS=DEFLATE "
		     "QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE");
	/* RFC 7889: the largest message APPEND takes, the same in every mailbox */
	buf_printf(out, " APPENDLIMIT=%llu", (unsigned long long)s->server->limits.max_literal);
	if (s->state != IMAP_STATE_NOT_AUTHENTICATED)
		return;
	if (!conn_is_tls(s->conn) && s->server->host.tls != NULL)
		buf_puts(out, " STARTTLS");
	if (!imap_auth_allowed(s)) {
		buf_puts(out, " LOGINDISABLED");
		return;
	}
	for (size_t i = 0; sasl_mechanisms[i] != NULL; i++)
		buf_printf(out, " AUTH=%s", sasl_mechanisms[i]);
}

/* The name list commands see: UTF-8 after ENABLE UTF8=ACCEPT (RFC 6855 3) or IMAP4rev2
 * (RFC 9051 5.1), else modified UTF-7. */
static bool utf8_names(const struct imap_session *s)
{
	return s->utf8 || s->rev2;
}

bool imap_arg_is_name(const struct imap_session *s, const struct imap_arg *a)
{
	const char *wire = imap_arg_astring(a);
	if (wire == NULL || strlen(wire) != a->len)
		return false;
	/* 8-bit octets are CHAR8, which only a literal carries, until UTF-8 is on */
	if (a->type == IMAP_ARG_LITERAL || utf8_names(s))
		return true;
	for (const char *p = wire; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return false;
	return true;
}

void imap_mailbox_refused(struct imap_session *s, const struct imap_cmd *cmd,
			  const struct imap_arg *a, const char *no_text)
{
	if (imap_arg_is_name(s, a))
		imap_tagged(s, cmd->tag, "NO %s", no_text);
	else
		imap_tagged(s, cmd->tag, "BAD Invalid mailbox name");
}

char *imap_arg_mailbox(const struct imap_session *s, const struct imap_arg *a)
{
	if (!imap_arg_is_name(s, a))
		return NULL;
	const char *wire = imap_arg_astring(a);
	buf name;
	buf_init(&name);
	/* UTF-8 is taken as it is; encoding it checks that it is valid */
	int r = utf8_names(s) ? imap_mutf7_encode(wire, &name) : imap_mutf7_decode(wire, &name);
	if (r >= 0 && utf8_names(s)) {
		buf_clear(&name);
		buf_puts(&name, wire);
	}
	/* one spelling per name however a client composed it: Net-Unicode's NFC (RFC 5198) */
	size_t len = 0;
	uint8_t *nfc = r < 0 ? NULL : u8_normalize(UNINORM_NFC, (const uint8_t *)name.data,
						   name.len + 1, NULL, &len);
	buf_free(&name);
	if (nfc != NULL)
		imap_inbox_canonical((char *)nfc);
	return (char *)nfc;
}

void imap_inbox_canonical(char *name)
{
	if (strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == '/'))
		memcpy(name, "INBOX", 5);
}

/* A name a client may give a new mailbox (in UTF-8, already checked valid): no control
 * characters, no U+0080..U+009F, U+2028 or U+2029 (RFC 6855 3), no wildcards, and "/" only
 * between non-empty levels that are not "." or "..", so no name can reach outside the
 * account whatever a later backend makes of it. */
bool imap_mailbox_name_valid(const char *name)
{
	if (*name == '\0' || strlen(name) > 255)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 32 || *p == 127 || *p == '*' || *p == '%' || *p == '\\' || *p == '"' ||
		    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) ||
		    (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)))
			return false;
	for (const char *level = name;;) {
		size_t n = strcspn(level, "/");
		if (n == 0 || (n == 1 && level[0] == '.') || (n == 2 && strncmp(level, "..", 2) == 0))
			return false;
		if (level[n] == '\0')
			return true;
		level += n + 1;
	}
}

const char *imap_missing_mailbox(const char *name)
{
	return imap_mailbox_name_valid(name) ? "[TRYCREATE] No such mailbox"
					     : "[CANNOT] No mailbox can have this name";
}

void imap_write_mailbox(const struct imap_session *s, buf *out, const char *name)
{
	buf wire;
	buf_init(&wire);
	if (utf8_names(s) || imap_mutf7_encode(name, &wire) < 0)
		buf_puts(&wire, name); /* stored names are UTF-8; this only guards a damaged one */
	imap_write_string(out, wire.data, wire.len);
	buf_free(&wire);
}

/* The system flags (RFC 3501 2.3.2) in the order they are written; the last, \Recent, is
 * never set by a client. */
static const struct {
	const char *name;
	uint32_t bit;
} system_flags[] = {
	{ "\\Seen", FLAG_SEEN },       { "\\Answered", FLAG_ANSWERED }, { "\\Flagged", FLAG_FLAGGED },
	{ "\\Deleted", FLAG_DELETED }, { "\\Draft", FLAG_DRAFT },       { "\\Recent", FLAG_RECENT },
};
#define SETTABLE_FLAGS (sizeof(system_flags) / sizeof(system_flags[0]) - 1)

void imap_write_flags(buf *out, uint32_t flags, const char *keywords)
{
	size_t start = out->len;
	buf_putc(out, '(');
	for (size_t i = 0; i < sizeof(system_flags) / sizeof(system_flags[0]); i++)
		if (flags & system_flags[i].bit)
			buf_printf(out, "%s%s", out->len > start + 1 ? " " : "", system_flags[i].name);
	if (keywords != NULL && *keywords != '\0')
		buf_printf(out, "%s%s", out->len > start + 1 ? " " : "", keywords);
	buf_putc(out, ')');
}

#define SYSTEM_FLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

/* Adds to the mailbox's keywords each of keywords it lacks; true when it added any. */
static bool learn_keywords(struct imap_mailbox *b, const char *keywords)
{
	bool added = false;
	for (const char *p = keywords != NULL ? keywords : ""; *p != '\0';) {
		size_t n = strcspn(p, " ");
		char *kw = xstrndup(p, n);
		if (!imap_has_keyword(b->keywords.data, kw)) {
			buf_printf(&b->keywords, "%s%s", b->keywords.len > 0 ? " " : "", kw);
			added = true;
		}
		free(kw);
		p += n;
		p += *p == ' ';
	}
	return added;
}

void imap_keywords_learn(struct imap_session *s, const char *keywords)
{
	learn_keywords(&s->box, keywords);
}

void imap_write_mailbox_flags(const struct imap_session *s, buf *out)
{
	const struct imap_mailbox *b = &s->box;
	const char *sep = b->keywords.len > 0 ? " " : "";
	buf_printf(out, "* FLAGS (" SYSTEM_FLAGS "%s%s)\r\n", sep, b->keywords.data);
	if (b->read_only)
		buf_puts(out, "* OK [PERMANENTFLAGS ()] Flags permitted\r\n");
	else
		buf_printf(out, "* OK [PERMANENTFLAGS (" SYSTEM_FLAGS "%s%s \\*)] Flags permitted\r\n",
			   sep, b->keywords.data);
}

void imap_keywords_announce(struct imap_session *s, const char *keywords, buf *out)
{
	if (keywords != NULL && *keywords != '\0' && learn_keywords(&s->box, keywords))
		imap_write_mailbox_flags(s, out);
}

/* True when keywords (space-separated) holds kw, case-insensitively (RFC 3501 2.3.2). */
bool imap_has_keyword(const char *keywords, const char *kw)
{
	size_t len = strlen(kw);
	for (const char *p = keywords; *p != '\0';) {
		size_t n = strcspn(p, " ");
		if (n == len && strncasecmp(p, kw, len) == 0)
			return true;
		p += n;
		p += *p == ' ';
	}
	return false;
}

/* flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword
 * flag-keyword = atom. Fills *bits and the keywords (space-separated, no duplicates);
 * returns -1 for \Recent or any other "\" flag. */
int imap_parse_flags(const struct imap_arg *args, size_t count, uint32_t *bits, buf *keywords)
{
	*bits = 0;
	for (size_t i = 0; i < count; i++) {
		if (args[i].type != IMAP_ARG_ATOM)
			return -1;
		const char *f = args[i].str;
		if (f[0] != '\\') {
			if (strpbrk(f, "]%*") != NULL)
				return -1;
			if (!imap_has_keyword(keywords->data, f))
				buf_printf(keywords, "%s%s", keywords->len > 0 ? " " : "", f);
			continue;
		}
		size_t j = 0;
		while (j < SETTABLE_FLAGS && strcasecmp(system_flags[j].name, f) != 0)
			j++;
		if (j == SETTABLE_FLAGS)
			return -1;
		*bits |= system_flags[j].bit;
	}
	return 0;
}

/* ---- the selected mailbox ---- */

/* Most messages have no keywords: they all share this one empty string rather than an
 * allocation each, which is most of an idle session's memory in a big mailbox. */
static char no_keywords[] = "";

void imap_message_keywords(struct imap_message *m, char *keywords)
{
	if (m->keywords != no_keywords)
		free(m->keywords);
	if (keywords == NULL || *keywords == '\0') {
		free(keywords);
		keywords = no_keywords;
	}
	m->keywords = keywords;
}

static void message_set(struct imap_message *m, struct message *from)
{
	m->uid = from->uid;
	m->flags = from->flags | (m->flags & FLAG_RECENT); /* \Recent is the session's own */
	imap_message_keywords(m, from->keywords);
	from->keywords = NULL;
	m->modseq = from->modseq;
	m->size = from->size;
	m->internal_date = from->internal_date;
}

void imap_mailbox_close(struct imap_session *s)
{
	for (size_t i = 0; i < s->box.count; i++)
		imap_message_keywords(&s->box.messages[i], NULL);
	free(s->box.messages);
	free(s->box.name);
	free(s->box.pending);
	free(s->box.saved); /* RFC 9051 6.4.4.1: "$" is empty again in a newly selected mailbox */
	buf keywords = s->box.keywords; /* kept for the next mailbox, empty */
	buf_clear(&keywords);
	memset(&s->box, 0, sizeof(s->box));
	s->box.keywords = keywords;
	if (s->state == IMAP_STATE_SELECTED)
		s->state = IMAP_STATE_AUTHENTICATED;
}

bool imap_saved_contains(const struct imap_mailbox *b, uint32_t uid)
{
	size_t lo = 0, hi = b->saved_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->saved[mid] == uid)
			return true;
		if (b->saved[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

ssize_t imap_index_of_uid(const struct imap_mailbox *b, uint32_t uid)
{
	size_t lo = 0, hi = b->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->messages[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->count && b->messages[lo].uid == uid ? (ssize_t)lo : -1;
}

void imap_write_uid_set(buf *out, const uint32_t *uids, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		buf_printf(out, i > 0 ? ",%u" : "%u", uids[i]);
		if (j > i)
			buf_printf(out, ":%u", uids[j]);
		i = j + 1;
	}
}

void imap_send_flags(struct imap_session *s, size_t index)
{
	const struct imap_message *m = &s->box.messages[index];
	buf line;
	buf_init(&line);
	/* with UID always: RFC 9051 7.5.2 asks it of every unsolicited FETCH */
	imap_keywords_announce(s, m->keywords, &line);
	buf_printf(&line, "* %zu FETCH (UID %u ", index + 1, m->uid);
	if (s->condstore)
		buf_printf(&line, "MODSEQ (%" PRIu64 ") ", m->modseq);
	buf_puts(&line, "FLAGS ");
	imap_write_flags(&line, m->flags, m->keywords);
	buf_puts(&line, ")\r\n");
	imap_write(s, line.data, line.len);
	buf_free(&line);
}

void imap_send_vanished(struct imap_session *s, bool earlier, const uint32_t *uids, size_t n)
{
	if (n == 0)
		return;
	buf line;
	buf_init(&line);
	buf_puts(&line, earlier ? "* VANISHED (EARLIER) " : "* VANISHED ");
	imap_write_uid_set(&line, uids, n);
	imap_reply(s, "%s", line.data);
	buf_free(&line);
}

/* Announces the pending removals still in the view and takes them out: one EXPUNGE each
 * (RFC 3501 7.4.1), or one VANISHED after QRESYNC (RFC 7162 3.2.10). */
static void announce_expunges(struct imap_session *s)
{
	struct imap_mailbox *b = &s->box;
	uint32_t *uids = xcalloc(b->pending_count + 1, sizeof(*uids));
	size_t n = 0;
	for (size_t i = 0; i < b->pending_count; i++) {
		ssize_t at = imap_index_of_uid(b, b->pending[i]);
		if (at >= 0) {
			uids[n++] = b->pending[i];
			b->messages[at].uid = 0; /* marked; compacted below */
		}
	}
	if (s->qresync)
		imap_send_vanished(s, false, uids, n);
	size_t kept = 0;
	for (size_t i = 0; i < b->count; i++) {
		if (b->messages[i].uid != 0) {
			b->messages[kept++] = b->messages[i];
			continue;
		}
		/* each EXPUNGE renumbers the rest at once: this one is now number kept + 1 */
		if (!s->qresync)
			imap_reply(s, "* %zu EXPUNGE", kept + 1);
		imap_message_keywords(&b->messages[i], NULL);
	}
	b->count = kept;
	xfree(&b->pending);
	b->pending_count = 0;
	free(uids);
}

/* Marks \Recent on the messages from index from on that the session holds as recent: taken
 * from the store by a SELECT (the first session told of a message has it recent), seen from
 * recent_uid on by an EXAMINE, which takes nothing (RFC 3501 6.3.2). */
static void mark_recent(struct imap_session *s, size_t from)
{
	struct imap_mailbox *b = &s->box;
	if (from >= b->count || s->rev2)
		return;
	if (b->takes_recent) {
		char *error = NULL;
		if (store_folder_take_recent(s->store, b->folder_id,
					     b->messages[b->count - 1].uid + 1, &b->recent_uid, &error) < 0) {
			log_error("session=%s imap cannot take recent messages: %s", conn_id(s->conn), error);
			free(error);
			return;
		}
	}
	for (size_t i = from; i < b->count; i++)
		if (b->messages[i].uid >= b->recent_uid)
			b->messages[i].flags |= FLAG_RECENT;
}

/* Brings the view up to date from what changed in the store since the last sync (by
 * modseq, so an unchanged mailbox costs one primary-key lookup and a big one only its
 * changes): removals become pending and are announced when expunges is true, changed flags
 * go out as FETCH, new messages join the view and EXISTS says so (with RECENT for
 * IMAP4rev1, RFC 3501 7.3.2). */
/* The selected mailbox is gone from the store (deleted by another session or the command
 * line, maybe made again under its name): every message of it is gone (RFC 9051 5.2), and
 * the session stays selected on the empty mailbox. */
static void mark_deleted(struct imap_mailbox *b)
{
	if (b->deleted)
		return;
	b->deleted = true;
	b->pending = xrealloc(b->pending, (b->pending_count + b->count + 1) * sizeof(*b->pending));
	for (size_t i = 0; i < b->count; i++)
		b->pending[b->pending_count++] = b->messages[i].uid;
}

void imap_mailbox_check_gone(struct imap_session *s)
{
	uint64_t modseq;
	char *error = NULL;
	if (s->state != IMAP_STATE_SELECTED || s->box.deleted)
		return;
	int r = store_folder_modseq(s->store, s->box.folder_id, &modseq, &error);
	if (r == 0)
		mark_deleted(&s->box);
	free(error);
}

void imap_mailbox_sync(struct imap_session *s, bool expunges)
{
	if (s->state != IMAP_STATE_SELECTED)
		return;
	struct imap_mailbox *b = &s->box;
	struct message *list = NULL;
	uint32_t *gone = NULL;
	size_t count = 0, gone_count = 0;
	uint64_t modseq = 0;
	char *error = NULL;
	/* read before the changes, so a change made in between is seen again next time */
	int r = store_folder_modseq(s->store, b->folder_id, &modseq, &error);
	if (r == 0) {
		mark_deleted(b);
		if (expunges && b->pending_count > 0)
			announce_expunges(s);
		return;
	}
	if (r >= 0 && b->modseq == 0) /* just selected: everything, and nothing to forget */
		r = store_message_list(s->store, b->folder_id, &list, &count, &error);
	else if (r >= 0 && modseq != b->modseq)
		r = store_folder_changes(s->store, b->folder_id, b->modseq, &list, &count, &gone,
					 &gone_count, &error);
	if (r < 0) {
		log_error("session=%s imap sync failed: %s", conn_id(s->conn), error);
		free(error);
		return;
	}
	b->modseq = modseq;
	if (gone_count > 0) {
		b->pending = xrealloc(b->pending, (b->pending_count + gone_count) * sizeof(*b->pending));
		memcpy(b->pending + b->pending_count, gone, gone_count * sizeof(*gone));
		b->pending_count += gone_count;
	}
	if (expunges && b->pending_count > 0)
		announce_expunges(s);
	size_t kept = b->count;
	uint32_t last_uid = b->count > 0 ? b->messages[b->count - 1].uid : 0;
	for (size_t j = 0; j < count; j++) {
		ssize_t at = imap_index_of_uid(b, list[j].uid);
		if (at >= 0) {
			struct imap_message *m = &b->messages[at];
			bool changed = list[j].flags != (m->flags & ~(uint32_t)FLAG_RECENT) ||
				       strcmp(list[j].keywords, m->keywords) != 0;
			message_set(m, &list[j]);
			if (changed)
				imap_send_flags(s, (size_t)at);
		} else if (list[j].uid > last_uid) { /* UIDs only grow: new, in UID order */
			b->messages = xrealloc(b->messages, (b->count + 1) * sizeof(*b->messages));
			memset(&b->messages[b->count], 0, sizeof(*b->messages));
			message_set(&b->messages[b->count++], &list[j]);
		}
		message_clear(&list[j]);
	}
	free(list);
	free(gone);
	if (b->count > 0 && b->messages[b->count - 1].uid >= b->uidnext)
		b->uidnext = b->messages[b->count - 1].uid + 1;
	mark_recent(s, kept);
	/* EXISTS for new messages; after expunges alone the count is known (RFC 3501 7.4.1) */
	if (b->count > kept) {
		imap_reply(s, "* %zu EXISTS", b->count);
		if (!s->rev2)
			imap_reply(s, "* %zu RECENT", imap_recent_count(b));
	}
}

size_t imap_recent_count(const struct imap_mailbox *b)
{
	size_t recent = 0;
	for (size_t i = 0; i < b->count; i++)
		recent += (b->messages[i].flags & FLAG_RECENT) != 0;
	return recent;
}

/* A set that names messages of a mailbox deleted meanwhile: NO, and no indexes. */
static int named_of_gone(struct imap_session *s, const struct imap_cmd *cmd, size_t **idx_r,
			 size_t *count_r)
{
	if (*count_r == 0 || imap_mailbox_gone(s, cmd) == 0)
		return 0;
	free(*idx_r);
	*idx_r = NULL;
	*count_r = 0;
	return -1;
}

int imap_seqset_indexes(struct imap_session *s, const struct imap_cmd *cmd, const char *text,
			size_t **idx_r, size_t *count_r)
{
	struct imap_seqset set;
	*idx_r = NULL;
	*count_r = 0;
	struct imap_mailbox *b = &s->box;
	if (strcmp(text, "$") == 0) {
		size_t *idx = xcalloc(b->count + 1, sizeof(*idx));
		for (size_t i = 0; i < b->count; i++)
			if (imap_saved_contains(b, b->messages[i].uid))
				idx[(*count_r)++] = i;
		*idx_r = idx;
		return named_of_gone(s, cmd, idx_r, count_r);
	}
	if (imap_seqset_parse(text, IMAP_SEQSET_MAX_RANGES, &set) < 0) {
		imap_tagged(s, cmd->tag, "BAD Invalid sequence set");
		return -1;
	}
	/* RFC 3501 6.4.8: "*" is the highest UID in the mailbox; an empty one has none, and a
	 * UID range then matches nothing. */
	uint32_t star = cmd->uid ? (b->count > 0 ? b->messages[b->count - 1].uid : 0) : (uint32_t)b->count;
	if (!cmd->uid) {
		for (size_t i = 0; i < set.count; i++)
			if ((!set.ranges[i].hi_star && set.ranges[i].hi > b->count) ||
			    (set.ranges[i].lo_star && b->count == 0)) {
				imap_seqset_free(&set);
				imap_tagged(s, cmd->tag, "BAD Invalid message sequence number");
				return -1;
			}
	}
	imap_seqset_resolve(&set, star);
	size_t *idx = xcalloc(b->count + 1, sizeof(*idx));
	size_t n = 0;
	for (size_t i = 0; i < b->count; i++)
		if (imap_seqset_contains(&set, cmd->uid ? b->messages[i].uid : (uint32_t)(i + 1)))
			idx[n++] = i;
	imap_seqset_free(&set);
	*idx_r = idx;
	*count_r = n;
	return named_of_gone(s, cmd, idx_r, count_r);
}

int imap_mailbox_gone(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (!s->box.deleted)
		return 0;
	imap_tagged(s, cmd->tag, "NO [NONEXISTENT] The mailbox was deleted meanwhile");
	return -1;
}

/* ---- the session ---- */

void imap_session_free(struct service_link *l)
{
	struct imap_session *s = (struct imap_session *)l;
	imap_mailbox_close(s);
	buf_free(&s->box.keywords);
	login_exchange_free(&s->auth);
	imap_idle_end(s);
	if (s->idle_timer != NULL)
		event_free(s->idle_timer);
	service_session_close(&s->server->host, &s->link, &s->conn);
	imap_append_discard(s);
	imap_frame_free(&s->frame);
	if (s->steps.done != NULL)
		s->steps.done(s->steps.state);
	buf_free(&s->out);
	free(s->user);
	free(s->tag);
	free(s);
}

void imap_session_close(struct imap_session *s)
{
	s->state = IMAP_STATE_LOGOUT;
	if (s->job != NULL)
		s->close_after_job = true; /* the connection is the loop's */
	else
		conn_close(s->conn);
}

static const struct imap_command_def *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void imap_run_command(struct imap_session *s, const struct imap_command_def *def,
		      const struct imap_cmd *cmd)
{
	/* a mailbox deleted elsewhere is seen by every command alike, before it runs */
	if (def->gates & GATE_SELECTED)
		imap_mailbox_check_gone(s);
	def->handler(s, cmd);
}

/* Runs one parsed command through the table and its gates: on a store worker when it uses
 * the store (taking c over), else at once. */
static void dispatch(struct imap_session *s, struct imap_command *c)
{
	struct imap_cmd cmd = { c->tag, c->name, c->args, c->count, false, true };
	if (strcmp(c->name, "UID") == 0) {
		/* uid = "UID" SP (copy / move / fetch / search / store / uid-expunge) */
		if (c->count == 0 || c->args[0].type != IMAP_ARG_ATOM) {
			imap_tagged(s, c->tag, "BAD UID needs a command");
			return;
		}
		cmd.uid = true;
		cmd.args = c->args + 1;
		cmd.count = c->count - 1;
		for (char *p = c->args[0].str; *p != '\0'; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		cmd.name = c->args[0].str;
	}
	const struct imap_command_def *def = find_command(cmd.name);
	if (def == NULL || (cmd.uid && !(def->gates & GATE_UID))) {
		imap_tagged(s, c->tag, "BAD Unknown command %s%s", cmd.uid ? "UID " : "", cmd.name);
		return;
	}
	if (cmd.count < def->min_args || cmd.count > def->max_args) {
		imap_tagged(s, c->tag, "BAD Wrong number of arguments for %s", def->name);
		return;
	}
	unsigned g = def->gates;
	cmd.expunges = !(g & GATE_NO_EXPUNGE) || cmd.uid;
	if ((g & GATE_NOT_AUTH) && s->state != IMAP_STATE_NOT_AUTHENTICATED) {
		imap_tagged(s, c->tag, "BAD Already authenticated");
		return;
	}
	if ((g & GATE_AUTH) && s->state == IMAP_STATE_NOT_AUTHENTICATED) {
		imap_tagged(s, c->tag, "BAD Log in first");
		return;
	}
	if ((g & GATE_SELECTED) && s->state != IMAP_STATE_SELECTED) {
		imap_tagged(s, c->tag, "BAD No mailbox selected");
		return;
	}
	if ((g & GATE_STORE) && s->state != IMAP_STATE_NOT_AUTHENTICATED) {
		imap_job_command(s, def, c, &cmd);
		return;
	}
	imap_run_command(s, def, &cmd);
	if (g & GATE_WRITES)
		imap_wake_idlers(s->server, s->user_id, s);
}

/* The limits of the moment: a client that has not logged in gets the small ones. */
static const struct imap_limits *limits(const struct imap_session *s)
{
	return s->state == IMAP_STATE_NOT_AUTHENTICATED ? &s->server->login_limits : &s->server->limits;
}

void imap_next_command(struct imap_session *s)
{
	imap_frame_reset(&s->frame);
	imap_append_discard(s);
}

/* Parses the framed command and dispatches it; bad syntax gets BAD and the session goes on. */
static void handle_command(struct imap_session *s)
{
	struct imap_command c;
	const char *error = NULL;
	if (imap_parse_framed(&s->frame, limits(s), &c, &error) < 0) {
		if (c.tag != NULL)
			imap_tagged(s, c.tag, "BAD %s", error);
		else
			imap_reply(s, "* BAD %s", error);
		imap_command_free(&c);
		return;
	}
	dispatch(s, &c);
	imap_command_free(&c);
}

/* Answers a command the framing gave up on (a bound broken) with BAD, by its tag when it
 * has one, and goes on with the next. */
static void refuse_command(struct imap_session *s, const char *text)
{
	size_t tag_len = imap_frame_tag_length(&s->frame);
	s->frame.cmd.data[tag_len] = '\0';
	imap_tagged(s, tag_len > 0 ? s->frame.cmd.data : "*", "BAD [TOOBIG] %s", text);
	imap_next_command(s);
}

/* A literal over a bound. A synchronizing one is refused with the command, which the client
 * drops (RFC 7888 4); after a non-synchronizing one too big to skip the stream cannot be
 * followed: BYE. */
static void literal_too_big(struct imap_session *s, bool sync)
{
	if (!sync) {
		imap_reply(s, "* BYE [TOOBIG] Literal too big");
		imap_session_close(s);
		return;
	}
	refuse_command(s, "Literal too big");
}

/* A line or command over its bound, skipped to its end. Inside IDLE it is no DONE; a SASL
 * response cut short cannot be judged: AUTHENTICATE ends with BAD, the session goes on. */
static void command_too_long(struct imap_session *s)
{
	if (s->wait == IMAP_WAIT_SASL) {
		imap_auth_too_long(s);
		imap_next_command(s);
	} else if (s->wait == IMAP_WAIT_IDLE) {
		imap_idle_line(s, "", 0);
		imap_next_command(s);
	} else {
		refuse_command(s, "Command line or literal too long");
	}
}

/* A literal too big to hold was announced: only APPEND's message may be one, and it goes to
 * a spool file as it arrives. */
static void literal_announced(struct imap_session *s)
{
	if (s->state == IMAP_STATE_NOT_AUTHENTICATED || s->wait != IMAP_WAIT_NONE ||
	    !imap_frame_is_command(&s->frame, "APPEND") || !imap_append_stream_begin(s)) {
		if (s->frame.literal_sync)
			literal_too_big(s, true);
		else
			imap_frame_skip_literal(&s->frame); /* TOOLONG at the command's end */
		return;
	}
	if (s->frame.literal_sync)
		imap_reply(s, "+ OK");
}

/* Takes what has arrived through the framing until a whole command or line is there, while
 * the replies do not wait for the client to read them. */
static void take_input(struct imap_session *s)
{
	struct conn *c = s->conn;
	struct evbuffer *in;
	/* the input is asked for each time: after COMPRESS it comes from another layer */
	while (!conn_is_closed(c) && s->state != IMAP_STATE_LOGOUT && s->wait != IMAP_WAIT_BUSY &&
	       s->job == NULL && s->steps.step == NULL && !s->server->host.stopping && !conn_output_full(c) &&
	       evbuffer_get_length(in = conn_input(c)) > 0) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		if (s->frame.streaming) {
			size_t n = v.iov_len < s->frame.literal_left ? v.iov_len : (size_t)s->frame.literal_left;
			imap_append_stream(s, v.iov_base, n);
			evbuffer_drain(in, n);
			imap_frame_literal_taken(&s->frame, n);
			continue;
		}
		size_t used = 0;
		enum imap_frame_result r = imap_frame_feed(&s->frame, limits(s), v.iov_base, v.iov_len,
							   &used);
		evbuffer_drain(in, used);
		if (r == IMAP_FRAME_MORE)
			continue;
		if (r == IMAP_FRAME_CONTINUE) {
			imap_reply(s, "+ OK");
			continue;
		}
		if (r == IMAP_FRAME_LITERAL) {
			literal_announced(s);
			continue;
		}
		if (r == IMAP_FRAME_REFUSED || r == IMAP_FRAME_FATAL) {
			literal_too_big(s, r == IMAP_FRAME_REFUSED);
			continue;
		}
		if (r == IMAP_FRAME_TOOLONG) {
			command_too_long(s);
			continue;
		}
		/* IMAP_FRAME_DONE */
		if (s->wait == IMAP_WAIT_SASL || s->wait == IMAP_WAIT_IDLE) {
			size_t len = s->frame.cmd.len;
			while (len > 0 && (s->frame.cmd.data[len - 1] == '\n' || s->frame.cmd.data[len - 1] == '\r'))
				len--;
			s->frame.cmd.data[len] = '\0';
			if (s->wait == IMAP_WAIT_SASL)
				imap_auth_response(s, s->frame.cmd.data, len);
			else
				imap_idle_line(s, s->frame.cmd.data, len);
		} else {
			handle_command(s);
			if (s->job != NULL)
				continue; /* the job ends the command */
		}
		imap_next_command(s);
	}
}

static void session_input(struct conn *c, void *ctx)
{
	struct imap_session *s = ctx;
	take_input(s);
	conn_command_partial(c, imap_frame_in_line(&s->frame));
}

void imap_run_steps(struct imap_session *s, bool (*step)(struct imap_session *s, void *state),
		    void (*done)(void *state), void *state)
{
	if (step(s, state)) {
		done(state);
		return;
	}
	s->steps = (struct imap_steps){ step, done, state };
}

/* The output drained: the answer in steps goes on, its next step on a worker; once it has
 * finished, the commands waiting behind it follow (on_input). */
static void session_drained(struct conn *c, void *ctx)
{
	struct imap_session *s = ctx;
	if (s->job != NULL || s->steps.step == NULL || conn_is_closed(c) || conn_output_full(c))
		return;
	imap_job_step(s);
}

void imap_session_resume(struct imap_session *s)
{
	if (s->gone) {
		imap_session_free(&s->link);
		return;
	}
	conn_resume(s->conn);
}

static void session_timeout(struct conn *c, void *ctx)
{
	struct imap_session *s = ctx;
	if (s->wait == IMAP_WAIT_BUSY || s->job != NULL)
		return; /* our own work is slow, not the client */
	log_info("session=%s imap timeout state=%s", conn_id(c), state_name(s->state));
	imap_reply(s, "* BYE Autologout: time limit exceeded");
	imap_session_close(s);
}

static void session_closed(struct conn *c, void *ctx)
{
	struct imap_session *s = ctx;
	log_info("session=%s imap disconnect ip=%s user=%s", conn_id(c), conn_peer_ip(c),
		 s->user != NULL ? s->user : "-");
	if (s->wait == IMAP_WAIT_BUSY || s->job != NULL) {
		s->gone = true; /* the password check, failure delay or job finishes first */
		return;
	}
	imap_session_free(&s->link);
}

static const struct conn_handler imap_conn_handler = {
	.on_input = session_input,
	.on_timeout = session_timeout,
	.on_close = session_closed,
	.on_drained = session_drained,
};

/* RFC 3501 7.1.5: a server that will not serve greets with BYE and closes. */
void imap_session_refuse(struct service_link *l, enum service_admission why)
{
	struct imap_session *s = (struct imap_session *)l;
	imap_reply(s, "* BYE [UNAVAILABLE] %s", why == SERVICE_TOO_MANY_FROM_IP
		   ? "Too many connections from your address" : "Too many connections, try again later");
	imap_session_close(s);
}

void imap_session_start(struct imap_server *srv, const struct service_port *port, int fd,
			const struct sockaddr *sa)
{
	struct imap_session *s = xcalloc(1, sizeof(*s));
	s->server = srv;
	s->state = IMAP_STATE_NOT_AUTHENTICATED;
	buf_init(&s->box.keywords);
	imap_frame_init(&s->frame);
	enum service_admission admission;
	s->conn = service_session_open(&srv->host, &s->link, port, fd, sa, &imap_conn_handler, s,
				       &admission);
	if (admission != SERVICE_ADMITTED) {
		imap_session_refuse(&s->link, admission);
		return;
	}
	buf caps;
	buf_init(&caps);
	imap_capabilities(s, &caps);
	imap_reply(s, "* OK [CAPABILITY %s] %s estafeta IMAP ready", caps.data, srv->host.hostname);
	buf_free(&caps);
}
