/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_API_HTTP_H
#define KILN_API_HTTP_H

#include "lib/types.h"

/*
 * A small, strict HTTP/1.1 request parser for the control socket.
 *
 * Accepted: "METHOD /target HTTP/1.x" CRLF, header lines "name: value" CRLF,
 * an empty line, then exactly Content-Length bytes of body. Refused: bare LF
 * or CR, control characters, obsolete line folding, whitespace before the
 * colon, Transfer-Encoding (501: send Content-Length), conflicting
 * Content-Length headers, and anything over the limits below.
 */

#define HTTP_MAX_HEAD		8192	/* request line and headers, bytes */
#define HTTP_MAX_METHOD		16
#define HTTP_MAX_TARGET		1024
#define HTTP_MAX_HEADERS	32
#define HTTP_MAX_BODY		(64 * 1024)

struct http_request {
	char method[HTTP_MAX_METHOD + 1];
	char path[HTTP_MAX_TARGET + 1];	/* the target without its ?query */
	int version_minor;		/* HTTP/1.0 or HTTP/1.1 */
	bool keep_alive;		/* 1.1 unless "Connection: close" */
	bool expect_continue;		/* "Expect: 100-continue" */
	size_t content_length;
	size_t head_len;		/* bytes up to and including the empty line */
	const char *body;		/* into the parsed buffer; NULL when empty */
	size_t body_len;

	/* When parsing fails: the status to answer with, and why. */
	int error_status;
	const char *error;
};

/*
 * Parses one request at the start of buf. Returns the bytes it spans (head
 * and body) when complete, 0 when more bytes are needed, and -1 on a bad
 * request, with req->error_status and req->error set. A request whose head
 * is complete but whose body is not yet returns 0 with req->head_len set.
 * The parser keeps no state: callers hand it the whole buffer again.
 */
long http_parse_request(const char *buf, size_t len, struct http_request *req);

/*
 * Buffers one connection's bytes and cuts them into requests, so that a
 * request split across reads (down to one byte per read) or several
 * requests in one read (pipelining) parse the same.
 */
struct http_reader {
	char *buf;
	size_t len, cap;
	struct http_request req;
	bool head_done;		/* req's head is parsed: wait for the body only */
	long req_len;		/* bytes of the current complete request, or 0 */
};

#define HTTP_READER_MAX (HTTP_MAX_HEAD + HTTP_MAX_BODY)

void http_reader_init(struct http_reader *r);
void http_reader_free(struct http_reader *r);
/* Room to read into: at most *room bytes at the returned pointer, or NULL when full. */
char *http_reader_space(struct http_reader *r, size_t *room);
void http_reader_commit(struct http_reader *r, size_t n);
/* Appends bytes (tests and fuzzers); returns the count that fitted. */
size_t http_reader_feed(struct http_reader *r, const void *data, size_t n);
/*
 * 1: a complete request is in *req (valid until http_reader_consume());
 * 0: more bytes are needed; -1: a bad request, see req->error_status.
 */
int http_reader_next(struct http_reader *r, const struct http_request **req);
/* Drops the request http_reader_next() returned. */
void http_reader_consume(struct http_reader *r);

/* A response; body is owned (malloc) and freed by http_response_reset(). */
struct http_response {
	int status;
	const char *content_type;	/* defaults to application/json */
	char *body;
	size_t body_len;
	char allow[64];			/* the Allow header, for 405 */
	bool close;			/* send "Connection: close" and hang up */
};

const char *http_status_text(int status);
void http_response_reset(struct http_response *resp);
/* Takes ownership of body (malloc'd). */
void http_response_set(struct http_response *resp, int status, const char *content_type,
		       char *body, size_t body_len);
/* Serialises resp into a malloc'd buffer; returns -1 when out of memory. */
int http_response_format(const struct http_response *resp, char **out, size_t *out_len);

#endif
