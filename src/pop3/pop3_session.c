/* A POP3 server session: the state machine of RFC 1939 (AUTHORIZATION, TRANSACTION, UPDATE)
 * that reads command lines, checks each command's state gate from the table, and runs its
 * handler; AUTH swaps in its own line reader while the SASL exchange runs. Responses are
 * queued on the connection and leave together, in the order of the commands, which is all
 * RFC 2449's PIPELINING asks of a server. */
#include "pop3/pop3.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The command table (RFC 1939 9, RFC 2449 5, RFC 2595 4, RFC 5034 4). Gates: see enum
 * pop3_gate; CAPA and QUIT are valid in every state. */
static const struct pop3_command_def commands[] = {
	{ "USER", pop3_cmd_user, GATE_AUTHORIZATION, 1, 1 },
	{ "PASS", pop3_cmd_pass, GATE_AUTHORIZATION, 1, UCHAR_MAX }, /* spaces belong to the password */
	{ "APOP", pop3_cmd_apop, GATE_AUTHORIZATION, 2, 2 },
	{ "AUTH", pop3_cmd_auth, GATE_AUTHORIZATION, 0, 2 },
	{ "STLS", pop3_cmd_stls, GATE_AUTHORIZATION, 0, 0 },
	{ "CAPA", pop3_cmd_capa, 0, 0, 0 },
	{ "QUIT", pop3_cmd_quit, 0, 0, 0 },
	{ "STAT", pop3_cmd_stat, GATE_TRANSACTION, 0, 0 },
	{ "LIST", pop3_cmd_list, GATE_TRANSACTION, 0, 1 },
	{ "RETR", pop3_cmd_retr, GATE_TRANSACTION, 1, 1 },
	{ "DELE", pop3_cmd_dele, GATE_TRANSACTION, 1, 1 },
	{ "RSET", pop3_cmd_rset, GATE_TRANSACTION, 0, 0 },
	{ "NOOP", pop3_cmd_noop, GATE_TRANSACTION, 0, 0 },
	{ "TOP", pop3_cmd_top, GATE_TRANSACTION, 2, 2 },
	{ "UIDL", pop3_cmd_uidl, GATE_TRANSACTION, 0, 1 },
};

static const char *state_name(enum pop3_state state)
{
	static const char *const names[] = { "authorization", "sasl", "busy", "transaction",
					     "update", "closed" };
	return names[state];
}

void pop3_reply(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;
	buf line;
	buf_init(&line);
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	buf_puts(&line, "\r\n");
	conn_write(s->conn, line.data, line.len);
	if (line.data[0] == '-') {
		line.len -= 2;
		line.data[line.len] = '\0';
		log_info("session=%s pop3 reply state=%s reply=\"%s\"", conn_id(s->conn),
			 state_name(s->state), line.data);
	}
	buf_free(&line);
}

void pop3_send_multiline(struct pop3_session *s, const char *data, size_t len)
{
	/* RFC 1939 3: a line that starts with "." gets another in front. Runs between such
	 * lines go out as they are. */
	size_t start = 0, i = 0;
	while (i < len) {
		if (data[i] == '.') {
			conn_write(s->conn, data + start, i - start);
			conn_write(s->conn, ".", 1);
			start = i;
		}
		const char *nl = memchr(data + i, '\n', len - i);
		i = nl != NULL ? (size_t)(nl - data) + 1 : len;
	}
	conn_write(s->conn, data + start, len - start);
	if (len > 0 && data[len - 1] != '\n')
		conn_write(s->conn, "\r\n", 2);
	conn_write(s->conn, ".\r\n", 3);
}

bool pop3_auth_allowed(const struct pop3_session *s)
{
	return login_plaintext_ok(&s->server->login, s->conn);
}

bool pop3_maildrop_locked(const struct pop3_server *srv, int64_t account_id)
{
	for (const struct service_link *l = srv->host.sessions; l != NULL; l = l->next) {
		const struct pop3_session *o = (const struct pop3_session *)l;
		if (o->locked && o->user_id == account_id)
			return true;
	}
	return false;
}

void pop3_maildrop_free(struct pop3_maildrop *drop)
{
	xfree(&drop->messages);
	memset(drop, 0, sizeof(*drop));
}

void pop3_session_free(struct service_link *l)
{
	struct pop3_session *s = (struct pop3_session *)l;
	login_exchange_free(&s->auth);
	pop3_maildrop_free(&s->drop);
	service_session_close(&s->server->host, &s->link, &s->conn);
	free(s->timestamp);
	free(s->user_name);
	free(s->user);
	buf_free(&s->line);
	free(s);
}

void pop3_session_close(struct pop3_session *s)
{
	s->state = POP3_STATE_CLOSED;
	conn_close(s->conn);
}

/* Runs one command line through the table and its gates. */
static void dispatch(struct pop3_session *s, const char *line, size_t len)
{
	struct pop3_command cmd;
	/* RFC 1939 7: PASS only right after USER; any other command forgets the name. */
	char *user_name = s->user_name;
	s->user_name = NULL;
	switch (pop3_command_parse(line, len, &cmd)) {
	case POP3_PARSE_OK:
		break;
	case POP3_PARSE_TOO_LONG:
		pop3_reply(s, "-ERR Line too long (RFC 2449: 255 octets at most)");
		free(user_name);
		return;
	case POP3_PARSE_KEYWORD:
	case POP3_PARSE_CONTROL:
		pop3_reply(s, "-ERR Syntax error, command unrecognized");
		free(user_name);
		return;
	}
	const struct pop3_command_def *def = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd.keyword, commands[i].keyword) == 0)
			def = &commands[i];
	const char *refusal = NULL;
	if (def == NULL)
		refusal = "-ERR Unknown command";
	else if ((def->gates & GATE_AUTHORIZATION) && s->state != POP3_STATE_AUTHORIZATION)
		refusal = "-ERR Not allowed after login";
	else if ((def->gates & GATE_TRANSACTION) && s->state != POP3_STATE_TRANSACTION)
		refusal = "-ERR Log in first";
	else if (cmd.argc < def->min_args)
		refusal = "-ERR Missing argument";
	else if (cmd.argc > def->max_args)
		refusal = "-ERR Too many arguments";
	if (refusal != NULL) {
		pop3_reply(s, "%s", refusal);
		free(user_name);
		return;
	}
	if (def->handler == pop3_cmd_pass)
		s->user_name = user_name;
	else
		free(user_name);
	def->handler(s, &cmd);
}

/* Reads and handles everything waiting, until more input is needed, the session waits, or
 * the replies wait for the client to read them (a client that pipelines RETRs faster than it
 * reads gets them as fast as it reads, not all into our memory). */
static void session_input(struct conn *c, void *ctx)
{
	struct pop3_session *s = ctx;
	for (;;) {
		if (conn_is_closed(c) || s->state == POP3_STATE_BUSY || s->in_job ||
		    s->state == POP3_STATE_UPDATE || s->state == POP3_STATE_CLOSED ||
		    s->server->host.stopping || conn_output_full(c))
			return;
		bool sasl = s->state == POP3_STATE_SASL;
		int r = conn_read_line(c, sasl ? POP3_SASL_LINE_MAX : POP3_LINE_MAX, &s->line);
		if (r == 0)
			return;
		if (sasl) {
			if (r < 0)
				pop3_auth_too_long(s);
			else
				pop3_auth_response(s, s->line.data, s->line.len);
			continue;
		}
		if (r < 0) {
			pop3_reply(s, "-ERR Line too long (RFC 2449: 255 octets at most)");
			continue;
		}
		dispatch(s, s->line.data, s->line.len);
	}
}

void pop3_session_resume(struct pop3_session *s)
{
	if (s->in_job)
		return;
	if (s->gone) {
		pop3_session_free(&s->link);
		return;
	}
	conn_resume(s->conn);
}

/* RFC 1939 3: when the autologout timer expires the session does not enter UPDATE; the
 * connection is closed without a response and nothing is removed. */
static void session_timeout(struct conn *c, void *ctx)
{
	struct pop3_session *s = ctx;
	if (s->state == POP3_STATE_BUSY || s->state == POP3_STATE_UPDATE || s->in_job)
		return; /* our own work is slow, not the client */
	log_info("session=%s pop3 timeout state=%s", conn_id(c), state_name(s->state));
	pop3_session_close(s);
}

static void session_closed(struct conn *c, void *ctx)
{
	struct pop3_session *s = ctx;
	log_info("session=%s pop3 disconnect ip=%s user=%s retrieved=%u", conn_id(c),
		 conn_peer_ip(c), s->user != NULL ? s->user : "-", s->retrieved);
	if (s->state == POP3_STATE_BUSY || s->state == POP3_STATE_UPDATE || s->in_job) {
		s->gone = true; /* the password check, delay or store call finishes first */
		return;
	}
	pop3_session_free(&s->link);
}

static const struct conn_handler pop3_conn_handler = {
	.on_input = session_input,
	.on_timeout = session_timeout,
	.on_close = session_closed,
};

/* RFC 2449 8.1.2: SYS/TEMP, a problem that may go away if the client tries again later. */
void pop3_session_refuse(struct service_link *l, enum service_admission why)
{
	struct pop3_session *s = (struct pop3_session *)l;
	pop3_reply(s, "-ERR [SYS/TEMP] %s", why == SERVICE_TOO_MANY_FROM_IP
		   ? "Too many connections from your address" : "Too many connections, try again later");
	pop3_session_close(s);
}

void pop3_session_start(struct pop3_server *srv, const struct service_port *port, int fd,
			const struct sockaddr *sa)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));
	s->server = srv;
	s->state = POP3_STATE_AUTHORIZATION;
	buf_init(&s->line);
	enum service_admission admission;
	s->conn = service_session_open(&srv->host, &s->link, port, fd, sa, &pop3_conn_handler, s,
				       &admission);
	/* RFC 1939 7: the APOP timestamp is an RFC 822 msg-id that differs for every greeting;
	 * the session id adds what cannot be guessed. */
	s->timestamp = xasprintf("<%d.%lu.%lld.%s@%s>", (int)getpid(), ++srv->greetings,
				 (long long)time(NULL), conn_id(s->conn), srv->host.hostname);
	if (admission != SERVICE_ADMITTED) {
		pop3_session_refuse(&s->link, admission);
	} else {
		pop3_reply(s, "+OK estafeta POP3 server ready %s", s->timestamp);
	}
}
