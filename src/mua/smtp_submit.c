/* Message submission; see smtp_submit.h. */
#include "mua/smtp_submit.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "auth/sasl.h"
#include "mua/net.h"
#include "mua/sasl_client.h"
#include "queue/smtp_reply.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct session {
	struct net *net;
	struct smtp_reply reply;
	const char *host;
	char **error_r;
};

/* Reads a reply; -1 unless its code is the one expected (by its first digit). */
static int expect(struct session *s, char want, const char *step)
{
	buf line;
	buf_init(&line);
	smtp_reply_clear(&s->reply);
	int r;
	do {
		if (net_read_line(s->net, &line, s->error_r) < 0) {
			buf_free(&line);
			return -1;
		}
		r = smtp_reply_feed(&s->reply, line.data, line.len);
	} while (r == 0);
	buf_free(&line);
	if (r < 0) {
		*s->error_r = xasprintf("%s: not an SMTP reply after %s", s->host, step);
		return -1;
	}
	if (s->reply.code / 100 != want - '0') {
		char *text = smtp_reply_oneline(&s->reply);
		*s->error_r = xasprintf("%s refused %s: %s", s->host, step, text);
		free(text);
		return -1;
	}
	return 0;
}

/* Sends "word" + arg and reads the reply. */
static int command(struct session *s, char want, const char *step, const char *word, const char *arg)
{
	buf b;
	buf_init(&b);
	buf_printf(&b, "%s%s\r\n", word, arg);
	int r = net_write(s->net, b.data, b.len, s->error_r);
	buf_free(&b);
	return r < 0 ? -1 : expect(s, want, step);
}

static int ehlo(struct session *s, struct smtp_ehlo *ext)
{
	char name[256] = "localhost";
	gethostname(name, sizeof(name) - 1);
	if (command(s, '2', "EHLO", "EHLO ", name) < 0)
		return -1;
	smtp_ehlo_parse(&s->reply, ext);
	return 0;
}

static bool has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

/* The message with lines starting with "." doubled (RFC 5321 4.5.2), and the end mark. */
static void dot_stuff(const char *msg, size_t len, buf *out)
{
	bool line_start = true;
	for (size_t i = 0; i < len; i++) {
		if (line_start && msg[i] == '.')
			buf_putc(out, '.');
		buf_putc(out, msg[i]);
		line_start = msg[i] == '\n';
	}
	if (len > 0 && msg[len - 1] != '\n')
		buf_puts(out, "\r\n");
	buf_puts(out, ".\r\n");
}

static const char login_step[] = "the login (check the address and password)";

static int auth_plain(struct session *s, const struct smtp_account *a)
{
	buf b64;
	buf_init(&b64);
	sasl_plain_response(a->user, a->password, &b64);
	int r = command(s, '2', login_step, "AUTH PLAIN ", b64.data);
	buf_free(&b64);
	return r;
}

/* AUTH SCRAM-SHA-256 with the client-first message as initial response; each 334 challenge
 * answered, a challenge the exchange cannot take cancelled with "*" (RFC 4954 4); then 235,
 * which counts only once the server has proved itself. */
static enum scram_outcome auth_scram(struct session *s, const struct smtp_account *a)
{
	struct scram_client sc;
	scram_client_init(&sc, a->password);
	buf msg, b64;
	buf_init(&msg);
	buf_init(&b64);
	char *why = NULL;
	scram_client_step(&sc, a->user, NULL, 0, &msg, &why);
	base64_encode(msg.data, msg.len, &b64);
	int r = command(s, '3', login_step, "AUTH SCRAM-SHA-256 ", b64.data);
	while (r == 0 && s->reply.code == 334 && why == NULL) {
		buf_clear(&msg);
		buf_clear(&b64);
		buf challenge;
		buf_init(&challenge);
		bool ok = base64_decode(s->reply.text.data, s->reply.text.len, &challenge) == 0 &&
			  scram_client_step(&sc, a->user, challenge.data, challenge.len, &msg, &why) == 0;
		buf_free(&challenge);
		if (!ok && why == NULL)
			why = xstrdup("the server's SASL challenge is not base64");
		if (ok)
			base64_encode(msg.data, msg.len, &b64);
		/* after the last challenge the reply is 235, else another 334 */
		r = command(s, scram_client_done(&sc) ? '2' : '3', login_step, ok ? b64.data : "*", "");
	}
	/* a 2xx before the server's signature is checked (RFC 4954 4 has no success data:
	 * server-final must come as a 334), whether or not it was the reply expected */
	if (why == NULL && s->reply.code / 100 == 2 && !scram_client_done(&sc))
		why = xstrdup("the server accepted the login without proving itself (SCRAM)");
	if (why != NULL) {
		if (r < 0)
			free(*s->error_r);
		*s->error_r = xasprintf("%s: %s", s->host, why);
		free(why);
		r = SCRAM_UNPROVEN;
	} else if (r < 0) {
		r = scram_client_refusal(&sc);
	}
	buf_free(&msg);
	buf_free(&b64);
	scram_client_free(&sc);
	return r;
}

int smtp_submit(const struct smtp_account *a, const char *sender, const char *const *rcpts,
		size_t count, const char *msg, size_t len, char **error_r)
{
	struct session s = { .host = a->host, .error_r = error_r };
	smtp_reply_init(&s.reply);
	struct smtp_ehlo ext;
	int r = -1;
	s.net = net_connect(a->host, a->port, a->implicit_tls, a->verify, "smtps", error_r);
	if (s.net == NULL || expect(&s, '2', "the connection") < 0 || ehlo(&s, &ext) < 0)
		goto done;
	if (!net_is_tls(s.net)) {
		if (!(ext.ext & SMTP_EXT_STARTTLS)) {
			*error_r = xasprintf("%s port %d offers no STARTTLS: the password would go in the "
					     "clear (use port 465?)", a->host, a->port);
			goto done;
		}
		if (command(&s, '2', "STARTTLS", "STARTTLS", "") < 0 || net_starttls(s.net, error_r) < 0 ||
		    ehlo(&s, &ext) < 0)
			goto done;
	}
	/* SCRAM when offered, else PLAIN, and PLAIN when SCRAM's first message is refused: as
	 * for IMAP (imap_client.c) */
	bool scram = ext.ext & SMTP_EXT_AUTH_SCRAM_SHA_256;
	if (scram)
		r = auth_scram(&s, a);
	if ((!scram || r == SCRAM_REFUSED_AT_ONCE) && (ext.ext & SMTP_EXT_AUTH_PLAIN)) {
		if (scram)
			xfree(error_r);
		r = auth_plain(&s, a);
	} else if (!(ext.ext & (SMTP_EXT_AUTH_SCRAM_SHA_256 | SMTP_EXT_AUTH_PLAIN))) {
		*error_r = xasprintf("%s offers neither AUTH SCRAM-SHA-256 nor PLAIN for the password",
				     a->host);
		goto done;
	}
	if (r < 0)
		goto done;
	r = -1;
	bool eight = has_8bit(msg, len) && (ext.ext & SMTP_EXT_8BITMIME);
	char *from = xasprintf("<%s>%s", sender, eight ? " BODY=8BITMIME" : "");
	int m = command(&s, '2', "the sender", "MAIL FROM:", from);
	free(from);
	if (m < 0)
		goto done;
	for (size_t i = 0; i < count; i++) {
		char *step = xasprintf("the recipient %s", rcpts[i]), *to = xasprintf("<%s>", rcpts[i]);
		int rr = command(&s, '2', step, "RCPT TO:", to);
		free(step);
		free(to);
		if (rr < 0)
			goto done;
	}
	if (command(&s, '3', "DATA", "DATA", "") < 0)
		goto done;
	buf data;
	buf_init(&data);
	dot_stuff(msg, len, &data);
	int w = net_write(s.net, data.data, data.len, error_r);
	buf_free(&data);
	if (w < 0 || expect(&s, '2', "the message") < 0)
		goto done;
	r = 0;
	char *ignored = NULL;
	net_write(s.net, "QUIT\r\n", 6, &ignored);
	free(ignored);
done:
	smtp_reply_free(&s.reply);
	net_close(&s.net);
	return r;
}
