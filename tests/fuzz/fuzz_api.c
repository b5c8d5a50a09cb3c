// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the control API's input side: the HTTP request
 * parser and reader (src/api/http_*.c), routing, and JSON body validation
 * (src/api/api_routes.c, api_json.c). It checks, beyond "no crash":
 *  - a stream cut into reads of any size parses into the same requests as
 *    the whole stream (the reader's incremental paths agree with the parser);
 *  - every request it yields lies inside the buffer, with bounded fields;
 *  - every outcome formats into a response.
 *
 * Input: byte 0 picks the mode and read size; the rest is the stream, or,
 * in JSON mode, a body for the route byte 1 picks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_call.h"
#include "api/http.h"

#define MAX_REQUESTS 64

struct outcome {
	int nr;
	char sig[MAX_REQUESTS][48];	/* method, path length, body length */
	bool error;
};

static void check(bool cond)
{
	if (!cond)
		__builtin_trap();
}

static void answer(const struct http_request *req, bool ok)
{
	struct http_response resp = { 0 };
	struct api_call call;
	char *text = NULL;
	size_t len;

	if (ok) {
		api_decode(req, &call, &resp);
		if (resp.status == 0)
			http_response_set(&resp, 204, NULL, NULL, 0);
	} else {
		check(req->error_status >= 400 && req->error_status < 600 && req->error);
		api_error(&resp, req->error_status, NULL, "%s", req->error);
	}
	check(resp.status >= 200 && resp.status < 600);
	check(http_response_format(&resp, &text, &len) == 0 && len > 0);
	free(text);
	http_response_reset(&resp);
}

static void run_stream(const uint8_t *data, size_t size, size_t chunk, struct outcome *o)
{
	struct http_reader r;
	const struct http_request *req;
	size_t off = 0;

	memset(o, 0, sizeof(*o));
	http_reader_init(&r);
	while (off < size && !o->error) {
		size_t n = size - off < chunk ? size - off : chunk;
		int ret;

		n = http_reader_feed(&r, data + off, n);
		off += n;
		while (!o->error && (ret = http_reader_next(&r, &req)) != 0) {
			if (ret < 0) {
				answer(req, false);
				o->error = true;
				break;
			}
			check(strlen(req->method) <= HTTP_MAX_METHOD && req->method[0]);
			check(strlen(req->path) <= HTTP_MAX_TARGET && req->path[0] == '/');
			check(req->body_len <= HTTP_MAX_BODY);
			check(!req->body || (req->body >= r.buf &&
					     req->body + req->body_len <= r.buf + r.len));
			answer(req, true);
			if (o->nr < MAX_REQUESTS)
				snprintf(o->sig[o->nr++], sizeof(o->sig[0]), "%s %zu %zu",
					 req->method, strlen(req->path), req->body_len);
			http_reader_consume(&r);
		}
		if (n == 0)
			break;	/* full: the parser must have decided by now */
	}
	http_reader_free(&r);
}

static void fuzz_json(uint8_t route, const uint8_t *body, size_t size)
{
	static const char *const targets[][2] = {
		{ "PATCH", "/vm" }, { "PUT", "/actions" }, { "PUT", "/balloon" },
		{ "PUT", "/snapshot/create" }, { "GET", "/vm" },
	};
	struct http_request req = { 0 };
	const char *const *t = targets[route % ARRAY_SIZE(targets)];
	char *copy = malloc(size + 1);

	if (!copy || size > HTTP_MAX_BODY) {
		free(copy);
		return;
	}
	memcpy(copy, body, size);	/* an exact-size heap copy: ASan sees overreads */
	snprintf(req.method, sizeof(req.method), "%s", t[0]);
	snprintf(req.path, sizeof(req.path), "%s", t[1]);
	req.body = size ? copy : NULL;
	req.body_len = size;
	answer(&req, true);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct outcome whole, split;
	size_t chunk;

	if (size < 2)
		return 0;
	if (data[0] & 0x80) {
		fuzz_json(data[1], data + 2, size - 2);
		return 0;
	}
	chunk = (data[0] & 0x3f) + 1;
	run_stream(data + 1, size - 1, size, &whole);
	run_stream(data + 1, size - 1, chunk, &split);
	check(whole.nr == split.nr && whole.error == split.error);
	for (int i = 0; i < whole.nr; i++)
		check(!strcmp(whole.sig[i], split.sig[i]));
	return 0;
}
