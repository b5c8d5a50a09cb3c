// SPDX-License-Identifier: Apache-2.0
/* Raw disk images: opening, sizing, and the synchronous I/O both backends share. */
#include "backend/disk_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

#define POOL_THREADS	4
#define ZERO_CHUNK	(64 * KiB)

int disk_aio_parse(const char *s, enum disk_aio *out)
{
	if (!strcmp(s, "auto"))
		*out = DISK_AIO_AUTO;
	else if (!strcmp(s, "io_uring"))
		*out = DISK_AIO_IO_URING;
	else if (!strcmp(s, "threads"))
		*out = DISK_AIO_THREADS;
	else
		return -1;
	return 0;
}

static int image_size(const char *path, int fd, u64 *size)
{
	struct stat st;

	if (fstat(fd, &st)) {
		pr_err("disk %s: %m", path);
		return -1;
	}
	if (S_ISREG(st.st_mode)) {
		*size = st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size)) {
			pr_err("disk %s: cannot get the block device's size: %m", path);
			return -1;
		}
	} else {
		pr_err("disk %s: not a regular file or block device", path);
		return -1;
	}
	if (*size < DISK_SECTOR) {
		pr_err("disk %s: %llu bytes is smaller than one %d-byte sector", path,
		       (unsigned long long)*size, DISK_SECTOR);
		return -1;
	}
	if (*size % DISK_SECTOR) {
		pr_warn("disk %s: %llu bytes is not a multiple of %d; the last %llu bytes are not used",
			path, (unsigned long long)*size, DISK_SECTOR,
			(unsigned long long)(*size % DISK_SECTOR));
		*size = ALIGN_DOWN(*size, (u64)DISK_SECTOR);
	}
	return 0;
}

struct disk *disk_open(const char *path, bool read_only, enum disk_aio aio)
{
	struct disk *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0) {
		pr_err("disk %s: %m%s", path, read_only ? "" : " (add ,ro for a read-only disk)");
		free(d);
		return NULL;
	}
	d->path = strdup(path);
	d->read_only = read_only;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->idle, NULL);
	if (!d->path || image_size(path, d->fd, &d->size))
		goto fail;
	if (aio != DISK_AIO_THREADS) {
		if (disk_uring_start(d) == 0)
			return d;
		if (aio == DISK_AIO_IO_URING) {
			pr_err("disk %s: io_uring is unavailable here (try aio=threads)", path);
			goto fail;
		}
		pr_info("disk %s: io_uring is unavailable; using worker threads", path);
	}
	if (disk_pool_start(d, POOL_THREADS) == 0)
		return d;
	pr_err("disk %s: cannot start the I/O threads", path);
fail:
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->idle);
	close(d->fd);
	free(d->path);
	free(d);
	return NULL;
}

void disk_close(struct disk *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	while (d->inflight)
		pthread_cond_wait(&d->idle, &d->lock);
	pthread_mutex_unlock(&d->lock);
	if (d->uring)
		disk_uring_stop(d);
	if (d->pool)
		disk_pool_stop(d);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->idle);
	close(d->fd);
	free(d->path);
	free(d);
}

u64 disk_size(const struct disk *d)
{
	return d->size;
}

bool disk_read_only(const struct disk *d)
{
	return d->read_only;
}

const char *disk_backend_name(const struct disk *d)
{
	return d->uring ? "io_uring" : "threads";
}

void disk_submit(struct disk *d, struct disk_request *req)
{
	pthread_mutex_lock(&d->lock);
	d->inflight++;
	pthread_mutex_unlock(&d->lock);
	req->done = 0;
	if (d->uring)
		disk_uring_submit(d, req);
	else
		disk_pool_submit(d, req);
}

void disk_finish(struct disk *d, struct disk_request *req, int err)
{
	req->complete(req, err);
	pthread_mutex_lock(&d->lock);
	if (--d->inflight == 0)
		pthread_cond_broadcast(&d->idle);
	pthread_mutex_unlock(&d->lock);
}

/* Reads or writes what is left of req from req->done on. */
static int rw_sync(struct disk *d, struct disk_request *req)
{
	struct iovec *iov = malloc(req->iovcnt * sizeof(*iov));
	u64 total = 0, skip = req->done;
	unsigned int first = 0;
	int err = 0;

	if (!iov)
		return -ENOMEM;
	memcpy(iov, req->iov, req->iovcnt * sizeof(*iov));
	for (unsigned int i = 0; i < req->iovcnt; i++)
		total += iov[i].iov_len;
	while (req->done < total) {
		ssize_t n;

		/* Drop what is done from the front of the vector. */
		while (first < req->iovcnt && skip >= iov[first].iov_len)
			skip -= iov[first++].iov_len;
		iov[first].iov_base = (u8 *)iov[first].iov_base + skip;
		iov[first].iov_len -= skip;
		skip = 0;
		n = req->op == DISK_READ ?
		    preadv(d->fd, &iov[first], MIN(req->iovcnt - first, (unsigned int)IOV_MAX),
			   req->offset + req->done) :
		    pwritev(d->fd, &iov[first], MIN(req->iovcnt - first, (unsigned int)IOV_MAX),
			    req->offset + req->done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;	/* 0: the file shrank under us */
			break;
		}
		req->done += n;
		skip = n;
	}
	free(iov);
	return err;
}

static int write_zeroes_by_hand(struct disk *d, u64 offset, u64 len)
{
	static const u8 zeroes[ZERO_CHUNK];

	while (len) {
		ssize_t n = pwrite(d->fd, zeroes, MIN(len, (u64)ZERO_CHUNK), offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		offset += n;
		len -= n;
	}
	return 0;
}

static bool unsupported(int err)
{
	return err == EOPNOTSUPP || err == ENOSYS || err == EINVAL;
}

int disk_fallocate_mode(const struct disk *d, const struct disk_request *req)
{
	if (req->op == DISK_DISCARD || req->unmap)
		return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	return __atomic_load_n(&d->no_zero_range, __ATOMIC_RELAXED) ? -1 :
	       FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
}

static int write_zeroes_sync(struct disk *d, struct disk_request *req)
{
	if (req->unmap) {
		if (!fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, req->offset,
			       req->len))
			return 0;
		if (!unsupported(errno))
			return -errno;
	}
	if (!__atomic_load_n(&d->no_zero_range, __ATOMIC_RELAXED)) {
		if (!fallocate(d->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, req->offset,
			       req->len))
			return 0;
		if (!unsupported(errno))
			return -errno;
		/* tmpfs and some others: remember, and write zeroes from now on. */
		__atomic_store_n(&d->no_zero_range, true, __ATOMIC_RELAXED);
	}
	return write_zeroes_by_hand(d, req->offset, req->len);
}

int disk_exec_sync(struct disk *d, struct disk_request *req)
{
	switch (req->op) {
	case DISK_READ:
	case DISK_WRITE:
		return rw_sync(d, req);
	case DISK_FLUSH:
		return fdatasync(d->fd) ? -errno : 0;
	case DISK_DISCARD:
		/* A hint: where holes cannot be punched, the data just stays. */
		if (fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, req->offset,
			      req->len) && !unsupported(errno))
			return -errno;
		return 0;
	case DISK_WRITE_ZEROES:
		return write_zeroes_sync(d, req);
	}
	return -EINVAL;
}
