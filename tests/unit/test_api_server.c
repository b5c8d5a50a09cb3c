// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/runtime_dir.h"
#include "api_test_vm.h"

/* A server on a fake VM, its loop on a thread as vm_run() would run it. */
struct fixture {
	char dir[64];
	char sock[128];
	struct vm *vm;
	struct api_server *srv;
	pthread_t loop_thread;
};

static void *loop_main(void *arg)
{
	struct fixture *f = arg;

	event_loop_run(f->vm->loop);
	return NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-api-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	setenv("XDG_RUNTIME_DIR", f->dir, 1);
	snprintf(f->sock, sizeof(f->sock), "%s/api.sock", f->dir);
	f->vm = api_test_vm_create();
	if (api_server_start(f->vm, f->sock, "1.2.3", &f->srv) || !f->srv)
		return -1;
	pthread_create(&f->loop_thread, NULL, loop_main, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char entry[PATH_MAX], kdir[PATH_MAX];
	struct stat st;

	event_loop_stop(f->vm->loop);
	pthread_join(f->loop_thread, NULL);
	api_server_stop(f->srv);
	/* Stopping removes the socket and the runtime-directory entry. */
	snprintf(kdir, sizeof(kdir), "%s/kiln", f->dir);
	runtime_dir_entry(kdir, getpid(), entry, sizeof(entry));
	assert_int_equal(lstat(f->sock, &st), -1);
	assert_int_equal(lstat(entry, &st), -1);
	rmdir(kdir);
	rmdir(f->dir);
	api_test_vm_destroy(f->vm);
	free(f);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), strlen(s));
}

/*
 * Reads one response (head and Content-Length body) into buf; returns its
 * status, or -1 on EOF before a complete one. Leaves following bytes unread
 * only at a response boundary, which is all these tests need.
 */
static int read_response(int fd, char *buf, size_t size)
{
	size_t len = 0;

	for (;;) {
		char *end = len ? strstr(buf, "\r\n\r\n") : NULL;
		ssize_t n;

		if (end) {
			const char *cl = strstr(buf, "Content-Length: ");
			size_t want = end + 4 - buf + (cl && cl < end ? strtoul(cl + 16, NULL, 10) : 0);
			int status = 0;

			if (len >= want) {
				assert_int_equal(len, want);
				sscanf(buf, "HTTP/1.1 %d", &status);
				return status;
			}
		}
		/* Byte by byte, so as not to swallow the next response. */
		assert_true(len + 1 < size);
		n = recv(fd, buf + len, 1, 0);
		if (n <= 0)
			return -1;
		len += n;
		buf[len] = '\0';
	}
}

static void socket_private_and_registered(void **state)
{
	struct fixture *f = *state;
	char entry[PATH_MAX], kdir[PATH_MAX], target[PATH_MAX], real[PATH_MAX], buf[4096];
	struct stat st;
	ssize_t n;
	int fd;

	assert_int_equal(stat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(kdir, sizeof(kdir), "%s/kiln", f->dir);
	assert_int_equal(stat(kdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	runtime_dir_entry(kdir, getpid(), entry, sizeof(entry));
	n = readlink(entry, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_non_null(realpath(f->sock, real));
	assert_string_equal(target, real);

	fd = connect_to(entry);		/* through the link, as kiln list does */
	assert_true(fd >= 0);
	send_str(fd, "GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "\"version\": \"1.2.3\""));
	close(fd);
}

static void keep_alive_and_pipelining(void **state)
{
	struct fixture *f = *state;
	char buf[8192];
	int fd = connect_to(f->sock);

	send_str(fd, "GET /nope HTTP/1.1\r\n\r\n"
		     "PATCH /vm HTTP/1.1\r\nContent-Length: 18\r\n\r\n{\"state\":\"Paused\"}"
		     "DELETE /vm HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 404);
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 204);
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 405);
	assert_non_null(strstr(buf, "\r\nAllow: GET, PATCH\r\n"));
	/* The connection stays open for more. */
	send_str(fd, "GET /vm HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "\"state\": \"Paused\""));
	/* Connection: close is honoured. */
	send_str(fd, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "\r\nConnection: close\r\n"));
	assert_int_equal(recv(fd, buf, 1, 0), 0);
	close(fd);
}

static void silent_client_does_not_block_others(void **state)
{
	struct fixture *f = *state;
	int silent = connect_to(f->sock), partial = connect_to(f->sock), other;
	char buf[4096];
	double t0 = now_s(), t;

	send_str(partial, "GET /vm HT");
	other = connect_to(f->sock);
	send_str(other, "GET /vm HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(other, buf, sizeof(buf)), 200);
	assert_true(now_s() - t0 < 1.0);
	close(other);

	/* After the time-out, both are told 408 and dropped. */
	assert_int_equal(read_response(silent, buf, sizeof(buf)), 408);
	t = now_s() - t0;
	assert_true(t > API_CONN_TIMEOUT_MS / 1000.0 - 0.5);
	assert_true(t < API_CONN_TIMEOUT_MS / 1000.0 + 2.0);
	assert_int_equal(recv(silent, buf, 1, 0), 0);
	assert_int_equal(read_response(partial, buf, sizeof(buf)), 408);
	assert_int_equal(recv(partial, buf, 1, 0), 0);
	close(silent);
	close(partial);
}

static void bad_requests_answered_then_closed(void **state)
{
	struct fixture *f = *state;
	char buf[4096], body[8192];
	int fd;

	/* 413 from the head alone, while the client still sends its body. */
	fd = connect_to(f->sock);
	send_str(fd, "PUT /balloon HTTP/1.1\r\nContent-Length: 70000\r\n\r\n");
	memset(body, 'x', sizeof(body));
	for (int i = 0; i < 8; i++)
		send(fd, body, sizeof(body), MSG_NOSIGNAL);
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 413);
	assert_non_null(strstr(buf, "\r\nConnection: close\r\n"));
	assert_non_null(strstr(buf, "\"error\""));
	shutdown(fd, SHUT_WR);
	assert_int_equal(recv(fd, buf, 1, 0), 0);
	close(fd);

	/* Garbage: 400, then the connection is closed. */
	fd = connect_to(f->sock);
	send_str(fd, "HELLO\r\n\r\nGET / HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 400);
	shutdown(fd, SHUT_WR);
	assert_int_equal(recv(fd, buf, 1, 0), 0);
	close(fd);

	/* Chunked bodies are not spoken. */
	fd = connect_to(f->sock);
	send_str(fd, "PUT /actions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 501);
	close(fd);
}

static void expect_continue(void **state)
{
	struct fixture *f = *state;
	char buf[4096];
	int fd = connect_to(f->sock);

	send_str(fd, "PATCH /vm HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 18\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 100);
	send_str(fd, "{\"state\":\"Paused\"}");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 204);
	/* Too large: the final answer comes instead of 100 Continue. */
	send_str(fd, "PUT /balloon HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 65537\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 413);
	close(fd);
}

static void connection_cap(void **state)
{
	struct fixture *f = *state;
	int fds[API_MAX_CONNS + 1];
	char buf[4096];

	for (int i = 0; i <= API_MAX_CONNS; i++) {
		fds[i] = connect_to(f->sock);
		assert_true(fds[i] >= 0);
		usleep(10000);	/* accepted in order */
	}
	assert_int_equal(read_response(fds[API_MAX_CONNS], buf, sizeof(buf)), 503);
	/* The others are still served. */
	send_str(fds[0], "GET /version HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fds[0], buf, sizeof(buf)), 200);
	for (int i = 0; i <= API_MAX_CONNS; i++)
		close(fds[i]);
	/* Closed slots are free again. */
	usleep(100000);
	fds[0] = connect_to(f->sock);
	send_str(fds[0], "GET /version HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fds[0], buf, sizeof(buf)), 200);
	close(fds[0]);
}

static void other_users_refused(void **state)
{
	struct fixture *f = *state;
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		print_message("# SKIP needs root to connect as another user\n");
		skip();
	}
	/* Open the modes up so that only SO_PEERCRED stands in the way. */
	assert_int_equal(chmod(f->dir, 0711), 0);
	assert_int_equal(chmod(f->sock, 0666), 0);
	pid = fork();
	if (pid == 0) {
		char buf[256];
		int fd;

		if (setuid(65534))
			_exit(10);
		fd = connect_to(f->sock);
		if (fd < 0)
			_exit(11);
		send(fd, "GET / HTTP/1.1\r\n\r\n", 18, MSG_NOSIGNAL);
		/* Closed without an answer. */
		_exit(recv(fd, buf, sizeof(buf), 0) <= 0 ? 0 : 12);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	chmod(f->sock, 0600);
}

static void reset_over_the_socket(void **state)
{
	struct fixture *f = *state;
	char buf[4096];
	int fd = connect_to(f->sock);

	send_str(fd, "PUT /actions HTTP/1.1\r\nContent-Length: 23\r\n\r\n{\"action_type\":\"Reset\"}");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 204);
	close(fd);
	assert_true(vm_stopping(f->vm));
	assert_int_equal(f->vm->exit_code, EXIT_CODE_RESET);
}

static void count_our_vm(pid_t pid, const char *entry, const char *sock, void *opaque)
{
	(void)entry;
	assert_int_equal(pid, getpid());
	assert_non_null(strstr(sock, "/api.sock"));
	(*(int *)opaque)++;
}

static void runtime_dir_scan_lists_and_cleans(void **state)
{
	struct fixture *f = *state;
	char kdir[PATH_MAX], stale[PATH_MAX];
	int found = 0;
	pid_t dead;

	/* A process that has exited leaves a stale entry behind. */
	dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(kdir, sizeof(kdir), "%s/kiln", f->dir);
	runtime_dir_entry(kdir, dead, stale, sizeof(stale));
	assert_int_equal(symlink("/nonexistent.sock", stale), 0);

	assert_int_equal(runtime_dir_scan(kdir, count_our_vm, &found), 1);
	assert_int_equal(found, 1);
	assert_int_equal(access(stale, F_OK), -1);
}

static void socket_path_checks(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/kiln-api-test-XXXXXX", path[100], file[100];
	struct api_server *srv, *srv2;
	struct vm *vm = api_test_vm_create();
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("XDG_RUNTIME_DIR", dir, 1);

	/* A socket left by a crash is replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	assert_int_equal(api_server_start(vm, path, "0", &srv), 0);
	assert_non_null(srv);
	/* A socket someone serves is not taken over. */
	assert_int_equal(api_server_start(vm, path, "0", &srv2), -1);
	api_server_stop(srv);

	/* Nor is a file that is not a socket, nor a path too long for one. */
	snprintf(file, sizeof(file), "%s/file", dir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(api_server_start(vm, file, "0", &srv), -1);
	assert_int_equal(access(file, F_OK), 0);
	unlink(file);
	assert_int_equal(api_server_start(vm, "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					  "aaaaaaaaaaa.sock", "0", &srv), -1);

	/* Without --api-sock, the socket is the runtime-directory entry itself. */
	assert_int_equal(api_server_start(vm, NULL, "0", &srv), 0);
	assert_non_null(srv);
	snprintf(path, sizeof(path), "%s/kiln/%d.sock", dir, (int)getpid());
	assert_string_equal(api_server_path(srv), path);
	api_server_stop(srv);
	assert_int_equal(access(path, F_OK), -1);

	/*
	 * A link a killed process with our pid registered (its --api-sock gone
	 * too) is stale by definition, and no reason to run without a socket.
	 */
	assert_int_equal(symlink("/nonexistent/api.sock", path), 0);
	assert_int_equal(api_server_start(vm, NULL, "0", &srv), 0);
	assert_non_null(srv);
	fd = connect_to(path);
	assert_true(fd >= 0);
	close(fd);
	api_server_stop(srv);
	assert_int_equal(access(path, F_OK), -1);

	snprintf(path, sizeof(path), "%s/kiln", dir);
	rmdir(path);
	rmdir(dir);
	api_test_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(socket_private_and_registered, setup, teardown),
		cmocka_unit_test_setup_teardown(keep_alive_and_pipelining, setup, teardown),
		cmocka_unit_test_setup_teardown(silent_client_does_not_block_others, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_requests_answered_then_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(expect_continue, setup, teardown),
		cmocka_unit_test_setup_teardown(connection_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(other_users_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_over_the_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(runtime_dir_scan_lists_and_cleans, setup, teardown),
		cmocka_unit_test(socket_path_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
