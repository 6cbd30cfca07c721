/* Unit tests for bounce.c: the RFC 3464 report's structure and fields, headers only or the
 * whole original after RET, and the delay warning's Action. */
#include "queue/bounce.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const char original[] = "From: <alice@a.test>\r\nSubject: hi\r\n\r\nsecret body\r\n";

static void build(int ret, bool delayed, buf *out)
{
	struct queue_msg m = { .queue_id = "0123456789abcdef", .sender = "alice@a.test",
			       .envid = "env-1", .ret = ret, .arrival = 1700000000 };
	struct bounce_rcpt r[] = {
		{ "nobody@b.test", "rfc822;Nobody@b.test", "5.1.1", "550 5.1.1 no such user",
		  "mx.b.test[127.0.0.2]", true },
		{ "x@nx.test", NULL, "5.1.2", "nx.test: domain not found", NULL, false },
	};
	buf orig;
	buf_init(&orig);
	buf_puts(&orig, original);
	buf_init(out);
	bounce_build(out, "mx.a.test", &m, r, 2, &orig, delayed);
	buf_free(&orig);
}

static void test_failure_report(void **state)
{
	buf b;
	build(0, false, &b);
	const char *s = b.data;
	assert_non_null(strstr(s, "Content-Type: multipart/report; report-type=delivery-status;"));
	assert_non_null(strstr(s, "\r\nTo: <alice@a.test>\r\n"));
	assert_non_null(strstr(s, "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.a.test\r\n"));
	assert_non_null(strstr(s, "Original-Envelope-Id: env-1\r\n"));
	assert_non_null(strstr(s, "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
	assert_non_null(strstr(s, "\r\nOriginal-Recipient: rfc822;Nobody@b.test\r\n"
				  "Final-Recipient: rfc822; nobody@b.test\r\nAction: failed\r\n"
				  "Status: 5.1.1\r\nRemote-MTA: dns; mx.b.test[127.0.0.2]\r\n"
				  "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"));
	assert_non_null(strstr(s, "\r\nFinal-Recipient: rfc822; x@nx.test\r\nAction: failed\r\n"
				  "Status: 5.1.2\r\nDiagnostic-Code: x-estafeta; nx.test: domain not found\r\n"));
	/* Without RET=FULL: the header section only. */
	assert_non_null(strstr(s, "Content-Type: text/rfc822-headers\r\n\r\nFrom: <alice@a.test>\r\nSubject: hi\r\n\r\n"));
	assert_null(strstr(s, "secret body"));
	/* The closing boundary ends the message. */
	const char *open = strstr(s, "boundary=\"");
	assert_non_null(open);
	char boundary[128];
	size_t n = strcspn(open + 10, "\"");
	snprintf(boundary, sizeof(boundary), "\r\n--%.*s--\r\n", (int)n, open + 10);
	assert_int_equal(strcmp(s + b.len - strlen(boundary), boundary), 0);
	buf_free(&b);
}

static void test_full_and_delayed(void **state)
{
	buf b;
	build(1, true, &b);
	assert_non_null(strstr(b.data, "Content-Type: message/rfc822\r\n\r\nFrom: <alice@a.test>"));
	assert_non_null(strstr(b.data, "secret body\r\n"));
	assert_non_null(strstr(b.data, "Action: delayed\r\n"));
	assert_null(strstr(b.data, "Action: failed"));
	assert_non_null(strstr(b.data, "Subject: Delayed Mail"));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failure_report),
		cmocka_unit_test(test_full_and_delayed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
