// SPDX-License-Identifier: Apache-2.0
#include <string.h>
#include <strings.h>

#include "api/http.h"

enum line_result { LINE_OK, LINE_MORE, LINE_BAD };

static long bad(struct http_request *req, int status, const char *why)
{
	req->error_status = status;
	req->error = why;
	return -1;
}

/* RFC 9110 tchar: the characters of methods and header names. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

/*
 * Finds the CRLF that ends the line starting at buf[start]: the line is
 * [start, *end) and the next one starts at *next. Control characters other
 * than HT, and a CR or LF on its own, are refused as soon as they arrive.
 */
static enum line_result next_line(const char *buf, size_t start, size_t len, size_t *end,
				  size_t *next, const char **why)
{
	for (size_t i = start; i < len; i++) {
		unsigned char c = buf[i];

		if (c == '\r') {
			*end = i;
			if (i + 1 == len)
				return LINE_MORE;
			if (buf[i + 1] != '\n') {
				*why = "a CR without LF";
				return LINE_BAD;
			}
			*next = i + 2;
			return LINE_OK;
		}
		if (c == '\n') {
			*why = "a line ends in LF without CR";
			return LINE_BAD;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*why = "a control character in the request head";
			return LINE_BAD;
		}
	}
	*end = len;
	return LINE_MORE;
}

static long parse_request_line(const char *line, size_t n, struct http_request *req)
{
	size_t m = 0, t, tlen, q;
	const char *v;

	while (m < n && is_tchar(line[m]))
		m++;
	if (m == 0 || m == n || line[m] != ' ')
		return bad(req, 400, "malformed request line");
	if (m > HTTP_MAX_METHOD)
		return bad(req, 501, "method not implemented");
	memcpy(req->method, line, m);
	req->method[m] = '\0';

	t = m + 1;
	for (tlen = 0; t + tlen < n && line[t + tlen] != ' '; tlen++) {
		unsigned char c = line[t + tlen];

		if (c <= 0x20 || c >= 0x7f)
			return bad(req, 400, "malformed request target");
	}
	if (tlen == 0 || line[t] != '/')
		return bad(req, 400, "the request target must be an absolute path");
	if (tlen > HTTP_MAX_TARGET)
		return bad(req, 414, "request target too long");
	for (q = 0; q < tlen && line[t + q] != '?' && line[t + q] != '#'; q++)
		;
	if (q < tlen && line[t + q] == '#')
		return bad(req, 400, "a fragment in the request target");
	memcpy(req->path, line + t, q);
	req->path[q] = '\0';

	if (t + tlen + 1 + 8 != n || line[t + tlen] != ' ')
		return bad(req, 400, "malformed request line");
	v = line + t + tlen + 1;
	if (memcmp(v, "HTTP/", 5) || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return bad(req, 400, "malformed HTTP version");
	if (v[5] != '1' || v[7] > '1')
		return bad(req, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
	req->version_minor = v[7] - '0';
	req->keep_alive = req->version_minor == 1;
	return 0;
}

static bool name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && !strncasecmp(name, want, n);
}

static long parse_content_length(const char *v, size_t n, bool *seen,
				 struct http_request *req)
{
	size_t value = 0;
	bool too_big = false;

	if (n == 0)
		return bad(req, 400, "empty Content-Length");
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return bad(req, 400, "Content-Length is not a number");
		value = value * 10 + (v[i] - '0');
		if (value > HTTP_MAX_BODY) {
			too_big = true;
			value = HTTP_MAX_BODY + 1;
		}
	}
	if (too_big)
		return bad(req, 413, "the body is larger than 64 KiB");
	if (*seen && value != req->content_length)
		return bad(req, 400, "conflicting Content-Length headers");
	*seen = true;
	req->content_length = value;
	return 0;
}

/* "Connection: keep-alive, close": a comma-separated list of tokens. */
static void parse_connection(const char *v, size_t n, struct http_request *req)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (name_is(v + s, e - s, "close"))
			req->keep_alive = false;
		else if (name_is(v + s, e - s, "keep-alive"))
			req->keep_alive = true;
	}
}

static long parse_header(const char *line, size_t n, bool *seen_length,
			 struct http_request *req)
{
	size_t name_len = 0, vs, ve;

	if (line[0] == ' ' || line[0] == '\t')
		return bad(req, 400, "obsolete header line folding");
	while (name_len < n && is_tchar(line[name_len]))
		name_len++;
	if (name_len == 0 || name_len == n || line[name_len] != ':')
		return bad(req, 400, "malformed header line");
	vs = name_len + 1;
	while (vs < n && (line[vs] == ' ' || line[vs] == '\t'))
		vs++;
	ve = n;
	while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
		ve--;

	if (name_is(line, name_len, "content-length"))
		return parse_content_length(line + vs, ve - vs, seen_length, req);
	if (name_is(line, name_len, "transfer-encoding"))
		return bad(req, 501, "Transfer-Encoding is not supported: send Content-Length");
	if (name_is(line, name_len, "connection"))
		parse_connection(line + vs, ve - vs, req);
	if (name_is(line, name_len, "expect")) {
		if (!name_is(line + vs, ve - vs, "100-continue"))
			return bad(req, 417, "only Expect: 100-continue is supported");
		req->expect_continue = true;
	}
	return 0;
}

long http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	size_t pos = 0, end = 0, next = 0;
	unsigned int nr_headers = 0;
	bool seen_length = false;
	bool have_request_line = false;
	const char *why = NULL;

	memset(req, 0, sizeof(*req));

	/* RFC 9112 2.2: ignore empty lines before the request line. */
	while (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n')
		pos += 2;

	for (;;) {
		enum line_result lr = next_line(buf, pos, len, &end, &next, &why);

		if (lr == LINE_BAD)
			return bad(req, 400, why);
		if (lr == LINE_MORE) {
			if (!have_request_line &&
			    end - pos > HTTP_MAX_METHOD + HTTP_MAX_TARGET + 11) {
				const char *sp = memchr(buf + pos, ' ', end - pos);

				if (sp && sp - (buf + pos) <= HTTP_MAX_METHOD)
					return bad(req, 414, "request target too long");
				return bad(req, 400, "malformed request line");
			}
			if (end >= HTTP_MAX_HEAD)
				return bad(req, 431, "the request head is larger than 8 KiB");
			return 0;
		}
		if (next > HTTP_MAX_HEAD)
			return bad(req, 431, "the request head is larger than 8 KiB");
		if (!have_request_line) {
			if (parse_request_line(buf + pos, end - pos, req))
				return -1;
			have_request_line = true;
		} else if (end == pos) {
			pos = next;
			break;
		} else {
			if (++nr_headers > HTTP_MAX_HEADERS)
				return bad(req, 431, "more than 32 header fields");
			if (parse_header(buf + pos, end - pos, &seen_length, req))
				return -1;
		}
		pos = next;
	}

	req->head_len = pos;
	if (len - pos < req->content_length)
		return 0;
	if (req->content_length) {
		req->body = buf + pos;
		req->body_len = req->content_length;
	}
	return (long)(pos + req->content_length);
}
