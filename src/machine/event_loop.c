// SPDX-License-Identifier: Apache-2.0
#include "machine/event_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"

#define EVENT_LOOP_MAX_WATCHES 256

struct watch {
	int fd;
	event_cb cb;
	void *opaque;
};

struct event_loop {
	int epfd;
	int wake_fd;		/* eventfd: stop requests from other threads */
	int stop;
	struct watch watches[EVENT_LOOP_MAX_WATCHES];
};

struct event_loop *event_loop_create(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->wake_fd < 0)
		goto fail;
	ev.data.ptr = NULL;	/* NULL marks the wake fd */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wake_fd, &ev))
		goto fail;
	for (int i = 0; i < EVENT_LOOP_MAX_WATCHES; i++)
		loop->watches[i].fd = -1;
	return loop;
fail:
	event_loop_destroy(loop);
	return NULL;
}

void event_loop_destroy(struct event_loop *loop)
{
	if (!loop)
		return;
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->wake_fd >= 0)
		close(loop->wake_fd);
	free(loop);
}

static struct watch *find_watch(struct event_loop *loop, int fd)
{
	for (int i = 0; i < EVENT_LOOP_MAX_WATCHES; i++)
		if (loop->watches[i].fd == fd)
			return &loop->watches[i];
	return NULL;
}

int event_loop_add(struct event_loop *loop, int fd, u32 events, event_cb cb, void *opaque)
{
	struct watch *w = find_watch(loop, -1);
	struct epoll_event ev = { .events = events };

	if (!w || fd < 0)
		return -1;
	ev.data.ptr = w;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -1;
	*w = (struct watch){ .fd = fd, .cb = cb, .opaque = opaque };
	return 0;
}

int event_loop_modify(struct event_loop *loop, int fd, u32 events)
{
	struct watch *w = find_watch(loop, fd);
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (!w)
		return -1;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void event_loop_remove(struct event_loop *loop, int fd)
{
	struct watch *w = find_watch(loop, fd);

	if (!w)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->fd = -1;
}

int event_loop_poll(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event evs[32];
	int n = epoll_wait(loop->epfd, evs, ARRAY_SIZE(evs), timeout_ms);

	if (n < 0) {
		if (errno == EINTR)
			return 0;
		pr_err("epoll_wait: %m");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;

		if (!w) {
			u64 v;

			if (read(loop->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				pr_warn("event loop wake: %m");
			continue;
		}
		/* A callback earlier in this batch may have removed it. */
		if (w->fd >= 0)
			w->cb(w->opaque, evs[i].events);
	}
	return n;
}

void event_loop_run(struct event_loop *loop)
{
	while (!__atomic_load_n(&loop->stop, __ATOMIC_ACQUIRE))
		if (event_loop_poll(loop, -1) < 0)
			return;
}

void event_loop_stop(struct event_loop *loop)
{
	u64 one = 1;

	__atomic_store_n(&loop->stop, 1, __ATOMIC_RELEASE);
	if (write(loop->wake_fd, &one, sizeof(one)) < 0)
		return;	/* the counter is saturated: a wake-up is pending anyway */
}
