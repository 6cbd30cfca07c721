/* The commands valid in any state, or with no state of their own: CAPABILITY, NOOP and CHECK,
 * LOGOUT (RFC 3501 6.1, 6.4.1), ID (RFC 2971) and ENABLE (RFC 5161). */
#include "imap/imap.h"
#include "core/log.h"
#include <string.h>

/* capability = "CAPABILITY" */
void imap_cmd_capability(struct imap_session *s, const struct imap_cmd *cmd)
{
	buf caps;
	buf_init(&caps);
	imap_capabilities(s, &caps);
	imap_reply(s, "* CAPABILITY %s", caps.data);
	buf_free(&caps);
	imap_tagged(s, cmd->tag, "OK Capability completed");
}

/* noop = "NOOP"; check = "CHECK". Both are the moment to hear what other sessions and new
 * mail changed (RFC 3501 6.1.2); CHECK has nothing else to do, as every change is already
 * durable. */
void imap_cmd_noop(struct imap_session *s, const struct imap_cmd *cmd)
{
	imap_mailbox_sync(s, true);
	imap_tagged(s, cmd->tag, "OK %s completed", cmd->name[0] == 'C' ? "Check" : "Noop");
}

/* logout = "LOGOUT" */
void imap_cmd_logout(struct imap_session *s, const struct imap_cmd *cmd)
{
	imap_reply(s, "* BYE Logging out");
	imap_tagged(s, cmd->tag, "OK Logout completed");
	imap_session_close(s);
}

/* id             = "ID" SP id-params-list
 * id-params-list = "(" *(string SP nstring) ")" / nil
 * The client's identification goes to the log (one line, for support); ours is the name only,
 * as RFC 2971 7 suggests a server say little. */
void imap_cmd_id(struct imap_session *s, const struct imap_cmd *cmd)
{
	const struct imap_arg *a = &cmd->args[0];
	if (a->type != IMAP_ARG_LIST && !imap_arg_atom_is(a, "NIL")) {
		imap_tagged(s, cmd->tag, "BAD ID takes a list or NIL");
		return;
	}
	buf info;
	buf_init(&info);
	for (size_t i = 0; a->type == IMAP_ARG_LIST && i + 1 < a->count && i < 60; i += 2) {
		const char *k = imap_arg_astring(&a->list[i]), *v = imap_arg_astring(&a->list[i + 1]);
		if (k == NULL || v == NULL)
			continue;
		buf_printf(&info, " %.30s=\"", k);
		for (const char *p = v; *p != '\0' && p - v < 100; p++)
			buf_putc(&info, *p >= 32 && *p < 127 && *p != '"' ? *p : '?');
		buf_putc(&info, '"');
	}
	if (info.len > 0)
		log_info("session=%s imap id%s", conn_id(s->conn), info.data);
	buf_free(&info);
	imap_reply(s, "* ID (\"name\" \"estafeta\")");
	imap_tagged(s, cmd->tag, "OK ID completed");
}

/* enable      = "ENABLE" 1*(SP capability)
 * enable-data = "ENABLED" *(SP capability)
 * CONDSTORE, QRESYNC (which implies CONDSTORE, RFC 7162 3.2.3), UTF8=ACCEPT (RFC 6855) and
 * IMAP4rev2 (RFC 9051 A) can be enabled; others are ignored (RFC 5161 3.1). Only what this
 * command newly enabled is listed. */
void imap_cmd_enable(struct imap_session *s, const struct imap_cmd *cmd)
{
	for (size_t i = 0; i < cmd->count; i++)
		if (cmd->args[i].type != IMAP_ARG_ATOM) {
			imap_tagged(s, cmd->tag, "BAD ENABLE takes capability names");
			return;
		}
	buf line;
	buf_init(&line);
	buf_puts(&line, "* ENABLED");
	for (size_t i = 0; i < cmd->count; i++) {
		const struct imap_arg *a = &cmd->args[i];
		if (imap_arg_atom_is(a, "CONDSTORE") && !s->condstore) {
			imap_condstore_on(s);
			buf_puts(&line, " CONDSTORE");
		} else if (imap_arg_atom_is(a, "UTF8=ACCEPT") && !s->utf8) {
			s->utf8 = true;
			buf_puts(&line, " UTF8=ACCEPT");
		} else if (imap_arg_atom_is(a, "IMAP4rev2") && !s->rev2) {
			s->rev2 = true;
			buf_puts(&line, " IMAP4rev2");
		} else if (imap_arg_atom_is(a, "QRESYNC") && !s->qresync) {
			imap_condstore_on(s);
			s->qresync = true;
			buf_puts(&line, " QRESYNC");
		}
	}
	imap_reply(s, "%s", line.data);
	buf_free(&line);
	imap_tagged(s, cmd->tag, "OK Enable completed");
}
