/* libFuzzer target for smtp_parse.c: splits the input as a command line and runs the MAIL,
 * RCPT and BDAT parsers on its argument whatever the verb (so each sees every shape of
 * input), checking what a successful parse promises. The first byte chooses RCPT's utf8. */
#include "smtp/smtp_parse.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3461: ENVID and ORCPT decode to printable US-ASCII. */
static void check_printable(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max)
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 32 || s[i] > 126)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_command cmd;
	struct smtp_mail_args m;
	struct smtp_rcpt_args r;
	uint64_t chunk;
	bool last;
	char out[64];

	if (size == 0)
		return 0;
	bool utf8 = data[0] & 1;
	const char *line = (const char *)data + 1;
	size_t len = size - 1;

	if (smtp_command_split(line, len, &cmd) != 0)
		return 0;
	if (strlen(cmd.verb) == 0 || strlen(cmd.verb) > SMTP_VERB_MAX ||
	    cmd.arg + cmd.arg_len != line + len)
		abort();
	if (smtp_parse_mail(cmd.arg, cmd.arg_len, &m) == SMTP_PARSE_OK) {
		if (m.from.utf8 && !m.smtputf8)
			abort();
		check_printable(m.envid, SMTP_ENVID_MAX);
	}
	if (smtp_parse_rcpt(cmd.arg, cmd.arg_len, utf8, &r) == SMTP_PARSE_OK) {
		if ((r.to.utf8 && !utf8) || r.to.null)
			abort();
		if ((r.notify & SMTP_NOTIFY_NEVER) && r.notify != SMTP_NOTIFY_NEVER)
			abort();
		check_printable(r.orcpt, SMTP_ORCPT_MAX);
	}
	if (smtp_parse_bdat(cmd.arg, cmd.arg_len, &chunk, &last) == SMTP_PARSE_OK &&
	    cmd.arg_len > 20 + 5)
		abort();
	int n = xtext_decode(cmd.arg, cmd.arg_len, out, sizeof(out));
	if (n >= (int)sizeof(out) || (n >= 0 && (size_t)n > cmd.arg_len))
		abort();
	return 0;
}
