/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_BACKEND_DISK_H
#define KILN_BACKEND_DISK_H

#include <sys/uio.h>

#include "lib/types.h"

/*
 * A raw disk image with asynchronous I/O. disk_submit() never waits for
 * the disk: requests go to io_uring (liburing), reaped by one completion
 * thread per disk, or, where io_uring cannot be set up (seccomp, old
 * kernels, or aio=threads), to a small pool of worker threads. Either way
 * the completion callback runs on a backend thread, never on the caller's.
 */

#define DISK_SECTOR	512

enum disk_op {
	DISK_READ,
	DISK_WRITE,
	DISK_FLUSH,		/* fdatasync */
	DISK_DISCARD,		/* punch a hole; a no-op where the file system can't */
	DISK_WRITE_ZEROES,	/* reads back as zeroes; may punch a hole if unmap */
};

enum disk_aio {
	DISK_AIO_AUTO,		/* io_uring, or threads when it is unavailable */
	DISK_AIO_IO_URING,
	DISK_AIO_THREADS,
};

struct disk_request {
	enum disk_op op;
	u64 offset;			/* bytes */
	u64 len;			/* DISCARD and WRITE_ZEROES: bytes */
	bool unmap;			/* WRITE_ZEROES may deallocate */
	const struct iovec *iov;	/* READ and WRITE */
	unsigned int iovcnt;
	/* 0 or -errno; runs on a backend thread. The request is the caller's again. */
	void (*complete)(struct disk_request *req, int err);

	/* The backend's. */
	struct disk_request *next;
	u64 done;
	bool sync;			/* io_uring: finish it by hand when reaped */
};

struct disk;

/*
 * Opens a raw image: read-only with O_RDONLY. Its size must be at least one
 * sector; a size that is not a multiple of 512 is rounded down, with a
 * warning. Prints why and returns NULL on failure.
 */
struct disk *disk_open(const char *path, bool read_only, enum disk_aio aio);

/* Waits for requests in flight, stops the backend's threads, closes the file. */
void disk_close(struct disk *d);

u64 disk_size(const struct disk *d);
bool disk_read_only(const struct disk *d);
/* "io_uring" or "threads". */
const char *disk_backend_name(const struct disk *d);

/* Queues req; req->complete() runs later on another thread. */
void disk_submit(struct disk *d, struct disk_request *req);

/* "io_uring", "threads" or "auto" to enum disk_aio; -1 for anything else. */
int disk_aio_parse(const char *s, enum disk_aio *out);

#endif
