/* STORE and UID STORE (RFC 3501 6.4.6): changing the flags of messages. */
#include "imap/imap.h"
#include "core/log.h"
#include "core/xalloc.h"
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

/* store           = "STORE" SP sequence-set SP store-att-flags
 * store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag))) */
void imap_cmd_store(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *set = imap_arg_astring(&cmd->args[0]);
	const struct imap_arg *item = &cmd->args[1];
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
	const struct imap_arg *flags = &cmd->args[2];
	size_t flag_count = cmd->count - 2;
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
	size_t *idx = NULL, n = 0;
	if (s->box.read_only) {
		imap_tagged(s, cmd->tag, "NO [READ-ONLY] Mailbox is read-only");
	} else if (imap_seqset_indexes(s, cmd, set, &idx, &n) == 0) {
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
		if (store_flags_update(s->server->store, s->box.folder_id, up, n, &modseq, &error) < 0) {
			log_error("session=%s imap store failed: %s", conn_id(s->conn), error);
			free(error);
			imap_tagged(s, cmd->tag, "NO [SERVERBUG] Cannot store flags, try again later");
		} else {
			buf line;
			buf_init(&line);
			for (size_t i = 0; i < n; i++) {
				struct imap_message *m = &s->box.messages[idx[i]];
				m->flags = up[i].flags;
				free(m->keywords);
				m->keywords = kws[i];
				kws[i] = NULL;
				m->modseq = modseq;
				if (silent)
					continue;
				buf_clear(&line);
				buf_printf(&line, "* %zu FETCH (FLAGS ", idx[i] + 1);
				imap_write_flags(&line, m->flags, m->keywords);
				if (cmd->uid)
					buf_printf(&line, " UID %u", m->uid);
				buf_puts(&line, ")\r\n");
				conn_write(s->conn, line.data, line.len);
			}
			buf_free(&line);
			imap_mailbox_sync(s, cmd->expunges);
			imap_tagged(s, cmd->tag, "OK %sSTORE completed", cmd->uid ? "UID " : "");
		}
		for (size_t i = 0; i < n; i++)
			free(kws[i]);
		free(kws);
		free(up);
	}
	free(idx);
	buf_free(&keywords);
}
