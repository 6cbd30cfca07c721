/* The replies for arguments that do not parse, in one place for MAIL, RCPT and BDAT. */
#include "smtp/smtp.h"

void smtp_reply_parse_error(struct smtp_session *s, enum smtp_parse_error e, enum smtp_path_role role)
{
	const char *who = role == SMTP_PATH_SENDER ? "sender" : "recipient";
	/* RFC 3463: X.1.7 bad sender's mailbox syntax, X.1.3 bad destination mailbox syntax. */
	const char *code = role == SMTP_PATH_SENDER ? "5.1.7" : "5.1.3";
	switch (e) {
	case SMTP_PARSE_OK:
		break;
	case SMTP_PARSE_ARG_SYNTAX:
		if (role == SMTP_PATH_NONE)
			smtp_reply(s, "501 5.5.4 Syntax: BDAT size [LAST]");
		else
			smtp_reply(s, "501 5.5.4 Syntax: %s", role == SMTP_PATH_SENDER ? "MAIL FROM:<address>"
										 : "RCPT TO:<address>");
		break;
	case SMTP_PARSE_PATH_SYNTAX:
		smtp_reply(s, "501 %s Bad %s address syntax", code, who);
		break;
	case SMTP_PARSE_PATH_TOO_LONG:
		smtp_reply(s, "501 %s Path too long (RFC 5321 4.5.3.1)", code);
		break;
	case SMTP_PARSE_NEEDS_UTF8:
		/* RFC 6531 3.5: 550 for MAIL, 553 for RCPT, both X.6.7. */
		smtp_reply(s, "%s 5.6.7 Non-ASCII addresses not permitted without SMTPUTF8",
			   role == SMTP_PATH_SENDER ? "550" : "553");
		break;
	case SMTP_PARSE_PARAM_SYNTAX:
		smtp_reply(s, "501 5.5.4 Invalid parameter value");
		break;
	case SMTP_PARSE_PARAM_UNKNOWN:
		smtp_reply(s, "555 5.5.4 Unsupported parameter");
		break;
	case SMTP_PARSE_PARAM_DUPLICATE:
		smtp_reply(s, "501 5.5.4 Parameter given twice");
		break;
	}
}
