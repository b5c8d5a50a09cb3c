/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_BACKEND_NET_WAKE_H
#define KILN_BACKEND_NET_WAKE_H

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/types.h"

/*
 * A network backend's thread woken from other threads (a guest's kick, a
 * stop) through an eventfd it polls: at most one wake-up on its way,
 * whoever asks, so a burst of kicks costs one write and one read.
 */
struct net_wake {
	int fd;
	int pending;
};

/* 0, or -1 with errno; fd is -1 until then. */
static inline int net_wake_init(struct net_wake *w)
{
	w->pending = 0;
	w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return w->fd < 0 ? -1 : 0;
}

/* Wakes the thread; who names the backend in a message. */
static inline void net_wake(struct net_wake *w, const char *who)
{
	u64 one = 1;

	if (__atomic_exchange_n(&w->pending, 1, __ATOMIC_ACQ_REL))
		return;
	if (write(w->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn_once("%s: wake-up: %m", who);
}

/* Wakes the thread even if a wake-up is pending (it may have been taken). */
static inline void net_wake_force(struct net_wake *w, const char *who)
{
	__atomic_store_n(&w->pending, 0, __ATOMIC_RELEASE);
	net_wake(w, who);
}

/* On the thread, when poll() found fd readable: takes the wake-up. */
static inline void net_wake_taken(struct net_wake *w, const char *who)
{
	u64 v;

	__atomic_store_n(&w->pending, 0, __ATOMIC_RELEASE);
	if (read(w->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn_once("%s: wake-up: %m", who);
}

static inline void net_wake_destroy(struct net_wake *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

#endif
