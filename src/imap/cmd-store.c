/* STORE and UID STORE (RFC 3501 6.4.6): changing the flags of messages. */
#include "imap/imap.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The keywords of old changed by op ('+' add, '-' remove, else replace) with given. */
static char *keywords_apply(const char *old, char op, const char *given)
{
	buf out;
	buf_init(&out);
	if (op == '+' || op == '-') {
		for (const char *p = old; *p != '\0';) {
			size_t n = strcspn(p, " ");
			char *kw = xstrndup(p, n);
			if (op == '+' || !imap_has_keyword(given, kw))
				buf_printf(&out, "%s%s", out.len > 0 ? " " : "", kw);
			free(kw);
			p += n;
			p += *p == ' ';
		}
	}
	if (op != '-') {
		for (const char *p = given; *p != '\0';) {
			size_t n = strcspn(p, " ");
			char *kw = xstrndup(p, n);
			if (!imap_has_keyword(out.data, kw))
				buf_printf(&out, "%s%s", out.len > 0 ? " " : "", kw);
			free(kw);
			p += n;
			p += *p == ' ';
		}
	}
	return buf_steal(&out);
}

/* The [MODIFIED ...] response code for the messages that failed UNCHANGEDSINCE: sequence
 * numbers, or UIDs for UID STORE (RFC 7162 3.1.3). */
static void modified_code(struct imap_session *s, bool uid, const size_t *idx, size_t n, buf *out)
{
	uint32_t *nums = xcalloc(n + 1, sizeof(*nums));
	for (size_t i = 0; i < n; i++)
		nums[i] = uid ? s->box.messages[idx[i]].uid : (uint32_t)idx[i] + 1;
	buf_puts(out, "[MODIFIED ");
	imap_write_uid_set(out, nums, n);
	buf_puts(out, "] ");
	free(nums);
}

/* Writes "* n FETCH (FLAGS ...)" for a message just stored: without FLAGS when silent (then
 * only for the MODSEQ that CONDSTORE needs), with UID for UID STORE. */
static void store_response(struct imap_session *s, size_t i, bool uid, bool silent, buf *line)
{
	const struct imap_message *m = &s->box.messages[i];
	buf_clear(line);
	if (!silent)
		imap_keywords_announce(s, m->keywords, line);
	buf_printf(line, "* %zu FETCH (", i + 1);
	if (!silent) {
		buf_puts(line, "FLAGS ");
		imap_write_flags(line, m->flags, m->keywords);
	}
	if (uid)
		buf_printf(line, "%sUID %u", silent ? "" : " ", m->uid);
	if (s->condstore)
		buf_printf(line, "%sMODSEQ (%" PRIu64 ")", silent && !uid ? "" : " ", m->modseq);
	buf_puts(line, ")\r\n");
	imap_write(s, line->data, line->len);
}

/* store           = "STORE" SP sequence-set [SP "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"]
 *                   SP store-att-flags
 * store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag))) */
void imap_cmd_store(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *set = imap_arg_astring(&cmd->args[0]);
	size_t at = 1;
	bool conditional = false;
	uint64_t unchangedsince = 0;
	if (cmd->args[1].type == IMAP_ARG_LIST) {
		const struct imap_arg *mods = &cmd->args[1];
		if (cmd->count < 4 || mods->count != 2 || !imap_arg_atom_is(&mods->list[0], "UNCHANGEDSINCE") ||
		    !imap_parse_modseq(&mods->list[1], true, &unchangedsince)) {
			imap_tagged(s, cmd->tag, "BAD Invalid STORE modifier");
			return;
		}
		conditional = true;
		at = 2;
	}
	const struct imap_arg *item = &cmd->args[at];
	if (set == NULL || item->type != IMAP_ARG_ATOM) {
		imap_tagged(s, cmd->tag, "BAD STORE takes a sequence set, an item and flags");
		return;
	}
	const char *name = item->str;
	char op = name[0] == '+' || name[0] == '-' ? name[0] : '=';
	name += op != '=';
	bool silent = strcasecmp(name, "FLAGS.SILENT") == 0;
	if (!silent && strcasecmp(name, "FLAGS") != 0) {
		imap_tagged(s, cmd->tag, "BAD Unknown STORE item");
		return;
	}
	const struct imap_arg *flags = &cmd->args[at + 1];
	size_t flag_count = cmd->count - at - 1;
	if (flags->type == IMAP_ARG_LIST) {
		flag_count = flags->count;
		flags = flags->list;
	}
	uint32_t bits;
	buf keywords;
	buf_init(&keywords);
	if (imap_parse_flags(flags, flag_count, &bits, &keywords) < 0) {
		buf_free(&keywords);
		imap_tagged(s, cmd->tag, "BAD Invalid flag");
		return;
	}
	if (conditional)
		imap_condstore_on(s);
	size_t *idx = NULL, n = 0;
	if (s->box.read_only) {
		imap_tagged(s, cmd->tag, "NO [READ-ONLY] Mailbox is read-only");
	} else if (imap_seqset_indexes(s, cmd, set, &idx, &n) == 0) {
		/* the messages changed since the client's modseq are left alone (RFC 7162 3.1.3) */
		size_t *failed = xcalloc(n + 1, sizeof(*failed)), failed_count = 0, kept = 0;
		for (size_t i = 0; i < n; i++)
			if (conditional && s->box.messages[idx[i]].modseq > unchangedsince)
				failed[failed_count++] = idx[i];
			else
				idx[kept++] = idx[i];
		n = kept;
		struct flag_update *up = xcalloc(n + 1, sizeof(*up));
		char **kws = xcalloc(n + 1, sizeof(*kws));
		for (size_t i = 0; i < n; i++) {
			const struct imap_message *m = &s->box.messages[idx[i]];
			up[i].uid = m->uid;
			up[i].flags = op == '+' ? m->flags | bits : op == '-' ? m->flags & ~bits : bits;
			kws[i] = keywords_apply(m->keywords, op, keywords.data);
			up[i].keywords = kws[i];
		}
		uint64_t modseq;
		char *error = NULL;
		if (n > 0 && store_flags_update(s->store, s->box.folder_id, up, n, &modseq, &error) < 0) {
			log_error("session=%s imap store failed: %s", conn_id(s->conn), error);
			free(error);
			imap_tagged(s, cmd->tag, "NO [SERVERBUG] Cannot store flags, try again later");
		} else {
			buf line;
			buf_init(&line);
			for (size_t i = 0; i < n; i++) {
				struct imap_message *m = &s->box.messages[idx[i]];
				m->flags = up[i].flags | (m->flags & FLAG_RECENT); /* not stored, not settable */
				imap_message_keywords(m, kws[i]);
				kws[i] = NULL;
				m->modseq = modseq;
				if (!silent || conditional)
					store_response(s, idx[i], cmd->uid, silent, &line);
			}
			buf_clear(&line);
			if (failed_count > 0)
				modified_code(s, cmd->uid, failed, failed_count, &line);
			imap_mailbox_sync(s, cmd->expunges);
			imap_tagged(s, cmd->tag, "OK %s%sSTORE completed", line.data, cmd->uid ? "UID " : "");
			buf_free(&line);
		}
		for (size_t i = 0; i < n; i++)
			free(kws[i]);
		free(kws);
		free(up);
		free(failed);
	}
	free(idx);
	buf_free(&keywords);
}
