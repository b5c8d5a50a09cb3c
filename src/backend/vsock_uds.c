// SPDX-License-Identifier: Apache-2.0
#include "backend/vsock_uds.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"

static int make_addr(struct sockaddr_un *a, const char *path, const char *suffix)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path, sizeof(a->sun_path), "%s%s", path, suffix);
	if (n < 0 || (size_t)n >= sizeof(a->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int vsock_uds_listen(const char *path)
{
	struct sockaddr_un a;
	struct stat st;
	int fd;

	if (make_addr(&a, path, "")) {
		pr_err("--vsock uds=%s: the path is too long", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !lstat(path, &st)) {
		/*
		 * A socket nobody listens on is what a previous run left: ours
		 * to replace. A live one, or anything else, is not.
		 */
		if (!S_ISSOCK(st.st_mode) || !connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
		    errno == EAGAIN) {
			pr_err("--vsock uds=%s: %s", path, S_ISSOCK(st.st_mode) ?
			       "another program listens there" : "exists and is not a socket");
			close(fd);
			return -1;
		}
		close(fd);
		unlink(path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64)) {
		pr_err("--vsock uds=%s: %m", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

void vsock_uds_unlisten(int fd, const char *path)
{
	struct stat st;

	if (fd < 0)
		return;
	/* Remove path only if it is still a socket: someone may have replaced it. */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	close(fd);
}

int vsock_uds_connect(const char *path, u32 port)
{
	struct sockaddr_un a;
	char suffix[16];
	int fd;

	snprintf(suffix, sizeof(suffix), "_%u", port);
	if (make_addr(&a, path, suffix))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A unix stream connect either completes now or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int vsock_parse_connect(const char *buf, size_t len, u32 *port)
{
	static const char verb[] = "CONNECT ";
	size_t i = sizeof(verb) - 1, digits = 0;
	u64 v = 0;

	if (memcmp(buf, verb, MIN(len, i)))
		return -1;
	for (; i < len && i < VSOCK_CONNECT_LINE_MAX; i++) {
		char c = buf[i];

		if (c >= '0' && c <= '9') {
			if (++digits > 10)
				return -1;
			v = v * 10 + (c - '0');
			continue;
		}
		if (c == '\r' && i + 1 < len && buf[i + 1] != '\n')
			return -1;
		if (c == '\r')
			continue;
		if (c != '\n' || !digits || v > UINT32_MAX)
			return -1;
		*port = v;
		return i + 1;
	}
	return i >= VSOCK_CONNECT_LINE_MAX ? -1 : 0;
}
