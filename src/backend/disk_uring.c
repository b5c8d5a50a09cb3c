// SPDX-License-Identifier: Apache-2.0
/*
 * The io_uring disk backend. Submitters (vCPU threads, in a device's
 * notify handler) only queue SQEs and call io_uring_submit(), which does
 * not wait for the disk; one completion thread per disk waits on the CQ
 * and completes requests. The rare request io_uring cannot finish (a
 * short transfer, zeroing where the file system has no ZERO_RANGE) is
 * finished with blocking calls on that completion thread, never on the
 * submitter's.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#include "backend/disk_internal.h"
#include "lib/log.h"

#define RING_ENTRIES	512

struct disk_uring {
	struct io_uring ring;
	pthread_mutex_t sq_lock;	/* liburing's SQ has one producer at a time */
	pthread_t thread;
};

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

static void *completion_thread(void *arg)
{
	struct disk *d = arg;
	struct disk_uring *u = d->uring;

	for (;;) {
		struct io_uring_cqe *cqe;
		struct disk_request *req;
		int ret, res;

		ret = io_uring_wait_cqe(&u->ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			pr_err("disk %s: io_uring_wait_cqe: %s", d->path, strerror(-ret));
			return NULL;
		}
		req = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		if (!req)
			return NULL;	/* disk_uring_stop()'s sentinel */
		reaped(d, req, res);
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
	}
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
	pthread_mutex_init(&u->sq_lock, NULL);
	d->uring = u;
	if (pthread_create(&u->thread, NULL, completion_thread, d)) {
		d->uring = NULL;
		pthread_mutex_destroy(&u->sq_lock);
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
	if (!sqe)
		pthread_cancel(u->thread);	/* cannot happen with nothing in flight */
	pthread_join(u->thread, NULL);
	pthread_mutex_destroy(&u->sq_lock);
	io_uring_queue_exit(&u->ring);
	free(u);
	d->uring = NULL;
}
