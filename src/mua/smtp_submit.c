/* Message submission; see smtp_submit.h. */
#include "mua/smtp_submit.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "mua/net.h"
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

int smtp_submit(const struct smtp_account *a, const char *sender, const char *const *rcpts,
		size_t count, const char *msg, size_t len, char **error_r)
{
	struct session s = { .host = a->host, .error_r = error_r };
	smtp_reply_init(&s.reply);
	struct smtp_ehlo ext;
	int r = -1;
	s.net = net_connect(a->host, a->port, a->implicit_tls, a->verify, error_r);
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
	if (!(ext.ext & SMTP_EXT_AUTH_PLAIN)) {
		*error_r = xasprintf("%s offers no AUTH PLAIN for the password", a->host);
		goto done;
	}
	buf plain, b64;
	buf_init(&plain);
	buf_init(&b64);
	buf_putc(&plain, '\0');
	buf_puts(&plain, a->user);
	buf_putc(&plain, '\0');
	buf_puts(&plain, a->password);
	base64_encode(plain.data, plain.len, &b64);
	r = command(&s, '2', "the login (check the address and password)", "AUTH PLAIN ", b64.data);
	buf_free(&plain);
	buf_free(&b64);
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
