// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/image.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

/* Reads exactly len bytes from fd into buf; -1 on error or early EOF. */
int boot_read_full(int fd, void *buf, u64 len)
{
	u8 *p = buf;

	while (len) {
		ssize_t n = read(fd, p, MIN(len, (u64)1 << 30));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (u64)n;
	}
	return 0;
}

int boot_open_regular(const char *what, const char *path, u64 *size)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("%s %s: cannot open: %m", what, path);
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		pr_err("%s %s: not a regular file", what, path);
		close(fd);
		return -1;
	}
	*size = (u64)st.st_size;
	return fd;
}

int boot_image_read(const char *path, u64 max_size, struct boot_image *img)
{
	u64 size;
	int fd;

	memset(img, 0, sizeof(*img));
	img->path = path;
	fd = boot_open_regular("kernel", path, &size);
	if (fd < 0)
		return -1;
	if (size == 0) {
		pr_err("kernel %s: empty file", path);
		goto fail;
	}
	if (size > max_size) {
		pr_err("kernel %s: %" PRIu64 " bytes do not fit in %" PRIu64
		       " bytes of guest RAM", path, size, max_size);
		goto fail;
	}
	img->data = malloc(size);
	if (!img->data) {
		pr_err("kernel %s: out of memory for %" PRIu64 " bytes", path, size);
		goto fail;
	}
	if (boot_read_full(fd, img->data, size)) {
		pr_err("kernel %s: read error", path);
		goto fail;
	}
	img->size = size;
	close(fd);
	return 0;
fail:
	free(img->data);
	img->data = NULL;
	close(fd);
	return -1;
}

void boot_image_free(struct boot_image *img)
{
	free(img->data);
	img->data = NULL;
	img->size = 0;
}
