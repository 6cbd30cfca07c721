/* Unit tests for dkim_verify.c against a small DNS server on loopback, in this process on
 * the same event loop, that publishes the test's keys: messages signed by mail/dkim_sign.c
 * pass whatever pieces their body comes in (down to one octet each), a changed body fails,
 * each key name is asked once however many signatures use it, at most
 * DKIM_VERIFY_MAX_SIGNATURES are checked, and a verifier freed while its lookups are out
 * leaves them to end quietly. ARC (arc_verify.c, whose signatures this verifier checks): a
 * chain of two sets sealed by dkimpy passes whatever pieces its body comes in; a changed
 * body, a changed ARC-Authentication-Results, a missing seal or a broken cv= fail it; a
 * message without ARC sets is none. Sets that mail/arc_seal.c adds verify, on a chain and on a
 * message without one. */
#include "core/base64.h"
#include "mail/dkim_key.h"
#include "mail/dkim_sign.h"
#include "mail/arc_seal.h"
#include "mail/authres.h"
#include "verify/arc_verify.h"
#include "verify/dkim_verify.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#define SILENT_NAME "silent._domainkey.x.example" /* asked, never answered */

struct server {
	int fd;
	struct event *ev;
	char resolver[32];
	const char *names[6];
	buf records[6];
	size_t record_count;
	unsigned queries;
};

/* Answers a TXT query with the record published for its name, or NXDOMAIN. */
static void on_query(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	unsigned char q[512], r[1024];
	struct sockaddr_in from;
	socklen_t from_len = sizeof(from);
	ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &from_len);
	char name[256];
	size_t p = 12, o = 0;
	while (n > 12 && p < (size_t)n && q[p] != 0 && o + q[p] + 1 < sizeof(name)) {
		size_t l = q[p++];
		if (o > 0)
			name[o++] = '.';
		memcpy(name + o, q + p, l);
		o += l;
		p += l;
	}
	name[o] = '\0';
	p += 5; /* the root label, QTYPE, QCLASS */
	if (n < 12 || p > (size_t)n || strcasecmp(name, SILENT_NAME) == 0)
		return;
	s->queries++;
	const buf *text = NULL;
	for (size_t i = 0; i < s->record_count; i++)
		if (strcasecmp(s->names[i], name) == 0)
			text = &s->records[i];
	memcpy(r, q, p);
	r[2] = 0x81;
	r[3] = text != NULL ? 0x80 : 0x83;
	memset(r + 6, 0, 6);
	r[7] = text != NULL;
	size_t len = p;
	if (text != NULL) {
		static const unsigned char rr[] = { 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60 };
		memcpy(r + len, rr, sizeof(rr));
		len += sizeof(rr) + 2;
		size_t start = len;
		for (size_t at = 0; at < text->len; at += 255) {
			size_t piece = text->len - at < 255 ? text->len - at : 255;
			r[len++] = (unsigned char)piece;
			memcpy(r + len, text->data + at, piece);
			len += piece;
		}
		r[start - 2] = (unsigned char)((len - start) >> 8);
		r[start - 1] = (unsigned char)(len - start);
	}
	sendto(fd, r, len, 0, (struct sockaddr *)&from, from_len);
}

static void server_start(struct server *s, struct event_base *base)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	snprintf(s->resolver, sizeof(s->resolver), "127.0.0.1:%u", ntohs(a.sin_port));
	s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, on_query, s);
	event_add(s->ev, NULL);
}

static void publish(struct server *s, const char *name, EVP_PKEY *key)
{
	buf_init(&s->records[s->record_count]);
	assert_int_equal(dkim_key_record(key, &s->records[s->record_count]), 0);
	s->names[s->record_count++] = name;
}

static void publish_text(struct server *s, const char *name, const char *text)
{
	buf_init(&s->records[s->record_count]);
	buf_puts(&s->records[s->record_count], text);
	s->names[s->record_count++] = name;
}

static void server_stop(struct server *s)
{
	event_free(s->ev);
	close(s->fd);
	for (size_t i = 0; i < s->record_count; i++)
		buf_free(&s->records[i]);
}

/* Sealed by dkimpy's arc_sign: instance 1 by one.example, then instance 2 by two.example,
 * one 1024-bit key for both. */
static const char arc_message[] =
	"ARC-Seal: i=2; cv=pass; a=rsa-sha256; d=two.example; s=sel; t=1764849700;\r\n"
	" b=RvN9QTeGNkzQjsmAnx3OuH8lZ/hfwqRINRETbCBdaT2fHjE0k9kqJ8nhM1iAMce7RoOq5\r\n"
	" dGPEOgoECygdddvKa8Wb4w99nHElVY3KRAarKMJyu++h+UIWWbH79hNsz+Lt6VjxMx79Joz\r\n"
	" 5MUMo+deSgthxnhkfY6qZg2DGsxY9L8=\r\n"
	"ARC-Message-Signature: i=2; a=rsa-sha256; c=relaxed/relaxed;\r\n"
	" d=two.example; s=sel; t=1764849700; h=from : to : subject : date :\r\n"
	" message-id : from; bh=24rYWF0UqdEDkcSebTUAZFyaVqpYQG6G6rwQq/baBM0=;\r\n"
	" b=Xxondt0J/udRT/ML4ktxcb9w9D8A0F+pGKV4bnT9kS3jwuUmycCulc+baT7smbJxJ16WQ\r\n"
	" 5suxJynADMIeF6IM1+Gne5GHshaD+1eQU3RZ+hhQFHT0Y1pKWe6nm6goNj+QcezWQnRUhWV\r\n"
	" Fu5LCqaFniXBfzcD9c+kgrfv6Gf2Wd8=\r\n"
	"ARC-Authentication-Results: i=2; two.example; arc=pass;\r\n"
	"  dmarc=pass header.from=author.example\r\n"
	"ARC-Seal: i=1; cv=none; a=rsa-sha256; d=one.example; s=sel; t=1764849600;\r\n"
	" b=iT2UZ4zD1BuAhpLMK6lPZqsZnRR/Hqwk8T9J2MJr+jl+leASowlOIDF8YkLuBLqRBE84L\r\n"
	" Yxdo+TRJTrb4PGvZWR+Gtyj2SRPJPZuegQgqQVARJ7g68Omt0bOaolZ3SSUDcdS5W22xD62\r\n"
	" +aJG3La/27bL0xXMZdFqXZoeu5lkJmk=\r\n"
	"ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
	" d=one.example; s=sel; t=1764849600; h=from : to : subject : date :\r\n"
	" message-id : from; bh=24rYWF0UqdEDkcSebTUAZFyaVqpYQG6G6rwQq/baBM0=;\r\n"
	" b=kYiUQI6SqUkllIf2I95VSjTjlfgePOjrKg4zyczNJA7hQEJ+ncy9vcJIKBHx6SsqgcVzS\r\n"
	" PI3S/mOHjC1HHdwNCk7wiBjRr7Wq4fznt0cbI5CuyT8eQrObIQw9h1t7kj64OuxhmewF9ti\r\n"
	" wgPRnfQ7HFuMXJu2GuncZO8MLAQzUA4=\r\n"
	"ARC-Authentication-Results: i=1; one.example; spf=pass smtp.mailfrom=author.example;\r\n"
	"  dkim=pass header.d=author.example;\r\n"
	"  dmarc=pass header.from=author.example\r\n"
	"From: Alice <alice@author.example>\r\n"
	"To: list@one.example\r\n"
	"Subject: ARC test\r\n"
	"Date: Fri, 04 Dec 2026 12:00:00 +0000\r\n"
	"Message-ID: <arc1@author.example>\r\n"
	"\r\n"
	"Hello,\r\n"
	"the body  \r\n"
	"\r\n";
static const char arc_key[] = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCuW5S+jH+m42uo1Dsj6Xlwx+taEsfxPiGJzGXnn5Ly8XbcepG66Yhn9KNpAXRByYf7W7f2qZnAaoIlT+jWkb0jIoek1bqhS6yscNOjWjTJRQ7JbqSzSVhBJ7K10x4SyF9u1hkk45O7DIvHq/BMLJEBkq8Qi0sj1t66keNVi4vzfQIDAQAB";

struct fixture {
	struct event_base *base;
	struct server server;
	struct dns *dns;
	EVP_PKEY *ed, *rsa;
	buf message; /* signed with both keys */
};

static const char body_text[] = "Hi.\r\n\r\nWe lost the game.  Are you hungry yet? \r\n\r\nJoe.\r\n\r\n";

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->base = event_base_new();
	f->ed = dkim_key_generate(DKIM_ED25519);
	f->rsa = dkim_key_generate(DKIM_RSA);
	server_start(&f->server, f->base);
	publish(&f->server, "ed._domainkey.x.example", f->ed);
	publish(&f->server, "rsa._domainkey.x.example", f->rsa);
	publish_text(&f->server, "sel._domainkey.one.example", arc_key);
	publish_text(&f->server, "sel._domainkey.two.example", arc_key);
	char *error = NULL;
	f->dns = dns_new(f->base, f->server.resolver, &error);
	assert_non_null(f->dns);
	const char *msg = "From: Joe <joe@x.example>\r\nTo: <suzie@y.example>\r\nSubject: dinner\r\n\r\n";
	buf plain;
	buf_init(&plain);
	buf_puts(&plain, msg);
	buf_puts(&plain, body_text);
	struct dkim_signing_key keys[2] = { { "x.example", "ed", f->ed }, { "x.example", "rsa", f->rsa } };
	buf_init(&f->message);
	assert_int_equal(dkim_sign(plain.data, plain.len, keys, 2, time(NULL), &f->message), 0);
	buf_append(&f->message, plain.data, plain.len);
	buf_free(&plain);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	dns_free(&f->dns);
	server_stop(&f->server);
	EVP_PKEY_free(f->ed);
	EVP_PKEY_free(f->rsa);
	buf_free(&f->message);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void on_done(void *arg)
{
	event_base_loopbreak(arg);
}

/* Verifies msg (header and body split at its empty line) with the body in pieces of step
 * octets; returns the verifier, finished and answered. */
static struct dkim_verify *run(struct fixture *f, const char *msg, size_t len, size_t step)
{
	const char *body = strstr(msg, "\r\n\r\n") + 4;
	struct dkim_verify *v = dkim_verify_new(f->dns, time(NULL));
	dkim_verify_header(v, msg, (size_t)(body - msg));
	for (const char *p = body; p < msg + len; p += step)
		dkim_verify_body(v, p, (size_t)(msg + len - p) < step ? (size_t)(msg + len - p) : step);
	dkim_verify_finish(v, on_done, f->base);
	event_base_dispatch(f->base);
	return v;
}

static void test_pieces_of_any_size(void **state)
{
	struct fixture *f = *state;
	const size_t steps[] = { 1, 2, 3, 7, 64, 100000 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct dkim_verify *v = run(f, f->message.data, f->message.len, steps[i]);
		const struct dkim_signature_result *r;
		assert_int_equal(dkim_verify_results(v, &r), 2);
		assert_int_equal(r[0].result, DKIM_PASS);
		assert_string_equal(r[0].algorithm, "ed25519-sha256");
		assert_int_equal(r[0].key_bits, 256);
		assert_int_equal(r[1].result, DKIM_PASS);
		assert_string_equal(r[1].selector, "rsa");
		assert_int_equal(r[1].key_bits, 2048);
		assert_string_equal(r[1].domain, "x.example");
		assert_null(r[1].reason);
		assert_false(r[1].partial_body);
		dkim_verify_free(&v);
		assert_null(v);
	}
	/* both signatures share one body hash, and each key was asked for once */
	assert_int_equal(f->server.queries, 2 * sizeof(steps) / sizeof(steps[0]));
}

static void test_changed_body_fails(void **state)
{
	struct fixture *f = *state;
	buf m;
	buf_init(&m);
	buf_append(&m, f->message.data, f->message.len - 6);
	buf_puts(&m, "Jim.\r\n");
	struct dkim_verify *v = run(f, m.data, m.len, 1);
	const struct dkim_signature_result *r;
	assert_int_equal(dkim_verify_results(v, &r), 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(r[i].result, DKIM_FAIL);
		assert_string_equal(r[i].reason, "body hash did not verify");
	}
	dkim_verify_free(&v);
	buf_free(&m);
}

static void test_many_signatures_bounded(void **state)
{
	struct fixture *f = *state;
	const char *first_end = strstr(f->message.data, "\r\nDKIM-Signature") + 2;
	buf m;
	buf_init(&m);
	for (int i = 0; i < DKIM_VERIFY_MAX_SIGNATURES + 3; i++)
		buf_append(&m, f->message.data, (size_t)(first_end - f->message.data));
	buf_append(&m, f->message.data, f->message.len);
	unsigned before = f->server.queries;
	struct dkim_verify *v = run(f, m.data, m.len, 5);
	const struct dkim_signature_result *r;
	assert_int_equal(dkim_verify_results(v, &r), DKIM_VERIFY_MAX_SIGNATURES);
	for (size_t i = 0; i < DKIM_VERIFY_MAX_SIGNATURES; i++)
		assert_int_equal(r[i].result, DKIM_PASS);
	assert_int_equal(f->server.queries - before, 1);
	dkim_verify_free(&v);
	buf_free(&m);
}

/* A header with a signature whose key is never answered. */
static const char silent_header[] =
	"DKIM-Signature: v=1; a=ed25519-sha256; d=x.example; s=silent; h=from; bh=MTIz; b=YWJj\r\n"
	"From: <joe@x.example>\r\n\r\n";

static void never_done(void *arg)
{
	fail_msg("a cancelled finish ran");
}

static void test_unanswered_key(void **state)
{
	struct fixture *f = *state;
	struct dkim_verify *v = dkim_verify_new(f->dns, time(NULL));
	dkim_verify_header(v, silent_header, strlen(silent_header));
	dkim_verify_body(v, "x", 1);
	dkim_verify_finish(v, never_done, NULL);
	const struct dkim_signature_result *r;
	assert_int_equal(dkim_verify_results(v, &r), 1);
	assert_int_equal(r[0].result, DKIM_TEMPERROR);
	assert_string_equal(dkim_result_name(r[0].result), "temperror");
	/* freed with its lookup out: the finish is cancelled, and dns_free's cancellation of the
	 * lookup (teardown) finds it detached */
	dkim_verify_free(&v);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
}

/* The ARC outcome of msg, its body in pieces of step octets; a pass must be of instances
 * sets, sealed last by sealer. */
static enum arc_result arc_check(struct fixture *f, const char *msg, size_t step, const char **reason,
				 unsigned instances, const char *sealer)
{
	const char *body = strstr(msg, "\r\n\r\n") + 4;
	size_t len = strlen(msg);
	struct dkim_verify *v = dkim_verify_new(f->dns, time(NULL));
	dkim_verify_header(v, msg, (size_t)(body - msg));
	struct arc_verify *a = arc_verify_start(v, msg, (size_t)(body - msg));
	for (const char *p = body; p < msg + len; p += step)
		dkim_verify_body(v, p, (size_t)(msg + len - p) < step ? (size_t)(msg + len - p) : step);
	dkim_verify_finish(v, on_done, f->base);
	event_base_dispatch(f->base);
	const struct arc_outcome *o = arc_verify_outcome(a, v);
	enum arc_result r = o->result;
	*reason = o->reason;
	if (r == ARC_PASS) {
		assert_int_equal(o->instances, instances);
		assert_string_equal(o->sealer, sealer);
		assert_true(authres_reports(o->results, strlen(o->results), "dmarc", "pass"));
		assert_false(authres_reports(o->results, strlen(o->results), "spf", "pass"));
	}
	arc_verify_free(&a);
	dkim_verify_free(&v);
	return r;
}

static enum arc_result arc_run(struct fixture *f, const char *msg, size_t step, const char **reason)
{
	return arc_check(f, msg, step, reason, 2, "two.example");
}

static void test_arc_chain_passes(void **state)
{
	struct fixture *f = *state;
	const char *reason;
	const size_t steps[] = { 1, 5, 100000 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		assert_int_equal(arc_run(f, arc_message, steps[i], &reason), ARC_PASS);
		assert_null(reason);
	}
	assert_string_equal(arc_result_name(ARC_PASS), "pass");
}

/* arc_message with its first occurrence of from replaced by to. */
static enum arc_result arc_changed(struct fixture *f, const char *from, const char *to,
				   const char **reason)
{
	const char *at = strstr(arc_message, from);
	assert_non_null(at);
	buf m;
	buf_init(&m);
	buf_append(&m, arc_message, (size_t)(at - arc_message));
	buf_puts(&m, to);
	buf_puts(&m, at + strlen(from));
	enum arc_result r = arc_run(f, m.data, 3, reason);
	buf_free(&m);
	return r;
}

static void test_arc_tampering_fails(void **state)
{
	struct fixture *f = *state;
	const char *reason;
	assert_int_equal(arc_changed(f, "the body", "the bodY", &reason), ARC_FAIL);
	assert_string_equal(reason, "the last ARC-Message-Signature does not verify");
	assert_int_equal(arc_changed(f, "spf=pass smtp", "spf=fail smtp", &reason), ARC_FAIL);
	assert_string_equal(reason, "an ARC-Seal does not verify");
	assert_int_equal(arc_changed(f, "i=1; cv=none", "i=1; cv=pass", &reason), ARC_FAIL);
	assert_string_equal(reason, "an ARC-Seal's cv= breaks the chain");
	assert_int_equal(arc_changed(f, "ARC-Seal: i=1", "X-Seal: i=1", &reason), ARC_FAIL);
	assert_string_equal(reason, "an ARC set lacks a field, or an instance is missing");
	assert_int_equal(arc_changed(f, "ARC-Seal: i=1", "ARC-Seal: i=51", &reason), ARC_FAIL);
	assert_int_equal(arc_changed(f, "ARC-Seal: i=2", "ARC-Seal: i=1", &reason), ARC_FAIL);
	assert_string_equal(reason, "an ARC field repeated in one instance");
}

static void test_arc_none(void **state)
{
	struct fixture *f = *state;
	const char *reason;
	assert_int_equal(arc_run(f, f->message.data, 7, &reason), ARC_NONE);
	assert_null(reason);
}

/* msg sealed by x.example's RSA key with results; the return of arc_seal. */
static int sealed(struct fixture *f, const char *msg, const char *results, buf *out)
{
	struct dkim_signing_key key = { "x.example", "rsa", f->rsa };
	const char *why = NULL;
	buf_init(out);
	int r = arc_seal(msg, strlen(msg), results, &key, time(NULL), out, &why);
	if (r == 0)
		buf_puts(out, msg);
	else
		assert_non_null(why);
	return r;
}

static void test_arc_seal_verifies(void **state)
{
	struct fixture *f = *state;
	const char *reason;
	buf m;
	/* a chain of two that passed here gets instance 3, cv=pass */
	assert_int_equal(sealed(f, arc_message, " mx.x.example; arc=pass; dmarc=pass header.from=a", &m), 0);
	assert_non_null(strstr(m.data, "ARC-Seal: i=3; cv=pass; a=rsa-sha256"));
	assert_int_equal(arc_check(f, m.data, 4, &reason, 3, "x.example"), ARC_PASS);
	/* changed after sealing: the new AMS fails */
	char *body = strstr(m.data, "the body");
	body[0] = 'T';
	assert_int_equal(arc_check(f, m.data, 4, &reason, 3, "x.example"), ARC_FAIL);
	buf_free(&m);
	/* a message without sets gets instance 1, cv=none */
	char *plain = strndup(f->message.data, f->message.len);
	assert_int_equal(sealed(f, plain, " mx.x.example; dkim=pass; dmarc=pass header.from=x.example", &m), 0);
	assert_non_null(strstr(m.data, "ARC-Seal: i=1; cv=none;"));
	assert_non_null(strstr(m.data, "ARC-Authentication-Results: i=1; mx.x.example; dkim=pass"));
	assert_int_equal(arc_check(f, m.data, 9, &reason, 1, "x.example"), ARC_PASS);
	buf_free(&m);
	free(plain);
	/* a chain that did not pass here is not sealed */
	assert_int_equal(sealed(f, arc_message, " mx.x.example; arc=fail; dmarc=pass", &m), -1);
	assert_int_equal(m.len, 0);
	buf_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pieces_of_any_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_body_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_signatures_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unanswered_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arc_chain_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arc_tampering_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arc_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arc_seal_verifies, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
