/* estafeta dmarc send-reports: the running server makes its aggregate reports now (over the
 * control socket). estafeta dmarc reports DOMAIN [--since YYYY-MM-DD]: the aggregate reports
 * other receivers sent about one of our domains, read from the store. */
#include "cli/admin.h"
#include "cli/control_client.h"
#include "core/xalloc.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int dmarc_send_reports(struct cli *cli, int argc, char **argv, unsigned options)
{
	return cli_control(cli, "dmarc-send-reports");
}

/* YYYY-MM-DD as 00:00 UTC of that day; false when it is not one. */
static bool parse_day(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return false;
	*out = timegm(&tm);
	return true;
}

static void put_day(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_report(const struct dmarc_report *r)
{
	uint64_t messages = 0, pass = 0;
	for (size_t i = 0; i < r->record_count; i++) {
		messages += r->records[i].count;
		if (strcmp(r->records[i].dkim, "pass") == 0 || strcmp(r->records[i].spf, "pass") == 0)
			pass += r->records[i].count;
	}
	char begin[32], end[32];
	put_day(r->begin, begin);
	put_day(r->end, end);
	printf("%s id=%s from=%s until=%s messages=%" PRIu64 " pass=%" PRIu64 " fail=%" PRIu64 "\n",
	       r->org_name, r->report_id, begin, end, messages, pass, messages - pass);
	for (size_t i = 0; i < r->record_count; i++) {
		const struct dmarc_report_record *rec = &r->records[i];
		printf("  %s count=%" PRIu64 " disposition=%s dkim=%s spf=%s header_from=%s\n",
		       rec->source_ip, rec->count, rec->disposition, rec->dkim, rec->spf,
		       rec->header_from);
	}
}

static int dmarc_reports(struct cli *cli, int argc, char **argv, unsigned options)
{
	time_t since = 0;
	const char *since_arg = cli->option_values[0];
	if (since_arg != NULL && !parse_day(since_arg, &since)) {
		cli_error("--since takes a day as YYYY-MM-DD, not \"%s\"", since_arg);
		return 2;
	}
	char *domain = cli_domain(argv[0]);
	struct store *st = domain != NULL ? cli_store(cli) : NULL;
	if (st == NULL) {
		free(domain);
		return 1;
	}
	struct dmarc_report *reports;
	size_t count;
	char *error = NULL;
	int status = 0;
	if (store_dmarc_reports(st, domain, since, &reports, &count, &error) < 0) {
		status = cli_fail(error);
	} else {
		for (size_t i = 0; i < count; i++) {
			print_report(&reports[i]);
			dmarc_report_free(&reports[i]);
		}
		free(reports);
	}
	free(domain);
	return status;
}

static const struct cli_subcommand dmarc_commands[] = {
	{ "send-reports", "", 0, 0, NULL, dmarc_send_reports },
	{ "reports", "DOMAIN [--since YYYY-MM-DD]", 1, 1, "--since=", dmarc_reports },
};

int cmd_dmarc(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, dmarc_commands,
				  sizeof(dmarc_commands) / sizeof(dmarc_commands[0]));
}
