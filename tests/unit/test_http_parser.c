// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"

static long parse(const char *s, struct http_request *req)
{
	return http_parse_request(s, strlen(s), req);
}

/* Parses len bytes of s, which must fail with status. */
static void expect_error_n(const char *s, size_t len, int status)
{
	struct http_request req;
	long n = http_parse_request(s, len, &req);

	if (n != -1 || req.error_status != status)
		fail_msg("request %.60s...: got %ld/%d, want -1/%d", s, n, req.error_status,
			 status);
	assert_non_null(req.error);
}

static void expect_error(const char *s, int status)
{
	expect_error_n(s, strlen(s), status);
}

static void good_get(void **state)
{
	const char *s = "GET /vm HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
	struct http_request req;

	(void)state;
	assert_int_equal(parse(s, &req), strlen(s));
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.path, "/vm");
	assert_int_equal(req.version_minor, 1);
	assert_true(req.keep_alive);
	assert_null(req.body);
	assert_int_equal(req.body_len, 0);
	assert_int_equal(req.head_len, strlen(s));
}

static void good_put_with_body(void **state)
{
	const char *s = "PUT /actions HTTP/1.1\r\ncontent-LENGTH:   25  \r\n\r\n"
			"{\"action_type\":\"Reset\"}\r\n";
	const char *pipelined = "PUT /actions HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}GET / HTTP/1.1\r\n";
	struct http_request req;

	(void)state;
	assert_int_equal(parse(s, &req), strlen(s));
	assert_int_equal(req.body_len, 25);
	assert_memory_equal(req.body, "{\"action_type\":\"Reset\"}\r\n", 25);
	/* Only the first request is consumed; the rest is the next one's. */
	assert_int_equal(parse(pipelined, &req), strlen(pipelined) - strlen("GET / HTTP/1.1\r\n"));
	assert_memory_equal(req.body, "{}", 2);
}

static void connection_and_version(void **state)
{
	struct http_request req;

	(void)state;
	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &req) > 0);
	assert_int_equal(req.version_minor, 0);
	assert_false(req.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req) > 0);
	assert_true(req.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &req) > 0);
	assert_false(req.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n", &req) > 0);
	assert_false(req.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n", &req) > 0);
	assert_true(req.keep_alive);
}

static void target_forms(void **state)
{
	struct http_request req;

	(void)state;
	assert_true(parse("GET /vm?verbose=1 HTTP/1.1\r\n\r\n", &req) > 0);
	assert_string_equal(req.path, "/vm");
	assert_true(parse("\r\n\r\nGET /stats HTTP/1.1\r\n\r\n", &req) > 0);
	assert_string_equal(req.path, "/stats");
	expect_error("GET vm HTTP/1.1\r\n\r\n", 400);
	expect_error("GET http://localhost/vm HTTP/1.1\r\n\r\n", 400);
	expect_error("GET * HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /vm#frag HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /v\x80m HTTP/1.1\r\n\r\n", 400);
}

static void expect_continue(void **state)
{
	const char *head = "PUT /balloon HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
	struct http_request req;

	(void)state;
	assert_int_equal(parse(head, &req), 0);
	assert_true(req.expect_continue);
	assert_int_equal(req.head_len, strlen(head));
	expect_error("PUT /balloon HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417);
}

/* Every strict prefix of a good request asks for more bytes, and nothing else. */
static void prefixes_are_incomplete(void **state)
{
	const char *s = "\r\nPATCH /vm HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n"
			"{\"state\":\"Paused\"}\r\n";
	struct http_request req;

	(void)state;
	for (size_t i = 0; i < strlen(s); i++) {
		long n = http_parse_request(s, i, &req);

		if (n != 0)
			fail_msg("prefix of %zu bytes: %ld (%s)", i, n, req.error ? req.error : "");
	}
	assert_int_equal(parse(s, &req), strlen(s));
}

static void malformed_lines(void **state)
{
	(void)state;
	expect_error("GET / HTTP/1.1\n\n", 400);			/* bare LF */
	expect_error("GET / HTTP/1.1\r\nHost: x\n\r\n", 400);
	expect_error("GET / HTTP/1.1\rX\r\n\r\n", 400);			/* bare CR */
	expect_error("GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n", 400);	/* control */
	expect_error("GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", 400);
	expect_error_n("GET /\0 HTTP/1.1\r\n\r\n", 18, 400);		/* NUL */
	expect_error_n("GET /\0", 6, 400);				/* at once */
	expect_error("\x16\x03\x01\x02\x00", 400);			/* TLS hello */
}

static void malformed_request_line(void **state)
{
	(void)state;
	expect_error("GET /\r\n\r\n", 400);
	expect_error("GET  / HTTP/1.1\r\n\r\n", 400);
	expect_error(" GET / HTTP/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1 \r\n\r\n", 400);
	expect_error("GET / http/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.x\r\n\r\n", 400);
	expect_error("G(T / HTTP/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/2.0\r\n\r\n", 505);
	expect_error("GET / HTTP/1.2\r\n\r\n", 505);
	expect_error("GET / HTTP/0.9\r\n\r\n", 505);
	expect_error("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n", 501);
}

static void malformed_headers(void **state)
{
	(void)state;
	expect_error("GET / HTTP/1.1\r\nHost\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\n: x\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nHost: x\r\n  folded\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nHo(st: x\r\n\r\n", 400);
	expect_error("PUT / HTTP/1.1\r\nContent-Length: 12a\r\n\r\n", 400);
	expect_error("PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	expect_error("PUT / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400);
	expect_error("PUT / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400);
	expect_error("PUT / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", 400);
	expect_error("PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400);
	expect_error("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501);
	expect_error("PUT / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
		     501);
}

static void duplicate_equal_lengths(void **state)
{
	const char *s = "PUT / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 02\r\n\r\nok";
	struct http_request req;

	(void)state;
	assert_int_equal(parse(s, &req), strlen(s));
	assert_int_equal(req.body_len, 2);
}

static char *repeat(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t p = strlen(prefix), s = strlen(suffix);
	char *buf = malloc(p + n + s + 1);

	memcpy(buf, prefix, p);
	memset(buf + p, c, n);
	memcpy(buf + p + n, suffix, s + 1);
	return buf;
}

static void limits(void **state)
{
	struct http_request req;
	char head[HTTP_MAX_HEAD + 256];
	size_t used;
	char *s;

	(void)state;
	/* Body: 64 KiB is the most; 1 byte more is 413, from the header alone. */
	assert_int_equal(parse("PUT / HTTP/1.1\r\nContent-Length: 65536\r\n\r\n", &req), 0);
	assert_int_equal(req.content_length, HTTP_MAX_BODY);
	expect_error("PUT / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413);
	expect_error("PUT / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413);

	/* Target: 1024 bytes pass, 1025 are 414, even before the line ends. */
	s = repeat("GET /", 'a', HTTP_MAX_TARGET - 1, " HTTP/1.1\r\n\r\n");
	assert_true(parse(s, &req) > 0);
	free(s);
	s = repeat("GET /", 'a', HTTP_MAX_TARGET, " HTTP/1.1\r\n\r\n");
	expect_error(s, 414);
	free(s);
	s = repeat("GET /", 'a', 4000, "");
	expect_error(s, 414);
	free(s);
	s = repeat("", 'A', 4000, "");
	expect_error(s, 400);
	free(s);

	/* 32 header fields pass, 33 are 431. */
	used = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS; i++)
		used += snprintf(head + used, sizeof(head) - used, "X-%d: %d\r\n", i, i);
	snprintf(head + used, sizeof(head) - used, "\r\n");
	assert_true(parse(head, &req) > 0);
	snprintf(head + used, sizeof(head) - used, "X-last: 1\r\n\r\n");
	expect_error(head, 431);

	/* The head: over 8 KiB is 431, whether or not it ends. */
	s = repeat("GET / HTTP/1.1\r\nX-Big: ", 'x', HTTP_MAX_HEAD, "\r\n\r\n");
	expect_error(s, 431);
	free(s);
	s = repeat("GET / HTTP/1.1\r\nX-Big: ", 'x', HTTP_MAX_HEAD, "");
	expect_error(s, 431);
	free(s);
	s = repeat("GET / HTTP/1.1\r\nX-Big: ", 'x', HTTP_MAX_HEAD - 100, "\r\n\r\n");
	assert_true(parse(s, &req) > 0);
	free(s);
}

/* Splits stream into reads of the given sizes and returns what was parsed. */
static int read_all(const char *stream, size_t len, size_t chunk, char out[][1200], int max)
{
	struct http_reader r;
	const struct http_request *req;
	int count = 0;

	http_reader_init(&r);
	for (size_t off = 0; off < len;) {
		size_t n = MIN(chunk, len - off);
		int ret;

		assert_int_equal(http_reader_feed(&r, stream + off, n), n);
		off += n;
		while ((ret = http_reader_next(&r, &req)) == 1) {
			assert_true(count < max);
			snprintf(out[count++], 1200, "%s %s [%.*s]", req->method, req->path,
				 (int)req->body_len, req->body ? req->body : "");
			http_reader_consume(&r);
		}
		assert_int_equal(ret, 0);
	}
	assert_int_equal(r.len, 0);
	http_reader_free(&r);
	return count;
}

static void pipelining_any_split(void **state)
{
	const char *stream =
		"GET /vm HTTP/1.1\r\nHost: x\r\n\r\n"
		"PATCH /vm HTTP/1.1\r\nContent-Length: 18\r\n\r\n{\"state\":\"Paused\"}"
		"\r\n"	/* a stray CRLF between requests is allowed */
		"PUT /balloon HTTP/1.1\r\nContent-Length: 16\r\n\r\n{\"amount_mib\":1}"
		"GET /stats HTTP/1.0\r\n\r\n";
	const char *want[] = {
		"GET /vm []",
		"PATCH /vm [{\"state\":\"Paused\"}]",
		"PUT /balloon [{\"amount_mib\":1}]",
		"GET /stats []",
	};
	size_t chunks[] = { 1, 2, 3, 7, 16, 64, 4096 };
	char got[8][1200];

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(chunks); c++) {
		int n = read_all(stream, strlen(stream), chunks[c], got, 8);

		assert_int_equal(n, ARRAY_SIZE(want));
		for (int i = 0; i < n; i++)
			assert_string_equal(got[i], want[i]);
	}
}

static void reader_large_body(void **state)
{
	char head[128];
	size_t hlen = snprintf(head, sizeof(head),
			       "PUT /x HTTP/1.1\r\nContent-Length: %d\r\n\r\n", HTTP_MAX_BODY);
	char *body = malloc(HTTP_MAX_BODY);
	const struct http_request *req;
	struct http_reader r;

	(void)state;
	memset(body, 'b', HTTP_MAX_BODY);
	http_reader_init(&r);
	assert_int_equal(http_reader_feed(&r, head, hlen), hlen);
	assert_int_equal(http_reader_next(&r, &req), 0);
	assert_true(r.head_done);
	for (size_t off = 0; off < HTTP_MAX_BODY; off += 1000) {
		size_t n = MIN(1000, HTTP_MAX_BODY - off);

		assert_int_equal(http_reader_next(&r, &req), 0);
		assert_int_equal(http_reader_feed(&r, body + off, n), n);
	}
	assert_int_equal(http_reader_next(&r, &req), 1);
	assert_int_equal(req->body_len, HTTP_MAX_BODY);
	assert_memory_equal(req->body, body, HTTP_MAX_BODY);
	http_reader_consume(&r);
	assert_int_equal(r.len, 0);
	http_reader_free(&r);
	free(body);
}

static void reader_rejects_too_large(void **state)
{
	const char *s = "PUT /balloon HTTP/1.1\r\nContent-Length: 70000\r\n\r\n";
	const struct http_request *req;
	struct http_reader r;
	char junk[4096];

	(void)state;
	http_reader_init(&r);
	http_reader_feed(&r, s, strlen(s));
	assert_int_equal(http_reader_next(&r, &req), -1);
	assert_int_equal(req->error_status, 413);
	http_reader_free(&r);

	/* The buffer never grows past the largest request. */
	http_reader_init(&r);
	memset(junk, 'a', sizeof(junk));
	for (int i = 0; i < 100; i++)
		http_reader_feed(&r, junk, sizeof(junk));
	assert_int_equal(r.len, HTTP_READER_MAX);
	assert_int_equal(http_reader_next(&r, &req), -1);
	http_reader_free(&r);
}

static void response_format(void **state)
{
	struct http_response resp = { 0 };
	char *text;
	size_t len;

	(void)state;
	http_response_set(&resp, 200, NULL, strdup("{}\n"), 3);
	assert_int_equal(http_response_format(&resp, &text, &len), 0);
	assert_string_equal(text, "HTTP/1.1 200 OK\r\nServer: kiln\r\n"
			    "Content-Type: application/json\r\nContent-Length: 3\r\n\r\n{}\n");
	assert_int_equal(len, strlen(text));
	free(text);

	http_response_set(&resp, 204, NULL, NULL, 0);
	resp.close = true;
	assert_int_equal(http_response_format(&resp, &text, &len), 0);
	assert_string_equal(text, "HTTP/1.1 204 No Content\r\nServer: kiln\r\n"
			    "Connection: close\r\n\r\n");
	free(text);

	http_response_set(&resp, 405, NULL, strdup("x"), 1);
	resp.close = false;
	snprintf(resp.allow, sizeof(resp.allow), "GET, PATCH");
	assert_int_equal(http_response_format(&resp, &text, &len), 0);
	assert_non_null(strstr(text, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(text, "\r\nAllow: GET, PATCH\r\n"));
	free(text);
	http_response_reset(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_get),
		cmocka_unit_test(good_put_with_body),
		cmocka_unit_test(connection_and_version),
		cmocka_unit_test(target_forms),
		cmocka_unit_test(expect_continue),
		cmocka_unit_test(prefixes_are_incomplete),
		cmocka_unit_test(malformed_lines),
		cmocka_unit_test(malformed_request_line),
		cmocka_unit_test(malformed_headers),
		cmocka_unit_test(duplicate_equal_lengths),
		cmocka_unit_test(limits),
		cmocka_unit_test(pipelining_any_split),
		cmocka_unit_test(reader_large_body),
		cmocka_unit_test(reader_rejects_too_large),
		cmocka_unit_test(response_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
