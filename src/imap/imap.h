/* The IMAP server's shared types: the server (settings and shared resources), a session (one
 * connection: the explicit state machine of RFC 3501 3), the selected mailbox as the session
 * sees it (its messages in sequence order, so numbers stay stable between the moments RFC 3501
 * 7.4.1 lets them change), and the command table. One file per command family (cmd-*.c). */
#ifndef ESTAFETA_IMAP_H
#define ESTAFETA_IMAP_H
#include "auth/login.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/conn.h"
#include "core/service.h"
#include "core/workq.h"
#include "deliver/committer.h"
#include "imap/imap_parse.h"
#include "imap/imap_string.h"
#include "store/store.h"
#include "store/store_workers.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct imap_server {
	struct service_host host;
	struct service_port ports[2]; /* imap, imaps */
	struct store *store;      /* the loop thread's connection: logins only */
	struct workq *workq;      /* password checks */
	struct store_workers *store_workers; /* where every other store call runs (imap_job.c) */
	struct committer *committer; /* APPEND */
	struct login_env login;   /* password checks, SASL exchanges and the failure policy */
	struct imap_limits limits;       /* after login */
	struct imap_limits login_limits; /* before login */
	bool quota_exclude_trash_junk;   /* quota.exclude_trash_junk */
	struct imap_session *idlers; /* the sessions in IDLE, woken when their account changes */
};

/* RFC 3501 3, and the waits inside the states. */
enum imap_state {
	IMAP_STATE_NOT_AUTHENTICATED,
	IMAP_STATE_AUTHENTICATED,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

/* What the session is doing besides reading commands. */
enum imap_wait {
	IMAP_WAIT_NONE,
	IMAP_WAIT_SASL,  /* inside AUTHENTICATE: lines are SASL responses */
	IMAP_WAIT_IDLE,  /* inside IDLE: waiting for DONE */
	IMAP_WAIT_BUSY,  /* a password check or the failure delay; input paused */
};

/* One message of the selected mailbox; its sequence number is its index + 1. */
struct imap_message {
	uint32_t uid;
	uint32_t flags;
	char *keywords;          /* space-separated, "" for none; set with imap_message_keywords */
	uint64_t modseq;
	uint64_t size;
	time_t internal_date;
};

struct imap_mailbox {
	int64_t folder_id;
	char *name;
	bool read_only;          /* EXAMINE */
	bool uncounted;          /* the quota does not count it (quota.exclude_trash_junk) */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t modseq;         /* the folder's highestmodseq at the last sync */
	struct imap_message *messages;
	size_t count;
	uint32_t *pending;       /* UIDs gone from the store, not yet announced (7.4.1) */
	size_t pending_count;
	bool deleted;            /* the mailbox was deleted while selected: its messages are gone */
	uint32_t *saved;         /* SEARCH RETURN (SAVE)'s UIDs, ascending: "$" (RFC 9051 6.4.4.1) */
	size_t saved_count;
	buf keywords;            /* the keywords the client was told of with FLAGS (space-separated) */
	/* \Recent (IMAP4rev1 only): a SELECT takes the messages no session has taken and every
	 * later arrival it is told of; EXAMINE shows them from recent_uid on, taking none */
	bool takes_recent;
	uint32_t recent_uid;
};

/* A command whose answer is written in steps, so that a client that does not read holds
 * no more than the output bound and the loop serves the others meanwhile: step writes the
 * next part and returns true once the command has finished (tagged response written); done
 * frees state, also when the session closes first. */
struct imap_steps {
	bool (*step)(struct imap_session *s, void *state);
	void (*done)(void *state);
	void *state;
};

struct imap_session {
	struct service_link link; /* first: the host's session list leads back here */
	struct imap_server *server;
	struct conn *conn;
	enum imap_state state;
	enum imap_wait wait;
	char *user;               /* logged-in account address, or NULL */
	int64_t user_id;
	int auth_failures;
	struct login_exchange *auth; /* the SASL exchange of AUTHENTICATE, while it runs */
	char *tag;                /* the tag of a command that finishes later (LOGIN, IDLE, ...) */
	bool condstore;           /* RFC 7162: MODSEQ in every FETCH with FLAGS */
	bool qresync;             /* RFC 7162: VANISHED instead of EXPUNGE */
	bool utf8;                /* RFC 6855 UTF8=ACCEPT: mailbox names in UTF-8, not modified UTF-7 */
	bool rev2;                /* ENABLE IMAP4rev2 (RFC 9051 A): its responses, UTF-8 names */
	struct imap_mailbox box;  /* valid in IMAP_STATE_SELECTED */
	struct imap_frame frame;
	struct spool *literal_spool; /* APPEND: the message literal streamed as it arrives */
	struct event *idle_timer; /* IDLE: looks for changes no one announces */
	struct imap_session *idle_prev, *idle_next; /* on the server's idlers while in IDLE */
	bool gone;                /* the connection closed; free when nothing is in flight */
	struct imap_steps steps;  /* a long answer written as the output drains (FETCH) */
	/* while a job runs on a store worker (imap_job.c): */
	struct imap_job *job;     /* the job, or NULL: the session is on the loop */
	struct store *store;      /* the worker's store connection, for the commands' store calls */
	buf out;                  /* the responses written, sent when the job is done */
	size_t out_room;          /* what the output could take when the job started */
	bool close_after_job;     /* imap_session_close was called in the job */
	bool wake_pending;        /* IDLE: woken while a job ran; it syncs after it */
	void (*then)(struct imap_session *s, void *arg); /* imap_job_then */
	void *then_arg;
};

/* A parsed command as handlers see it: arguments after the name (after the subcommand's name
 * for UID FETCH and the like, with uid set). */
struct imap_cmd {
	const char *tag;
	const char *name;
	const struct imap_arg *args;
	size_t count;
	bool uid;
	bool expunges;           /* EXPUNGE responses may precede the answer (RFC 3501 7.4.1) */
};

/* Command gates, checked by the dispatcher before the handler runs. */
enum imap_gate {
	GATE_NOT_AUTH = 1 << 0,  /* not authenticated state only (LOGIN, AUTHENTICATE, STARTTLS) */
	GATE_AUTH = 1 << 1,      /* authenticated or selected state */
	GATE_SELECTED = 1 << 2,  /* selected state */
	GATE_UID = 1 << 3,       /* may follow UID (FETCH, STORE, COPY, MOVE, SEARCH, SORT, THREAD,
	                            EXPUNGE) */
	GATE_NO_EXPUNGE = 1 << 4,/* RFC 3501 7.4.1: no EXPUNGE responses with it (unless UID);
	                            sets imap_cmd.expunges for the handler's sync */
	GATE_WRITES = 1 << 5,    /* not a gate: it may change the account's mail, so the account's
	                            other sessions in IDLE are woken after it */
	GATE_STORE = 1 << 6,     /* not a gate: after login it runs on a store worker (imap_job.c) */
};

struct imap_command_def {
	const char *name;
	void (*handler)(struct imap_session *s, const struct imap_cmd *cmd);
	unsigned gates;
	unsigned char min_args, max_args;
};

/* ---- imap_session.c ---- */
void imap_session_start(struct imap_server *srv, const struct service_port *port, int fd,
			const struct sockaddr *sa);
/* Frees a session (the host's free_session). */
void imap_session_free(struct service_link *l);
/* Says BYE [UNAVAILABLE] for why and closes (the host's refuse_session). */
void imap_session_refuse(struct service_link *l, enum service_admission why);
/* Writes response octets: to the connection, or to s->out while a job runs. */
void imap_write(struct imap_session *s, const void *data, size_t len);
/* Whether the responses waiting for the client are over the output bound (those of a
 * running job counted): a long answer stops writing and goes on in its next step. */
bool imap_output_full(const struct imap_session *s);
/* Sends one response line (CRLF added). */
void imap_reply(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends the tagged completion "tag OK|NO|BAD text" for cmd. */
void imap_tagged(struct imap_session *s, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Closes the session after the responses written so far. */
void imap_session_close(struct imap_session *s);
/* After asynchronous work: free the session when its connection is gone, else go on reading. */
void imap_session_resume(struct imap_session *s);
/* Runs the handler of def, after the check for a mailbox deleted elsewhere. */
void imap_run_command(struct imap_session *s, const struct imap_command_def *def,
		      const struct imap_cmd *cmd);
/* The command is over: the frame is emptied for the next, and a streamed literal no command
 * took goes. */
void imap_next_command(struct imap_session *s);
/* ---- imap_job.c: store calls on a store worker ---- */
/* Runs a command (imap_run_command) on a store worker, taking over c, into which cmd (the
 * command as its handler sees it) points; the session takes no input until it has finished. */
void imap_job_command(struct imap_session *s, const struct imap_command_def *def,
		      struct imap_command *c, const struct imap_cmd *cmd);
/* Runs fn(s, arg) on a store worker to finish a command (APPEND once committed): its
 * responses go out, then the session takes its next command. */
void imap_job_finish(struct imap_session *s, void (*fn)(struct imap_session *s, void *arg), void *arg);
/* Called in a job: once its responses are written, fn(s, arg) runs on the loop instead of
 * the session going on to its next command; fn then leads the session on (IDLE waits for
 * DONE, APPEND for the committer). fn also runs when the connection went meanwhile. */
void imap_job_then(struct imap_session *s, void (*fn)(struct imap_session *s, void *arg), void *arg);
/* The answer in steps goes on: the next step on a worker (the output drained). */
void imap_job_step(struct imap_session *s);
/* IDLE: the session syncs on a worker now, or after the job it runs. */
void imap_job_sync(struct imap_session *s);
/* Runs a command's answer in steps (struct imap_steps): the first at once, the next ones
 * each time the output has drained under the bound; no other command of the session is
 * taken before the last (pipelined ones wait, in order). */
void imap_run_steps(struct imap_session *s, bool (*step)(struct imap_session *s, void *state),
		    void (*done)(void *state), void *state);
/* True when passwords may be sent on this connection now (TLS, or loopback when allowed). */
bool imap_auth_allowed(const struct imap_session *s);
/* True when keywords (space-separated) holds kw, case-insensitively (RFC 3501 2.3.2). */
bool imap_has_keyword(const char *keywords, const char *kw);
/* Reads a list of flags given by a client into system flag bits and keywords (appended to
 * keywords, space-separated, without duplicates). Returns -1 for \Recent or any unknown "\"
 * flag, or a keyword with characters an atom may not hold. */
int imap_parse_flags(const struct imap_arg *args, size_t count, uint32_t *bits, buf *keywords);
/* A mailbox name argument in the store's form (UTF-8 in Normalization Form C, RFC 5198, with
 * INBOX canonical): as
 * sent after ENABLE UTF8=ACCEPT or IMAP4rev2, else decoded from modified UTF-7 (RFC 3501
 * 5.1.3). NULL when it is not a valid name's encoding; the caller answers with
 * imap_mailbox_refused. Allocated. */
char *imap_arg_mailbox(const struct imap_session *s, const struct imap_arg *a);
/* Whether a has the syntax of a mailbox name: a string (atom, quoted or literal) without NUL,
 * with 8-bit octets only in a literal or after UTF-8 was enabled. */
bool imap_arg_is_name(const struct imap_session *s, const struct imap_arg *a);
/* Answers a mailbox argument imap_arg_mailbox refused: BAD when it is no name by syntax, else
 * "NO no_text": a string whose modified UTF-7 does not decode is well-formed but names no
 * mailbox that exists or can exist (RFC 3501 5.1.3, 9: mailbox = "INBOX" / astring). */
void imap_mailbox_refused(struct imap_session *s, const struct imap_cmd *cmd,
			  const struct imap_arg *a, const char *no_text);
/* INBOX in any case is INBOX, as a level above others too ("inbox/x"): made so in place. */
void imap_inbox_canonical(char *name);
/* Whether a client may give a new mailbox this name (UTF-8, INBOX canonical). */
bool imap_mailbox_name_valid(const char *name);
/* The response code and text of NO for a mailbox that is not there: TRYCREATE when it could
 * be created (RFC 9051 6.4.7), else CANNOT. */
const char *imap_missing_mailbox(const char *name);
/* Writes a stored mailbox name as this client reads it (modified UTF-7 or UTF-8). */
void imap_write_mailbox(const struct imap_session *s, buf *out, const char *name);
/* Writes the flags of m as a parenthesised flag list. */
void imap_write_flags(buf *out, uint32_t flags, const char *keywords);
/* Learns the keywords in use in the selected mailbox, as SELECT does before its FLAGS. */
void imap_keywords_learn(struct imap_session *s, const char *keywords);
/* Appends the untagged FLAGS and PERMANENTFLAGS of the selected mailbox: the system flags and
 * the keywords learnt, with \* where keywords may be made (read-only: none permanent). */
void imap_write_mailbox_flags(const struct imap_session *s, buf *out);
/* Before a FETCH that shows keywords: when one of them is new to the client, appends FLAGS
 * and PERMANENTFLAGS that hold it (RFC 3501 7.2.6: a client learns a mailbox's flags from
 * FLAGS, and a FETCH must not show one it was not told of). */
void imap_keywords_announce(struct imap_session *s, const char *keywords, buf *out);
/* ---- imap_condstore.c (RFC 7162) ---- */
/* mod-sequence-value (or mod-sequence-valzer when zero_ok) into *out; false when it is not. */
bool imap_parse_modseq(const struct imap_arg *a, bool zero_ok, uint64_t *out);
/* Turns CONDSTORE on for the session (ENABLE, or a command that implies it). */
void imap_condstore_on(struct imap_session *s);
/* UID FETCH ... (CHANGEDSINCE n VANISHED): the UIDs of uid_set removed since modseq since,
 * as VANISHED (EARLIER). -1 when the set is invalid or the store failed. */
int imap_vanished_since(struct imap_session *s, uint64_t since, const char *uid_set);
/* The QRESYNC select parameter: the state the client knows. */
struct imap_qresync {
	uint32_t uidvalidity;
	uint64_t modseq;
	const char *known_uids; /* NULL: all */
};
/* Parses "(uidvalidity modseq [known-uids [seq-match-data]])"; -1 when malformed. */
int imap_qresync_parse(const struct imap_arg *a, struct imap_qresync *q);
/* After SELECT loaded the mailbox: VANISHED (EARLIER) and FETCH for what changed since. */
void imap_qresync_select(struct imap_session *s, const struct imap_qresync *q);

/* Gives m the keywords (allocated, or NULL for none; taken over), freeing its old ones. */
void imap_message_keywords(struct imap_message *m, char *keywords);
/* The index of uid in the selected mailbox's view, or -1. */
ssize_t imap_index_of_uid(const struct imap_mailbox *b, uint32_t uid);
/* Writes ascending UIDs as a compact set: "1:3,7,9:10". */
void imap_write_uid_set(buf *out, const uint32_t *uids, size_t n);
/* Sends "* VANISHED [(EARLIER)] uids" (RFC 7162 3.2.10) when n > 0; uids ascending. */
void imap_send_vanished(struct imap_session *s, bool earlier, const uint32_t *uids, size_t n);
/* Sends "* n FETCH (UID u FLAGS ...)" for the message at index (with MODSEQ after CONDSTORE). */
void imap_send_flags(struct imap_session *s, size_t index);
/* Brings the session's view of the selected mailbox up to date with the store, sending
 * EXISTS, FETCH FLAGS and (when expunges are allowed) EXPUNGE or VANISHED responses. */
void imap_mailbox_sync(struct imap_session *s, bool expunges);
/* One rule for a selected mailbox deleted by anyone else (another session, the command line):
 * before each command of the selected state it is looked up (one primary-key lookup), and
 * once gone all its messages are pending expunges, announced wherever expunges may be; the
 * session stays selected, and a command that needs the mailbox's messages is answered
 * NO [NONEXISTENT] by imap_mailbox_gone (-1 after answering; 0 when it is there). */
void imap_mailbox_check_gone(struct imap_session *s);
int imap_mailbox_gone(struct imap_session *s, const struct imap_cmd *cmd);
/* How many messages of the view the session holds as \Recent. */
size_t imap_recent_count(const struct imap_mailbox *b);
void imap_mailbox_close(struct imap_session *s);
/* True when uid is in the saved search result ("$"). */
bool imap_saved_contains(const struct imap_mailbox *b, uint32_t uid);
/* The capability list for the session's state (CAPABILITY and the greeting's code). */
void imap_capabilities(const struct imap_session *s, buf *out);
/* Resolves a sequence set argument against the selected mailbox (as UIDs when uid): the
 * indexes of the messages it names, in order; "$" names the saved search result's messages
 * that are still there. Returns 0, or -1 after answering BAD, or NO when it names messages
 * of a mailbox deleted meanwhile (imap_mailbox_gone); naming none, it is fine. */
int imap_seqset_indexes(struct imap_session *s, const struct imap_cmd *cmd, const char *set,
			size_t **idx_r, size_t *count_r);

/* ---- the commands ---- */
void imap_cmd_capability(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_noop(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_logout(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_id(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_enable(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_starttls(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_login(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_authenticate(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_select(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_create(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_delete(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_rename(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_subscribe(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_list(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_status(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_namespace(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_close(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_expunge(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_fetch(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_store(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_copy(struct imap_session *s, const struct imap_cmd *cmd);
/* APPEND's message literal when too big to hold (IMAP_FRAME_LITERAL): opens a spool file for
 * it (false, logged, when none can be made); takes its octets as they arrive; and drops the
 * file when no APPEND took it (after every command, and when the session ends). */
bool imap_append_stream_begin(struct imap_session *s);
void imap_append_stream(struct imap_session *s, const void *data, size_t len);
void imap_append_discard(struct imap_session *s);
void imap_cmd_append(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_getquota(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_getquotaroot(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_setquota(struct imap_session *s, const struct imap_cmd *cmd);
/* Whether adding messages of octets octets to a folder of this special use would take the
 * account over its quota; when it would (or the store fails), the command is answered
 * (NO [OVERQUOTA], RFC 9208 4.3) and true returned. */
bool imap_quota_refuses(struct imap_session *s, const struct imap_cmd *cmd, const char *special_use,
			uint64_t octets, uint64_t messages);
void imap_cmd_search(struct imap_session *s, const struct imap_cmd *cmd);
/* ---- cmd-search.c, shared with SORT and THREAD (cmd-sort.c) ---- */
/* ESEARCH's result options (RFC 9051 6.4.4, from RFC 4731). */
enum search_return {
	RETURN_MIN = 1 << 0,
	RETURN_MAX = 1 << 1,
	RETURN_ALL = 1 << 2,
	RETURN_COUNT = 1 << 3,
	RETURN_SAVE = 1 << 4,    /* SEARCHRES (RFC 9051 6.4.4.1, from RFC 5182) */
};

/* "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"; an empty list means ALL.
 * Returns the options, or -1. */
int imap_search_parse_return(const struct imap_arg *a);
/* * ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [MODSEQ n]: MIN and MAX are
 * the first and last of nums[0..n) (the lowest and highest, or in SORT's order, RFC 5267),
 * ALL keeps their order. */
void imap_write_esearch(buf *out, const struct imap_cmd *cmd, int ret, const uint32_t *nums,
			size_t n, uint64_t modseq);
/* Keeps what RETURN (SAVE ...) returned as "$" (RFC 9051 6.4.4.1; SORT's too, RFC 5182):
 * the UIDs of nums[0..n) (UIDs or sequence numbers as cmd->uid says), only the first and
 * last when ret asks MIN or MAX without ALL or COUNT. */
void imap_search_save(struct imap_session *s, const struct imap_cmd *cmd, const uint32_t *nums,
		      size_t n, int ret);
/* Whether the searching charset can be used: 0 yes (US-ASCII, UTF-8), 1 unsupported (the
 * caller answers NO [BADCHARSET]), -1 when charset is NULL (missing: BAD). */
int imap_search_charset(const char *charset);
/* Evaluates the search keys args[0..count) (RFC 3501 6.4.4) over the selected mailbox: the
 * indexes of the matching messages, ascending (*idx_r allocated), and whether MODSEQ was
 * among the keys (CONDSTORE is then on). -1 with *error_r (static) on bad syntax. Reads from
 * the store and the message files on the calling thread. */
int imap_search_match(struct imap_session *s, const struct imap_arg *args, size_t count,
		      size_t **idx_r, size_t *count_r, bool *modseq_key_r, const char **error_r);
void imap_cmd_sort(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_thread(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_idle(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_compress(struct imap_session *s, const struct imap_cmd *cmd);
/* A line while in IMAP_WAIT_SASL / IMAP_WAIT_IDLE. */
void imap_auth_response(struct imap_session *s, const char *line, size_t len);
/* A line over the bound while in IMAP_WAIT_SASL: the exchange ends with BAD [TOOBIG]. */
void imap_auth_too_long(struct imap_session *s);
void imap_idle_line(struct imap_session *s, const char *line, size_t len);
/* IDLE, on a store worker: syncs when the selected mailbox changed or went. */
void imap_idle_check(struct imap_session *s);
/* Leaves IDLE's list and timer (DONE, or the session ends). */
void imap_idle_end(struct imap_session *s);
/* Syncs the sessions of account_id in IDLE (but except), which sends them what changed. */
void imap_wake_idlers(struct imap_server *srv, int64_t account_id, const struct imap_session *except);
#endif
