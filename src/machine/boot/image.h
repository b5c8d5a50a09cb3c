/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_BOOT_IMAGE_H
#define KILN_MACHINE_BOOT_IMAGE_H

#include "lib/types.h"
#include "lib/unaligned.h"

/*
 * A kernel file read whole into host memory. Every look at its bytes goes
 * through image_at(), which checks the range against the file's size, so a
 * truncated or hostile file can never make the loader read past its end.
 */
struct boot_image {
	const char *path;
	u8 *data;
	u64 size;
};

/* Reads path; refuses files larger than max_size. Prints why on error. */
int boot_image_read(const char *path, u64 max_size, struct boot_image *img);
void boot_image_free(struct boot_image *img);

/* Opens a regular file for reading and gives its size; what names it in errors. */
int boot_open_regular(const char *what, const char *path, u64 *size);
/* Reads exactly len bytes; -1 on error or early end of file. */
int boot_read_full(int fd, void *buf, u64 len);

/* The bytes [off, off + len) of the file, or NULL when any is past its end. */
static inline const u8 *image_at(const struct boot_image *img, u64 off, u64 len)
{
	if (off > img->size || len > img->size - off)
		return NULL;
	return img->data + off;
}

#endif
