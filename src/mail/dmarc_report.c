/* DMARC aggregate reports: the structure, its XML, its message; see dmarc_report.h. The XML
 * reader is dmarc_report_parse.c's. */
#include "mail/dmarc_report.h"
#include "core/base64.h"
#include "core/xalloc.h"
#include "mail/header.h"
#include "mail/mime.h"
#include "mail/unpack.h"
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void dmarc_report_record_free(struct dmarc_report_record *rec)
{
	free(rec->source_ip);
	free(rec->disposition);
	free(rec->dkim);
	free(rec->spf);
	free(rec->header_from);
	free(rec->envelope_from);
	free(rec->envelope_to);
	for (size_t i = 0; i < rec->auth_count; i++) {
		free(rec->auth[i].domain);
		free(rec->auth[i].selector);
		free(rec->auth[i].result);
	}
	free(rec->auth);
	memset(rec, 0, sizeof(*rec));
}

void dmarc_policy_published_free(struct dmarc_policy_published *p)
{
	free(p->domain);
	free(p->p);
	free(p->sp);
	free(p->np);
	memset(p, 0, sizeof(*p));
}

void dmarc_report_free(struct dmarc_report *r)
{
	free(r->org_name);
	free(r->email);
	free(r->report_id);
	free(r->generator);
	dmarc_policy_published_free(&r->policy);
	for (size_t i = 0; i < r->record_count; i++)
		dmarc_report_record_free(&r->records[i]);
	free(r->records);
	memset(r, 0, sizeof(*r));
}

struct dmarc_report_record *dmarc_report_add_record(struct dmarc_report *r)
{
	r->records = xrealloc(r->records, (r->record_count + 1) * sizeof(*r->records));
	struct dmarc_report_record *rec = &r->records[r->record_count++];
	memset(rec, 0, sizeof(*rec));
	return rec;
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void dmarc_report_add_auth(struct dmarc_report_record *rec, bool spf, const char *domain,
			   const char *selector, const char *result)
{
	rec->auth = xrealloc(rec->auth, (rec->auth_count + 1) * sizeof(*rec->auth));
	rec->auth[rec->auth_count++] = (struct dmarc_report_auth){
		spf, xstrdup(domain), dup_or_null(selector), xstrdup(result) };
}

/* ---- the XML ---- */

static void put_text(buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': buf_puts(out, "&lt;"); break;
		case '>': buf_puts(out, "&gt;"); break;
		case '&': buf_puts(out, "&amp;"); break;
		case '"': buf_puts(out, "&quot;"); break;
		default:
			/* XML 1.0 has no other control characters */
			if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
				buf_putc(out, *s);
		}
	}
}

/* <name>text</name> at the given depth; nothing when text is NULL. */
static void element(buf *out, int depth, const char *name, const char *text)
{
	if (text == NULL)
		return;
	buf_printf(out, "%*s<%s>", depth * 2, "", name);
	put_text(out, text);
	buf_printf(out, "</%s>\n", name);
}

static void element_char(buf *out, int depth, const char *name, char c)
{
	char s[2] = { c, '\0' };
	element(out, depth, name, c != 0 ? s : NULL);
}

static void write_record(buf *out, const struct dmarc_report_record *rec)
{
	char count[24];
	snprintf(count, sizeof(count), "%" PRIu64, rec->count);
	buf_puts(out, "  <record>\n    <row>\n");
	element(out, 3, "source_ip", rec->source_ip);
	element(out, 3, "count", count);
	buf_puts(out, "      <policy_evaluated>\n");
	element(out, 4, "disposition", rec->disposition);
	element(out, 4, "dkim", rec->dkim);
	element(out, 4, "spf", rec->spf);
	buf_puts(out, "      </policy_evaluated>\n    </row>\n    <identifiers>\n");
	element(out, 3, "header_from", rec->header_from);
	element(out, 3, "envelope_from", rec->envelope_from);
	element(out, 3, "envelope_to", rec->envelope_to);
	buf_puts(out, "    </identifiers>\n    <auth_results>\n");
	/* the schema's sequence: every dkim, then at most one spf */
	for (int spf = 0; spf <= 1; spf++) {
		for (size_t i = 0; i < rec->auth_count; i++) {
			const struct dmarc_report_auth *a = &rec->auth[i];
			if (a->spf != spf)
				continue;
			buf_printf(out, "      <%s>\n", spf ? "spf" : "dkim");
			element(out, 4, "domain", a->domain);
			if (!spf)
				element(out, 4, "selector", a->selector != NULL ? a->selector : "");
			else if (a->selector != NULL && strcmp(a->selector, "mfrom") == 0)
				element(out, 4, "scope", "mfrom");
			element(out, 4, "result", a->result);
			buf_printf(out, "      </%s>\n", spf ? "spf" : "dkim");
			if (spf)
				break;
		}
	}
	buf_puts(out, "    </auth_results>\n  </record>\n");
}

void dmarc_report_write_xml(const struct dmarc_report *r, buf *out)
{
	char begin[24], end[24];
	snprintf(begin, sizeof(begin), "%" PRId64, r->begin);
	snprintf(end, sizeof(end), "%" PRId64, r->end);
	buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n"
		      /* the draft's 3.1.1: the version MUST be 1.0 */
		      "  <version>1.0</version>\n  <report_metadata>\n");
	element(out, 2, "org_name", r->org_name);
	element(out, 2, "email", r->email);
	element(out, 2, "report_id", r->report_id);
	buf_puts(out, "    <date_range>\n");
	element(out, 3, "begin", begin);
	element(out, 3, "end", end);
	buf_puts(out, "    </date_range>\n");
	element(out, 2, "generator", r->generator);
	buf_puts(out, "  </report_metadata>\n  <policy_published>\n");
	const struct dmarc_policy_published *p = &r->policy;
	element(out, 2, "domain", p->domain);
	element(out, 2, "p", p->p);
	element(out, 2, "sp", p->sp);
	element(out, 2, "np", p->np);
	element_char(out, 2, "adkim", p->adkim);
	element_char(out, 2, "aspf", p->aspf);
	element(out, 2, "discovery_method", "treewalk");
	element_char(out, 2, "testing", p->testing);
	buf_puts(out, "  </policy_published>\n");
	for (size_t i = 0; i < r->record_count; i++)
		write_record(out, &r->records[i]);
	buf_puts(out, "</feedback>\n");
}

/* ---- the message ---- */

char *dmarc_report_filename(const char *receiver, const struct dmarc_report *r)
{
	buf id;
	buf_init(&id);
	for (const char *s = r->report_id; *s != '\0'; s++)
		if (isalnum((unsigned char)*s))
			buf_putc(&id, *s);
	char *name = xasprintf("%s!%s!%" PRId64 "!%" PRId64 "%s%s.xml.gz", receiver,
			       r->policy.domain, r->begin, r->end, id.len > 0 ? "!" : "", id.data);
	buf_free(&id);
	return name;
}

void dmarc_report_message(buf *out, const char *submitter, const char *from_addr,
			  const char *to_addr, const struct dmarc_report *r, const void *gz,
			  size_t gz_len)
{
	char boundary[40], date[40];
	snprintf(boundary, sizeof(boundary), "%08x%08x=dmarc", arc4random(), arc4random());
	header_date(time(NULL), date, sizeof(date));
	char *filename = dmarc_report_filename(submitter, r);
	buf_printf(out, "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\n", from_addr, to_addr, date);
	buf_printf(out, "Subject: Report Domain: %s\r\n Submitter: %s\r\n Report-ID: <%s>\r\n",
		   r->policy.domain, submitter, r->report_id);
	buf_printf(out, "Message-ID: <%s>\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n",
		   r->report_id);
	buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary);
	buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
	buf_printf(out, "This is a DMARC aggregate report from %s for %s,\r\n"
			"covering %zu group(s) of messages. The report is attached.\r\n\r\n",
		   submitter, r->policy.domain, r->record_count);
	buf_printf(out, "--%s\r\nContent-Type: application/gzip; name=\"%s\"\r\n"
			"Content-Disposition: attachment; filename=\"%s\"\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n",
		   boundary, filename, filename);
	buf b64;
	buf_init(&b64);
	base64_encode(gz, gz_len, &b64);
	for (size_t i = 0; i < b64.len; i += 76) {
		buf_append(out, b64.data + i, b64.len - i < 76 ? b64.len - i : 76);
		buf_puts(out, "\r\n");
	}
	buf_printf(out, "--%s--\r\n", boundary);
	buf_free(&b64);
	free(filename);
}

/* ---- finding a report ---- */

bool dmarc_report_subject(const char *hdr, size_t len)
{
	buf subject;
	buf_init(&subject);
	bool found = header_get(hdr, len, "Subject", &subject) &&
		     strncasecmp(subject.data, "Report Domain:", 14) == 0;
	buf_free(&subject);
	return found;
}

/* A part that may hold a report: the types of the draft and of RFC 7489's reporters, and the
 * octet-stream some send instead. What it holds is then told by its content. */
static bool report_part(const struct mime_part *p)
{
	static const char *const types[][2] = {
		{ "application", "gzip" }, { "application", "x-gzip" }, { "application", "zip" },
		{ "application", "x-zip-compressed" }, { "text", "xml" }, { "application", "xml" },
		{ "application", "octet-stream" },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (p->child_count == 0 && mime_part_is(p, types[i][0], types[i][1]))
			return true;
	return false;
}

/* The XML of a part's decoded content: gunzipped, unzipped, or as it is. */
static int unpack_report(const buf *raw, buf *xml, const char **why)
{
	const unsigned char *p = (const unsigned char *)raw->data;
	if (raw->len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return gzip_uncompress(raw->data, raw->len, DMARC_REPORT_MAX_XML, xml, why);
	if (raw->len >= 4 && memcmp(p, "PK\3\4", 4) == 0)
		return zip_first_file(raw->data, raw->len, DMARC_REPORT_MAX_XML, xml, why);
	if (raw->len > DMARC_REPORT_MAX_XML) {
		*why = "larger than the bound";
		return -1;
	}
	buf_append(xml, raw->data, raw->len);
	return 0;
}

int dmarc_report_from_message(const char *msg, size_t len, struct dmarc_report *r,
			      char **error_r)
{
	struct mime_tree tree;
	mime_parse(msg, len, &mime_default_limits, &tree);
	const struct mime_part *part = NULL;
	for (size_t i = 0; i < tree.count && part == NULL; i++)
		if (report_part(&tree.parts[i]))
			part = &tree.parts[i];
	if (part == NULL) {
		mime_tree_free(&tree);
		return 0;
	}
	buf raw, xml;
	buf_init(&raw);
	buf_init(&xml);
	const char *body = msg + part->body_off;
	if (part->encoding != NULL && strcasecmp(part->encoding, "base64") == 0)
		base64_decode_mime(body, part->body_len, &raw);
	else
		buf_append(&raw, body, part->body_len);
	const char *why = NULL;
	int found = unpack_report(&raw, &xml, &why);
	if (found < 0)
		*error_r = xasprintf("the report attachment cannot be unpacked: %s", why);
	else
		found = dmarc_report_parse_xml(xml.data, xml.len, r, error_r) < 0 ? -1 : 1;
	buf_free(&raw);
	buf_free(&xml);
	mime_tree_free(&tree);
	return found;
}
