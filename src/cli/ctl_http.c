// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/ctl.h"

/* /metrics of a VM with 255 vCPUs is well under this. */
#define CTL_MAX_RESPONSE (16 << 20)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until the deadline; -1 on time-out. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left = deadline - now_ms();
	int n;

	if (left <= 0)
		return -1;
	do
		n = poll(&p, 1, (int)left);
	while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : -1;
}

static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EAGAIN) {
			if (wait_fd(fd, POLLOUT, deadline))
				return -1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Reads until the server closes (we send "Connection: close"). */
static int read_all(int fd, char **out, size_t *out_len, long long deadline,
		    char *err, size_t err_len)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -1;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb = cap >= CTL_MAX_RESPONSE ? NULL : realloc(buf, cap * 2 + 1);

			if (!nb) {
				snprintf(err, err_len, "the response is too large");
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
		if (n > 0) {
			len += n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			if (wait_fd(fd, POLLIN, deadline)) {
				snprintf(err, err_len, "no answer from the VM (timed out)");
				goto fail;
			}
			continue;
		}
		/* A reset after a complete answer still leaves the answer. */
		if (errno == ECONNRESET && len)
			break;
		snprintf(err, err_len, "reading the answer: %s", strerror(errno));
		goto fail;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
fail:
	free(buf);
	return -1;
}

static int parse_response(struct ctl_response *resp, size_t len, char *err, size_t err_len)
{
	char *head_end = strstr(resp->raw, "\r\n\r\n");
	char *cl;
	int status;

	/* Skip any "100 Continue" interim answer. */
	while (head_end && !strncmp(resp->raw, "HTTP/1.1 100", 12)) {
		size_t skip = head_end + 4 - resp->raw;

		memmove(resp->raw, head_end + 4, len - skip + 1);
		len -= skip;
		head_end = strstr(resp->raw, "\r\n\r\n");
	}
	if (!head_end || sscanf(resp->raw, "HTTP/1.%*1[01] %3d", &status) != 1) {
		snprintf(err, err_len, "not an HTTP answer");
		return -1;
	}
	resp->status = status;
	resp->body = head_end + 4;
	resp->body_len = len - (resp->body - resp->raw);
	*head_end = '\0';	/* bound the header search below */
	cl = strcasestr(resp->raw, "\r\nContent-Length:");
	if (cl) {
		unsigned long n = strtoul(cl + 17, NULL, 10);

		if (n < resp->body_len)
			resp->body_len = n;
	}
	return 0;
}

int ctl_http(const char *sock, const char *method, const char *path, const char *json_body,
	     int timeout_ms, struct ctl_response *resp, char *err, size_t err_len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + timeout_ms;
	char *req = NULL;
	size_t req_len, len;
	int fd, n;

	memset(resp, 0, sizeof(*resp));
	if (strlen(sock) >= sizeof(addr.sun_path)) {
		snprintf(err, err_len, "%s: the socket path is too long", sock);
		return -1;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		snprintf(err, err_len, "%s: %s", sock, strerror(errno));
		goto fail;
	}
	n = json_body
	    ? asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		       "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		       method, path, strlen(json_body), json_body)
	    : asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		       method, path);
	if (n < 0) {
		req = NULL;
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	req_len = n;
	if (send_all(fd, req, req_len, deadline)) {
		snprintf(err, err_len, "%s: sending the request failed", sock);
		goto fail;
	}
	if (read_all(fd, &resp->raw, &len, deadline, err, err_len) ||
	    parse_response(resp, len, err, err_len))
		goto fail;
	free(req);
	close(fd);
	return 0;
fail:
	free(req);
	if (fd >= 0)
		close(fd);
	ctl_response_free(resp);
	return -1;
}

void ctl_response_free(struct ctl_response *resp)
{
	free(resp->raw);
	memset(resp, 0, sizeof(*resp));
}
