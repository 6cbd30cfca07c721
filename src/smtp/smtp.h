/* The SMTP server's shared types: the server (settings and shared resources), a session (one
 * connection: an explicit state machine) and its transaction (MAIL .. end of data, kept apart
 * so RSET just frees it), and the command table. One file per command family (cmd-*.c). */
#ifndef ESTAFETA_SMTP_H
#define ESTAFETA_SMTP_H
#include "auth/login.h"
#include "core/buf.h"
#include "core/conn.h"
#include "core/ip_counts.h"
#include "core/config.h"
#include "core/dns.h"
#include "core/service.h"
#include "core/workq.h"
#include "deliver/committer.h"
#include "deliver/resolve.h"
#include "deliver/spool.h"
#include "smtp/client_dns.h"
#include "smtp/data_reader.h"
#include "smtp/message_checks.h"
#include "smtp/smtp_parse.h"
#include "store/store.h"
#include "store/store_workers.h"
#include <stdbool.h>
#include <stdint.h>

/* RFC 4954 4: AUTH lines may be this long; other command lines are held to SMTP_LINE_MAX, the
 * RFC 5321 512 octets plus what the extensions we offer add to MAIL and RCPT (SIZE, BODY,
 * SMTPUTF8, RET, ENVID, AUTH, NOTIFY, ORCPT), rounded up as Postfix's line_length_limit is. */
#define SMTP_AUTH_LINE_MAX 12288
#define SMTP_LINE_MAX 2048

enum smtp_mode {
	SMTP_MODE_RELAY,      /* port 25: mail from other servers for our domains */
	SMTP_MODE_SUBMISSION, /* ports 587/465: mail from our users, after AUTH */
};

struct smtp_service {
	struct service_port port; /* first: the accept function gets the port */
	enum smtp_mode mode;
};

/* dmarc.enforce: what a DMARC failure leads to. */
enum dmarc_enforce {
	DMARC_ENFORCE_NONE,       /* the result is only noted */
	DMARC_ENFORCE_QUARANTINE, /* p=quarantine and p=reject: to Junk */
	DMARC_ENFORCE_REJECT,     /* p=reject: 550 5.7.1; p=quarantine: to Junk */
};

struct smtp_server {
	struct service_host host;
	struct smtp_service services[3];
	struct store *store;      /* the loop thread's connection: logins, the end of DATA */
	struct workq *workq;      /* password checks */
	struct store_workers *store_workers; /* MAIL's, RCPT's and EXPN's store calls */
	struct committer *committer;
	struct dns *dns;          /* port 25's checks of its clients (client_dns.h) */
	char *dns_resolvers;      /* the dns.resolvers it was made for */
	struct dns **retired_dns; /* those it replaced (smtp_server.c) */
	size_t retired_count;
	struct login_env login;   /* password checks, SASL exchanges and the failure policy */
	/* settings, read once */
	uint64_t max_message_size;
	size_t max_recipients;
	size_t max_line;
	size_t max_header;
	bool expn;
	const char *recipient_delimiter;
	long long max_messages_per_hour;   /* submission, per authenticated user; 0: none */
	long long max_recipients_per_hour;
	bool allow_foreign_from;
	bool authenticated_header;
	bool quota_exclude_trash_junk;
	bool quota_permanent;         /* over quota: 552 5.2.2 rather than 452 4.2.2 */
	const char *etrn_domains;     /* comma-separated (cmd-etrn.c) */
	bool checks;                  /* smtp.checks */
	enum dmarc_enforce dmarc_enforce;
	const char *arc_trusted_sealers; /* comma-separated (message_checks.h) */
	int etrn_max_per_ip;
	time_t etrn_window;
	/* ETRN requests per client address in the current window */
	struct ip_counts *etrn_requests;
	time_t etrn_window_start;
};

enum smtp_state {
	SMTP_STATE_INIT,  /* greeted; waiting for HELO/EHLO */
	SMTP_STATE_READY, /* HELO/EHLO done, no transaction */
	SMTP_STATE_MAIL,  /* MAIL accepted, RCPTs may follow */
	SMTP_STATE_DATA,  /* reading DATA up to CRLF.CRLF */
	SMTP_STATE_BDAT,  /* reading a BDAT chunk */
	SMTP_STATE_AUTH,  /* in a SASL exchange: lines are responses */
	SMTP_STATE_BUSY,  /* waiting for a password check or the commit */
	SMTP_STATE_QUIT,  /* closing */
};

/* One accepted recipient as the client gave it, and where it goes. */
struct smtp_rcpt {
	char *address;    /* canonical form */
	unsigned notify;
	char *orcpt;
};

/* What happens to the message while it arrives: first the header section is collected (so
 * submission can add Date/Message-ID and remove Bcc), then the body goes straight to the spool. */
struct smtp_tx {
	char *sender;                 /* canonical, "" for <> */
	struct smtp_mail_args mail;
	struct smtp_rcpt *rcpts;
	size_t rcpt_count;
	struct resolution targets;    /* accounts and remote addresses, duplicates removed */
	char queue_id[17];
	struct spool *spool;
	buf header;                   /* the header section while it is collected */
	bool header_done;
	bool used_bdat;
	uint64_t size;                /* octets of message received */
	bool too_big;
	bool header_too_big;
	bool bare_newline;
	bool line_too_long;
	char *foreign_author;         /* submission: a From or Sender address the user does not own */
	struct message_checks *checks; /* port 25: SPF, DKIM and DMARC of this message */
	int checks_waiting;           /* the end of the message waits for this many */
	bool dmarc_report;            /* port 25: its Subject says it carries a DMARC report */
	struct data_reader reader;
	buf chunk;                    /* decoded data on its way to the spool */
	size_t line_len;              /* BDAT: length of the current line so far */
	bool prev_cr;                 /* BDAT: the last octet was CR */
};

struct smtp_session {
	struct service_link link;     /* first: the host's session list leads back here */
	struct smtp_server *server;
	const struct smtp_service *service;
	struct conn *conn;
	enum smtp_state state;
	char *helo;
	bool esmtp;
	char *user;                   /* authenticated account address, or NULL */
	int64_t user_id;
	int auth_failures;
	struct login_exchange *auth;  /* the SASL exchange of AUTH, while it runs */
	struct smtp_tx *tx;
	struct client_dns *dns_check; /* port 25: the client's iprev and HELO checks */
	buf line;
	bool gone;                    /* the connection closed; free when nothing is in flight */
	uint64_t chunk_left;          /* BDAT: octets of the chunk still to read */
	bool chunk_last;
	bool chunk_discard;           /* BDAT refused: read and drop the chunk */
	unsigned messages;
	/* while a command runs on a store worker (smtp_session.c): */
	bool in_job;
	struct store *store;          /* the worker's store connection */
	buf out;                      /* the replies, sent when it is done */
	bool logged_in_job;           /* the command ended the login time (MAIL on port 25) */
	strlist own_aliases;          /* submission: smtp_sender_aliases_read */
};

/* Command gates, checked by the dispatcher before the handler runs. */
enum smtp_gate {
	GATE_HELLO = 1 << 0,    /* HELO/EHLO first: 503 */
	GATE_NO_TX = 1 << 1,    /* not inside a transaction: 503 */
	GATE_TX = 1 << 2,       /* inside a transaction (after MAIL): 503 */
	GATE_RCPT = 1 << 3,     /* at least one accepted RCPT: 554 */
	GATE_SUBMIT = 1 << 4,   /* submission needs TLS (or loopback) and AUTH: 530 */
	GATE_STORE = 1 << 5,    /* not a gate: it runs on a store worker, its session waiting */
};

struct smtp_command_def {
	const char *verb;
	void (*handler)(struct smtp_session *s, const char *arg, size_t len);
	unsigned gates;
	bool takes_arg;         /* false: any argument is a 501 syntax error */
};

/* ---- smtp_session.c ---- */
void smtp_session_start(struct smtp_server *srv, const struct smtp_service *svc, int fd,
			const struct sockaddr *sa);
/* The session's login time ends (service_session_logged_in), on the loop. */
void smtp_logged_in(struct smtp_session *s);
/* Port 25, another server's transaction: starts its sender checks (SPF now, the rest with the
 * data), on the loop only, so a MAIL that ran on a store worker has them started when its job
 * is done (cmd-mail.c). */
void smtp_checks_start(struct smtp_session *s);
/* Frees a session (the host's free_session). */
void smtp_session_free(struct service_link *l);
/* Answers 421 for why and closes (the host's refuse_session). */
void smtp_session_refuse(struct service_link *l, enum service_admission why);
/* Sends one reply line "CODE TEXT\r\n" (text may carry the enhanced status code). */
void smtp_reply(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the transaction (RSET, a new EHLO, STARTTLS, after a message). */
void smtp_tx_reset(struct smtp_session *s);
/* Closes the session after the replies written so far. */
void smtp_session_close(struct smtp_session *s);
/* After asynchronous work: free the session when its connection is gone, else go on reading. */
void smtp_session_resume(struct smtp_session *s);
/* True when passwords may be sent on this connection now (TLS, or loopback when allowed). */
bool smtp_auth_allowed(const struct smtp_session *s);

/* ---- sender_login.c ---- */
/* Submission, at MAIL (on a store worker): reads the aliases whose one target the
 * authenticated user is, for the checks of this transaction (the envelope sender now, From
 * and Sender at the end of the header section). */
void smtp_sender_aliases_read(struct smtp_session *s);
/* May the authenticated user send as address (envelope sender or From)? Its own address, an
 * alias whose one target it is, and either with a +extension. */
bool smtp_sender_owned(const struct smtp_session *s, const char *address);
/* The first address of the header section's From and Sender fields the authenticated user
 * does not own (allocated), or NULL when it owns them all. */
char *smtp_foreign_author(struct smtp_session *s, const char *hdr, size_t len);
/* Submission: false after a 451 4.7.1 (logged) when the authenticated user has reached its
 * hourly limit of messages (adding is 0, at MAIL) or would pass its limit of recipients with
 * adding more (at RCPT), counting what it submitted in the last hour. */
bool smtp_within_hourly_limits(struct smtp_session *s, size_t adding);

/* ---- reply-parse.c ---- */
enum smtp_path_role { SMTP_PATH_SENDER, SMTP_PATH_RECIPIENT, SMTP_PATH_NONE };
/* Answers a parse error of MAIL, RCPT or BDAT with the reply RFC 5321, 3461 and 6531 name. */
void smtp_reply_parse_error(struct smtp_session *s, enum smtp_parse_error e, enum smtp_path_role role);

/* ---- the commands ---- */
void cmd_helo(struct smtp_session *s, const char *arg, size_t len);
void cmd_ehlo(struct smtp_session *s, const char *arg, size_t len);
void cmd_mail(struct smtp_session *s, const char *arg, size_t len);
void cmd_rcpt(struct smtp_session *s, const char *arg, size_t len);
void cmd_data(struct smtp_session *s, const char *arg, size_t len);
void cmd_bdat(struct smtp_session *s, const char *arg, size_t len);
void cmd_rset(struct smtp_session *s, const char *arg, size_t len);
void cmd_noop(struct smtp_session *s, const char *arg, size_t len);
void cmd_quit(struct smtp_session *s, const char *arg, size_t len);
void cmd_vrfy(struct smtp_session *s, const char *arg, size_t len);
void cmd_expn(struct smtp_session *s, const char *arg, size_t len);
void cmd_help(struct smtp_session *s, const char *arg, size_t len);
void cmd_turn(struct smtp_session *s, const char *arg, size_t len);
void cmd_starttls(struct smtp_session *s, const char *arg, size_t len);
void cmd_auth(struct smtp_session *s, const char *arg, size_t len);
void cmd_etrn(struct smtp_session *s, const char *arg, size_t len);
/* An AUTH response line while in SMTP_STATE_AUTH. */
void smtp_auth_response(struct smtp_session *s, const char *line, size_t len);
/* An AUTH response line over the bound: the exchange ends with 500 5.5.6. */
void smtp_auth_too_long(struct smtp_session *s);
/* Reads DATA or BDAT octets waiting in the input; false when more input is needed. */
bool smtp_data_input(struct smtp_session *s);
bool smtp_bdat_input(struct smtp_session *s);
/* Starts a BDAT whose chunk is read and thrown away (the command was refused). */
void smtp_bdat_discard(struct smtp_session *s, const char *arg, size_t len);
#endif
