/* Aggregate reports others send us, read once the message carrying one is stored. */
#include "verify/dmarc_reports.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "store/msgfile.h"
#include <stdlib.h>
#include <time.h>

struct receive_job {
	char *body_path;
	char *queue_id;
};

static void receive_on_worker(struct store *st, void *arg)
{
	struct receive_job *j = arg;
	buf msg;
	buf_init(&msg);
	char *error = NULL;
	struct dmarc_report r;
	int found = msgfile_read(store_data_dir(st), j->body_path, &msg, &error) < 0
			    ? -1
			    : dmarc_report_from_message(msg.data, msg.len, &r, &error);
	if (found == 1) {
		int added = store_dmarc_report_add(st, &r, time(NULL), &error);
		if (added >= 0)
			log_info("queue=%s dmarc report %s domain=%s org=\"%s\" id=\"%s\" records=%zu",
				 j->queue_id, added ? "kept" : "already kept", r.policy.domain,
				 r.org_name, r.report_id, r.record_count);
		dmarc_report_free(&r);
		found = added < 0 ? -1 : 1;
	}
	if (found == 0)
		log_info("queue=%s dmarc report: the message carries none", j->queue_id);
	else if (found < 0)
		log_warn("queue=%s dmarc report not kept: %s", j->queue_id, error);
	free(error);
	buf_free(&msg);
}

static void receive_done(void *arg)
{
	struct receive_job *j = arg;
	free(j->body_path);
	free(j->queue_id);
	free(j);
}

void dmarc_report_receive(struct store_workers *sw, const char *body_path, const char *queue_id)
{
	struct receive_job *j = xmalloc(sizeof(*j));
	j->body_path = xstrdup(body_path);
	j->queue_id = xstrdup(queue_id);
	store_workers_submit(sw, receive_on_worker, receive_done, j);
}
