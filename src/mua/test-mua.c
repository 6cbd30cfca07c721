/* Unit tests for the mail client's pure pieces: compose.c writes messages that render.c and
 * the MIME parser read back as written (non-ASCII names, subjects and file names, binary
 * attachments, HTML alternatives, forwarded messages, no Bcc, lines within 998 octets);
 * render.c numbers attachments as IMAP does and decodes RFC 2231 names; imap_reply.c reads
 * FETCH and LIST responses with literals and sections; autocrypt.c reads and writes the
 * Autocrypt header as Level 1 says. */
#include "auth/password.h"
#include "auth/sasl.h"
#include "core/xalloc.h"
#include "mail/address_list.h"
#include "mail/mime.h"
#include "mua/account.h"
#include "mua/autocrypt.h"
#include "mua/compose.h"
#include "mua/imap_reply.h"
#include "mua/render.h"
#include "mua/sasl_client.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const char binary[] = "\x00\x01\xff\xfe PDF\r\n\x80";

static void write_sample(buf *out, bool html, bool forward)
{
	const char *text = "Grüße\nline two\n.dot line\n", *markup = "<p>Gr&uuml;&szlig;e</p>";
	const char *inner = "Subject: inner\r\n\r\nhello\r\n";
	struct attachment att = { "Übersicht März.pdf", "application/pdf", binary, sizeof(binary) };
	struct compose c = {
		.from_name = "Zoë Ångström", .from_addr = "zoe@example.test",
		.to = "\"Doe, John\" <john@example.test>, =?UTF-8?B?w4lsb2RpZQ==?= <elodie@example.test>",
		.cc = "carol@example.test", .reply_to = "team@example.test",
		.subject = "Größenänderung — a subject long enough that it will not fit on one line of 78",
		.text = text, .text_len = strlen(text),
		.html = html ? markup : NULL, .html_len = html ? strlen(markup) : 0,
		.attachments = &att, .attachment_count = 1,
		.forwarded = forward ? inner : NULL, .forwarded_len = forward ? strlen(inner) : 0,
		.date = 1795000000, .message_id = "<1.2@example.test>",
	};
	compose_message(&c, out);
}

static void test_compose_headers(void **state)
{
	buf m, v;
	buf_init(&m);
	buf_init(&v);
	write_sample(&m, false, false);
	size_t line = 0;
	for (size_t i = 0; i < m.len; i++) {
		assert_true((unsigned char)m.data[i] < 0x80); /* 7-bit: nothing needs 8BITMIME */
		line = m.data[i] == '\n' ? 0 : line + 1;
		assert_true(line <= 998);
		if (m.data[i] == '\n')
			assert_int_equal(m.data[i - 1], '\r');
	}
	assert_true(render_header(m.data, m.len, "Subject", &v));
	assert_string_equal(v.data, "Größenänderung — a subject long enough that it will not fit on one line of 78");
	buf_clear(&v);
	render_header(m.data, m.len, "From", &v);
	assert_string_equal(v.data, "Zoë Ångström <zoe@example.test>");
	buf_clear(&v);
	render_header(m.data, m.len, "To", &v);
	assert_string_equal(v.data, "\"Doe, John\" <john@example.test>, Élodie <elodie@example.test>");
	assert_null(strstr(m.data, "Bcc"));
	assert_non_null(strstr(m.data, "Message-ID: <1.2@example.test>\r\n"));
	assert_non_null(strstr(m.data, "Reply-To: team@example.test\r\n"));
	buf_clear(&v);
	render_body_text(m.data, m.len, &v);
	assert_string_equal(v.data, "Grüße\nline two\n.dot line\n");
	buf_free(&m);
	buf_free(&v);
}

static void test_compose_attachments(void **state)
{
	buf m, data;
	buf_init(&m);
	buf_init(&data);
	write_sample(&m, true, true);
	struct rendered_attachment *list;
	size_t n = render_attachments(m.data, m.len, &list);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].section, "2");
	assert_string_equal(list[0].type, "message/rfc822");
	assert_string_equal(list[1].section, "3");
	assert_string_equal(list[1].filename, "Übersicht März.pdf");
	assert_int_equal(list[1].size, sizeof(binary));
	render_attachments_free(list, n);
	assert_int_equal(render_attachment_data(m.data, m.len, "Übersicht März.pdf", &data), 0);
	assert_int_equal(data.len, sizeof(binary));
	assert_memory_equal(data.data, binary, sizeof(binary));
	assert_int_equal(render_attachment_data(m.data, m.len, "9", &data), -1);
	buf_clear(&data);
	render_body_text(m.data, m.len, &data); /* the text alternative, not the HTML */
	assert_string_equal(data.data, "Grüße\nline two\n.dot line\n");
	assert_true(render_has_attachments(m.data, m.len));
	buf_free(&m);
	buf_free(&data);
}

/* A long non-ASCII file name is cut into RFC 2231 sections of short lines, never inside a
 * %XX, and reads back whole. */
static void test_compose_long_filename(void **state)
{
	char name[256] = "";
	while (strlen(name) + strlen("Ünïcödé-") < 240)
		strcat(name, "Ünïcödé-");
	strcat(name, ".txt");
	struct attachment att = { name, "text/plain", "x", 1 };
	struct compose c = { .from_addr = "zoe@example.test", .to = "john@example.test",
			     .subject = "s", .text = "t\n", .text_len = 2, .attachments = &att,
			     .attachment_count = 1, .date = 1795000000, .message_id = "<3@example.test>" };
	buf m;
	buf_init(&m);
	compose_message(&c, &m);
	assert_non_null(strstr(m.data, "\tfilename*0*=UTF-8''"));
	assert_non_null(strstr(m.data, "\tfilename*5*="));
	for (const char *line = m.data; *line != '\0'; line = strchr(line, '\n') + 1)
		if (strchr(line, '\n') - line > 78)
			fail_msg("long line: %.*s", (int)(strchr(line, '\n') - line), line);
	struct rendered_attachment *list;
	assert_int_equal(render_attachments(m.data, m.len, &list), 1);
	assert_string_equal(list[0].filename, name);
	render_attachments_free(list, 1);
	buf_free(&m);
}

/* Drives the client's SCRAM-SHA-256 against the server's (auth/sasl.c) with the credentials
 * the server keeps for server_password. Returns the server's verdict on the proof, and in
 * *client_r the client's verdict on the server's signature (after tamper flips one of its
 * characters). */
static enum sasl_result scram_exchange(const char *client_password, const char *server_password,
				       bool tamper, int *client_r)
{
	const char *user = "zo\xc3\xab,=1@example.test"; /* "," and "=" go out as =2C and =3D */
	struct scram_client sc;
	scram_client_init(&sc, client_password);
	struct sasl *srv = sasl_new("SCRAM-SHA-256");
	buf to_server, to_client;
	buf_init(&to_server);
	buf_init(&to_client);
	char *error = NULL;
	assert_int_equal(scram_client_step(&sc, user, NULL, 0, &to_server, &error), 0);
	assert_int_equal(sasl_step(srv, true, to_server.data, to_server.len, &to_client), SASL_NEED_SCRAM);
	assert_string_equal(sasl_username(srv), user);
	char *credentials = scram_sha256_credentials(server_password);
	assert_int_equal(sasl_scram_credentials(srv, credentials, &to_client), SASL_CONTINUE);
	free(credentials);
	buf_clear(&to_server);
	assert_int_equal(scram_client_step(&sc, user, to_client.data, to_client.len, &to_server, &error), 0);
	assert_false(scram_client_done(&sc));
	buf_clear(&to_client);
	enum sasl_result verdict = sasl_step(srv, true, to_server.data, to_server.len, &to_client);
	*client_r = 1;
	if (verdict == SASL_OK) {
		assert_true(to_client.len > 2 && memcmp(to_client.data, "v=", 2) == 0);
		if (tamper)
			to_client.data[5] = to_client.data[5] == 'A' ? 'B' : 'A';
		buf_clear(&to_server);
		*client_r = scram_client_step(&sc, user, to_client.data, to_client.len, &to_server, &error);
		assert_int_equal(scram_client_done(&sc), *client_r == 0);
		assert_true(*client_r == 0 ? error == NULL && to_server.len == 0 : error != NULL);
	}
	free(error);
	buf_free(&to_server);
	buf_free(&to_client);
	sasl_free(&srv);
	scram_client_free(&sc);
	return verdict;
}

/* RFC 7677 section 3's example, octet for octet: user "user", password "pencil". */
static void test_scram_client_rfc7677(void **state)
{
	struct scram_client sc;
	scram_client_init(&sc, "pencil");
	sc.nonce_for_test = "rOprNGfwEbeRWgbNEkqO";
	buf out;
	buf_init(&out);
	char *error = NULL;
	assert_int_equal(scram_client_step(&sc, "user", NULL, 0, &out, &error), 0);
	assert_string_equal(out.data, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
	const char *server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
				   "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
	buf_clear(&out);
	assert_int_equal(scram_client_step(&sc, "user", server_first, strlen(server_first), &out, &error), 0);
	assert_string_equal(out.data, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
				      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	const char *server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
	buf_clear(&out);
	assert_int_equal(scram_client_step(&sc, "user", server_final, strlen(server_final), &out, &error), 0);
	assert_true(scram_client_done(&sc) && out.len == 0);
	buf_free(&out);
	scram_client_free(&sc);
}

static void test_scram_client(void **state)
{
	int client;
	assert_int_equal(scram_exchange("s\xc3\xa9" "cret pass", "s\xc3\xa9" "cret pass", false, &client), SASL_OK);
	assert_int_equal(client, 0);
	assert_int_equal(scram_exchange("wrong", "s\xc3\xa9" "cret pass", false, &client), SASL_FAIL);
	/* a server that does not know the keys cannot sign: the client refuses it */
	assert_int_equal(scram_exchange("pw", "pw", true, &client), SASL_OK);
	assert_int_equal(client, -1);
	/* server-first messages the client must refuse: another nonce, no salt, absurd work, a
	 * mandatory extension, no part of the server's own; each is the text before the
	 * client's nonce (NULL: none in it) and after it */
	static const char *const bad[][2] = {
		{ NULL, "r=other,s=c2FsdA==,i=4096" }, { "r=", "srv,i=4096" },
		{ "r=", "srv,s=c2FsdA==,i=0" }, { "r=", "srv,s=c2FsdA==,i=99999999999" },
		{ "m=ext,r=", "srv,s=c2FsdA==,i=4096" }, { "r=", ",s=c2FsdA==,i=4096" },
		{ "r=", "srv,s=c2FsdA==,i= 4096" }, { "r=", "sr\x01v,s=c2FsdA==,i=4096" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct scram_client sc;
		scram_client_init(&sc, "pw");
		buf first, out;
		buf_init(&first);
		buf_init(&out);
		char *error = NULL;
		scram_client_step(&sc, "u", NULL, 0, &first, &error);
		char *server_first = bad[i][0] == NULL ? xstrdup(bad[i][1])
			: xasprintf("%s%s%s", bad[i][0], strstr(first.data, ",r=") + 3, bad[i][1]);
		assert_int_equal(scram_client_step(&sc, "u", server_first, strlen(server_first), &out, &error), -1);
		assert_non_null(error);
		free(error);
		free(server_first);
		buf_free(&first);
		buf_free(&out);
		scram_client_free(&sc);
	}
}

static void test_addresses(void **state)
{
	strlist l;
	strlist_init(&l);
	const char *bad;
	assert_int_equal(compose_addresses("A <a@x.test>, b@Y.TEST,\"c, d\" <c@x.test>, a@x.test", &l, &bad), 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.items[1], "b@y.test");
	assert_int_equal(compose_addresses("good@x.test, not an address", &l, &bad), -1);
	strlist_free(&l);
	assert_string_equal(compose_guess_type("a.PDF", "x", 1), "application/pdf");
	assert_string_equal(compose_guess_type("notes", "plain text", 10), "text/plain");
	assert_string_equal(compose_guess_type("blob", "\0\1", 2), "application/octet-stream");
}

static void test_render_rfc2231_and_html(void **state)
{
	const char *msg =
		"Subject: =?ISO-8859-1?Q?Caf=E9?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello &amp; welcome</p>\r\n"
		"--b\r\nContent-Type: application/octet-stream\r\n"
		"Content-Disposition: attachment; filename*0*=iso-8859-1''R%E9sum; filename*1=\"e.txt\"\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b--\r\n";
	buf out;
	buf_init(&out);
	render_message(msg, strlen(msg), &out);
	assert_non_null(strstr(out.data, "Subject: Café\n"));
	assert_non_null(strstr(out.data, "Hello & welcome"));
	assert_non_null(strstr(out.data, "[2] Résume.txt (application/octet-stream, 2 B)"));
	buf_free(&out);
}

static void test_imap_reply(void **state)
{
	const char *r = "* 3 FETCH (UID 17 FLAGS (\\Seen $Junk) BODY[HEADER.FIELDS (FROM DATE)] {12}\r\n"
			"From: a\r\n\r\n BODY[] \"q\\\"x\" X NIL)";
	struct imap_value top;
	assert_int_equal(imap_reply_parse(r, strlen(r), &top), 0);
	assert_int_equal(top.count, 4);
	const struct imap_value *att = &top.items[3];
	assert_string_equal(imap_value_str(imap_value_get(att, "UID")), "17");
	const struct imap_value *flags = imap_value_get(att, "FLAGS");
	assert_int_equal(flags->count, 2);
	assert_true(imap_value_is(&flags->items[0], "\\seen"));
	const struct imap_value *h = imap_value_get(att, "BODY[HEADER.FIELDS (FROM DATE)]");
	assert_int_equal(h->kind, IMAP_STRING);
	assert_int_equal(h->len, 12);
	assert_string_equal(imap_value_str(imap_value_get(att, "BODY[]")), "q\"x");
	assert_int_equal(imap_value_get(att, "X")->kind, IMAP_NIL);
	imap_value_free(&top);
	assert_int_equal(imap_reply_parse("* 1 FETCH (UID {5}\r\nab", 22, &top), -1);
	imap_value_free(&top);
	assert_int_equal(imap_reply_parse("* (((", 5, &top), -1);
	imap_value_free(&top);
}

/* A server setting as mail_account_server reads it: host, port and whether TLS is implicit;
 * port 0 when the setting must be refused. */
static void server_is(const char *setting, bool imap, const char *host, int port, bool tls)
{
	struct mail_account a = { .address = "a@b.test" };
	*(imap ? &a.imap_setting : &a.smtp_setting) = (char *)setting;
	char *error = NULL;
	int r = mail_account_server(&a, imap, &error);
	struct server *s = imap ? &a.imap : &a.smtp;
	if (port == 0) {
		assert_int_equal(r, -1);
		free(error);
		return;
	}
	assert_int_equal(r, 0);
	assert_string_equal(s->host, host);
	assert_int_equal(s->port, port);
	assert_int_equal(s->implicit_tls, tls);
	free(s->host);
}

static void test_server_settings(void **state)
{
	server_is("mail.b.test", true, "mail.b.test", 993, true);
	server_is("mail.b.test:143", true, "mail.b.test", 143, false);
	server_is("imaps://mail.b.test:10993", true, "mail.b.test", 10993, true);
	server_is("IMAPS://mail.b.test", true, "mail.b.test", 993, true);
	server_is("imap://[2001:db8::1]:993/", true, "2001:db8::1", 993, false);
	server_is("smtps://mail.b.test:2465", false, "mail.b.test", 2465, true);
	server_is("smtp://mail.b.test", false, "mail.b.test", 587, false);
	server_is("mail.b.test:465", false, "mail.b.test", 465, true);
	server_is("imaps://mail.b.test", false, NULL, 0, false); /* an IMAP scheme for SMTP */
	server_is("pop3s://mail.b.test", true, NULL, 0, false);
	server_is("imaps://mail.b.test:99999", true, NULL, 0, false);
}

static void test_autocrypt_header(void **state)
{
	static const struct {
		const char *value;
		int result;
		const char *addr;
		bool mutual;
		size_t keylen;
	} cases[] = {
		{ "addr=Alice@Example.TEST; prefer-encrypt=mutual; keydata=AAEC AwQF\r\n BgcI", 0, "alice@example.test", true, 9 },
		{ "addr=a@b.test; keydata=AAAA", 0, "a@b.test", false, 3 },
		{ "keydata=AAAA;addr=a@b.test;", 0, "a@b.test", false, 3 },
		{ "addr=a@b.test; prefer-encrypt=nopreference; _x=anything; keydata=AAAA", 0, "a@b.test", false, 3 },
		{ "addr=a@b.test; unknown=1; keydata=AAAA", -1, NULL, false, 0 },   /* critical, unknown */
		{ "addr=a@b.test", -1, NULL, false, 0 },                           /* no key */
		{ "keydata=AAAA", -1, NULL, false, 0 },                            /* no address */
		{ "addr=a@b.test; addr=c@d.test; keydata=AAAA", -1, NULL, false, 0 },
		{ "addr=a@b.test; keydata=AAA", -1, NULL, false, 0 },              /* not base64 */
		{ "addr=a b@c.test; keydata=AAAA", -1, NULL, false, 0 },
		{ "addr=nobody; keydata=AAAA", -1, NULL, false, 0 },
		{ "", -1, NULL, false, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct autocrypt_header h;
		int r = autocrypt_parse(cases[i].value, strlen(cases[i].value), &h);
		assert_int_equal(r, cases[i].result);
		if (r == 0) {
			assert_string_equal(h.addr, cases[i].addr);
			assert_int_equal(h.mutual, cases[i].mutual);
			assert_int_equal(h.keydata.len, cases[i].keylen);
		}
		autocrypt_header_free(&h);
	}
	/* written folded within 78 octets a line, and read back the same */
	char key[300];
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (char)i;
	buf out;
	buf_init(&out);
	autocrypt_write(&out, "zoe@example.test", true, key, sizeof(key));
	for (const char *line = out.data; *line; line = strstr(line, "\r\n") + 2)
		assert_true(strstr(line, "\r\n") - line <= 78);
	struct autocrypt_header h;
	assert_int_equal(autocrypt_parse(out.data + 11, out.len - 11, &h), 0);
	assert_string_equal(h.addr, "zoe@example.test");
	assert_true(h.mutual);
	assert_memory_equal(h.keydata.data, key, sizeof(key));
	autocrypt_header_free(&h);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compose_headers),
		cmocka_unit_test(test_compose_attachments),
		cmocka_unit_test(test_compose_long_filename),
		cmocka_unit_test(test_scram_client_rfc7677),
		cmocka_unit_test(test_scram_client),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_render_rfc2231_and_html),
		cmocka_unit_test(test_imap_reply),
		cmocka_unit_test(test_server_settings),
		cmocka_unit_test(test_autocrypt_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
