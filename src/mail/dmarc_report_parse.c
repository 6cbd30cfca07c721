/* Reading an aggregate report's XML with libxml2. Other parties write these files, so the
 * parser is held in: no network (XML_PARSE_NONET), no entity substitution (no
 * XML_PARSE_NOENT) and no document with a DTD at all (a report needs none, and that rules out
 * entity expansion bombs), no "huge" mode (libxml2's own bounds on depth and text), and the
 * input already bounded by its caller. Elements are matched by their local names, so the
 * draft's namespace and RFC 7489's reports without one both read. */
#include "mail/dmarc_report.h"
#include "core/xalloc.h"
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT 1024 /* octets kept of one element's text */

static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* The element's own text (its text and CDATA children, entity references left out), white
 * space trimmed; NULL when there is no such element. */
static char *text_of(const xmlNode *n)
{
	if (n == NULL)
		return NULL;
	buf b;
	buf_init(&b);
	for (xmlNode *c = n->children; c != NULL; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content != NULL)
			buf_puts(&b, (const char *)c->content);
	size_t start = 0;
	while (start < b.len && strchr(" \t\r\n", b.data[start]) != NULL)
		start++;
	while (b.len > start && strchr(" \t\r\n", b.data[b.len - 1]) != NULL)
		b.len--;
	size_t len = b.len - start > MAX_TEXT ? MAX_TEXT : b.len - start;
	char *s = xstrndup(b.data + start, len);
	buf_free(&b);
	return s;
}

static char *text_at(const xmlNode *n, const char *name)
{
	return text_of(child(n, name));
}

static char char_at(const xmlNode *n, const char *name)
{
	char *s = text_at(n, name);
	char c = s != NULL && strlen(s) == 1 ? s[0] : 0;
	free(s);
	return c;
}

static bool int_at(const xmlNode *n, const char *name, int64_t *out)
{
	char *s = text_at(n, name), *end;
	bool ok = s != NULL && *s != '\0';
	if (ok)
		*out = strtoll(s, &end, 10), ok = *end == '\0' && *out >= 0;
	free(s);
	return ok;
}

static void read_auth(const xmlNode *results, struct dmarc_report_record *rec)
{
	for (xmlNode *c = results != NULL ? results->children : NULL; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		bool spf = strcmp((const char *)c->name, "spf") == 0;
		if (!spf && strcmp((const char *)c->name, "dkim") != 0)
			continue;
		char *domain = text_at(c, "domain"), *result = text_at(c, "result");
		char *selector = text_at(c, spf ? "scope" : "selector");
		if (domain != NULL && result != NULL)
			dmarc_report_add_auth(rec, spf, domain, selector, result);
		free(domain);
		free(result);
		free(selector);
	}
}

/* One <record>: 0, or -1 when it lacks what every record has. */
static int read_record(const xmlNode *n, struct dmarc_report_record *rec)
{
	const xmlNode *row = child(n, "row"), *eval = child(row, "policy_evaluated");
	const xmlNode *ids = child(n, "identifiers");
	int64_t count;
	rec->source_ip = text_at(row, "source_ip");
	rec->disposition = text_at(eval, "disposition");
	rec->dkim = text_at(eval, "dkim");
	rec->spf = text_at(eval, "spf");
	rec->header_from = text_at(ids, "header_from");
	rec->envelope_from = text_at(ids, "envelope_from");
	rec->envelope_to = text_at(ids, "envelope_to");
	if (!int_at(row, "count", &count) || rec->source_ip == NULL || rec->disposition == NULL ||
	    rec->dkim == NULL || rec->spf == NULL || rec->header_from == NULL)
		return -1;
	rec->count = (uint64_t)count;
	read_auth(child(n, "auth_results"), rec);
	return 0;
}

static int read_feedback(const xmlNode *root, struct dmarc_report *r, char **error_r)
{
	const xmlNode *meta = child(root, "report_metadata"), *range = child(meta, "date_range");
	const xmlNode *pol = child(root, "policy_published");
	r->org_name = text_at(meta, "org_name");
	r->email = text_at(meta, "email");
	r->report_id = text_at(meta, "report_id");
	r->generator = text_at(meta, "generator");
	r->policy.domain = text_at(pol, "domain");
	r->policy.p = text_at(pol, "p");
	r->policy.sp = text_at(pol, "sp");
	r->policy.np = text_at(pol, "np");
	r->policy.adkim = char_at(pol, "adkim");
	r->policy.aspf = char_at(pol, "aspf");
	r->policy.testing = char_at(pol, "testing");
	if (r->org_name == NULL || r->report_id == NULL || r->policy.domain == NULL ||
	    !int_at(range, "begin", &r->begin) || !int_at(range, "end", &r->end)) {
		*error_r = xstrdup("the report lacks its org_name, report_id, date_range or policy domain");
		return -1;
	}
	if (r->email == NULL)
		r->email = xstrdup("");
	for (xmlNode *c = root->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "record") != 0)
			continue;
		if (r->record_count == DMARC_REPORT_MAX_RECORDS) {
			*error_r = xasprintf("the report has more than %d records", DMARC_REPORT_MAX_RECORDS);
			return -1;
		}
		if (read_record(c, dmarc_report_add_record(r)) < 0) {
			*error_r = xasprintf("record %zu of the report lacks source_ip, count, "
					     "policy_evaluated or header_from", r->record_count);
			return -1;
		}
	}
	return 0;
}

int dmarc_report_parse_xml(const char *xml, size_t len, struct dmarc_report *r, char **error_r)
{
	memset(r, 0, sizeof(*r));
	if (len > DMARC_REPORT_MAX_XML) {
		*error_r = xstrdup("the report is larger than the bound");
		return -1;
	}
	xmlDoc *doc = xmlReadMemory(xml, (int)len, NULL, NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		*error_r = xstrdup("the report is not well-formed XML");
		return -1;
	}
	int status = -1;
	const xmlNode *root = xmlDocGetRootElement(doc);
	if (doc->intSubset != NULL || doc->extSubset != NULL)
		*error_r = xstrdup("the report has a DTD, which reports never need");
	else if (root == NULL || strcmp((const char *)root->name, "feedback") != 0)
		*error_r = xstrdup("the XML is not a DMARC report (its root is not feedback)");
	else
		status = read_feedback(root, r, error_r);
	xmlFreeDoc(doc);
	if (status < 0)
		dmarc_report_free(r);
	return status;
}
