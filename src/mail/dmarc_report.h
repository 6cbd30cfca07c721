/* DMARC aggregate reports (draft-ietf-dmarc-aggregate-reporting-32): what a report holds, its
 * XML (the draft's schema, namespace urn:ietf:params:xml:ns:dmarc-2.0) written and read, the
 * names the draft gives its attachment and Subject, and the report found in a message that
 * carries one. Pure functions over buffers: the XML is read with libxml2, network access and
 * entity expansion off, and the attachments unpacked within a bound (mail/unpack.h). */
#ifndef ESTAFETA_DMARC_REPORT_H
#define ESTAFETA_DMARC_REPORT_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One authentication result, as the receiver found it (auth_results). */
struct dmarc_report_auth {
	bool spf;        /* SPF; else one DKIM signature */
	char *domain;    /* d=, or the domain SPF checked */
	char *selector;  /* DKIM: s=; SPF: the scope ("mfrom", or "helo", which the XML omits) */
	char *result;    /* RFC 8601's names */
};

/* One record: messages from one address with the same evaluation and identifiers. */
struct dmarc_report_record {
	char *source_ip;
	uint64_t count;
	char *disposition;   /* policy_evaluated: "none", "pass", "quarantine", "reject" */
	char *dkim, *spf;    /* the DMARC-aligned results: "pass" or "fail" */
	char *header_from;
	char *envelope_from; /* NULL when absent */
	char *envelope_to;   /* NULL when absent */
	struct dmarc_report_auth *auth;
	size_t auth_count;
};

/* policy_published: the record the evaluations applied (absent tags NULL or 0). */
struct dmarc_policy_published {
	char *domain;
	char *p, *sp, *np;   /* "none", "quarantine", "reject"; sp and np NULL when absent */
	char adkim, aspf;    /* 'r' or 's'; 0 when absent */
	char testing;        /* 'y' or 'n'; 0 when absent */
};

struct dmarc_report {
	char *org_name, *email, *report_id, *generator; /* generator NULL when absent */
	int64_t begin, end;  /* seconds since the epoch, UTC */
	struct dmarc_policy_published policy;
	struct dmarc_report_record *records;
	size_t record_count;
};

void dmarc_report_free(struct dmarc_report *r);
void dmarc_policy_published_free(struct dmarc_policy_published *p);
void dmarc_report_record_free(struct dmarc_report_record *rec);
/* Appends an empty record to r and returns it (count 0, every string NULL). */
struct dmarc_report_record *dmarc_report_add_record(struct dmarc_report *r);
/* Appends an authentication result to rec (the strings copied). */
void dmarc_report_add_auth(struct dmarc_report_record *rec, bool spf, const char *domain,
			   const char *selector, const char *result);

/* Appends the XML of r to out (UTF-8, every text escaped). */
void dmarc_report_write_xml(const struct dmarc_report *r, buf *out);

#define DMARC_REPORT_MAX_XML (10 * 1024 * 1024) /* octets of XML read, unpacked */
#define DMARC_REPORT_MAX_RECORDS 100000

/* Reads a report's XML (the draft's, or RFC 7489's without a namespace). 0 with *r filled
 * (free it with dmarc_report_free), or -1 with *error_r (allocated) when it is not one: not
 * well-formed, no feedback root, a required element missing. */
int dmarc_report_parse_xml(const char *xml, size_t len, struct dmarc_report *r, char **error_r);

/* The attachment's file name (4.x of the draft): receiver!domain!begin!end!id.xml.gz, id
 * made of the letters and digits of report_id. Allocated. */
char *dmarc_report_filename(const char *receiver, const struct dmarc_report *r);
/* Appends the message that carries the gzipped report from from_addr to to_addr: its
 * Subject "Report Domain: D Submitter: S Report-ID: <id>", a text part for people and the
 * attachment (application/gzip, base64). */
void dmarc_report_message(buf *out, const char *submitter, const char *from_addr,
			  const char *to_addr, const struct dmarc_report *r, const void *gz,
			  size_t gz_len);

/* Whether the header section of a message says it carries a report (its Subject starts
 * "Report Domain:"). */
bool dmarc_report_subject(const char *hdr, size_t len);
/* Finds the report in a message: the first part of type application/gzip (or x-gzip),
 * application/zip, text/xml (or application/xml) or application/octet-stream, decoded and
 * unpacked as its content says (gzip, zip, or XML as it is), then read.
 * 1 with *r, 0 when the message carries none, -1 with *error_r when one is there but
 * broken. */
int dmarc_report_from_message(const char *msg, size_t len, struct dmarc_report *r,
			      char **error_r);
#endif
