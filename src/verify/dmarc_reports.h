/* DMARC aggregate reports (draft-ietf-dmarc-aggregate-reporting-32) as the server makes and
 * takes them. Sending (dmarc_report_send.c): once a day, just after 00:00 UTC, and when
 * `estafeta dmarc send-reports` asks, the observations since the last reports are grouped per
 * policy domain (on a store worker) into one report each, gzipped and mailed to every mailto:
 * URI of the domain's rua, through the committer and the outbound queue like any local mail
 * (so DKIM-signed when the sender's domain has keys). A destination outside the policy
 * domain's own tree is used only once its DNS says it takes the domain's reports (3.x of the
 * draft: POLICY._report._dmarc.DEST), looked up on the loop's resolver. Receiving
 * (dmarc_report_receive.c): a message delivered to one of our domains that says it carries
 * a report is read on a store worker after it is stored, and its report kept. */
#ifndef ESTAFETA_DMARC_REPORTS_H
#define ESTAFETA_DMARC_REPORTS_H
#include "core/config.h"
#include "core/control.h"
#include "deliver/committer.h"
#include "store/store_workers.h"
#include <event2/event.h>
#include <stdbool.h>

struct dmarc_reporter;
/* Starts the daily timer. NULL with *error_r when its resolver cannot be made. */
struct dmarc_reporter *dmarc_reporter_new(struct event_base *base, const struct config *cfg,
					  struct store_workers *sw, struct committer *cm,
					  char **error_r);
/* Makes the reports of the period up to now. false when a run is under way already. */
bool dmarc_reporter_run_now(struct dmarc_reporter *r);
void dmarc_reporter_free(struct dmarc_reporter **r);
/* Serves "dmarc-send-reports" on the control socket (estafeta dmarc send-reports). */
void dmarc_reporter_control_register(struct control *ctl, struct dmarc_reporter *r);

/* Messages larger than this are not looked into for a report. */
#define DMARC_REPORT_MAX_MESSAGE (16 * 1024 * 1024)
/* The message stored at body_path (relative to the data folder) says it carries a report:
 * read and keep it on a worker. queue_id for the log. */
void dmarc_report_receive(struct store_workers *sw, const char *body_path, const char *queue_id);
#endif
