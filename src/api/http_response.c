// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "lib/memstream.h"

const char *http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

void http_response_reset(struct http_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

void http_response_set(struct http_response *resp, int status, const char *content_type,
		       char *body, size_t body_len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = content_type;
	resp->body = body;
	resp->body_len = body_len;
}

int http_response_format(const struct http_response *resp, char **out, size_t *out_len)
{
	FILE *f = open_memstream(out, out_len);
	bool has_body = resp->status != 204 && resp->status >= 200;

	if (!f)
		return -1;
	fprintf(f, "HTTP/1.1 %d %s\r\n", resp->status, http_status_text(resp->status));
	fputs("Server: kiln\r\n", f);
	if (resp->allow[0])
		fprintf(f, "Allow: %s\r\n", resp->allow);
	if (has_body) {
		fprintf(f, "Content-Type: %s\r\n",
			resp->content_type ? resp->content_type : "application/json");
		fprintf(f, "Content-Length: %zu\r\n", resp->body_len);
	}
	if (resp->close)
		fputs("Connection: close\r\n", f);
	fputs("\r\n", f);
	if (has_body && resp->body_len)
		fwrite(resp->body, 1, resp->body_len, f);
	return memstream_finish(f, out);
}
