/* A POP3 session's store calls on a store worker (store_workers.h), so that reading a
 * message, the maildrop's snapshot or the removals at QUIT never hold up the loop: the
 * session waits with its input paused, and the answer is written on the loop when the
 * call is done. */
#include "pop3/pop3.h"
#include "core/xalloc.h"
#include <stdlib.h>

struct pop3_job {
	struct pop3_session *s;
	store_job_fn *run;
	void (*done)(struct pop3_session *s, void *arg);
	void *arg;
};

static void job_run(struct store *st, void *arg)
{
	struct pop3_job *j = arg;
	j->run(st, j->arg);
}

static void job_done(void *arg)
{
	struct pop3_job *j = arg;
	struct pop3_session *s = j->s;
	s->in_job = false;
	j->done(s, j->arg);
	free(j);
	pop3_session_resume(s);
}

void pop3_job_start(struct pop3_session *s, store_job_fn *run,
		    void (*done)(struct pop3_session *s, void *arg), void *arg)
{
	struct pop3_job *j = xmalloc(sizeof(*j));
	*j = (struct pop3_job){ s, run, done, arg };
	s->in_job = true;
	conn_pause(s->conn);
	store_workers_submit(s->server->store_workers, job_run, job_done, j);
}
