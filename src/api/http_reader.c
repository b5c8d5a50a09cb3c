// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>
#include <string.h>

#include "api/http.h"

#define HTTP_READER_MIN_CAP 4096

void http_reader_init(struct http_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void http_reader_free(struct http_reader *r)
{
	free(r->buf);
	http_reader_init(r);
}

/* Grows the buffer geometrically up to HTTP_READER_MAX, which holds the largest request. */
char *http_reader_space(struct http_reader *r, size_t *room)
{
	if (r->len == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : HTTP_READER_MIN_CAP;
		char *buf;

		if (cap > HTTP_READER_MAX)
			cap = HTTP_READER_MAX;
		if (cap <= r->cap)
			return NULL;
		buf = realloc(r->buf, cap);
		if (!buf)
			return NULL;
		r->buf = buf;
		r->cap = cap;
	}
	*room = r->cap - r->len;
	return r->buf + r->len;
}

void http_reader_commit(struct http_reader *r, size_t n)
{
	r->len += n;
}

size_t http_reader_feed(struct http_reader *r, const void *data, size_t n)
{
	size_t done = 0;

	while (done < n) {
		size_t room;
		char *p = http_reader_space(r, &room);

		if (!p)
			break;
		room = MIN(room, n - done);
		memcpy(p, (const char *)data + done, room);
		http_reader_commit(r, room);
		done += room;
	}
	return done;
}

int http_reader_next(struct http_reader *r, const struct http_request **req)
{
	*req = &r->req;
	if (r->req_len)
		return 1;
	if (r->head_done) {
		/* Only the body is missing: no need to parse the head again. */
		if (r->len - r->req.head_len < r->req.content_length)
			return 0;
		r->req.body = r->req.content_length ? r->buf + r->req.head_len : NULL;
		r->req.body_len = r->req.content_length;
		r->req_len = r->req.head_len + r->req.content_length;
		return 1;
	}
	r->req_len = http_parse_request(r->buf, r->len, &r->req);
	if (r->req_len < 0) {
		r->req_len = 0;
		return -1;
	}
	if (r->req_len == 0) {
		r->head_done = r->req.head_len > 0;
		return 0;
	}
	return 1;
}

void http_reader_consume(struct http_reader *r)
{
	size_t n = r->req_len;

	if (!n)
		return;
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
	r->req_len = 0;
	r->head_done = false;
	memset(&r->req, 0, sizeof(r->req));
}
