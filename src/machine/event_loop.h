/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_EVENT_LOOP_H
#define KILN_MACHINE_EVENT_LOOP_H

#include "lib/types.h"

/*
 * The I/O thread: one epoll loop that serves the console, backends and the
 * API socket. Callbacks run on the loop's thread and must not block.
 */

struct event_loop;

typedef void (*event_cb)(void *opaque, u32 events);

struct event_loop *event_loop_create(void);
void event_loop_destroy(struct event_loop *loop);

/* events are EPOLLIN/EPOLLOUT bits; returns -1 on failure. */
int event_loop_add(struct event_loop *loop, int fd, u32 events, event_cb cb, void *opaque);
int event_loop_modify(struct event_loop *loop, int fd, u32 events);
void event_loop_remove(struct event_loop *loop, int fd);

/* Runs callbacks until event_loop_stop() is called. */
void event_loop_run(struct event_loop *loop);
/*
 * One round of what run() does: waits up to timeout_ms (0: not at all, -1:
 * forever) for ready fds and runs their callbacks once. Returns how many
 * events came, or -1 on error. For tests and fuzzers that drive the I/O
 * thread's work step by step on their own thread.
 */
int event_loop_poll(struct event_loop *loop, int timeout_ms);
/* Safe from any thread, and from a signal handler. */
void event_loop_stop(struct event_loop *loop);

#endif
