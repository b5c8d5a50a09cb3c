// SPDX-License-Identifier: Apache-2.0
/*
 * The io_uring disk backend. Submitters (vCPU threads, in a device's
 * notify handler) only queue SQEs and call io_uring_submit(), which does
 * not wait for the disk; one completion thread per disk waits on the CQ
 * and completes requests. The rare request io_uring cannot finish (a
 * short transfer, zeroing where the file system has no ZERO_RANGE) is
 * finished with blocking calls on that completion thread, never on the
 * submitter's.
 *
 * A read or write the page cache can serve completes inside
 * io_uring_submit(). The submitter then reaps it itself (reap_inline):
 * the request is done, and its interrupt raised, before the vCPU goes
 * back to the guest, with no wake-up of the completion thread and of the
 * vCPU in between. On a loaded host each of those wake-ups can wait for
 * a time slice; measured with the Linux guest on the soft engine (4 KiB
 * random reads at queue depth 1, load average 11), the VMM ran only a
 * quarter of the wall time. The completion thread still wakes for every
 * completion (it sleeps on an eventfd io_uring signals), but the vCPU no
 * longer waits for it. Not io_uring_register_eventfd_async(), which would
 * spare those wake-ups: it stays silent for completions posted from task
 * work in the submitter's context (a read that had to wait for a page),
 * and such a completion would sit on the CQ unseen; a guest's random
 * reads hung on it. cq_lock makes the CQ single-consumer; the submitter
 * only tries it, and stops at a completion that needs blocking work;
 * whatever it leaves on the CQ it nudges the thread for.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend/disk_internal.h"
#include "lib/log.h"

#define RING_ENTRIES	512

struct disk_uring {
	struct io_uring ring;
	pthread_mutex_t sq_lock;	/* liburing's SQ has one producer at a time */
	pthread_mutex_t cq_lock;	/* and its CQ one consumer */
	int efd;			/* wakes the completion thread */
	pthread_t thread;
};

/* A completion taken off the CQ, finished after cq_lock is dropped. */
struct reaped_cqe {
	struct disk_request *req;
	int res;
};

#define REAP_BATCH	32

static void finish_by_hand(struct disk *d, struct disk_request *req)
{
	disk_finish(d, req, disk_exec_sync(d, req));
}

static u64 rw_total(const struct disk_request *req)
{
	u64 total = 0;

	for (unsigned int i = 0; i < req->iovcnt; i++)
		total += req->iov[i].iov_len;
	return total;
}

static void reaped(struct disk *d, struct disk_request *req, int res)
{
	if (req->sync) {
		finish_by_hand(d, req);
		return;
	}
	switch (req->op) {
	case DISK_READ:
	case DISK_WRITE:
		if (res <= 0) {
			disk_finish(d, req, res < 0 ? res : -EIO);
			return;
		}
		req->done = res;
		if (req->done < rw_total(req))
			finish_by_hand(d, req);	/* short: do the rest */
		else
			disk_finish(d, req, 0);
		return;
	case DISK_DISCARD:
		disk_finish(d, req, res == -EOPNOTSUPP || res == -EINVAL ? 0 : res);
		return;
	case DISK_WRITE_ZEROES:
		if (res == -EOPNOTSUPP || res == -EINVAL)
			finish_by_hand(d, req);	/* learns no_zero_range, writes zeroes */
		else
			disk_finish(d, req, res);
		return;
	case DISK_FLUSH:
		disk_finish(d, req, res);
		return;
	}
}

/* Whether the submitter may finish this completion: nothing left that blocks. */
static bool finishes_at_once(const struct disk_request *req, int res)
{
	if (!req || req->sync)
		return false;
	switch (req->op) {
	case DISK_READ:
	case DISK_WRITE:
		return res <= 0 || (u64)res >= rw_total(req);
	case DISK_WRITE_ZEROES:
		return res != -EOPNOTSUPP && res != -EINVAL;
	default:
		return true;
	}
}

/*
 * Takes up to REAP_BATCH completions off the CQ into out, in order; with
 * only_quick, stops before the first that finishes_at_once() refuses.
 * cq_lock held.
 */
static unsigned int take_cqes(struct disk_uring *u, struct reaped_cqe *out, bool only_quick)
{
	struct io_uring_cqe *cqe;
	unsigned int n = 0;

	while (n < REAP_BATCH && io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		struct disk_request *req = io_uring_cqe_get_data(cqe);

		if (only_quick && !finishes_at_once(req, cqe->res))
			break;
		out[n++] = (struct reaped_cqe){ req, cqe->res };
		io_uring_cqe_seen(&u->ring, cqe);
		if (!req)
			break;		/* disk_uring_stop()'s sentinel: nothing follows */
	}
	return n;
}

static void nudge(struct disk_uring *u)
{
	u64 one = 1;

	if (write(u->efd, &one, sizeof(one)) < 0)
		pr_warn_once("disk: waking the completion thread: %m");
}

/* On the submitter, after io_uring_submit(): what already completed. */
static void reap_inline(struct disk *d)
{
	struct disk_uring *u = d->uring;
	struct reaped_cqe done[REAP_BATCH];
	unsigned int n;

	if (pthread_mutex_trylock(&u->cq_lock)) {
		nudge(u);	/* the thread is at it; make sure it looks again */
		return;
	}
	n = take_cqes(u, done, true);
	if (io_uring_cq_ready(&u->ring))
		nudge(u);	/* one that blocks, or more than a batch */
	pthread_mutex_unlock(&u->cq_lock);
	for (unsigned int i = 0; i < n; i++)
		reaped(d, done[i].req, done[i].res);
}

static void *completion_thread(void *arg)
{
	struct disk *d = arg;
	struct disk_uring *u = d->uring;

	for (;;) {
		struct reaped_cqe done[REAP_BATCH];
		unsigned int n;
		u64 v;

		/* Everything on the CQ, then sleep until there may be more. */
		do {
			pthread_mutex_lock(&u->cq_lock);
			n = take_cqes(u, done, false);
			pthread_mutex_unlock(&u->cq_lock);
			for (unsigned int i = 0; i < n; i++) {
				if (!done[i].req)
					return NULL;	/* disk_uring_stop()'s sentinel */
				reaped(d, done[i].req, done[i].res);
			}
		} while (n);
		if (read(u->efd, &v, sizeof(v)) < 0 && errno != EINTR) {
			pr_err("disk %s: completion eventfd: %m", d->path);
			return NULL;
		}
	}
}

/* Fills one SQE for req; sq_lock held. */
static void prep(struct disk *d, struct io_uring_sqe *sqe, struct disk_request *req)
{
	int mode;

	req->sync = false;
	switch (req->op) {
	case DISK_READ:
		io_uring_prep_readv(sqe, d->fd, req->iov, req->iovcnt, req->offset);
		break;
	case DISK_WRITE:
		io_uring_prep_writev(sqe, d->fd, req->iov, req->iovcnt, req->offset);
		break;
	case DISK_FLUSH:
		io_uring_prep_fsync(sqe, d->fd, IORING_FSYNC_DATASYNC);
		break;
	case DISK_DISCARD:
	case DISK_WRITE_ZEROES:
		mode = disk_fallocate_mode(d, req);
		if (mode >= 0) {
			io_uring_prep_fallocate(sqe, d->fd, mode, req->offset, req->len);
			break;
		}
		/* Zeroes by hand: a NOP brings it to the completion thread. */
		req->sync = true;
		io_uring_prep_nop(sqe);
		break;
	}
	io_uring_sqe_set_data(sqe, req);
}

void disk_uring_submit(struct disk *d, struct disk_request *req)
{
	struct disk_uring *u = d->uring;
	struct io_uring_sqe *sqe;
	int ret;

	pthread_mutex_lock(&u->sq_lock);
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		/* Full of unsubmitted entries: push them out and try once more. */
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	if (sqe) {
		prep(d, sqe, req);
		ret = io_uring_submit(&u->ring);
	} else {
		ret = -EBUSY;
	}
	pthread_mutex_unlock(&u->sq_lock);
	if (ret < 0) {
		pr_warn_once("disk %s: io_uring submission failed: %s", d->path, strerror(-ret));
		disk_finish(d, req, ret);
		return;
	}
	reap_inline(d);
}

int disk_uring_start(struct disk *d)
{
	struct disk_uring *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -1;
	ret = io_uring_queue_init(RING_ENTRIES, &u->ring, 0);
	if (ret < 0) {
		pr_debug("disk %s: io_uring_queue_init: %s", d->path, strerror(-ret));
		free(u);
		return -1;
	}
	u->efd = eventfd(0, EFD_CLOEXEC);
	if (u->efd < 0 || io_uring_register_eventfd(&u->ring, u->efd)) {
		pr_debug("disk %s: no io_uring eventfd: %m", d->path);
		if (u->efd >= 0)
			close(u->efd);
		io_uring_queue_exit(&u->ring);
		free(u);
		return -1;
	}
	pthread_mutex_init(&u->sq_lock, NULL);
	pthread_mutex_init(&u->cq_lock, NULL);
	d->uring = u;
	if (pthread_create(&u->thread, NULL, completion_thread, d)) {
		d->uring = NULL;
		pthread_mutex_destroy(&u->sq_lock);
		pthread_mutex_destroy(&u->cq_lock);
		close(u->efd);
		io_uring_queue_exit(&u->ring);
		free(u);
		return -1;
	}
	pthread_setname_np(u->thread, "disk-uring");
	return 0;
}

void disk_uring_stop(struct disk *d)
{
	struct disk_uring *u = d->uring;
	struct io_uring_sqe *sqe;

	/* Nothing is in flight: a NOP without a request tells the thread to go. */
	pthread_mutex_lock(&u->sq_lock);
	sqe = io_uring_get_sqe(&u->ring);
	if (sqe) {
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data(sqe, NULL);
		io_uring_submit(&u->ring);
	}
	pthread_mutex_unlock(&u->sq_lock);
	if (sqe)
		nudge(u);	/* in case the submitter's own reaping left it */
	else
		pthread_cancel(u->thread);	/* cannot happen with nothing in flight */
	pthread_join(u->thread, NULL);
	close(u->efd);
	pthread_mutex_destroy(&u->sq_lock);
	pthread_mutex_destroy(&u->cq_lock);
	io_uring_queue_exit(&u->ring);
	free(u);
	d->uring = NULL;
}
