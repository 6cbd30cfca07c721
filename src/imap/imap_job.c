/* Store calls off the event loop: a command that uses the store runs whole on a store worker
 * (store_workers.h), with the worker's store connection in s->store, while the session
 * waits. Its input is paused and its responses collect in s->out; when the job is done the
 * loop writes them to the connection and the session goes on. Only the loop touches the
 * connection, the server's lists and timers; the worker touches the session alone, and
 * nothing else does while the job runs. A session has one job at a time, so pipelined
 * commands keep their order. The same way a session in IDLE syncs when woken, and an answer
 * in steps (imap_run_steps) writes each step. */
#include "imap/imap.h"
#include "core/xalloc.h"
#include <stdlib.h>

enum job_kind {
	JOB_COMMAND, /* a command: afterwards its next one */
	JOB_FINISH,  /* the end of a command that waited elsewhere (APPEND) */
	JOB_STEP,    /* the next part of an answer in steps */
	JOB_SYNC,    /* IDLE: what changed */
};

struct imap_job {
	struct imap_session *s;
	enum job_kind kind;
	const struct imap_command_def *def; /* JOB_COMMAND */
	struct imap_command parsed;          /* what cmd points into */
	struct imap_cmd cmd;
	void (*fn)(struct imap_session *s, void *arg); /* JOB_FINISH */
	void *arg;
	bool step_finished;                  /* JOB_STEP */
};

static void job_run(struct store *st, void *arg);
static void job_done(void *arg);

static struct imap_job *job_start(struct imap_session *s, enum job_kind kind)
{
	struct imap_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->kind = kind;
	return j;
}

static void job_submit(struct imap_job *j)
{
	struct imap_session *s = j->s;
	s->job = j;
	s->out_room = conn_output_room(s->conn);
	conn_pause(s->conn);
	store_workers_submit(s->server->store_workers, job_run, job_done, j);
}

/* On the worker. */
static void job_run(struct store *st, void *arg)
{
	struct imap_job *j = arg;
	struct imap_session *s = j->s;
	s->store = st;
	switch (j->kind) {
	case JOB_COMMAND:
		imap_run_command(s, j->def, &j->cmd);
		break;
	case JOB_FINISH:
		j->fn(s, j->arg);
		break;
	case JOB_STEP:
		j->step_finished = s->steps.step(s, s->steps.state);
		break;
	case JOB_SYNC:
		imap_idle_check(s);
		break;
	}
	s->store = NULL;
}

/* On the loop: the responses go out, then the session goes on as the job's kind says. */
static void job_done(void *arg)
{
	struct imap_job *j = arg;
	struct imap_session *s = j->s;
	s->job = NULL;
	conn_write(s->conn, s->out.data, s->out.len);
	buf_free(&s->out); /* a long answer's part is not kept for an idle session */
	if (s->close_after_job) {
		s->close_after_job = false;
		imap_session_close(s);
	}
	if (j->kind == JOB_COMMAND) {
		if (j->def->gates & GATE_WRITES)
			imap_wake_idlers(s->server, s->user_id, s);
		imap_command_free(&j->parsed);
	}
	if (j->kind == JOB_FINISH && s->wait == IMAP_WAIT_BUSY)
		s->wait = IMAP_WAIT_NONE; /* what the command waited for is done */
	if (j->kind == JOB_COMMAND || j->kind == JOB_FINISH)
		imap_next_command(s);
	if (j->kind == JOB_STEP && j->step_finished) {
		struct imap_steps finished = s->steps;
		s->steps = (struct imap_steps){ 0 };
		finished.done(finished.state);
	}
	free(j);
	if (s->then != NULL) {
		void (*then)(struct imap_session *, void *) = s->then;
		s->then = NULL;
		then(s, s->then_arg);
		return;
	}
	if (s->wake_pending && !s->gone && s->wait == IMAP_WAIT_IDLE) {
		s->wake_pending = false;
		job_submit(job_start(s, JOB_SYNC));
		return;
	}
	imap_session_resume(s);
}

void imap_job_command(struct imap_session *s, const struct imap_command_def *def,
		      struct imap_command *c, const struct imap_cmd *cmd)
{
	struct imap_job *j = job_start(s, JOB_COMMAND);
	j->def = def;
	j->parsed = *c; /* cmd's pointers go with it: they point into its allocations */
	*c = (struct imap_command){ 0 };
	j->cmd = *cmd;
	job_submit(j);
}

void imap_job_finish(struct imap_session *s, void (*fn)(struct imap_session *s, void *arg), void *arg)
{
	struct imap_job *j = job_start(s, JOB_FINISH);
	j->fn = fn;
	j->arg = arg;
	job_submit(j);
}

void imap_job_then(struct imap_session *s, void (*fn)(struct imap_session *s, void *arg), void *arg)
{
	s->then = fn;
	s->then_arg = arg;
}

void imap_job_step(struct imap_session *s)
{
	job_submit(job_start(s, JOB_STEP));
}

void imap_job_sync(struct imap_session *s)
{
	if (s->job != NULL) {
		s->wake_pending = true;
		return;
	}
	job_submit(job_start(s, JOB_SYNC));
}
