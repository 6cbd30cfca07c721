/* libFuzzer target for the aggregate report reader (dmarc_report_parse.c) and what unpacks
 * it (unpack.c): the input as report XML, as gzip and zip data, and as a message carrying a
 * report. Whatever it reads has every field a record needs, writes back to XML that reads
 * again to the same number of records, and nothing unpacks past its bound. */
#include "mail/dmarc_report.h"
#include "mail/unpack.h"
#include <stdint.h>
#include <stdlib.h>

#define BOUND (1 << 20)

static void check(const struct dmarc_report *r)
{
	if (r->org_name == NULL || r->report_id == NULL || r->policy.domain == NULL)
		abort();
	for (size_t i = 0; i < r->record_count; i++)
		if (r->records[i].source_ip == NULL || r->records[i].header_from == NULL)
			abort();
	buf xml;
	buf_init(&xml);
	dmarc_report_write_xml(r, &xml);
	struct dmarc_report back;
	char *error = NULL;
	if (dmarc_report_parse_xml(xml.data, xml.len, &back, &error) < 0 ||
	    back.record_count != r->record_count)
		abort();
	dmarc_report_free(&back);
	buf_free(&xml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_report r;
	char *error = NULL;
	if (dmarc_report_parse_xml((const char *)data, size, &r, &error) == 0) {
		check(&r);
		dmarc_report_free(&r);
	} else {
		free(error);
	}
	buf out;
	buf_init(&out);
	const char *why;
	if (gzip_uncompress(data, size, BOUND, &out, &why) == 0 && out.len > BOUND)
		abort();
	buf_clear(&out);
	if (zip_first_file(data, size, BOUND, &out, &why) == 0 && out.len > BOUND)
		abort();
	buf_free(&out);
	error = NULL;
	if (dmarc_report_from_message((const char *)data, size, &r, &error) == 1) {
		check(&r);
		dmarc_report_free(&r);
	}
	free(error);
	return 0;
}
