/* Unit tests for http_response.c: status lines, Content-Length, chunked bodies (with
 * extensions and a trailer), bodies read to the end of the connection, answers cut short, and
 * what is refused (no HTTP/1.x, a bad status, conflicting lengths, a body over the bound). */
#include "http/http_response.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static int parse(const char *text, size_t max, struct http_response *r)
{
	return http_response_parse(text, strlen(text), max, r);
}

static void test_lengths(void **state)
{
	struct http_response r;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
			       "Content-Length: 5\r\n\r\nhello, and more", 100, &r), 1);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type.data, "text/plain; charset=utf-8");
	assert_string_equal(r.body.data, "hello");
	http_response_free(&r);

	/* no length: the body runs to the end; LF line ends; no reason phrase */
	assert_int_equal(parse("HTTP/1.0 404\nServer: x\n\nnot here\n", 100, &r), 1);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.content_type.data, "");
	assert_string_equal(r.body.data, "not here\n");
	http_response_free(&r);

	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 100, &r), 0);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Le", 100, &r), 0);
	assert_int_equal(parse("", 100, &r), 0);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", 100, &r), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\n0123456789", 5, &r), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 100, &r), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 100, &r), -1);
	assert_int_equal(parse("SSH-2.0-OpenSSH\r\n\r\n", 100, &r), -1);
	assert_int_equal(parse("HTTP/1.1 2000 OK\r\n\r\n", 100, &r), -1);
	assert_int_equal(parse("HTTP/1.1 099 x\r\n\r\n", 100, &r), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", 100, &r), -1);
}

static void test_chunked(void **state)
{
	struct http_response r;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			       "5;ext=1\r\nhello\r\nA\r\n, chunked!\r\n0\r\nTrailer: x\r\n\r\n", 100, &r), 1);
	assert_string_equal(r.body.data, "hello, chunked!");
	http_response_free(&r);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 100, &r), 0);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello", 100, &r), 0);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 100, &r), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n", 100, &r), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n", 100, &r), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 100, &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_chunked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
