/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_BACKEND_DISK_INTERNAL_H
#define KILN_BACKEND_DISK_INTERNAL_H

#include <pthread.h>

#include "backend/disk.h"

/* Shared by disk.c and the two backends, disk_uring.c and disk_thread.c. */

struct disk_uring;
struct disk_pool;

struct disk {
	char *path;
	int fd;
	bool read_only;
	u64 size;

	struct disk_uring *uring;	/* one of these two */
	struct disk_pool *pool;

	/* Requests submitted and not completed; disk_close() waits for 0. */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned int inflight;

	bool no_zero_range;		/* FALLOC_FL_ZERO_RANGE is unsupported here */
};

/* Runs req to the end on the calling thread; 0 or -errno. */
int disk_exec_sync(struct disk *d, struct disk_request *req);

/* Hands req back to its owner and drops the in-flight count. */
void disk_finish(struct disk *d, struct disk_request *req, int err);

/* The fallocate() mode for a DISCARD or WRITE_ZEROES request. */
int disk_fallocate_mode(const struct disk *d, const struct disk_request *req);

int disk_uring_start(struct disk *d);
void disk_uring_stop(struct disk *d);
void disk_uring_submit(struct disk *d, struct disk_request *req);

int disk_pool_start(struct disk *d, unsigned int nr_threads);
void disk_pool_stop(struct disk *d);
void disk_pool_submit(struct disk *d, struct disk_request *req);

#endif
