/* Unit tests for DMARC aggregate reports (dmarc_report.c, dmarc_report_parse.c) and the
 * unpacking they use (unpack.c): the XML written has the draft's structure and reads back
 * the same; a report mailed as estafeta mails it is found again in the message; reports of
 * other receivers in gzip, zip (stored and DEFLATE) and plain XML; what is refused (a DTD,
 * another root, missing fields, a bomb past the bound, truncated data). */
#include "mail/dmarc_report.h"
#include "mail/unpack.h"
#include "core/base64.h"
#include "core/xalloc.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

static void sample(struct dmarc_report *r)
{
	memset(r, 0, sizeof(*r));
	r->org_name = xstrdup("mx.b.test");
	r->email = xstrdup("postmaster@b.test");
	r->report_id = xstrdup("1700086400.a.test@mx.b.test");
	r->generator = xstrdup("estafeta");
	r->begin = 1700000000;
	r->end = 1700086400;
	r->policy = (struct dmarc_policy_published){ xstrdup("a.test"), xstrdup("reject"), NULL,
						     xstrdup("quarantine"), 'r', 's', 'n' };
	struct dmarc_report_record *rec = dmarc_report_add_record(r);
	rec->source_ip = xstrdup("127.0.0.1");
	rec->count = 3;
	rec->disposition = xstrdup("pass");
	rec->dkim = xstrdup("pass");
	rec->spf = xstrdup("pass");
	rec->header_from = xstrdup("a.test");
	rec->envelope_from = xstrdup("a.test");
	rec->envelope_to = xstrdup("b.test");
	/* spf first here: the XML still puts every dkim before it */
	dmarc_report_add_auth(rec, true, "a.test", "mfrom", "pass");
	dmarc_report_add_auth(rec, false, "a.test", "sel-ed", "pass");
	dmarc_report_add_auth(rec, false, "a.test", "sel-rsa", "pass");
	rec = dmarc_report_add_record(r);
	rec->source_ip = xstrdup("127.0.0.3");
	rec->count = 1;
	rec->disposition = xstrdup("quarantine");
	rec->dkim = xstrdup("fail");
	rec->spf = xstrdup("fail");
	rec->header_from = xstrdup("a.test");
	rec->envelope_from = xstrdup("mail.evil<&>.test");
	dmarc_report_add_auth(rec, true, "mail.evil.test", "mfrom", "pass");
}

static void assert_sample(const struct dmarc_report *r)
{
	assert_string_equal(r->org_name, "mx.b.test");
	assert_string_equal(r->email, "postmaster@b.test");
	assert_string_equal(r->report_id, "1700086400.a.test@mx.b.test");
	assert_string_equal(r->generator, "estafeta");
	assert_int_equal(r->begin, 1700000000);
	assert_int_equal(r->end, 1700086400);
	assert_string_equal(r->policy.domain, "a.test");
	assert_string_equal(r->policy.p, "reject");
	assert_null(r->policy.sp);
	assert_string_equal(r->policy.np, "quarantine");
	assert_int_equal(r->policy.adkim, 'r');
	assert_int_equal(r->policy.aspf, 's');
	assert_int_equal(r->policy.testing, 'n');
	assert_int_equal(r->record_count, 2);
	const struct dmarc_report_record *a = &r->records[0], *b = &r->records[1];
	assert_string_equal(a->source_ip, "127.0.0.1");
	assert_int_equal(a->count, 3);
	assert_string_equal(a->disposition, "pass");
	assert_string_equal(a->envelope_to, "b.test");
	assert_int_equal(a->auth_count, 3);
	assert_false(a->auth[0].spf);
	assert_string_equal(a->auth[0].selector, "sel-ed");
	assert_string_equal(a->auth[1].selector, "sel-rsa");
	assert_true(a->auth[2].spf);
	assert_string_equal(a->auth[2].selector, "mfrom");
	assert_string_equal(b->source_ip, "127.0.0.3");
	assert_string_equal(b->disposition, "quarantine");
	assert_string_equal(b->dkim, "fail");
	assert_string_equal(b->envelope_from, "mail.evil<&>.test");
	assert_null(b->envelope_to);
}

/* The text between <name> and </name> after from, or NULL. */
static const char *element_at(const char *xml, const char *from, const char *name, char *out,
			      size_t size)
{
	char open[64], close[64];
	snprintf(open, sizeof(open), "<%s>", name);
	snprintf(close, sizeof(close), "</%s>", name);
	const char *s = strstr(strstr(xml, from), open), *e = s != NULL ? strstr(s, close) : NULL;
	if (e == NULL)
		return NULL;
	s += strlen(open);
	snprintf(out, size, "%.*s", (int)(e - s), s);
	return out;
}

static void test_xml_structure_and_round_trip(void **state)
{
	struct dmarc_report r, back;
	sample(&r);
	buf xml;
	buf_init(&xml);
	dmarc_report_write_xml(&r, &xml);
	char v[128];
	assert_non_null(strstr(xml.data, "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">"));
	assert_string_equal(element_at(xml.data, "<feedback", "version", v, sizeof(v)), "1.0");
	/* the schema's order: version, report_metadata, policy_published, then the records */
	const char *meta = strstr(xml.data, "<report_metadata>"), *pol = strstr(xml.data, "<policy_published>");
	const char *rec = strstr(xml.data, "<record>");
	assert_true(strstr(xml.data, "<version>") < meta && meta < pol && pol < rec);
	assert_string_equal(element_at(xml.data, "<date_range>", "begin", v, sizeof(v)), "1700000000");
	assert_string_equal(element_at(xml.data, "<policy_published>", "np", v, sizeof(v)), "quarantine");
	assert_null(strstr(xml.data, "<sp>"));
	assert_string_equal(element_at(xml.data, "<record>", "count", v, sizeof(v)), "3");
	/* policy_evaluated's sequence, and every dkim before the one spf of auth_results */
	const char *eval = strstr(rec, "<policy_evaluated>");
	assert_true(strstr(eval, "<disposition>") < strstr(eval, "<dkim>") &&
		    strstr(eval, "<dkim>") < strstr(eval, "<spf>"));
	const char *auth = strstr(rec, "<auth_results>");
	assert_true(strstr(auth, "sel-rsa") < strstr(auth, "<spf>"));
	assert_string_equal(element_at(xml.data, "<auth_results>", "scope", v, sizeof(v)), "mfrom");
	assert_non_null(strstr(xml.data, "mail.evil&lt;&amp;&gt;.test"));
	assert_int_equal(dmarc_report_parse_xml(xml.data, xml.len, &back, NULL), 0);
	assert_sample(&back);
	dmarc_report_free(&back);
	dmarc_report_free(&r);
	buf_free(&xml);
}

static void test_message_round_trip(void **state)
{
	struct dmarc_report r, back;
	sample(&r);
	char *name = dmarc_report_filename("mx.b.test", &r);
	assert_string_equal(name, "mx.b.test!a.test!1700000000!1700086400!1700086400atestmxbtest.xml.gz");
	buf xml, gz, msg;
	buf_init(&xml);
	buf_init(&gz);
	buf_init(&msg);
	dmarc_report_write_xml(&r, &xml);
	assert_int_equal(gzip_compress(xml.data, xml.len, &gz), 0);
	dmarc_report_message(&msg, "mx.b.test", "postmaster@b.test", "dmarc@a.test", &r, gz.data, gz.len);
	assert_non_null(strstr(msg.data, "Subject: Report Domain: a.test\r\n Submitter: mx.b.test\r\n"
					 " Report-ID: <1700086400.a.test@mx.b.test>\r\n"));
	assert_non_null(strstr(msg.data, "Content-Type: application/gzip"));
	assert_non_null(strstr(msg.data, name));
	assert_true(dmarc_report_subject(msg.data, msg.len));
	assert_false(dmarc_report_subject("Subject: Re: Report Domain: x\r\n\r\n", 33));
	char *error = NULL;
	assert_int_equal(dmarc_report_from_message(msg.data, msg.len, &back, &error), 1);
	assert_sample(&back);
	dmarc_report_free(&back);
	const char *plain = "Subject: hello\r\nContent-Type: text/plain\r\n\r\nno report\r\n";
	assert_int_equal(dmarc_report_from_message(plain, strlen(plain), &back, &error), 0);
	free(name);
	buf_free(&xml);
	buf_free(&gz);
	buf_free(&msg);
	dmarc_report_free(&r);
}

/* A zip archive of one file, as report senders make them: stored (method 0) or raw DEFLATE. */
static void make_zip(const char *data, size_t len, bool deflated, buf *out)
{
	buf body;
	buf_init(&body);
	if (deflated) {
		z_stream z = { 0 };
		assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
		buf_reserve(&body, deflateBound(&z, len));
		z.next_in = (Bytef *)data;
		z.avail_in = (uInt)len;
		z.next_out = (Bytef *)body.data;
		z.avail_out = (uInt)deflateBound(&z, len);
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		body.len = z.total_out;
		deflateEnd(&z);
	} else {
		buf_append(&body, data, len);
	}
	const char *name = "report.xml";
	unsigned char h[30] = { 'P', 'K', 3, 4, 20, 0, 0, 0, deflated ? 8 : 0, 0 };
	uint32_t crc = (uint32_t)crc32(0, (const Bytef *)data, (uInt)len);
	uint32_t fields[3] = { crc, (uint32_t)body.len, (uint32_t)len };
	for (int f = 0; f < 3; f++)
		for (int i = 0; i < 4; i++)
			h[14 + f * 4 + i] = (unsigned char)(fields[f] >> (8 * i));
	h[26] = (unsigned char)strlen(name);
	buf_append(out, h, sizeof(h));
	buf_puts(out, name);
	buf_append(out, body.data, body.len);
	buf_free(&body);
}

/* A report in the message form other receivers use: one attachment of the given type. */
static void attachment_message(const char *type, const void *data, size_t len, buf *out)
{
	buf_printf(out, "Subject: Report Domain: a.test Submitter: other.example\r\n"
			"MIME-Version: 1.0\r\nContent-Type: %s\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n", type);
	buf b64;
	buf_init(&b64);
	base64_encode(data, len, &b64);
	buf_append(out, b64.data, b64.len);
	buf_puts(out, "\r\n");
	buf_free(&b64);
}

static void test_other_receivers_packings(void **state)
{
	struct dmarc_report r, back;
	sample(&r);
	buf xml;
	buf_init(&xml);
	dmarc_report_write_xml(&r, &xml);
	for (int kind = 0; kind < 3; kind++) {
		buf packed, msg;
		buf_init(&packed);
		buf_init(&msg);
		/* the zip file as an octet-stream, as some send it: its content says what it is */
		const char *type = kind == 2 ? "text/xml" : kind == 1 ? "application/octet-stream"
								   : "application/zip";
		if (kind == 2)
			buf_append(&packed, xml.data, xml.len);
		else
			make_zip(xml.data, xml.len, kind == 1, &packed);
		buf out;
		buf_init(&out);
		const char *why = NULL;
		if (kind < 2) {
			assert_int_equal(zip_first_file(packed.data, packed.len, 1 << 20, &out, &why), 0);
			assert_int_equal(out.len, xml.len);
			assert_memory_equal(out.data, xml.data, xml.len);
		}
		buf_free(&out);
		attachment_message(type, packed.data, packed.len, &msg);
		char *error = NULL;
		assert_int_equal(dmarc_report_from_message(msg.data, msg.len, &back, &error), 1);
		assert_sample(&back);
		dmarc_report_free(&back);
		buf_free(&packed);
		buf_free(&msg);
	}
	buf_free(&xml);
	dmarc_report_free(&r);
}

static void test_bounds_and_broken_data(void **state)
{
	/* a megabyte of zeros compresses to a kilobyte; a 64 KiB bound stops it */
	char *zeros = xcalloc(1, 1 << 20);
	buf gz, out, zip;
	buf_init(&gz);
	buf_init(&out);
	buf_init(&zip);
	assert_int_equal(gzip_compress(zeros, 1 << 20, &gz), 0);
	assert_true(gz.len < 4096);
	const char *why = NULL;
	assert_int_equal(gzip_uncompress(gz.data, gz.len, 65536, &out, &why), -1);
	assert_string_equal(why, "larger than the bound when unpacked");
	assert_int_equal(out.len, 0);
	assert_int_equal(gzip_uncompress(gz.data, gz.len, 1 << 20, &out, &why), 0);
	assert_int_equal(out.len, 1 << 20);
	buf_clear(&out);
	assert_int_equal(gzip_uncompress(gz.data, gz.len / 2, 1 << 20, &out, &why), -1);
	assert_int_equal(gzip_uncompress("PK\3\4", 4, 1 << 20, &out, &why), -1);
	make_zip(zeros, 1 << 20, true, &zip);
	assert_int_equal(zip_first_file(zip.data, zip.len, 65536, &out, &why), -1);
	assert_int_equal(zip_first_file(zip.data, 20, 65536, &out, &why), -1);
	free(zeros);
	buf_free(&gz);
	buf_free(&out);
	buf_free(&zip);
}

static void assert_refused(const char *xml, const char *why)
{
	struct dmarc_report r;
	char *error = NULL;
	assert_int_equal(dmarc_report_parse_xml(xml, strlen(xml), &r, &error), -1);
	assert_non_null(strstr(error, why));
	free(error);
}

static void test_refused_xml(void **state)
{
	assert_refused("<feedback><report_metadata>", "not well-formed");
	assert_refused("<?xml version=\"1.0\"?><html/>", "root is not feedback");
	/* entities stay unexpanded: a document with a DTD is refused whole */
	assert_refused("<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY a \"aaaa\">"
		       "<!ENTITY b \"&a;&a;&a;&a;\">]><feedback>&b;</feedback>", "DTD");
	assert_refused("<?xml version=\"1.0\"?><!DOCTYPE feedback SYSTEM \"http://192.0.2.1/x.dtd\">"
		       "<feedback/>", "DTD");
	assert_refused("<feedback><report_metadata><org_name>x</org_name></report_metadata></feedback>",
		       "lacks");
	assert_refused("<feedback><report_metadata><org_name>x</org_name><report_id>1</report_id>"
		       "<date_range><begin>1</begin><end>2</end></date_range></report_metadata>"
		       "<policy_published><domain>a.test</domain></policy_published>"
		       "<record><row><source_ip>192.0.2.1</source_ip><count>many</count></row>"
		       "</record></feedback>", "record 1");
	/* RFC 7489's reports have no namespace and read as well */
	const char *old = "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>google.com"
			  "</org_name><email>noreply-dmarc-support@google.com</email><report_id>123"
			  "</report_id><date_range><begin>1</begin><end>2</end></date_range>"
			  "</report_metadata><policy_published><domain>a.test</domain><p>none</p>"
			  "<pct>100</pct></policy_published><record><row><source_ip>192.0.2.1"
			  "</source_ip><count>2</count><policy_evaluated><disposition>none"
			  "</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>"
			  "<identifiers><header_from>a.test</header_from></identifiers>"
			  "<auth_results><dkim><domain>a.test</domain><result>pass</result></dkim>"
			  "</auth_results></record></feedback>";
	struct dmarc_report r;
	char *error = NULL;
	assert_int_equal(dmarc_report_parse_xml(old, strlen(old), &r, &error), 0);
	assert_string_equal(r.org_name, "google.com");
	assert_int_equal(r.record_count, 1);
	assert_int_equal(r.records[0].count, 2);
	assert_int_equal(r.records[0].auth_count, 1);
	assert_null(r.records[0].auth[0].selector);
	dmarc_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_structure_and_round_trip),
		cmocka_unit_test(test_message_round_trip),
		cmocka_unit_test(test_other_receivers_packings),
		cmocka_unit_test(test_bounds_and_broken_data),
		cmocka_unit_test(test_refused_xml),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
