// SPDX-License-Identifier: Apache-2.0
/*
 * netpeer: the host end of the virtio-net benchmark. The guest connects out
 * to both of its ports, in turn, with busybox nc:
 *
 *   netpeer [--addr IP] [--timeout SECONDS] SINK-BYTES SOURCE-BYTES
 *
 * It listens on IP (default 127.0.0.1, where slirp's 10.0.2.2 leads) on two
 * ports the kernel picks, and prints them at once, on a line of its own:
 *
 *   sink_port=P source_port=Q
 *
 * The sink takes one connection and reads SINK-BYTES (guest → host), timed
 * from the first byte to the last; the source takes one connection, writes
 * SOURCE-BYTES, shuts its side down, and waits for the guest's side to
 * close (host → guest), timed from accept to that end. Then it prints
 *
 *   rx_bytes=N rx_s=S       (the sink)
 *   tx_bytes=N tx_s=S       (the source)
 *
 * and exits 0, or 1 with the reason on stderr when a side did not finish
 * within SECONDS (default 120) in all. Times are the host's clock, so a
 * guest clock that runs fast or slow cannot skew them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static double deadline;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "netpeer: %s: %s\n", what, errno ? strerror(errno) : "timed out");
	exit(1);
}

/* Waits for EVENTS on FD until the deadline; false when it passed. */
static bool wait_for(int fd, short events)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		double left = deadline - now();
		int n;

		if (left <= 0)
			return false;
		n = poll(&p, 1, (int)(left * 1000) + 1);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			die("poll");
	}
}

static int listen_on(const char *addr, int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		errno = EINVAL;
		die(addr);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len))
		die("bind/listen");
	*port = ntohs(sa.sin_port);
	return fd;
}

static int accept_one(int lfd, const char *side)
{
	int fd;

	errno = 0;
	if (!wait_for(lfd, POLLIN))
		die(side);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die(side);
	close(lfd);
	return fd;
}

/* guest → host: the time from the first byte to the last of BYTES. */
static double sink(int lfd, long long bytes, long long *got)
{
	static char buf[CHUNK];
	int fd = accept_one(lfd, "sink: accept");
	double t0 = 0;

	*got = 0;
	while (*got < bytes) {
		ssize_t n;

		errno = 0;
		if (!wait_for(fd, POLLIN))
			die("sink: read");
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* the guest stopped early: *got says so */
		if (!t0)
			t0 = now();
		*got += n;
	}
	close(fd);
	return t0 ? now() - t0 : 0;
}

/* host → guest: from accept to the guest's close after BYTES. */
static double source(int lfd, long long bytes, long long *sent)
{
	static char buf[CHUNK];
	int fd = accept_one(lfd, "source: accept");
	double t0 = now();

	memset(buf, 'k', sizeof(buf));
	*sent = 0;
	while (*sent < bytes) {
		size_t want = bytes - *sent < CHUNK ? bytes - *sent : CHUNK;
		ssize_t n;

		errno = 0;
		if (!wait_for(fd, POLLOUT))
			die("source: write");
		n = send(fd, buf, want, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("source: write");
		*sent += n;
	}
	shutdown(fd, SHUT_WR);
	/* The guest's nc exits at our end of stream and closes its side. */
	for (;;) {
		ssize_t n;

		errno = 0;
		if (!wait_for(fd, POLLIN))
			die("source: waiting for the guest to close");
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	close(fd);
	return now() - t0;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	double timeout = 120, rx_s, tx_s;
	long long rx_want, tx_want, rx, tx;
	int sink_fd, source_fd, sink_port, source_port, i = 1;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--addr"))
			addr = argv[i + 1];
		else if (!strcmp(argv[i], "--timeout"))
			timeout = strtod(argv[i + 1], NULL);
		else
			break;
	}
	if (argc - i != 2 || timeout <= 0 || (rx_want = atoll(argv[i])) <= 0 ||
	    (tx_want = atoll(argv[i + 1])) <= 0) {
		fprintf(stderr, "usage: netpeer [--addr IP] [--timeout SECONDS] SINK-BYTES SOURCE-BYTES\n");
		return 2;
	}
	sink_fd = listen_on(addr, &sink_port);
	source_fd = listen_on(addr, &source_port);
	printf("sink_port=%d source_port=%d\n", sink_port, source_port);
	fflush(stdout);

	deadline = now() + timeout;
	rx_s = sink(sink_fd, rx_want, &rx);
	printf("rx_bytes=%lld rx_s=%.4f\n", rx, rx_s);
	fflush(stdout);
	tx_s = source(source_fd, tx_want, &tx);
	printf("tx_bytes=%lld tx_s=%.4f\n", tx, tx_s);
	return 0;
}
