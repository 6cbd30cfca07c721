/* The POP3 server's shared types: the server (settings and shared resources), a session (one
 * connection: the explicit state machine of RFC 1939 4-6), the maildrop it works on (a
 * snapshot of INBOX taken at login, so the session never blocks delivery or IMAP), and the
 * command table. One file per command family (cmd-*.c). */
#ifndef ESTAFETA_POP3_H
#define ESTAFETA_POP3_H
#include "auth/login.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/conn.h"
#include "core/service.h"
#include "core/workq.h"
#include "pop3/pop3_parse.h"
#include "store/store.h"
#include "store/store_workers.h"
#include <stdbool.h>
#include <stdint.h>

/* RFC 5034 4: SASL responses after the AUTH command may be of any length the mechanism
 * needs; ours stay far below this. Command lines are held to POP3_LINE_MAX (RFC 2449 4). */
#define POP3_SASL_LINE_MAX 12288

struct pop3_server {
	struct service_host host;
	struct service_port ports[2]; /* pop3, pop3s */
	struct store *store;      /* the loop thread's connection: logins only */
	struct workq *workq;      /* password checks */
	struct store_workers *store_workers; /* the maildrop's store calls (pop3_job.c) */
	struct login_env login;   /* password checks, SASL exchanges and the failure policy */
	unsigned long greetings;  /* makes every APOP timestamp distinct */
};

/* RFC 1939's three states, and the waits inside them. */
enum pop3_state {
	POP3_STATE_AUTHORIZATION, /* greeted; USER/PASS, APOP or AUTH */
	POP3_STATE_SASL,          /* inside AUTH: lines are SASL responses */
	POP3_STATE_BUSY,          /* waiting for a password check or the failure delay */
	POP3_STATE_TRANSACTION,   /* logged in, maildrop locked */
	POP3_STATE_UPDATE,        /* QUIT in TRANSACTION: removing the deleted messages */
	POP3_STATE_CLOSED,        /* closing */
};

/* One message of the maildrop as it was at login. Its number is its index + 1. */
struct pop3_message {
	uint32_t uid;
	uint64_t size;    /* octets as RETR sends them before byte-stuffing (stored with CRLF) */
	bool deleted;     /* DELE: removed at QUIT, unless RSET */
};

struct pop3_maildrop {
	int64_t folder_id;
	uint32_t uidvalidity;
	struct pop3_message *messages;
	size_t count;
	size_t deleted;           /* messages marked */
	uint64_t size;            /* octets of the messages not marked */
};

struct pop3_session {
	struct service_link link; /* first: the host's session list leads back here */
	struct pop3_server *server;
	struct conn *conn;
	enum pop3_state state;
	char *timestamp;          /* the greeting's APOP challenge "<...@host>" */
	char *user_name;          /* given by USER, waiting for PASS */
	char *user;               /* logged-in account, or NULL */
	int64_t user_id;
	bool locked;              /* holds the maildrop lock of user_id */
	int auth_failures;
	struct login_exchange *auth; /* the SASL exchange of AUTH, while it runs */
	struct pop3_maildrop drop;
	buf line;
	bool gone;                /* the connection closed; free when nothing is in flight */
	bool in_job;              /* a store call runs on a worker; input waits (pop3_job.c) */
	unsigned retrieved;       /* for the log */
};

/* Command gates, checked by the dispatcher before the handler runs (RFC 1939 "Restrictions"). */
enum pop3_gate {
	GATE_AUTHORIZATION = 1 << 0, /* only before login */
	GATE_TRANSACTION = 1 << 1,   /* only after login */
};

struct pop3_command_def {
	const char *keyword;
	void (*handler)(struct pop3_session *s, const struct pop3_command *cmd);
	unsigned gates;
	unsigned char min_args;
	unsigned char max_args;      /* PASS: the rest of the line is one argument */
};

/* ---- pop3_session.c ---- */
void pop3_session_start(struct pop3_server *srv, const struct service_port *port, int fd,
			const struct sockaddr *sa);
/* Frees a session (the host's free_session). */
void pop3_session_free(struct service_link *l);
/* Answers -ERR [SYS/TEMP] for why and closes (the host's refuse_session). */
void pop3_session_refuse(struct service_link *l, enum service_admission why);
/* Sends one response line; fmt starts with "+OK" or "-ERR". */
void pop3_reply(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends data as the body of a multi-line response: byte-stuffed, a line end added when it
 * lacks one, then the terminating ".". */
void pop3_send_multiline(struct pop3_session *s, const char *data, size_t len);
/* Closes the session after the replies written so far. */
void pop3_session_close(struct pop3_session *s);
/* After asynchronous work: free the session when its connection is gone, else go on reading;
 * while a job runs, nothing: the job does it when it is done. */
void pop3_session_resume(struct pop3_session *s);
/* ---- pop3_job.c ---- */
/* Runs run(store, arg) on a store worker while the session waits (no input, no timeout),
 * then done(s, arg) on the loop, also when the client went meanwhile (it frees arg); the
 * session then reads on, or is freed. */
void pop3_job_start(struct pop3_session *s, store_job_fn *run,
		    void (*done)(struct pop3_session *s, void *arg), void *arg);
/* True when passwords may be sent on this connection now (TLS, or loopback when allowed). */
bool pop3_auth_allowed(const struct pop3_session *s);
/* True when another session holds the maildrop of account_id. */
bool pop3_maildrop_locked(const struct pop3_server *srv, int64_t account_id);

/* ---- the commands ---- */
void pop3_cmd_user(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_pass(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_apop(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_auth(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_stls(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_capa(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_quit(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_stat(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_list(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_retr(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_dele(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_rset(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_noop(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_top(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_uidl(struct pop3_session *s, const struct pop3_command *cmd);
/* A line while in POP3_STATE_SASL. */
void pop3_auth_response(struct pop3_session *s, const char *line, size_t len);
/* A line over the bound while in POP3_STATE_SASL: the exchange ends with -ERR. */
void pop3_auth_too_long(struct pop3_session *s);
/* Frees the maildrop snapshot. */
void pop3_maildrop_free(struct pop3_maildrop *drop);
#endif
