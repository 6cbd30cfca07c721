/* Pure parsers for SMTP command lines: the verb split, MAIL and RCPT with their extension
 * parameters, BDAT's arguments and RFC 3461 xtext. See smtp_parse.h; the session maps the
 * error values onto replies. No I/O, no globals.
 *
 * The parameters are table-driven: one row per keyword with its handler and whether it takes
 * a value, one table per command, so that a parameter offered on one command is unknown on
 * the other and adding an extension is one row and one function. */
#include "smtp/smtp_parse.h"
#include <limits.h>
#include <string.h>
#include <strings.h>

/* RFC 1870 3: size-value ::= 1*20DIGIT; RFC 3030 BDAT's chunk-size is held to the same. */
#define DIGITS_MAX 20

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* True when s[0..len) is word, ignoring ASCII case (ABNF literals are case-insensitive,
 * RFC 5234 2.3). */
static bool word_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* Reads 1*20DIGIT that fill all of s[0..len). Returns 1 with the value, 0 when the digits
 * are valid but exceed 2^64-1 (*value_r is then UINT64_MAX), -1 when s is no such number. */
static int parse_u64(const char *s, size_t len, uint64_t *value_r)
{
	uint64_t v = 0;
	bool overflow = false;

	if (len == 0 || len > DIGITS_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	*value_r = overflow ? UINT64_MAX : v;
	return overflow ? 0 : 1;
}

/* Command      = verb [SP argument] CRLF   (RFC 5321 4.1.1; the verb is alphabetic and we
 * allow it 16 letters, more than any command has) */
int smtp_command_split(const char *line, size_t len, struct smtp_command *out)
{
	size_t n = 0;

	while (n < len && is_alpha(line[n])) {
		if (n == SMTP_VERB_MAX)
			return -1;
		out->verb[n] = (char)(line[n] & ~0x20); /* ASCII upper case */
		n++;
	}
	if (n == 0 || (n < len && line[n] != ' '))
		return -1;
	out->verb[n] = '\0';
	if (n < len)
		n++; /* the space */
	out->arg = line + n;
	out->arg_len = len - n;
	return 0;
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3461 4:
 * xtext   = *( xchar / hexchar )
 * xchar   = any ASCII CHAR between "!" (33) and "~" (126) inclusive, except for "+" and "="
 * hexchar = ASCII "+" immediately followed by two upper case hexadecimal digits */
int xtext_decode(const char *in, size_t len, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '+') {
			if (len - i < 3 || hex_value(in[i + 1]) < 0 || hex_value(in[i + 2]) < 0)
				return -1;
			c = (char)(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return -1;
		}
		if (n + 1 >= outlen || n >= INT_MAX)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return (int)n;
}

/* RFC 3461 4.2 and 4.4: ENVID and the ORCPT address, before xtext encoding, "MUST consist
 * entirely of printable (graphic and white space) characters from the US-ASCII repertoire". */
static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 32 || s[i] > 126)
			return false;
	return true;
}

/* Decodes an xtext value that must come out printable into out (outlen with the NUL). */
static enum smtp_parse_error printable_xtext(const char *v, size_t len, char *out, size_t outlen)
{
	int n = xtext_decode(v, len, out, outlen);
	return n >= 0 && printable(out, (size_t)n) ? SMTP_PARSE_OK : SMTP_PARSE_PARAM_SYNTAX;
}

/* One row of a parameter table. parse gets the command's argument structure and the value
 * (NULL when the parameter came without "="). */
struct esmtp_param {
	const char *keyword;
	bool has_value; /* the value is required when true and forbidden when false */
	enum smtp_parse_error (*parse)(void *args, const char *value, size_t len);
};

/* RFC 1870 6: size-value ::= 1*20DIGIT. Twenty digits can exceed 2^64-1; such a value is
 * still valid syntax, so it is held at UINT64_MAX and the size check refuses it with 552 as
 * it would any message larger than we take. */
static enum smtp_parse_error mail_size(void *args, const char *v, size_t len)
{
	struct smtp_mail_args *a = args;
	if (parse_u64(v, len, &a->size) < 0)
		return SMTP_PARSE_PARAM_SYNTAX;
	a->has_size = true;
	return SMTP_PARSE_OK;
}

/* RFC 6152 2: body-value ::= "7BIT" / "8BITMIME". RFC 3030 adds "BINARYMIME", but only for
 * servers that offer BINARYMIME, which we do not; a client that sends it anyway asks for an
 * extension we lack, so it hears "not implemented" (555) rather than "bad syntax". */
static enum smtp_parse_error mail_body(void *args, const char *v, size_t len)
{
	struct smtp_mail_args *a = args;
	if (word_is(v, len, "7BIT"))
		a->body = SMTP_BODY_7BIT;
	else if (word_is(v, len, "8BITMIME"))
		a->body = SMTP_BODY_8BITMIME;
	else if (word_is(v, len, "BINARYMIME"))
		return SMTP_PARSE_PARAM_UNKNOWN;
	else
		return SMTP_PARSE_PARAM_SYNTAX;
	return SMTP_PARSE_OK;
}

/* RFC 6531 3.4: "If this parameter is provided, it MUST not accept a value." */
static enum smtp_parse_error mail_smtputf8(void *args, const char *v, size_t len)
{
	struct smtp_mail_args *a = args;
	a->smtputf8 = true;
	return SMTP_PARSE_OK;
}

/* RFC 3461 4.3: ret-value = "FULL" / "HDRS", any case. */
static enum smtp_parse_error mail_ret(void *args, const char *v, size_t len)
{
	struct smtp_mail_args *a = args;
	if (word_is(v, len, "FULL"))
		a->ret = SMTP_RET_FULL;
	else if (word_is(v, len, "HDRS"))
		a->ret = SMTP_RET_HDRS;
	else
		return SMTP_PARSE_PARAM_SYNTAX;
	return SMTP_PARSE_OK;
}

/* RFC 3461 4.4: envid-parameter = "ENVID=" xtext; "The ENVID parameter MAY be up to 100
 * characters in length", counted as sent. */
static enum smtp_parse_error mail_envid(void *args, const char *v, size_t len)
{
	struct smtp_mail_args *a = args;
	if (len > SMTP_ENVID_MAX)
		return SMTP_PARSE_PARAM_SYNTAX;
	return printable_xtext(v, len, a->envid, sizeof(a->envid));
}

/* RFC 4954 5: AUTH=mailbox as xtext, or "<>". We trust no submitter identity relayed to us,
 * which "does nothing more than parse and discard syntactically valid AUTH parameters", so
 * only the xtext is checked. Decoded, it is a mailbox or "<>", neither longer than a path;
 * a longer value cannot be one and is refused. */
static enum smtp_parse_error mail_auth(void *args, const char *v, size_t len)
{
	char mailbox[ADDRESS_MAX_PATH + 1];
	return xtext_decode(v, len, mailbox, sizeof(mailbox)) < 0 ? SMTP_PARSE_PARAM_SYNTAX
								   : SMTP_PARSE_OK;
}

/* RFC 3461 4.1:
 * notify-esmtp-value  = "NEVER" / 1#notify-list-element
 * notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"
 * "the NEVER keyword MUST appear by itself"; keywords in any case. RFC 822's "#" rule lets
 * empty elements stand between commas, so "SUCCESS,,DELAY" is two elements. */
static enum smtp_parse_error rcpt_notify(void *args, const char *v, size_t len)
{
	struct smtp_rcpt_args *a = args;
	unsigned mask = 0;
	size_t start = 0;

	if (word_is(v, len, "NEVER")) {
		a->notify = SMTP_NOTIFY_NEVER;
		return SMTP_PARSE_OK;
	}
	while (start <= len) {
		const char *comma = memchr(v + start, ',', len - start);
		size_t end = comma != NULL ? (size_t)(comma - v) : len;
		const char *w = v + start;
		size_t n = end - start;
		if (word_is(w, n, "SUCCESS"))
			mask |= SMTP_NOTIFY_SUCCESS;
		else if (word_is(w, n, "FAILURE"))
			mask |= SMTP_NOTIFY_FAILURE;
		else if (word_is(w, n, "DELAY"))
			mask |= SMTP_NOTIFY_DELAY;
		else if (n != 0)
			return SMTP_PARSE_PARAM_SYNTAX;
		start = end + 1;
	}
	if (mask == 0)
		return SMTP_PARSE_PARAM_SYNTAX;
	a->notify = mask;
	return SMTP_PARSE_OK;
}

/* RFC 3461 4.2:
 * orcpt-parameter = "ORCPT=" original-recipient-address
 * original-recipient-address = addr-type ";" xtext
 * addr-type = atom
 * "The entire ORCPT parameter MAY be up to 500 characters in length." RFC 822's atom is the
 * same set of characters as RFC 5322's atext. Kept as "addr-type;decoded address". */
static enum smtp_parse_error rcpt_orcpt(void *args, const char *v, size_t len)
{
	struct smtp_rcpt_args *a = args;
	const char *semi = memchr(v, ';', len);

	if (semi == NULL || semi == v || len > SMTP_ORCPT_MAX)
		return SMTP_PARSE_PARAM_SYNTAX;
	size_t type_len = (size_t)(semi - v);
	for (size_t i = 0; i < type_len; i++)
		if (!is_alpha(v[i]) && !is_digit(v[i]) &&
		    (v[i] == '\0' || strchr("!#$%&'*+-/=?^_`{|}~", v[i]) == NULL))
			return SMTP_PARSE_PARAM_SYNTAX;
	memcpy(a->orcpt, v, type_len + 1);
	return printable_xtext(semi + 1, len - type_len - 1, a->orcpt + type_len + 1,
			       sizeof(a->orcpt) - type_len - 1);
}

static const struct esmtp_param mail_params[] = {
	{ "SIZE", true, mail_size },
	{ "BODY", true, mail_body },
	{ "SMTPUTF8", false, mail_smtputf8 },
	{ "RET", true, mail_ret },
	{ "ENVID", true, mail_envid },
	{ "AUTH", true, mail_auth },
};

static const struct esmtp_param rcpt_params[] = {
	{ "NOTIFY", true, rcpt_notify },
	{ "ORCPT", true, rcpt_orcpt },
};

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static bool keyword_valid(const char *s, size_t len)
{
	if (len == 0 || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* esmtp-value = 1*(%d33-60 / %d62-126)   (=/ UTF8-non-ascii, RFC 6531 3.3)
 * Octets above 127 are let through here; each known parameter's own grammar is ASCII and
 * refuses them, and an unknown one is refused for being unknown. */
static bool value_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c == '=' || c == 127)
			return false;
	}
	return true;
}

/* Mail-parameters = esmtp-param *(SP esmtp-param)
 * esmtp-param     = esmtp-keyword ["=" esmtp-value]
 * s is what follows the path. Runs of spaces and trailing spaces are tolerated, as Postfix
 * does by splitting the argument on white space: some clients send "MAIL FROM:<a@b> ". */
static enum smtp_parse_error parse_params(const char *s, size_t len,
					  const struct esmtp_param *table, size_t count,
					  void *args)
{
	unsigned seen = 0;
	size_t pos = 0;

	if (len > 0 && s[0] != ' ')
		return SMTP_PARSE_PATH_SYNTAX; /* something glued to the path's ">" */
	for (;;) {
		while (pos < len && s[pos] == ' ')
			pos++;
		if (pos == len)
			return SMTP_PARSE_OK;
		const char *tok = s + pos;
		const char *sp = memchr(tok, ' ', len - pos);
		size_t tok_len = sp != NULL ? (size_t)(sp - tok) : len - pos;
		const char *eq = memchr(tok, '=', tok_len);
		size_t key_len = eq != NULL ? (size_t)(eq - tok) : tok_len;
		const char *value = eq != NULL ? eq + 1 : NULL;
		size_t value_len = eq != NULL ? tok_len - key_len - 1 : 0;
		pos += tok_len;

		if (!keyword_valid(tok, key_len) || (value != NULL && !value_valid(value, value_len)))
			return SMTP_PARSE_PARAM_SYNTAX;
		size_t i = 0;
		while (i < count && !word_is(tok, key_len, table[i].keyword))
			i++;
		if (i == count)
			return SMTP_PARSE_PARAM_UNKNOWN;
		if (seen & (1u << i))
			return SMTP_PARSE_PARAM_DUPLICATE;
		seen |= 1u << i;
		if ((value != NULL) != table[i].has_value)
			return SMTP_PARSE_PARAM_SYNTAX;
		enum smtp_parse_error err = table[i].parse(args, value, value_len);
		if (err != SMTP_PARSE_OK)
			return err;
	}
}

/* Matches "FROM:" or "TO:" in any case, then the one space after the colon that old clients
 * send and Postfix tolerates ("MAIL FROM: <a@b>"). Returns the offset of the path, or 0 when
 * the word is missing. */
static size_t skip_prefix(const char *arg, size_t len, const char *word)
{
	size_t n = strlen(word);
	if (len < n || strncasecmp(arg, word, n) != 0)
		return 0;
	return n < len && arg[n] == ' ' ? n + 1 : n;
}

static enum smtp_parse_error path_error(enum address_error e)
{
	switch (e) {
	case ADDRESS_OK:
		return SMTP_PARSE_OK;
	case ADDRESS_TOO_LONG:
		return SMTP_PARSE_PATH_TOO_LONG;
	case ADDRESS_NEEDS_UTF8:
		return SMTP_PARSE_NEEDS_UTF8;
	case ADDRESS_SYNTAX:
		break;
	}
	return SMTP_PARSE_PATH_SYNTAX;
}

/* mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF   (RFC 5321 4.1.1.2)
 * SMTPUTF8 comes after the path, so the path is read allowing UTF-8 and refused afterwards
 * when the parameter did not come (RFC 6531 3.4). */
enum smtp_parse_error smtp_parse_mail(const char *arg, size_t len, struct smtp_mail_args *out)
{
	size_t pos = skip_prefix(arg, len, "FROM:"), used;

	memset(out, 0, sizeof(*out));
	if (pos == 0)
		return SMTP_PARSE_ARG_SYNTAX;
	enum smtp_parse_error err =
		path_error(address_parse_path(arg + pos, len - pos, true, true, &out->from, &used));
	if (err != SMTP_PARSE_OK)
		return err;
	pos += used;
	err = parse_params(arg + pos, len - pos, mail_params,
			   sizeof(mail_params) / sizeof(mail_params[0]), out);
	if (err != SMTP_PARSE_OK)
		return err;
	return out->from.utf8 && !out->smtputf8 ? SMTP_PARSE_NEEDS_UTF8 : SMTP_PARSE_OK;
}

/* rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path )
 *        [SP Rcpt-parameters] CRLF                        (RFC 5321 4.1.1.3)
 * "the "Postmaster" string shown above is treated as case-insensitive". */
enum smtp_parse_error smtp_parse_rcpt(const char *arg, size_t len, bool utf8,
				      struct smtp_rcpt_args *out)
{
	static const char postmaster[] = "<Postmaster>";
	size_t pos = skip_prefix(arg, len, "TO:"), used;
	enum smtp_parse_error err;

	memset(out, 0, sizeof(*out));
	if (pos == 0)
		return SMTP_PARSE_ARG_SYNTAX;
	if (len - pos >= sizeof(postmaster) - 1 &&
	    strncasecmp(arg + pos, postmaster, sizeof(postmaster) - 1) == 0) {
		memcpy(out->to.local, postmaster + 1, sizeof(postmaster) - 3);
		used = sizeof(postmaster) - 1;
	} else {
		err = path_error(address_parse_path(arg + pos, len - pos, false, utf8, &out->to, &used));
		if (err != SMTP_PARSE_OK)
			return err;
	}
	pos += used;
	return parse_params(arg + pos, len - pos, rcpt_params,
			    sizeof(rcpt_params) / sizeof(rcpt_params[0]), out);
}

/* RFC 3030 2:
 * bdat-cmd   ::= "BDAT" SP chunk-size [ SP end-marker ] CR LF
 * chunk-size ::= 1*DIGIT
 * end-marker ::= "LAST"
 * arg is what follows "BDAT ". The RFC sets no bound on chunk-size; twenty digits (all of
 * 2^64-1) is more than anyone sends, and a longer or overflowing number is refused. */
enum smtp_parse_error smtp_parse_bdat(const char *arg, size_t len, uint64_t *size_r, bool *last_r)
{
	const char *sp = memchr(arg, ' ', len);
	size_t n = sp != NULL ? (size_t)(sp - arg) : len;

	if (parse_u64(arg, n, size_r) != 1)
		return SMTP_PARSE_ARG_SYNTAX;
	*last_r = sp != NULL;
	if (sp != NULL && !word_is(sp + 1, len - n - 1, "LAST"))
		return SMTP_PARSE_ARG_SYNTAX;
	return SMTP_PARSE_OK;
}
