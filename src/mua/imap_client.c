/* The IMAP client; see imap_client.h. */
#include "mua/imap_client.h"
#include "core/base64.h"
#include "core/xalloc.h"
#include "imap/imap_mutf7.h"
#include "auth/sasl.h"
#include "mua/sasl_client.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One whole response: the line with its literals ("{n}" CRLF and the octets) in place. */
static int read_response(struct imap_client *c, buf *resp, char **error_r)
{
	buf line;
	buf_init(&line);
	buf_clear(resp);
	for (;;) {
		if (net_read_line(c->net, &line, error_r) < 0) {
			buf_free(&line);
			return -1;
		}
		buf_append(resp, line.data, line.len);
		/* a literal announced at the end of the line: its octets, then the line goes on */
		size_t n = line.len;
		if (n < 3 || line.data[n - 1] != '}')
			break;
		size_t open = n - 1;
		while (open > 0 && line.data[open - 1] != '{')
			open--;
		if (open == 0)
			break;
		char *end;
		unsigned long long size = strtoull(line.data + open, &end, 10);
		if (end == line.data + open || (*end != '}' && *end != '+'))
			break;
		buf_puts(resp, "\r\n");
		if (net_read_exact(c->net, (size_t)size, resp, error_r) < 0) {
			buf_free(&line);
			return -1;
		}
	}
	buf_free(&line);
	return 0;
}

static void take_capabilities(struct imap_client *c, const struct imap_value *list, size_t from)
{
	strlist_free(&c->caps);
	strlist_init(&c->caps);
	for (size_t i = from; i < list->count; i++) {
		char *cap = xstrdup(imap_value_str(&list->items[i]));
		for (char *p = cap; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		strlist_add_owned(&c->caps, cap);
	}
}

bool imap_client_has(const struct imap_client *c, const char *capability)
{
	return strlist_contains(&c->caps, capability);
}

void imap_cmd_init(struct imap_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	buf_init(&cmd->text);
}

void imap_cmd_free(struct imap_cmd *cmd)
{
	buf_free(&cmd->text);
}

void imap_cmd_raw(struct imap_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&cmd->text, fmt, ap);
	va_end(ap);
}

void imap_cmd_string(struct imap_client *c, struct imap_cmd *cmd, const char *s, size_t len)
{
	bool quotable = len < 1000;
	for (size_t i = 0; i < len && quotable; i++)
		quotable = (unsigned char)s[i] >= ' ' && (unsigned char)s[i] < 0x7f;
	if (quotable) {
		buf_putc(&cmd->text, '"');
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf_putc(&cmd->text, '\\');
			buf_putc(&cmd->text, s[i]);
		}
		buf_putc(&cmd->text, '"');
		return;
	}
	bool plus = imap_client_has(c, "LITERAL+") || (imap_client_has(c, "LITERAL-") && len <= 4096);
	buf_printf(&cmd->text, "{%zu%s}\r\n", len, plus ? "+" : "");
	if (!plus && cmd->wait_count < sizeof(cmd->waits) / sizeof(cmd->waits[0]))
		cmd->waits[cmd->wait_count++] = cmd->text.len;
	buf_append(&cmd->text, s, len);
}

void imap_cmd_mailbox(struct imap_client *c, struct imap_cmd *cmd, const char *name)
{
	buf wire;
	buf_init(&wire);
	if (strcasecmp(name, "INBOX") == 0 || imap_mutf7_encode(name, &wire) < 0) {
		buf_clear(&wire);
		buf_puts(&wire, name);
	}
	imap_cmd_string(c, cmd, wire.data, wire.len);
	buf_free(&wire);
}

char *imap_mailbox_from_wire(const char *name)
{
	buf utf8;
	buf_init(&utf8);
	if (imap_mutf7_decode(name, &utf8) < 0) {
		buf_clear(&utf8);
		buf_puts(&utf8, name);
	}
	return buf_steal(&utf8);
}

/* A SASL exchange under way: the server's "+" challenges go to it. */
struct sasl_run {
	struct scram_client sc;
	const char *user;
	char *error; /* why the client gave up on the exchange */
};

/* Answers the challenge in a "+ base64" line; a challenge the exchange cannot take is
 * cancelled with "*" (RFC 9051 6.2.2), which the server answers with BAD. -1 only when the
 * connection fails. */
static int answer_challenge(struct imap_client *c, struct sasl_run *run, const buf *line,
			    char **error_r)
{
	const char *text = line->len >= 2 ? line->data + 2 : "";
	buf challenge, answer;
	buf_init(&challenge);
	buf_init(&answer);
	int r;
	if (run->error == NULL && base64_decode(text, strlen(text), &challenge) < 0)
		run->error = xstrdup("the server's SASL challenge is not base64");
	if (run->error == NULL && scram_client_step(&run->sc, run->user, challenge.data,
						    challenge.len, &answer, &run->error) == 0) {
		buf encoded;
		buf_init(&encoded);
		base64_encode(answer.data, answer.len, &encoded);
		buf_puts(&encoded, "\r\n");
		r = net_write(c->net, encoded.data, encoded.len, error_r);
		buf_free(&encoded);
	} else {
		r = net_write(c->net, "*\r\n", 3, error_r);
	}
	buf_free(&challenge);
	buf_free(&answer);
	return r;
}

/* Reads responses until the one tagged tag; untagged ones go to fn, challenges to run. */
static int complete(struct imap_client *c, const char *tag, imap_untagged_fn *fn, void *arg,
		    struct sasl_run *run, char **error_r)
{
	buf resp;
	buf_init(&resp);
	int status = -1;
	size_t tag_len = strlen(tag);
	while (read_response(c, &resp, error_r) == 0) {
		if (resp.len > tag_len && memcmp(resp.data, tag, tag_len) == 0 && resp.data[tag_len] == ' ') {
			const char *rest = resp.data + tag_len + 1;
			if (strncasecmp(rest, "OK", 2) == 0) {
				status = 0;
			} else {
				*error_r = xasprintf("the IMAP server said: %s", rest);
			}
			break;
		}
		if (resp.data[0] == '+' && run != NULL) {
			if (answer_challenge(c, run, &resp, error_r) < 0)
				break;
			continue;
		}
		if (resp.data[0] != '*')
			continue;
		struct imap_value top;
		if (imap_reply_parse(resp.data, resp.len, &top) == 0 && top.count >= 2) {
			if (imap_value_is(&top.items[1], "CAPABILITY"))
				take_capabilities(c, &top, 2);
			if (fn != NULL)
				fn(&top, arg);
		}
		imap_value_free(&top);
	}
	buf_free(&resp);
	return status;
}

static void next_tag(struct imap_client *c, char tag[16])
{
	snprintf(tag, 16, "E%u", ++c->tag);
}

int imap_run(struct imap_client *c, struct imap_cmd *cmd, imap_untagged_fn *fn, void *arg,
	     char **error_r)
{
	char tag[16];
	next_tag(c, tag);
	if (net_printf(c->net, error_r, "%s ", tag) < 0)
		return -1;
	size_t sent = 0;
	buf line;
	buf_init(&line);
	for (size_t i = 0; i < cmd->wait_count; i++) {
		if (net_write(c->net, cmd->text.data + sent, cmd->waits[i] - sent, error_r) < 0 ||
		    net_read_line(c->net, &line, error_r) < 0) {
			buf_free(&line);
			return -1;
		}
		if (line.data[0] != '+') {
			*error_r = xasprintf("the IMAP server said: %s", line.data);
			buf_free(&line);
			return -1;
		}
		sent = cmd->waits[i];
	}
	buf_free(&line);
	if (net_write(c->net, cmd->text.data + sent, cmd->text.len - sent, error_r) < 0 ||
	    net_write(c->net, "\r\n", 2, error_r) < 0)
		return -1;
	return complete(c, tag, fn, arg, NULL, error_r);
}

int imap_simple(struct imap_client *c, imap_untagged_fn *fn, void *arg, char **error_r,
		const char *fmt, ...)
{
	struct imap_cmd cmd;
	imap_cmd_init(&cmd);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&cmd.text, fmt, ap);
	va_end(ap);
	int r = imap_run(c, &cmd, fn, arg, error_r);
	imap_cmd_free(&cmd);
	return r;
}

static int login_refused(char **error_r)
{
	char *why = *error_r;
	*error_r = xasprintf("login refused (check the address and password): %s", why);
	free(why);
	return -1;
}

/* AUTHENTICATE SCRAM-SHA-256, the client-first message as the initial response when the
 * server takes one (SASL-IR), else in answer to its empty challenge. */
static enum scram_outcome authenticate_scram(struct imap_client *c, const char *user,
					     const char *password, char **error_r)
{
	struct sasl_run run = { .user = user };
	scram_client_init(&run.sc, password);
	char tag[16];
	next_tag(c, tag);
	buf line;
	buf_init(&line);
	buf_printf(&line, "%s AUTHENTICATE SCRAM-SHA-256", tag);
	if (imap_client_has(c, "SASL-IR")) {
		buf first;
		buf_init(&first);
		scram_client_step(&run.sc, user, NULL, 0, &first, &run.error);
		buf_putc(&line, ' ');
		base64_encode(first.data, first.len, &line);
		buf_free(&first);
	}
	buf_puts(&line, "\r\n");
	int r = net_write(c->net, line.data, line.len, error_r);
	buf_free(&line);
	if (r == 0)
		r = complete(c, tag, NULL, NULL, &run, error_r);
	if (r == 0 && !scram_client_done(&run.sc) && run.error == NULL)
		run.error = xstrdup("the server accepted the login without proving itself (SCRAM)");
	if (run.error != NULL) {
		if (r < 0)
			free(*error_r);
		*error_r = run.error;
		r = SCRAM_UNPROVEN;
	} else if (r < 0) {
		r = scram_client_refusal(&run.sc);
	}
	scram_client_free(&run.sc);
	return r;
}

static int login(struct imap_client *c, const char *user, const char *password, char **error_r)
{
	/* SCRAM when offered: the password stays here, and the server proves itself. A server
	 * may offer it without SCRAM keys for this account (a password kept as a hash SCRAM
	 * cannot use) and refuse the first message: then PLAIN or LOGIN. A refusal of the
	 * proof (a wrong password) is final, as is the client's refusal of the server. */
	if (imap_client_has(c, "AUTH=SCRAM-SHA-256")) {
		enum scram_outcome r = authenticate_scram(c, user, password, error_r);
		if (r == SCRAM_OK)
			return imap_simple(c, NULL, NULL, error_r, "CAPABILITY");
		if (r == SCRAM_UNPROVEN)
			return -1;
		if (r == SCRAM_REFUSED)
			return login_refused(error_r);
		xfree(error_r);
	}
	struct imap_cmd cmd;
	imap_cmd_init(&cmd);
	if (imap_client_has(c, "AUTH=PLAIN")) {
		imap_cmd_raw(&cmd, "AUTHENTICATE PLAIN");
		if (imap_client_has(c, "SASL-IR")) {
			buf_putc(&cmd.text, ' ');
		} else {
			/* the response follows the server's empty challenge */
			cmd.waits[cmd.wait_count++] = cmd.text.len + 2;
			buf_puts(&cmd.text, "\r\n");
		}
		sasl_plain_response(user, password, &cmd.text);
	} else {
		imap_cmd_raw(&cmd, "LOGIN ");
		imap_cmd_string(c, &cmd, user, strlen(user));
		buf_putc(&cmd.text, ' ');
		imap_cmd_string(c, &cmd, password, strlen(password));
	}
	int r = imap_run(c, &cmd, NULL, NULL, error_r);
	imap_cmd_free(&cmd);
	if (r < 0)
		return login_refused(error_r);
	return imap_simple(c, NULL, NULL, error_r, "CAPABILITY");
}

struct imap_client *imap_client_open(const char *host, int port, bool implicit_tls, bool verify,
				     const char *user, const char *password, char **error_r)
{
	struct net *n = net_connect(host, port, implicit_tls, verify, "imaps", error_r);
	if (n == NULL)
		return NULL;
	struct imap_client *c = xcalloc(1, sizeof(*c));
	c->net = n;
	strlist_init(&c->caps);
	buf greeting;
	buf_init(&greeting);
	int r = read_response(c, &greeting, error_r);
	if (r == 0 && strncasecmp(greeting.data, "* OK", 4) != 0) {
		*error_r = xasprintf("%s is not ready for IMAP: %s", host, greeting.data);
		r = -1;
	}
	buf_free(&greeting);
	if (r == 0)
		r = imap_simple(c, NULL, NULL, error_r, "CAPABILITY");
	if (r == 0 && !net_is_tls(c->net)) {
		if (!imap_client_has(c, "STARTTLS")) {
			*error_r = xasprintf("%s port %d offers no STARTTLS: the password would go in the "
					     "clear (use port 993?)", host, port);
			r = -1;
		} else {
			r = imap_simple(c, NULL, NULL, error_r, "STARTTLS");
			if (r == 0)
				r = net_starttls(c->net, error_r);
			if (r == 0)
				r = imap_simple(c, NULL, NULL, error_r, "CAPABILITY");
		}
	}
	if (r == 0)
		r = login(c, user, password, error_r);
	if (r < 0) {
		net_close(&c->net);
		strlist_free(&c->caps);
		free(c);
		return NULL;
	}
	return c;
}

void imap_client_close(struct imap_client **cp)
{
	struct imap_client *c = *cp;
	if (c == NULL)
		return;
	char *error = NULL;
	imap_simple(c, NULL, NULL, &error, "LOGOUT");
	free(error);
	net_close(&c->net);
	strlist_free(&c->caps);
	free(c);
	*cp = NULL;
}
