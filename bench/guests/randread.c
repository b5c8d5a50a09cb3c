// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-blk benchmark's random reader, run inside the Linux guest
 * (the initramfs has busybox, which has no fio): 4 KiB reads at random
 * 4 KiB-aligned offsets of a block device, O_DIRECT (no guest page cache),
 * one at a time (queue depth 1), for SECONDS. Prints one line:
 *
 *   randread: OPS reads of 4096 bytes in SECONDS s: IOPS IOPS
 *
 * Built by bench/run with gcc -static and added to a bench-only initramfs:
 *   randread DEVICE SECONDS
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64: the same offsets on every run and every VMM. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int main(int argc, char **argv)
{
	uint64_t size, blocks, seed = 0x9e3779b97f4a7c15ull, ops = 0;
	double seconds, t0, t;
	void *buf;
	int fd;

	if (argc != 3 || (seconds = strtod(argv[2], NULL)) <= 0) {
		fprintf(stderr, "usage: randread DEVICE SECONDS\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size)) {
		perror(argv[1]);
		return 1;
	}
	blocks = size / BLOCK;
	if (!blocks || posix_memalign(&buf, BLOCK, BLOCK)) {
		fprintf(stderr, "randread: %s is too small, or no memory\n", argv[1]);
		return 1;
	}
	t0 = now();
	do {
		/* Check the clock every 64 reads: a read costs far more. */
		for (int i = 0; i < 64; i++) {
			off_t off = (off_t)(next(&seed) % blocks) * BLOCK;

			if (pread(fd, buf, BLOCK, off) != BLOCK) {
				perror("randread: pread");
				return 1;
			}
		}
		ops += 64;
		t = now() - t0;
	} while (t < seconds);
	printf("randread: %llu reads of %d bytes in %.3f s: %.0f IOPS\n",
	       (unsigned long long)ops, BLOCK, t, ops / t);
	return 0;
}
