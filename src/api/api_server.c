// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/api_exec.h"
#include "api/http.h"
#include "api/runtime_dir.h"
#include "lib/log.h"
#include "machine/event_loop.h"
#include "machine/vm.h"

/* How often idle connections are checked against their deadline. */
#define API_SWEEP_MS 250
/* After the last response: how long to wait for the client's EOF. */
#define API_LINGER_MS 1000
/* What a lingering connection may still send before it is cut. */
#define API_LINGER_MAX_BYTES (1024 * 1024)

struct api_conn {
	struct api_server *srv;
	int fd;			/* -1: a free slot */
	struct http_reader in;
	char *out;
	size_t out_len, out_off;
	u64 deadline_ms;
	u32 events;		/* what the event loop watches */
	size_t lingered;	/* bytes discarded while lingering */
	bool peer_eof;		/* the client sent EOF: no more requests */
	bool closing;		/* the last response is queued */
	bool shut_wr;		/* our side is shut: waiting for the client's EOF */
	bool sent_continue;	/* "100 Continue" went out for this request */
	bool restart_clock;	/* a response is queued: a new deadline once sent */
};

struct api_server {
	struct vm *vm;
	struct api_ctx ctx;
	int listen_fd;
	int timer_fd;
	bool timer_armed;
	unsigned int nr_conns;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ino_t ino;		/* the socket we bound, to remove only ours */
	char entry[PATH_MAX];	/* our runtime-directory entry, or "" */
	struct api_conn conns[API_MAX_CONNS];
};

static u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

static void arm_timer(struct api_server *srv, bool on)
{
	struct itimerspec its = { 0 };

	if (on == srv->timer_armed)
		return;
	if (on) {
		its.it_value.tv_nsec = API_SWEEP_MS * 1000000L;
		its.it_interval = its.it_value;
	}
	if (timerfd_settime(srv->timer_fd, 0, &its, NULL) == 0)
		srv->timer_armed = on;
}

static void conn_close(struct api_conn *c)
{
	struct api_server *srv = c->srv;

	event_loop_remove(srv->vm->loop, c->fd);
	close(c->fd);
	http_reader_free(&c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (--srv->nr_conns == 0)
		arm_timer(srv, false);
}

static void conn_watch(struct api_conn *c, u32 events)
{
	if (c->events == events)
		return;
	if (event_loop_modify(c->srv->vm->loop, c->fd, events) == 0)
		c->events = events;
}

static int conn_queue(struct api_conn *c, const char *data, size_t len)
{
	char *out;

	if (c->out_off == c->out_len) {
		c->out_off = 0;
		c->out_len = 0;
	}
	out = realloc(c->out, c->out_len + len);
	if (!out)
		return -1;
	memcpy(out + c->out_len, data, len);
	c->out = out;
	c->out_len += len;
	return 0;
}

static int conn_queue_response(struct api_conn *c, struct http_response *resp)
{
	char *text;
	size_t len;
	int ret;

	if (resp->close)
		c->closing = true;
	if (http_response_format(resp, &text, &len)) {
		c->closing = true;
		return -1;
	}
	ret = conn_queue(c, text, len);
	free(text);
	c->restart_clock = true;
	return ret;
}

/* Sends what it can without blocking; -1 when the client is gone. */
static int conn_flush(struct api_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		c->out_off += n;
	}
	if (c->restart_clock && !c->closing)
		c->deadline_ms = now_ms() + API_CONN_TIMEOUT_MS;
	c->restart_clock = false;
	return 0;
}

/* Answers the next complete request, if any; false when there is none. */
static bool conn_answer_one(struct api_conn *c)
{
	struct http_response resp = { 0 };
	const struct http_request *req;
	int r = http_reader_next(&c->in, &req);

	if (r == 0) {
		if (c->in.head_done && req->expect_continue && !c->sent_continue) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

			c->sent_continue = true;
			if (conn_queue(c, cont, sizeof(cont) - 1))
				c->closing = true;
			return true;
		}
		return false;
	}
	if (r < 0) {
		api_error(&resp, req->error_status, NULL, "%s", req->error);
		resp.close = true;
	} else {
		api_handle(&c->srv->ctx, req, &resp);
		if (!req->keep_alive)
			resp.close = true;
		http_reader_consume(&c->in);
		c->sent_continue = false;
	}
	conn_queue_response(c, &resp);
	http_response_reset(&resp);
	return true;
}

/*
 * The connection's state machine, run after every event: send pending
 * output, then answer the next request. One request is answered at a time,
 * and input is not read while output waits, so a client that does not read
 * cannot make the server buffer without bound.
 */
static void conn_service(struct api_conn *c)
{
	for (;;) {
		if (c->out_off < c->out_len) {
			if (conn_flush(c)) {
				conn_close(c);
				return;
			}
			if (c->out_off < c->out_len) {
				conn_watch(c, EPOLLOUT);
				return;
			}
		}
		if (c->closing) {
			/*
			 * Linger: shut our side and wait for the client's EOF, so
			 * that a client still sending its body reads the answer
			 * rather than a reset.
			 */
			if (c->peer_eof) {
				conn_close(c);
				return;
			}
			if (!c->shut_wr) {
				shutdown(c->fd, SHUT_WR);
				c->shut_wr = true;
				c->deadline_ms = now_ms() + API_LINGER_MS;
			}
			conn_watch(c, EPOLLIN);
			return;
		}
		if (conn_answer_one(c))
			continue;
		if (c->peer_eof) {
			conn_close(c);	/* EOF in the middle of a request */
			return;
		}
		conn_watch(c, EPOLLIN);
		return;
	}
}

static void conn_read(struct api_conn *c)
{
	char scratch[4096];
	size_t room = sizeof(scratch);
	char *p = c->shut_wr ? scratch : http_reader_space(&c->in, &room);
	ssize_t n;

	if (!p) {
		/* Full: only possible with a complete request waiting. */
		return;
	}
	n = read(c->fd, p, room);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->peer_eof = true;
		return;
	}
	if (n == 0) {
		c->peer_eof = true;
		return;
	}
	if (c->shut_wr) {
		c->lingered += n;
		if (c->lingered > API_LINGER_MAX_BYTES)
			c->peer_eof = true;
		return;
	}
	http_reader_commit(&c->in, n);
}

static void on_conn_event(void *opaque, u32 events)
{
	struct api_conn *c = opaque;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (c->events & EPOLLIN)
			conn_read(c);
		else if (events & (EPOLLHUP | EPOLLERR))
			c->peer_eof = true;
	}
	conn_service(c);
}

/* Best effort, for connections we refuse or time out: no buffering, no waiting. */
static void send_now(int fd, int status, const char *why)
{
	struct http_response resp = { 0 };
	char *text;
	size_t len;

	api_error(&resp, status, NULL, "%s", why);
	resp.close = true;
	if (http_response_format(&resp, &text, &len) == 0) {
		if (send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			pr_debug("api: %s: %m", why);
		free(text);
	}
	http_response_reset(&resp);
}

static bool peer_is_owner(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	return cred.uid == geteuid();
}

static void on_accept(void *opaque, u32 events)
{
	struct api_server *srv = opaque;

	(void)events;
	for (;;) {
		struct api_conn *c = NULL;
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				pr_warn_once("api: accept: %m");
			return;
		}
		if (!peer_is_owner(fd)) {
			pr_warn_once("api: refused a connection from another user");
			close(fd);
			continue;
		}
		for (unsigned int i = 0; i < API_MAX_CONNS && !c; i++)
			if (srv->conns[i].fd < 0)
				c = &srv->conns[i];
		if (!c) {
			send_now(fd, 503, "too many API connections");
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->srv = srv;
		c->fd = fd;
		c->events = EPOLLIN;
		c->deadline_ms = now_ms() + API_CONN_TIMEOUT_MS;
		http_reader_init(&c->in);
		if (event_loop_add(srv->vm->loop, fd, EPOLLIN, on_conn_event, c)) {
			close(fd);
			c->fd = -1;
			continue;
		}
		srv->nr_conns++;
		arm_timer(srv, true);
	}
}

static void on_timer(void *opaque, u32 events)
{
	struct api_server *srv = opaque;
	u64 expirations, now = now_ms();

	(void)events;
	if (read(srv->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		pr_warn_once("api: timerfd: %m");
	for (unsigned int i = 0; i < API_MAX_CONNS; i++) {
		struct api_conn *c = &srv->conns[i];

		if (c->fd < 0 || now < c->deadline_ms)
			continue;
		/* Not when lingering, or when the client does not read its answer. */
		if (!c->shut_wr && c->out_off == c->out_len)
			send_now(c->fd, 408, "no complete request within 5 s");
		conn_close(c);
	}
}

/* Fills addr for path; -1 when the path does not fit in a unix address. */
static int unix_address(struct sockaddr_un *addr, const char *path)
{
	size_t len = strlen(path);

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (len >= sizeof(addr->sun_path))
		return -1;
	memcpy(addr->sun_path, path, len + 1);
	return 0;
}

/* A socket file at path that nobody listens on is left over from a crash. */
static bool socket_in_use(const char *path)
{
	struct sockaddr_un addr;
	int fd;
	bool used;

	if (unix_address(&addr, path))
		return true;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	used = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 ||
	       errno != ECONNREFUSED;
	close(fd);
	return used;
}

static int listen_unix(struct api_server *srv, const char *path)
{
	struct sockaddr_un addr;
	struct stat st;
	mode_t old_mask;
	int ret;

	if (unix_address(&addr, path)) {
		pr_err("--api-sock %s: longer than %zu bytes", path, sizeof(addr.sun_path) - 1);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			pr_err("--api-sock %s: exists and is not a socket", path);
			return -1;
		}
		if (socket_in_use(path)) {
			pr_err("--api-sock %s: another process serves this socket", path);
			return -1;
		}
		unlink(path);
	}
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0) {
		pr_err("api: socket: %m");
		return -1;
	}
	/* No window in which another user could connect: born 0600. */
	old_mask = umask(0177);
	ret = bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_mask);
	if (ret) {
		pr_err("--api-sock %s: %m", path);
		return -1;
	}
	memcpy(srv->path, addr.sun_path, sizeof(srv->path));
	if (chmod(path, 0600) || stat(path, &st) || listen(srv->listen_fd, API_MAX_CONNS)) {
		pr_err("--api-sock %s: %m", path);
		return -1;
	}
	srv->ino = st.st_ino;
	return 0;
}

/* Removes path only if it still is the socket we created. */
static void unlink_our_socket(struct api_server *srv)
{
	struct stat st;

	if (srv->path[0] && lstat(srv->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_ino == srv->ino)
		unlink(srv->path);
}

/* Links <runtime dir>/<pid>.sock to the socket, for `kiln list`. */
static void register_link(struct api_server *srv, const char *dir)
{
	char target[PATH_MAX];

	if (runtime_dir_entry(dir, getpid(), srv->entry, sizeof(srv->entry)) ||
	    !realpath(srv->path, target)) {
		srv->entry[0] = '\0';
		return;
	}
	unlink(srv->entry);	/* left by an earlier process with our pid */
	if (symlink(target, srv->entry)) {
		pr_warn("api: cannot register %s: %m; kiln list will not show this VM",
			srv->entry);
		srv->entry[0] = '\0';
	}
}

int api_server_start(struct vm *vm, const char *sock_path, const char *version,
		     struct api_server **out)
{
	struct api_server *srv;
	char dir[PATH_MAX], err[PATH_MAX + 64], entry[PATH_MAX];
	bool have_dir = runtime_dir_get(dir, sizeof(dir), true, err, sizeof(err)) == 0;

	*out = NULL;
	if (!sock_path) {
		if (!have_dir || runtime_dir_entry(dir, getpid(), entry, sizeof(entry))) {
			pr_warn("api: no runtime directory (%s): no API socket; "
				"use --api-sock PATH", err);
			return 0;
		}
		/*
		 * Named after our pid, so whatever is there (a socket or a link
		 * to one) was left by an earlier process with this pid that was
		 * killed before it could clean up.
		 */
		unlink(entry);
		sock_path = entry;
	}

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -1;
	srv->vm = vm;
	srv->listen_fd = -1;
	srv->timer_fd = -1;
	for (unsigned int i = 0; i < API_MAX_CONNS; i++)
		srv->conns[i].fd = -1;
	api_ctx_init(&srv->ctx, vm, version);
	if (listen_unix(srv, sock_path))
		goto fail;
	srv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (srv->timer_fd < 0 ||
	    event_loop_add(vm->loop, srv->timer_fd, EPOLLIN, on_timer, srv) ||
	    event_loop_add(vm->loop, srv->listen_fd, EPOLLIN, on_accept, srv)) {
		pr_err("api: cannot watch the socket: %m");
		goto fail;
	}
	if (sock_path != entry && have_dir)
		register_link(srv, dir);
	else if (!have_dir)
		pr_warn("api: %s; kiln list will not show this VM", err);
	*out = srv;
	return 0;
fail:
	api_server_stop(srv);
	return -1;
}

void api_server_stop(struct api_server *srv)
{
	if (!srv)
		return;
	for (unsigned int i = 0; i < API_MAX_CONNS; i++) {
		struct api_conn *c = &srv->conns[i];

		if (c->fd < 0)
			continue;
		conn_flush(c);	/* e.g. the answer to the Reset that stopped the VM */
		conn_close(c);
	}
	if (srv->timer_fd >= 0) {
		event_loop_remove(srv->vm->loop, srv->timer_fd);
		close(srv->timer_fd);
	}
	if (srv->listen_fd >= 0) {
		event_loop_remove(srv->vm->loop, srv->listen_fd);
		close(srv->listen_fd);
	}
	unlink_our_socket(srv);
	if (srv->entry[0])
		unlink(srv->entry);
	free(srv);
}

const char *api_server_path(const struct api_server *srv)
{
	return srv->path;
}
