/* The outbound SMTP client's state machine; see smtp_client.h.
 *
 * States follow the session: connect, greeting, EHLO (HELO when EHLO is refused), STARTTLS
 * and EHLO again, AUTH, then per message MAIL, RCPT..., DATA or BDAT, and QUIT at the end.
 * Commands whose replies are awaited sit in a small FIFO (expect[]), so with PIPELINING the
 * client writes MAIL, every RCPT and DATA (or BDAT with the body) at once and matches the
 * replies in order (RFC 2920 3.1); without it, one command per reply. */
#include "queue/smtp_client.h"
#include "auth/sasl.h"
#include "core/conn.h"
#include "core/log.h"
#include "mail/downgrade.h"
#include "core/xalloc.h"
#include "queue/smtp_reply.h"
#include "smtp/smtp_parse.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 5321 4.5.3.2 minimum timeouts, in seconds; connecting as Postfix's smtp_connect_timeout. */
enum {
	TIMEOUT_CONNECT = 30,
	TIMEOUT_GREETING = 5 * 60,
	TIMEOUT_MAIL = 5 * 60,
	TIMEOUT_RCPT = 5 * 60,
	TIMEOUT_DATA_INIT = 2 * 60,
	TIMEOUT_DATA_BLOCK = 3 * 60,
	TIMEOUT_DATA_END = 10 * 60,
};

enum client_state {
	ST_CONNECT, ST_GREETING, ST_EHLO, ST_HELO, ST_STARTTLS, ST_AUTH, ST_SESSION, ST_QUIT,
};

/* What happens once the connection's callback has returned (see client_step). */
enum client_step { STEP_NONE, STEP_NEXT_TARGET, STEP_FINISH };

enum expect_kind { EXP_MAIL, EXP_RCPT, EXP_DATA, EXP_DOT, EXP_BDAT, EXP_RSET };

struct expect {
	enum expect_kind kind;
	size_t rcpt;  /* for EXP_RCPT */
};

#define EXPECT_MAX 1100 /* MAIL + recipients + DATA, with room */

struct smtp_client {
	struct smtp_client_params p;
	struct dns_target *targets;
	size_t target_count, target;
	struct smtp_client_msg *msgs;
	size_t msg_count, msg;       /* the message in progress */
	smtp_client_rcpt_fn *rcpt_cb;
	smtp_client_done_fn *done_cb;
	void *arg;
	struct conn *conn;
	enum client_state state;
	struct smtp_reply reply;
	struct smtp_ehlo ehlo;
	buf line;
	bool tls_done;
	size_t tls_broken;           /* target + 1 whose TLS handshake failed: retried in the clear */
	bool reached;                /* a server greeted us on this connection */
	char *last_error;            /* why the last mail exchanger did not take the session */
	int last_code;
	/* the transaction in progress */
	struct expect *expect;
	size_t expect_head, expect_count;
	bool *decided;               /* per recipient of the message */
	bool *accepted;
	size_t accepted_count;
	bool mail_failed;
	char remote[300];            /* "host[ip]" for DSNs and logs */
	/* The connection is never freed inside its own callbacks (conn.c still uses it when
	 * they return): ending it is a step run from the loop right after. */
	enum client_step step;
	char *step_error;
	struct event *step_ev;
};

static void client_next_target(struct smtp_client *c);
static void client_next_message(struct smtp_client *c);

static const char *state_timeout_name(enum client_state s)
{
	static const char *const names[] = { "connect", "greeting", "EHLO", "HELO", "STARTTLS",
					     "AUTH", "transaction", "QUIT" };
	return names[s];
}

static void report(struct smtp_client *c, struct smtp_client_msg *cm, size_t i, int code,
		   const char *status, const char *diagnostic)
{
	struct smtp_client_result res = { code, status, diagnostic, c->reached ? c->remote : NULL };
	c->rcpt_cb(cm, &cm->m->rcpts[i], &res, c->arg);
}

/* Decides every recipient of the current message not yet decided with this reply. */
static void report_rest(struct smtp_client *c, bool only_accepted, const struct smtp_reply *r)
{
	struct smtp_client_msg *cm = &c->msgs[c->msg];
	char status[16];
	smtp_reply_status(r, status, sizeof(status));
	char *diag = smtp_reply_oneline(r);
	for (size_t i = 0; i < cm->m->rcpt_count; i++) {
		if (c->decided[i] || (only_accepted && !c->accepted[i]))
			continue;
		c->decided[i] = true;
		report(c, cm, i, r->code, status, diag);
	}
	free(diag);
}

/* Ends the job: every recipient of this and the following messages still open gets a 4xx
 * with error (the connection or every mail exchanger failed). Not from a conn callback. */
static void client_finish_now(struct smtp_client *c, const char *error)
{
	for (; c->msg < c->msg_count; c->msg++) {
		struct smtp_client_msg *cm = &c->msgs[c->msg];
		for (size_t i = 0; i < cm->m->rcpt_count; i++)
			if (c->decided == NULL || !c->decided[i])
				report(c, cm, i, 451, "4.4.1", error);
		xfree(&c->decided);
		xfree(&c->accepted);
	}
	if (c->conn != NULL)
		conn_free(&c->conn);
	smtp_client_done_fn *done = c->done_cb;
	void *arg = c->arg;
	smtp_reply_free(&c->reply);
	buf_free(&c->line);
	free(c->targets);
	free(c->expect);
	free(c->last_error);
	free(c->decided);
	free(c->accepted);
	free(c->step_error);
	event_free(c->step_ev);
	free(c);
	done(arg);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_client *c = arg;
	enum client_step step = c->step;
	c->step = STEP_NONE;
	conn_free(&c->conn);
	if (step == STEP_NEXT_TARGET)
		client_next_target(c);
	else
		client_finish_now(c, c->step_error);
}

/* Leaves the connection: after the callback in progress, the step runs from the loop. */
static void client_schedule(struct smtp_client *c, enum client_step step, const char *error)
{
	c->step = step;
	free(c->step_error);
	c->step_error = xstrdup(error);
	event_active(c->step_ev, 0, 0);
}

static void client_finish(struct smtp_client *c, const char *error)
{
	client_schedule(c, STEP_FINISH, error);
}

static void expect_push(struct smtp_client *c, enum expect_kind kind, size_t rcpt)
{
	size_t at = (c->expect_head + c->expect_count++) % EXPECT_MAX;
	c->expect[at] = (struct expect){ kind, rcpt };
}

/* The current mail exchanger failed before a transaction: try the next one. */
static void target_failed(struct smtp_client *c, int code, const char *error)
{
	free(c->last_error);
	c->last_error = xstrdup(error);
	c->last_code = code;
	log_info("outbound relay=%s failed: %s", c->remote, error);
	c->target++;
	client_schedule(c, STEP_NEXT_TARGET, error);
}

/* xtext (RFC 3461 4): "+" and "=" and characters outside 33..126 as "+XX". */
static void put_xtext(buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 33 || ch > 126 || ch == '+' || ch == '=')
			buf_printf(b, "+%02X", ch);
		else
			buf_putc(b, (char)ch);
	}
}

/* Writes the body for DATA: leading dots doubled (RFC 5321 4.5.2), CRLF at the end, and the
 * terminating "." line. */
static void write_data(struct smtp_client *c, const buf *body)
{
	buf out;
	buf_init(&out);
	buf_reserve(&out, body->len + body->len / 64 + 8);
	bool bol = true;
	for (size_t i = 0; i < body->len; i++) {
		if (bol && body->data[i] == '.')
			buf_putc(&out, '.');
		buf_putc(&out, body->data[i]);
		bol = body->data[i] == '\n';
	}
	if (!bol)
		buf_puts(&out, "\r\n");
	buf_puts(&out, ".\r\n");
	conn_write(c->conn, out.data, out.len);
	buf_free(&out);
}

/* "RCPT TO:<...>" with the DSN parameters (RFC 3461 4) when the server offers DSN, CRLF. */
static void write_rcpt(const struct smtp_client *c, const struct queue_rcpt *r, buf *cmd)
{
	buf_printf(cmd, "RCPT TO:<%s>", r->recipient);
	if ((c->ehlo.ext & SMTP_EXT_DSN) && r->notify != 0) {
		unsigned n = r->notify;
		if (n & SMTP_NOTIFY_NEVER)
			buf_puts(cmd, " NOTIFY=NEVER");
		else
			buf_printf(cmd, " NOTIFY=%s%s%s",
				   (n & SMTP_NOTIFY_SUCCESS) ? "SUCCESS," : "",
				   (n & SMTP_NOTIFY_FAILURE) ? "FAILURE," : "",
				   (n & SMTP_NOTIFY_DELAY) ? "DELAY," : "");
		if (cmd->data[cmd->len - 1] == ',')
			cmd->len--, cmd->data[cmd->len] = '\0';
	}
	if ((c->ehlo.ext & SMTP_EXT_DSN) && r->orcpt != NULL) {
		const char *semi = strchr(r->orcpt, ';');
		if (semi != NULL) {
			buf_printf(cmd, " ORCPT=%.*s;", (int)(semi - r->orcpt), r->orcpt);
			put_xtext(cmd, semi + 1);
		}
	}
	buf_puts(cmd, "\r\n");
}

/* Replaces the message's text with its 7-bit form; false when it has none. */
static bool downgrade(struct smtp_client_msg *cm)
{
	buf seven;
	buf_init(&seven);
	if (mime_downgrade(cm->body.data, cm->body.len, &seven) < 0) {
		buf_free(&seven);
		return false;
	}
	log_info("outbound queue=%s converted to 7-bit for a server without 8BITMIME",
		 cm->m->queue_id);
	buf_free(&cm->body);
	cm->body = seven;
	return true;
}

/* Starts the next message's transaction, or QUIT when none is left. Recipients that cannot
 * go to this server at all (8-bit body or UTF-8 addresses it does not take) fail at once. */
static void client_next_message(struct smtp_client *c)
{
	for (; c->msg < c->msg_count; c->msg++) {
		struct smtp_client_msg *cm = &c->msgs[c->msg];
		struct queue_msg *m = cm->m;
		xfree(&c->decided);
		xfree(&c->accepted);
		c->decided = xcalloc(m->rcpt_count, sizeof(*c->decided));
		c->accepted = xcalloc(m->rcpt_count, sizeof(*c->accepted));
		c->accepted_count = 0;
		c->mail_failed = false;
		bool eightbit = mime_has_8bit(cm->body.data, cm->body.len);
		bool utf8 = mime_has_8bit(m->sender, strlen(m->sender));
		for (size_t i = 0; i < m->rcpt_count; i++)
			utf8 = utf8 || mime_has_8bit(m->rcpts[i].recipient, strlen(m->rcpts[i].recipient));
		struct smtp_reply fake;
		smtp_reply_init(&fake);
		const char *refusal = NULL;
		/* RFC 6531 3.2: without SMTPUTF8 at the server, such a message cannot be sent. */
		if (utf8 && !(c->ehlo.ext & SMTP_EXT_SMTPUTF8))
			refusal = "550-5.6.7 The message needs SMTPUTF8, which the server does not offer";
		/* RFC 6152 3: an 8-bit body goes only to a server that offers 8BITMIME; for
		 * others it is made 7-bit (quoted-printable) when MIME allows */
		else if (eightbit && !(c->ehlo.ext & SMTP_EXT_8BITMIME) && !downgrade(cm))
			refusal = "554-5.6.3 The message has 8-bit data that cannot be converted and the "
				  "server does not offer 8BITMIME";
		else if ((c->ehlo.ext & SMTP_EXT_SIZE) && c->ehlo.size_max > 0 && cm->body.len > c->ehlo.size_max)
			refusal = "552-5.3.4 The message is larger than the server's SIZE limit";
		if (refusal != NULL) {
			smtp_reply_feed(&fake, refusal, strlen(refusal));
			report_rest(c, false, &fake);
			smtp_reply_free(&fake);
			continue;
		}
		smtp_reply_free(&fake);
		buf cmd;
		buf_init(&cmd);
		buf_printf(&cmd, "MAIL FROM:<%s>", m->sender);
		if (c->ehlo.ext & SMTP_EXT_SIZE)
			buf_printf(&cmd, " SIZE=%zu", cm->body.len);
		if (eightbit && (c->ehlo.ext & SMTP_EXT_8BITMIME))
			buf_puts(&cmd, " BODY=8BITMIME");
		if (utf8)
			buf_puts(&cmd, " SMTPUTF8");
		if ((c->ehlo.ext & SMTP_EXT_DSN) && m->ret != 0)
			buf_puts(&cmd, m->ret == 1 ? " RET=FULL" : " RET=HDRS");
		if ((c->ehlo.ext & SMTP_EXT_DSN) && m->envid != NULL) {
			buf_puts(&cmd, " ENVID=");
			put_xtext(&cmd, m->envid);
		}
		buf_puts(&cmd, "\r\n");
		expect_push(c, EXP_MAIL, 0);
		bool pipe = (c->ehlo.ext & SMTP_EXT_PIPELINING) != 0;
		for (size_t i = 0; i < m->rcpt_count && pipe; i++) {
			write_rcpt(c, &m->rcpts[i], &cmd);
			expect_push(c, EXP_RCPT, i);
		}
		if (pipe && (c->ehlo.ext & SMTP_EXT_CHUNKING)) {
			/* RFC 3030 4.2: BDAT may be pipelined after the RCPTs, body and all. */
			buf_printf(&cmd, "BDAT %zu LAST\r\n", cm->body.len);
			conn_write(c->conn, cmd.data, cmd.len);
			conn_write(c->conn, cm->body.data, cm->body.len);
			expect_push(c, EXP_BDAT, 0);
		} else {
			if (pipe) {
				buf_puts(&cmd, "DATA\r\n");
				expect_push(c, EXP_DATA, 0);
			}
			conn_write(c->conn, cmd.data, cmd.len);
		}
		buf_free(&cmd);
		conn_set_timeout(c->conn, TIMEOUT_MAIL);
		return;
	}
	c->state = ST_QUIT;
	conn_printf(c->conn, "QUIT\r\n");
	conn_set_timeout(c->conn, TIMEOUT_GREETING);
}

/* Without PIPELINING: the command after the one just answered, if any. */
static void send_next_unpipelined(struct smtp_client *c, enum expect_kind done, size_t rcpt)
{
	struct queue_msg *m = c->msgs[c->msg].m;
	size_t next = done == EXP_MAIL ? 0 : rcpt + 1;
	if (next < m->rcpt_count) {
		buf cmd;
		buf_init(&cmd);
		write_rcpt(c, &m->rcpts[next], &cmd);
		conn_write(c->conn, cmd.data, cmd.len);
		buf_free(&cmd);
		expect_push(c, EXP_RCPT, next);
		conn_set_timeout(c->conn, TIMEOUT_RCPT);
	} else if (c->accepted_count > 0) {
		conn_printf(c->conn, "DATA\r\n");
		expect_push(c, EXP_DATA, 0);
		conn_set_timeout(c->conn, TIMEOUT_DATA_INIT);
	}
}

/* A reply inside a transaction, matched with the oldest command awaiting one. */
static void transaction_reply(struct smtp_client *c)
{
	if (c->expect_count == 0) {
		client_finish(c, "reply without a command");
		return;
	}
	struct expect e = c->expect[c->expect_head];
	c->expect_head = (c->expect_head + 1) % EXPECT_MAX;
	c->expect_count--;
	bool pipe = (c->ehlo.ext & SMTP_EXT_PIPELINING) != 0;
	int cls = c->reply.code / 100;
	switch (e.kind) {
	case EXP_MAIL:
		if (cls != 2) {
			c->mail_failed = true;
			report_rest(c, false, &c->reply);
		} else if (!pipe) {
			send_next_unpipelined(c, EXP_MAIL, 0);
		}
		break;
	case EXP_RCPT:
		if (!c->mail_failed && cls == 2) {
			c->accepted[e.rcpt] = true;
			c->accepted_count++;
		} else if (!c->mail_failed) {
			char status[16];
			smtp_reply_status(&c->reply, status, sizeof(status));
			char *diag = smtp_reply_oneline(&c->reply);
			c->decided[e.rcpt] = true;
			report(c, &c->msgs[c->msg], e.rcpt, c->reply.code, status, diag);
			free(diag);
		}
		if (!pipe)
			send_next_unpipelined(c, EXP_RCPT, e.rcpt);
		break;
	case EXP_DATA:
		if (c->reply.code == 354) {
			/* With no recipient accepted, an empty message ends it (RFC 2920 3.1). */
			if (c->accepted_count == 0 || c->mail_failed)
				conn_printf(c->conn, ".\r\n");
			else
				write_data(c, &c->msgs[c->msg].body);
			expect_push(c, EXP_DOT, 0);
			conn_set_timeout(c->conn, TIMEOUT_DATA_END);
			return;
		}
		if (!c->mail_failed)
			report_rest(c, true, &c->reply);
		break;
	case EXP_DOT:
	case EXP_BDAT:
		if (!c->mail_failed)
			report_rest(c, true, &c->reply);
		break;
	case EXP_RSET:
		break;
	}
	if (c->expect_count > 0)
		return;
	/* The transaction is over. One that did not end in a message taken is reset before the
	 * next (RFC 5321 4.1.1.5; RFC 3030 2: no BDAT after a failed one). */
	if (e.kind != EXP_RSET && !((e.kind == EXP_DOT || e.kind == EXP_BDAT) && cls == 2)) {
		conn_printf(c->conn, "RSET\r\n");
		expect_push(c, EXP_RSET, 0);
		return;
	}
	c->msg++;
	client_next_message(c);
}

static void send_ehlo(struct smtp_client *c)
{
	c->state = ST_EHLO;
	conn_printf(c->conn, "EHLO %s\r\n", c->p.helo);
	conn_set_timeout(c->conn, TIMEOUT_GREETING);
}

/* The session is ready for mail: authenticate first when asked to. */
static void session_ready(struct smtp_client *c)
{
	if (c->p.auth_user != NULL && *c->p.auth_user != '\0') {
		/* RFC 4954 4: never send a password in the clear. */
		if (!c->tls_done || !(c->ehlo.ext & SMTP_EXT_AUTH_PLAIN)) {
			target_failed(c, 451, "the relayhost offers no AUTH PLAIN over TLS");
			return;
		}
		buf b64;
		buf_init(&b64);
		sasl_plain_response(c->p.auth_user, c->p.auth_pass != NULL ? c->p.auth_pass : "", &b64);
		conn_printf(c->conn, "AUTH PLAIN %s\r\n", b64.data);
		buf_free(&b64);
		c->state = ST_AUTH;
		return;
	}
	c->state = ST_SESSION;
	client_next_message(c);
}

static void on_reply(struct smtp_client *c)
{
	int cls = c->reply.code / 100;
	char *text = smtp_reply_oneline(&c->reply);
	switch (c->state) {
	case ST_CONNECT:
	case ST_GREETING:
		c->reached = true;
		conn_set_timeout(c->conn, TIMEOUT_GREETING);
		if (cls == 2)
			send_ehlo(c);
		else
			target_failed(c, c->reply.code, text);
		break;
	case ST_EHLO:
		if (cls == 2) {
			smtp_ehlo_parse(&c->reply, &c->ehlo);
			if ((c->ehlo.ext & SMTP_EXT_STARTTLS) && c->p.tls != NULL && !c->tls_done &&
			    c->tls_broken != c->target + 1) {
				c->state = ST_STARTTLS;
				conn_printf(c->conn, "STARTTLS\r\n");
			} else if (c->p.require_tls && !c->tls_done) {
				target_failed(c, 451, "4.7.0 the server offers no STARTTLS, which the "
						      "domain's MTA-STS policy requires");
			} else {
				session_ready(c);
			}
		} else if (!c->tls_done) {
			/* RFC 5321 3.2: a server that does not know EHLO gets HELO. */
			c->state = ST_HELO;
			memset(&c->ehlo, 0, sizeof(c->ehlo));
			conn_printf(c->conn, "HELO %s\r\n", c->p.helo);
		} else {
			target_failed(c, c->reply.code, text);
		}
		break;
	case ST_HELO:
		if (cls == 2)
			session_ready(c);
		else
			target_failed(c, c->reply.code, text);
		break;
	case ST_STARTTLS:
		if (cls == 2 && conn_start_tls_client(c->conn, c->p.tls, c->targets[c->target].host) == 0) {
			c->tls_done = true;
			/* RFC 3207 4.2: forget what the server said before and ask again. */
			send_ehlo(c);
		} else if (c->p.require_tls) {
			target_failed(c, 451, "4.7.0 STARTTLS failed, and the domain's MTA-STS policy "
					      "requires TLS");
		} else {
			/* Opportunistic: a refused STARTTLS leaves the session in the clear. */
			session_ready(c);
		}
		break;
	case ST_AUTH:
		if (cls == 2) {
			c->state = ST_SESSION;
			client_next_message(c);
		} else {
			target_failed(c, c->reply.code, text);
		}
		break;
	case ST_SESSION:
		transaction_reply(c);
		break;
	case ST_QUIT:
		conn_close(c->conn);
		break;
	}
	free(text);
}

static void on_input(struct conn *conn, void *arg)
{
	struct smtp_client *c = arg;
	while (c->step == STEP_NONE && !conn_is_closed(conn)) {
		int r = conn_read_line(conn, SMTP_REPLY_LINE_MAX, &c->line);
		if (r == 0)
			return;
		if (r > 0)
			r = smtp_reply_feed(&c->reply, c->line.data, c->line.len);
		if (r < 0) {
			target_failed(c, 451, "malformed reply from the server");
			return;
		}
		if (r == 1) {
			on_reply(c);
			smtp_reply_clear(&c->reply);
		}
	}
}

/* Opportunistic TLS (RFC 3207 4.1, as Postfix's "may" level): when the handshake fails (or
 * the connection dies right after it) the same mail exchanger is tried once more in the
 * clear, rather than leaving the mail stuck on a server with a broken TLS setup. */
static bool retry_without_tls(struct smtp_client *c)
{
	if (c->state != ST_EHLO || !c->tls_done || c->tls_broken == c->target + 1)
		return false;
	if (c->p.require_tls) {
		const char *why = conn_tls_verify_error(c->conn);
		char *error = xasprintf("4.7.0 TLS handshake failed%s%s; the domain's MTA-STS "
					"policy requires a valid certificate",
					why != NULL ? ": certificate " : "", why != NULL ? why : "");
		target_failed(c, 451, error);
		free(error);
		return true;
	}
	log_info("outbound relay=%s TLS handshake failed, trying again without TLS", c->remote);
	c->tls_broken = c->target + 1;
	client_schedule(c, STEP_NEXT_TARGET, "TLS handshake failed");
	return true;
}

static void on_timeout(struct conn *conn, void *arg)
{
	struct smtp_client *c = arg;
	if (c->step != STEP_NONE || retry_without_tls(c))
		return;
	char error[128];
	snprintf(error, sizeof(error), "timed out waiting for the %s reply", state_timeout_name(c->state));
	if (c->state == ST_SESSION)
		client_finish(c, error);
	else if (c->state == ST_QUIT)
		client_finish(c, "");
	else
		target_failed(c, 451, error);
}

static void on_close(struct conn *conn, void *arg)
{
	struct smtp_client *c = arg;
	if (c->step != STEP_NONE || retry_without_tls(c))
		return;
	if (c->state == ST_QUIT) {
		client_finish(c, "");
	} else if (c->state == ST_SESSION) {
		client_finish(c, "lost connection with the server");
	} else {
		target_failed(c, 451, c->reached ? "lost connection with the server"
						 : "cannot connect to the server");
	}
}

static const struct conn_handler client_handler = {
	.on_input = on_input,
	.on_timeout = on_timeout,
	.on_close = on_close,
};

static void client_next_target(struct smtp_client *c)
{
	if (c->target >= c->target_count) {
		char *error = xstrdup(c->last_error != NULL ? c->last_error : "no mail exchanger");
		client_finish_now(c, error);
		free(error);
		return;
	}
	struct dns_target *t = &c->targets[c->target];
	c->state = ST_GREETING;
	c->reached = false;
	c->tls_done = false;
	memset(&c->ehlo, 0, sizeof(c->ehlo));
	smtp_reply_clear(&c->reply);
	c->expect_count = 0;
	c->conn = conn_connect(c->p.base, (struct sockaddr *)&t->addr, t->addr_len, TIMEOUT_CONNECT,
			       &client_handler, c);
	snprintf(c->remote, sizeof(c->remote), "%s[%s]", t->host, conn_peer_ip(c->conn));
}

struct smtp_client *smtp_client_start(const struct smtp_client_params *p,
				      const struct dns_target *targets, size_t target_count,
				      struct smtp_client_msg *msgs, size_t msg_count,
				      smtp_client_rcpt_fn *rcpt_cb, smtp_client_done_fn *done_cb,
				      void *arg)
{
	struct smtp_client *c = xcalloc(1, sizeof(*c));
	c->p = *p;
	c->targets = xcalloc(target_count + 1, sizeof(*c->targets));
	memcpy(c->targets, targets, target_count * sizeof(*targets));
	c->target_count = target_count;
	c->msgs = msgs;
	c->msg_count = msg_count;
	c->rcpt_cb = rcpt_cb;
	c->done_cb = done_cb;
	c->arg = arg;
	c->expect = xcalloc(EXPECT_MAX, sizeof(*c->expect));
	c->step_ev = event_new(p->base, -1, 0, on_step, c);
	smtp_reply_init(&c->reply);
	buf_init(&c->line);
	client_next_target(c);
	return c;
}

void smtp_client_abort(struct smtp_client *c)
{
	/* From outside the connection's callbacks, so at once, even with a step pending. */
	event_del(c->step_ev);
	client_finish_now(c, "shutting down");
}
