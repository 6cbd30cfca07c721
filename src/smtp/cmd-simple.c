/* The commands with no state of their own: RSET, NOOP, QUIT, VRFY, EXPN, HELP, TURN
 * (RFC 5321 4.1.1.5 - 4.1.1.10, 3.5). */
#include "smtp/smtp.h"
#include "mail/address.h"
#include <stdlib.h>
#include <string.h>

/* rset = "RSET" CRLF */
void cmd_rset(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_tx_reset(s);
	smtp_reply(s, "250 2.0.0 Ok");
}

/* noop = "NOOP" [ SP String ] CRLF */
void cmd_noop(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_reply(s, "250 2.0.0 Ok");
}

/* quit = "QUIT" CRLF */
void cmd_quit(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_reply(s, "221 2.0.0 %s closing connection", s->server->host.hostname);
	smtp_session_close(s);
}

/* vrfy = "VRFY" SP String CRLF. Answering would tell spammers which addresses exist, so we
 * give RFC 5321 3.5.3's 252: no answer, but mail will be tried. */
void cmd_vrfy(struct smtp_session *s, const char *arg, size_t len)
{
	if (len == 0) {
		smtp_reply(s, "501 5.5.4 Syntax: VRFY address");
		return;
	}
	smtp_reply(s, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
}

/* expn = "EXPN" SP String CRLF. Off unless smtp.expn is set; then lists show their members. */
void cmd_expn(struct smtp_session *s, const char *arg, size_t len)
{
	if (!s->server->expn) {
		smtp_reply(s, "502 5.5.1 EXPN is not available");
		return;
	}
	struct address a;
	char list[ADDRESS_MAX_PATH * 4 + 4];
	if (len > 1 && arg[0] == '<' && arg[len - 1] == '>') {
		arg++;
		len -= 2;
	}
	if (address_parse_mailbox(arg, len, true, &a) != ADDRESS_OK ||
	    address_format(&a, list, sizeof(list)) < 0) {
		smtp_reply(s, "501 5.5.4 Syntax: EXPN list-address");
		return;
	}
	strlist members;
	strlist_init(&members);
	char *error = NULL;
	int found = store_list_members(s->store, list, &members, &error);
	if (found < 0)
		smtp_reply(s, "451 4.3.0 Temporary lookup failure");
	else if (found == 0 || members.count == 0)
		smtp_reply(s, "550 5.1.1 No such list");
	for (size_t i = 0; found > 0 && i < members.count; i++)
		smtp_reply(s, "250%c2.1.5 <%s>", i + 1 < members.count ? '-' : ' ', members.items[i]);
	strlist_free(&members);
	free(error);
}

/* help = "HELP" [ SP String ] CRLF */
void cmd_help(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_reply(s, "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP");
	smtp_reply(s, "214-2.0.0 STARTTLS AUTH. A message goes: EHLO, MAIL FROM:<you>, RCPT TO:<them>,");
	smtp_reply(s, "214 2.0.0 DATA, the message, a line with a single dot. See RFC 5321.");
}

/* TURN (RFC 821) reversed the roles without authenticating the other side; RFC 2821 4.1.1
 * removed it and it stays unimplemented. */
void cmd_turn(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_reply(s, "502 5.5.1 TURN is not implemented: it is unsafe");
}
