/* An SMTP server session: the state machine that reads command lines, checks each command's
 * gates from the table, and runs its handler; DATA, BDAT and AUTH swap in their own readers
 * while they run. Replies are queued on the connection and go out together, which is all
 * RFC 2920 pipelining asks of a server. A command that uses the store (MAIL, RCPT, EXPN)
 * runs on a store worker while the session waits; its replies go out when it is done. */
#include "smtp/smtp.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The command table (RFC 5321 4.1.1, and ETRN from RFC 1985). Gates: see enum smtp_gate. */
static const struct smtp_command_def commands[] = {
	{ "HELO", cmd_helo, 0, true },
	{ "EHLO", cmd_ehlo, 0, true },
	{ "MAIL", cmd_mail, GATE_HELLO | GATE_SUBMIT | GATE_NO_TX | GATE_STORE, true },
	{ "RCPT", cmd_rcpt, GATE_HELLO | GATE_SUBMIT | GATE_TX | GATE_STORE, true },
	{ "DATA", cmd_data, GATE_HELLO | GATE_SUBMIT | GATE_TX | GATE_RCPT, false },
	{ "BDAT", cmd_bdat, GATE_HELLO | GATE_SUBMIT | GATE_TX | GATE_RCPT, true },
	{ "RSET", cmd_rset, 0, false },
	{ "NOOP", cmd_noop, 0, true },
	{ "QUIT", cmd_quit, 0, false },
	{ "VRFY", cmd_vrfy, 0, true },
	{ "EXPN", cmd_expn, GATE_STORE, true },
	{ "HELP", cmd_help, 0, true },
	{ "TURN", cmd_turn, 0, false },
	{ "STARTTLS", cmd_starttls, GATE_NO_TX, false },
	{ "AUTH", cmd_auth, GATE_HELLO | GATE_NO_TX, true },
	{ "ETRN", cmd_etrn, GATE_HELLO | GATE_NO_TX, true },
};

static const char *state_name(enum smtp_state state)
{
	static const char *const names[] = { "init", "ready", "mail", "data", "bdat", "auth", "busy", "quit" };
	return names[state];
}

void smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;
	buf line;
	buf_init(&line);
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	buf_puts(&line, "\r\n");
	if (s->in_job)
		buf_append(&s->out, line.data, line.len);
	else
		conn_write(s->conn, line.data, line.len);
	if (line.data[0] == '4' || line.data[0] == '5') {
		line.len -= 2;
		line.data[line.len] = '\0';
		log_info("session=%s smtp reply state=%s reply=\"%s\"", conn_id(s->conn),
			 state_name(s->state), line.data);
	}
	buf_free(&line);
}

bool smtp_auth_allowed(const struct smtp_session *s)
{
	return login_plaintext_ok(&s->server->login, s->conn);
}

void smtp_tx_reset(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	if (tx == NULL)
		return;
	free(tx->sender);
	for (size_t i = 0; i < tx->rcpt_count; i++) {
		free(tx->rcpts[i].address);
		free(tx->rcpts[i].orcpt);
	}
	free(tx->rcpts);
	resolution_free(&tx->targets);
	spool_discard(&tx->spool);
	buf_free(&tx->header);
	buf_free(&tx->chunk);
	free(tx->foreign_author);
	message_checks_free(&tx->checks);
	free(tx);
	s->tx = NULL;
	if (s->state == SMTP_STATE_MAIL || s->state == SMTP_STATE_DATA || s->state == SMTP_STATE_BDAT)
		s->state = SMTP_STATE_READY;
}

void smtp_session_free(struct service_link *l)
{
	struct smtp_session *s = (struct smtp_session *)l;
	smtp_tx_reset(s);
	login_exchange_free(&s->auth);
	client_dns_free(&s->dns_check);
	service_session_close(&s->server->host, &s->link, &s->conn);
	free(s->helo);
	free(s->user);
	buf_free(&s->line);
	buf_free(&s->out);
	strlist_free(&s->own_aliases);
	free(s);
}

void smtp_session_close(struct smtp_session *s)
{
	s->state = SMTP_STATE_QUIT;
	conn_close(s->conn);
}

/* A command on a store worker. Its argument stays in s->line: no line is read meanwhile. */
struct command_job {
	struct smtp_session *s;
	const struct smtp_command_def *def;
	const char *arg;
	size_t len;
};

static void command_run(struct store *st, void *arg)
{
	struct command_job *j = arg;
	j->s->store = st;
	j->def->handler(j->s, j->arg, j->len);
	j->s->store = NULL;
}

static void command_done(void *arg)
{
	struct command_job *j = arg;
	struct smtp_session *s = j->s;
	free(j);
	s->in_job = false;
	conn_write(s->conn, s->out.data, s->out.len);
	buf_free(&s->out);
	if (s->logged_in_job) {
		s->logged_in_job = false;
		service_session_logged_in(&s->server->host, &s->link);
	}
	smtp_checks_start(s); /* a MAIL that ran here leaves them to the loop */
	smtp_session_resume(s);
}

void smtp_logged_in(struct smtp_session *s)
{
	if (s->in_job)
		s->logged_in_job = true; /* the host's lists are the loop's */
	else
		service_session_logged_in(&s->server->host, &s->link);
}

/* Runs one command line through the table and its gates. */
static void dispatch(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_command cmd;
	if (smtp_command_split(line, len, &cmd) < 0) {
		smtp_reply(s, "500 5.5.2 Syntax error, command unrecognized");
		return;
	}
	const struct smtp_command_def *def = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd.verb, commands[i].verb) == 0)
			def = &commands[i];
	if (def == NULL) {
		smtp_reply(s, "500 5.5.1 Command unrecognized: \"%s\"", cmd.verb);
		return;
	}
	if (cmd.arg_len > 0 && !def->takes_arg) {
		smtp_reply(s, "501 5.5.4 Syntax: %s takes no argument", def->verb);
		return;
	}
	if (len > SMTP_LINE_MAX && def->handler != cmd_auth) {
		smtp_reply(s, "500 5.5.2 Line too long");
		return;
	}
	const char *refusal = NULL;
	unsigned g = def->gates;
	bool submission = s->service->mode == SMTP_MODE_SUBMISSION;
	if ((g & GATE_HELLO) && s->helo == NULL)
		refusal = "503 5.5.1 Send HELO or EHLO first";
	else if ((g & GATE_SUBMIT) && submission && !smtp_auth_allowed(s))
		refusal = "530 5.7.0 Must issue a STARTTLS command first";
	else if ((g & GATE_SUBMIT) && submission && s->user == NULL)
		refusal = "530 5.7.0 Authentication required";
	else if ((g & GATE_NO_TX) && s->tx != NULL)
		refusal = def->handler == cmd_mail ? "503 5.5.1 Nested MAIL command"
						   : "503 5.5.1 Not allowed during a mail transaction";
	else if ((g & GATE_TX) && s->tx == NULL)
		refusal = "503 5.5.1 Need MAIL command first";
	else if ((g & GATE_RCPT) && s->tx->rcpt_count == 0)
		refusal = "554 5.5.1 No valid recipients";
	if (refusal != NULL) {
		smtp_reply(s, "%s", refusal);
		/* A refused BDAT is still followed by its chunk, which must be read and dropped
		 * (RFC 3030 2). */
		if (def->handler == cmd_bdat)
			smtp_bdat_discard(s, cmd.arg, cmd.arg_len);
		return;
	}
	if (g & GATE_STORE) {
		struct command_job *j = xmalloc(sizeof(*j));
		*j = (struct command_job){ s, def, cmd.arg, cmd.arg_len };
		s->in_job = true;
		conn_pause(s->conn);
		store_workers_submit(s->server->store_workers, command_run, command_done, j);
		return;
	}
	def->handler(s, cmd.arg, cmd.arg_len);
}

/* Reads and handles everything waiting, until more input is needed, the session waits, or
 * the replies wait for the client to read them (pipelined commands are taken as fast as the
 * client reads their replies). */
static void session_input(struct conn *c, void *ctx)
{
	struct smtp_session *s = ctx;
	for (;;) {
		if (conn_is_closed(c) || s->state == SMTP_STATE_BUSY || s->in_job || s->state == SMTP_STATE_QUIT ||
		    s->server->host.stopping || conn_output_full(c))
			return;
		if (s->state == SMTP_STATE_DATA) {
			if (!smtp_data_input(s))
				return;
			continue;
		}
		if (s->state == SMTP_STATE_BDAT) {
			if (!smtp_bdat_input(s))
				return;
			continue;
		}
		int r = conn_read_line(c, SMTP_AUTH_LINE_MAX, &s->line);
		if (r == 0)
			return;
		if (s->state == SMTP_STATE_AUTH) {
			if (r < 0)
				smtp_auth_too_long(s);
			else
				smtp_auth_response(s, s->line.data, s->line.len);
			continue;
		}
		if (r < 0) {
			smtp_reply(s, "500 5.5.2 Line too long");
			continue;
		}
		dispatch(s, s->line.data, s->line.len);
	}
}

void smtp_session_resume(struct smtp_session *s)
{
	if (s->in_job)
		return; /* the job resumes when it is done */
	if (s->gone) {
		smtp_session_free(&s->link);
		return;
	}
	conn_resume(s->conn);
}

static void session_timeout(struct conn *c, void *ctx)
{
	struct smtp_session *s = ctx;
	if (s->state == SMTP_STATE_BUSY || s->in_job)
		return; /* our own work is slow, not the client */
	log_info("session=%s smtp timeout state=%s", conn_id(c), state_name(s->state));
	smtp_reply(s, "421 4.4.2 %s Error: timeout exceeded", s->server->host.hostname);
	smtp_session_close(s);
}

static void session_closed(struct conn *c, void *ctx)
{
	struct smtp_session *s = ctx;
	log_info("session=%s smtp disconnect ip=%s messages=%u", conn_id(c), conn_peer_ip(c),
		 s->messages);
	if (s->state == SMTP_STATE_BUSY || s->in_job) {
		s->gone = true; /* the password check, commit or store call finishes first */
		return;
	}
	smtp_session_free(&s->link);
}

static const struct conn_handler smtp_conn_handler = {
	.on_input = session_input,
	.on_timeout = session_timeout,
	.on_close = session_closed,
};

/* RFC 5321 3.1: a server that will not serve may say 421 at once and close. */
void smtp_session_refuse(struct service_link *l, enum service_admission why)
{
	struct smtp_session *s = (struct smtp_session *)l;
	if (why == SERVICE_TOO_MANY_FROM_IP)
		smtp_reply(s, "421 4.7.0 %s Too many connections from your address", s->server->host.hostname);
	else
		smtp_reply(s, "421 4.3.2 %s Too many connections, try again later", s->server->host.hostname);
	smtp_session_close(s);
}

void smtp_session_start(struct smtp_server *srv, const struct smtp_service *svc, int fd,
			const struct sockaddr *sa)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	s->server = srv;
	s->service = svc;
	s->state = SMTP_STATE_INIT;
	buf_init(&s->line);
	strlist_init(&s->own_aliases);
	enum service_admission admission;
	s->conn = service_session_open(&srv->host, &s->link, &svc->port, fd, sa, &smtp_conn_handler,
				       s, &admission);
	if (admission != SERVICE_ADMITTED) {
		smtp_session_refuse(&s->link, admission);
		return;
	}
	/* Started now, so the answers are usually in by the end of the first message. */
	if (svc->mode == SMTP_MODE_RELAY && srv->dns != NULL && srv->checks)
		s->dns_check = client_dns_start(srv->dns, srv->host.base, conn_peer_ip(s->conn));
	smtp_reply(s, "220 %s ESMTP estafeta", srv->host.hostname);
}
