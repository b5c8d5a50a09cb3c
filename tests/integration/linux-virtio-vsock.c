// SPDX-License-Identifier: Apache-2.0
/*
 * The guest side of tests/integration/linux-virtio.sh's vsock case, built
 * static and added to the test guest's initramfs (busybox has no vsock):
 *
 *   kiln-vsock connect CID PORT MESSAGE   sends MESSAGE and a newline,
 *                                         prints "vsock-reply: <answer>"
 *   kiln-vsock echo PORT                  accepts one connection, answers
 *                                         each line upper-cased
 */
#include <ctype.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *what)
{
	perror(what);
	return 1;
}

static int do_connect(unsigned int cid, unsigned int port, const char *msg)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	char buf[256];
	size_t got = 0;
	ssize_t n;
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (s < 0)
		return fail("socket(AF_VSOCK)");
	if (connect(s, (struct sockaddr *)&a, sizeof(a)))
		return fail("connect");
	if (write(s, msg, strlen(msg)) != (ssize_t)strlen(msg) || write(s, "\n", 1) != 1)
		return fail("write");
	shutdown(s, SHUT_WR);
	while (got < sizeof(buf) - 1 && (n = read(s, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
	printf("vsock-reply: %s", buf);
	close(s);
	return 0;
}

static int do_echo(unsigned int port)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = port };
	char buf[256];
	ssize_t n;
	int l = socket(AF_VSOCK, SOCK_STREAM, 0), s;

	if (l < 0)
		return fail("socket(AF_VSOCK)");
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1))
		return fail("bind/listen");
	printf("vsock-listening %u\n", port);
	fflush(stdout);
	s = accept(l, NULL, NULL);
	if (s < 0)
		return fail("accept");
	while ((n = read(s, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			buf[i] = toupper((unsigned char)buf[i]);
		if (write(s, buf, n) != n)
			return fail("write");
	}
	printf("vsock-echo-done\n");
	close(s);
	close(l);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "connect"))
		return do_connect(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0), argv[4]);
	if (argc == 3 && !strcmp(argv[1], "echo"))
		return do_echo(strtoul(argv[2], NULL, 0));
	fprintf(stderr, "usage: kiln-vsock connect CID PORT MESSAGE | echo PORT\n");
	return 2;
}
