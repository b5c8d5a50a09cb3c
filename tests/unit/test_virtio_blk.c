// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk through the test driver against a temporary image, with both
 * disk backends (io_uring, then worker threads): every request type,
 * checked against the file's bytes, the error statuses, read-only disks,
 * malformed requests, reset with I/O in flight, and bad images.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine/vm.h"
#include "virtio/virtio_dev.h"
#include "virtio/virtio_devices.h"
#include "virtio_test_driver.h"

#define DISK_BYTES	(1 * MiB)
#define QSIZE		256
#define MAX_QSIZE	512	/* the device's: seg_max follows it */
#define FEATURES	(1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_RING_F_INDIRECT_DESC | \
			 1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_DISCARD | \
			 1ULL << VIRTIO_BLK_F_WRITE_ZEROES | 1ULL << VIRTIO_BLK_F_RO | \
			 1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_SEG_MAX)
#define CFG(field)	offsetof(struct virtio_blk_config, field)

static enum disk_aio test_aio;
static const char *dir;

struct fixture {
	struct vm *vm;
	struct vtd_dev d;
	char path[256];
	int fd;
	u64 hdr, data, status;	/* guest buffers */
};

static u8 pattern(u64 i)
{
	return (u8)(i * 7 + (i >> 9) * 13 + 1);
}

static void make_image(struct fixture *f, u64 size)
{
	u8 *buf = malloc(size);

	snprintf(f->path, sizeof(f->path), "%s/kiln-blk-XXXXXX", dir);
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	for (u64 i = 0; i < size; i++)
		buf[i] = pattern(i);
	assert_int_equal(pwrite(f->fd, buf, size, 0), (ssize_t)size);
	free(buf);
}

static int start_disk(void **state, bool ro)
{
	static struct fixture f;
	struct virtio_blk_options o = { .read_only = ro, .id = "kiln-test-disk", .aio = test_aio };

	memset(&f, 0, sizeof(f));
	make_image(&f, DISK_BYTES);
	f.vm = vtd_vm_create();
	if (!f.vm)
		return -1;
	o.path = f.path;
	if (!virtio_blk_create(f.vm, &o) || vtd_probe(f.vm, VIRTIO_ID_BLOCK, &f.d) ||
	    vtd_negotiate(&f.d, FEATURES))
		return -1;
	vtd_enable_msix(&f.d);
	if (vtd_setup_queue(&f.d, 0, QSIZE, 0))
		return -1;
	vtd_common_write(&f.d, VIRTIO_PCI_COMMON_MSIX, 1, 2);
	vtd_driver_ok(&f.d);
	f.hdr = vtd_alloc(f.vm, 4096, 4096);
	f.status = f.hdr + 2048;
	f.data = vtd_alloc(f.vm, 1 * MiB, 4096);
	*state = &f;
	return 0;
}

static int setup(void **state)
{
	return start_disk(state, false);
}

static int setup_ro(void **state)
{
	return start_disk(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vtd_vm_destroy(f->vm);
	close(f->fd);
	unlink(f->path);
	return 0;
}

static void put_hdr(struct fixture *f, u32 type, u64 sector)
{
	u8 h[16] = { 0 };

	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	vtd_mem_write(f->vm, f->hdr, h, 16);
	vtd_mem_write(f->vm, f->status, "\xee", 1);
}

/*
 * Sends one request: header, data in nseg pieces (device-writable when
 * dev_writes), status. Returns the status byte, or -1 on timeout.
 */
static int request_segs(struct fixture *f, u32 type, u64 sector, u32 len, bool dev_writes,
			unsigned int nseg, bool indirect, u32 *used_len)
{
	struct vtd_buf b[8];
	unsigned int n = 0;
	u32 id, ulen, off = 0;
	u8 status;

	put_hdr(f, type, sector);
	b[n++] = (struct vtd_buf){ f->hdr, 16, false };
	for (unsigned int s = 0; s < nseg && len; s++) {
		u32 piece = s + 1 < nseg ? len / nseg + 8 * s : len - off;

		b[n++] = (struct vtd_buf){ f->data + off, piece, dev_writes };
		off += piece;
	}
	b[n++] = (struct vtd_buf){ f->status, 1, true };
	vtd_add_chain(&f->d, 0, b, n, indirect);
	vtd_kick(&f->d, 0);
	if (vtd_wait_used(&f->d, 0, 5000, &id, &ulen))
		return -1;
	if (used_len)
		*used_len = ulen;
	vtd_mem_read(f->vm, f->status, &status, 1);
	return status;
}

static int request(struct fixture *f, u32 type, u64 sector, u32 len, bool dev_writes)
{
	return request_segs(f, type, sector, len, dev_writes, 1, false, NULL);
}

static void check_file(struct fixture *f, u64 off, const u8 *want, u64 len)
{
	u8 *got = malloc(len);

	assert_int_equal(pread(f->fd, got, len, off), (ssize_t)len);
	assert_memory_equal(got, want, len);
	free(got);
}

static void check_file_zero(struct fixture *f, u64 off, u64 len)
{
	u8 *zero = calloc(1, len);

	check_file(f, off, zero, len);
	free(zero);
}

static void test_config(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vtd_bar_read(&f->d, f->d.device + CFG(capacity), 8), DISK_BYTES / 512);
	assert_int_equal(vtd_bar_read(&f->d, f->d.device + CFG(blk_size), 4), 512);
	assert_int_equal(vtd_bar_read(&f->d, f->d.device + CFG(seg_max), 4), MAX_QSIZE - 2);
	assert_int_equal(vtd_bar_read(&f->d, f->d.device + CFG(max_discard_seg), 4), 1);
	assert_true(f->d.features & 1ULL << VIRTIO_BLK_F_DISCARD);
	assert_true(f->d.features & 1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	assert_false(f->d.features & 1ULL << VIRTIO_BLK_F_RO);
}

static void test_read(void **state)
{
	struct fixture *f = *state;
	u8 want[4096], got[4096];
	u32 used;

	for (unsigned int i = 0; i < sizeof(want); i++)
		want[i] = pattern(3 * 512 + i);
	/* One buffer, then three uneven ones, then an indirect table. */
	assert_int_equal(request_segs(f, VIRTIO_BLK_T_IN, 3, 4096, true, 1, false, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 4096 + 1);
	vtd_mem_read(f->vm, f->data, got, sizeof(got));
	assert_memory_equal(got, want, sizeof(want));
	for (int indirect = 0; indirect < 2; indirect++) {
		memset(vtd_hva(f->vm, f->data), 0, sizeof(got));
		assert_int_equal(request_segs(f, VIRTIO_BLK_T_IN, 3, 4096, true, 3, indirect,
					      NULL), VIRTIO_BLK_S_OK);
		vtd_mem_read(f->vm, f->data, got, sizeof(got));
		assert_memory_equal(got, want, sizeof(want));
	}
	/* The last sector is readable. */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, DISK_BYTES / 512 - 1, 512, true),
			 VIRTIO_BLK_S_OK);
}

static void test_write(void **state)
{
	struct fixture *f = *state;
	u8 buf[8192];

	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = i * 31 + 5;
	vtd_mem_write(f->vm, f->data, buf, sizeof(buf));
	assert_int_equal(request_segs(f, VIRTIO_BLK_T_OUT, 10, sizeof(buf), false, 3, true, NULL),
			 VIRTIO_BLK_S_OK);
	check_file(f, 10 * 512, buf, sizeof(buf));
	/* Its neighbours are untouched. */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 9, 512, true), VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(((u8 *)vtd_hva(f->vm, f->data))[i], pattern(9 * 512 + i));
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
}

static void test_discard_and_write_zeroes(void **state)
{
	struct fixture *f = *state;
	struct virtio_blk_discard_write_zeroes seg = { .sector = 16, .num_sectors = 16 };

	vtd_mem_write(f->vm, f->data, &seg, sizeof(seg));
	assert_int_equal(request(f, VIRTIO_BLK_T_DISCARD, 0, sizeof(seg), false), VIRTIO_BLK_S_OK);
	/* Punched: the file reads zeroes there (both /tmp file systems can). */
	check_file_zero(f, 16 * 512, 16 * 512);

	seg = (struct virtio_blk_discard_write_zeroes){ .sector = 40, .num_sectors = 3 };
	vtd_mem_write(f->vm, f->data, &seg, sizeof(seg));
	assert_int_equal(request(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg), false),
			 VIRTIO_BLK_S_OK);
	check_file_zero(f, 40 * 512, 3 * 512);
	seg = (struct virtio_blk_discard_write_zeroes){
		.sector = 100, .num_sectors = 9, .flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP,
	};
	vtd_mem_write(f->vm, f->data, &seg, sizeof(seg));
	assert_int_equal(request(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg), false),
			 VIRTIO_BLK_S_OK);
	check_file_zero(f, 100 * 512, 9 * 512);
	/* The sectors around them kept their data. */
	{
		u8 b[512];

		for (unsigned int i = 0; i < 512; i++)
			b[i] = pattern(109 * 512 + i);
		check_file(f, 109 * 512, b, 512);
		for (unsigned int i = 0; i < 512; i++)
			b[i] = pattern(39 * 512 + i);
		check_file(f, 39 * 512, b, 512);
	}
}

static void test_get_id(void **state)
{
	struct fixture *f = *state;
	char id[VIRTIO_BLK_ID_BYTES] = "kiln-test-disk";
	u32 used;

	memset(vtd_hva(f->vm, f->data), 0xff, 64);
	assert_int_equal(request_segs(f, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true, 1,
				      false, &used), VIRTIO_BLK_S_OK);
	assert_memory_equal(vtd_hva(f->vm, f->data), id, sizeof(id));
	assert_int_equal(used, VIRTIO_BLK_ID_BYTES + 1);
	/* A shorter buffer gets what fits. */
	assert_int_equal(request_segs(f, VIRTIO_BLK_T_GET_ID, 0, 4, true, 1, false, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 5);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	struct virtio_blk_discard_write_zeroes segs[2] = {
		{ .sector = 0, .num_sectors = 1 }, { .sector = 8, .num_sectors = 1 },
	};

	/* Beyond the end, straddling it, wrapping u64, not whole sectors. */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, DISK_BYTES / 512, 512, true),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, DISK_BYTES / 512 - 1, 1024, false),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, ~0ULL - 1, 1024, true), VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 100, true), VIRTIO_BLK_S_IOERR);
	/* Unknown types and unsupported forms. */
	assert_int_equal(request(f, 0x77, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
	vtd_mem_write(f->vm, f->data, segs, sizeof(segs));
	assert_int_equal(request(f, VIRTIO_BLK_T_DISCARD, 0, sizeof(segs), false),
			 VIRTIO_BLK_S_UNSUPP);
	segs[0].flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	vtd_mem_write(f->vm, f->data, segs, sizeof(segs[0]));
	assert_int_equal(request(f, VIRTIO_BLK_T_DISCARD, 0, sizeof(segs[0]), false),
			 VIRTIO_BLK_S_UNSUPP);
	segs[0] = (struct virtio_blk_discard_write_zeroes){ .sector = 2047, .num_sectors = 2 };
	vtd_mem_write(f->vm, f->data, segs, sizeof(segs[0]));
	assert_int_equal(request(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(segs[0]), false),
			 VIRTIO_BLK_S_IOERR);
	/* None of that hurt the device. */
	assert_false(vtd_status(&f->d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512, true), VIRTIO_BLK_S_OK);
}

static void test_read_only(void **state)
{
	struct fixture *f = *state;
	u8 orig[4096];

	assert_true(f->d.features & 1ULL << VIRTIO_BLK_F_RO);
	assert_false(f->d.features & 1ULL << VIRTIO_BLK_F_DISCARD);
	assert_false(f->d.features & 1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	for (unsigned int i = 0; i < sizeof(orig); i++)
		orig[i] = pattern(i);
	memset(vtd_hva(f->vm, f->data), 0x5a, 4096);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, 4096, false), VIRTIO_BLK_S_IOERR);
	check_file(f, 0, orig, sizeof(orig));
	/* Not negotiated, so unsupported, whatever the payload. */
	assert_int_equal(request(f, VIRTIO_BLK_T_DISCARD, 0, 16, false), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 4096, true), VIRTIO_BLK_S_OK);
	assert_memory_equal(vtd_hva(f->vm, f->data), orig, sizeof(orig));
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
}

/* A chain the device cannot read as a request breaks it; nothing else happens. */
static void malformed(struct fixture *f, const struct vtd_buf *b, unsigned int n)
{
	u8 before[512];

	assert_int_equal(pread(f->fd, before, sizeof(before), 0), 512);
	vtd_add_chain(&f->d, 0, b, n, false);
	vtd_kick(&f->d, 0);
	assert_true(vtd_status(&f->d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(vtd_used_idx(&f->d, 0), f->d.q[0].last_used);
	assert_int_equal(vtd_msi_count(VTD_MSI_DATA(1)), 1);
	check_file(f, 0, before, sizeof(before));
}

static void test_malformed_short_header(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b[2] = { { f->hdr, 8, false }, { f->status, 1, true } };

	malformed(f, b, 2);
}

static void test_malformed_no_status(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b[2] = { { f->hdr, 16, false }, { f->data, 512, false } };

	put_hdr(f, VIRTIO_BLK_T_OUT, 0);
	malformed(f, b, 2);
}

static void test_malformed_read_with_readable_data(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b[3] = {
		{ f->hdr, 16, false }, { f->data, 512, false }, { f->status, 1, true },
	};

	put_hdr(f, VIRTIO_BLK_T_IN, 0);
	malformed(f, b, 3);
}

static void test_malformed_write_with_writable_data(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b[3] = {
		{ f->hdr, 16, false }, { f->data, 512, true }, { f->status, 1, true },
	};

	put_hdr(f, VIRTIO_BLK_T_OUT, 0);
	malformed(f, b, 3);
}

/* Header and status in one readable+writable pair of odd splits. */
static void test_any_layout(void **state)
{
	struct fixture *f = *state;
	struct vtd_buf b[4];
	u32 id, len;

	put_hdr(f, VIRTIO_BLK_T_IN, 1);
	/* The header in two pieces; data and status in one writable buffer. */
	b[0] = (struct vtd_buf){ f->hdr, 5, false };
	b[1] = (struct vtd_buf){ f->hdr + 5, 11, false };
	b[2] = (struct vtd_buf){ f->data, 300, true };
	b[3] = (struct vtd_buf){ f->data + 300, 213, true };
	vtd_add_chain(&f->d, 0, b, 4, false);
	vtd_kick(&f->d, 0);
	assert_int_equal(vtd_wait_used(&f->d, 0, 5000, &id, &len), 0);
	assert_int_equal(len, 513);
	assert_int_equal(((u8 *)vtd_hva(f->vm, f->data))[512], VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(((u8 *)vtd_hva(f->vm, f->data))[i], pattern(512 + i));
}

static void test_many_in_flight(void **state)
{
	struct fixture *f = *state;
	enum { N = 200 };
	u64 bufs = vtd_alloc(f->vm, N * 4096, 4096), st = vtd_alloc(f->vm, N, 1);
	u64 hdrs = vtd_alloc(f->vm, N * 16, 16);
	bool seen[N] = { false };

	for (unsigned int i = 0; i < N; i++) {
		u8 h[16] = { 0 };
		u64 sector = (i * 8) % (DISK_BYTES / 512);
		struct vtd_buf b[3] = {
			{ hdrs + 16 * i, 16, false }, { bufs + 4096ULL * i, 4096, true },
			{ st + i, 1, true },
		};

		memcpy(h + 8, &sector, 8);
		vtd_mem_write(f->vm, hdrs + 16 * i, h, 16);
		vtd_add_chain(&f->d, 0, b, 3, true);
	}
	vtd_kick(&f->d, 0);
	for (unsigned int i = 0; i < N; i++) {
		u32 id, len;

		assert_int_equal(vtd_wait_used(&f->d, 0, 5000, &id, &len), 0);
		assert_true(id < QSIZE && !seen[id]);
		seen[id] = true;
	}
	for (unsigned int i = 0; i < N; i++) {
		u64 sector = (i * 8) % (DISK_BYTES / 512);

		assert_int_equal(((u8 *)vtd_hva(f->vm, st))[i], VIRTIO_BLK_S_OK);
		assert_int_equal(((u8 *)vtd_hva(f->vm, bufs + 4096ULL * i))[77],
				 pattern(sector * 512 + 77));
	}
}

static bool status_zero(void *arg)
{
	return vtd_status(arg) == 0;
}

static void test_reset_in_flight(void **state)
{
	struct fixture *f = *state;
	u64 st = vtd_alloc(f->vm, 64, 1);
	u16 used;

	for (unsigned int i = 0; i < 64; i++) {
		struct vtd_buf b[3] = {
			{ f->hdr, 16, false }, { f->data + 8192ULL * i, 8192, false },
			{ st + i, 1, true },
		};

		put_hdr(f, VIRTIO_BLK_T_OUT, 16 * i);
		vtd_add_chain(&f->d, 0, b, 3, true);
	}
	vtd_kick(&f->d, 0);
	vtd_set_status(&f->d, 0);
	assert_true(vtd_wait_for(status_zero, &f->d, 5000));
	/* Once the status reads 0, the device touches the rings no more. */
	used = vtd_used_idx(&f->d, 0);
	usleep(50 * 1000);
	assert_int_equal(vtd_used_idx(&f->d, 0), used);
	/* And it comes back. */
	assert_int_equal(vtd_negotiate(&f->d, FEATURES), 0);
	assert_int_equal(vtd_setup_queue(&f->d, 0, QSIZE, 0), 0);
	vtd_driver_ok(&f->d);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512, true), VIRTIO_BLK_S_OK);
}

static void test_bad_images(void **state)
{
	struct vm *vm = vtd_vm_create();
	struct virtio_blk_options o = { .aio = test_aio };
	char path[256];
	int fd;

	(void)state;
	assert_non_null(vm);
	o.path = "/nonexistent/kiln-disk.img";
	assert_null(virtio_blk_create(vm, &o));
	snprintf(path, sizeof(path), "%s/kiln-small-XXXXXX", dir);
	fd = mkstemp(path);
	assert_int_equal(write(fd, path, 100), 100);
	o.path = path;
	assert_null(virtio_blk_create(vm, &o));		/* smaller than a sector */
	o.id = "an id longer than twenty bytes";
	assert_int_equal(ftruncate(fd, 1000), 0);
	assert_null(virtio_blk_create(vm, &o));
	/* 1000 bytes: rounded down to one sector, with a warning. */
	o.id = NULL;
	assert_non_null(virtio_blk_create(vm, &o));
	{
		struct vtd_dev d;

		assert_int_equal(vtd_probe(vm, VIRTIO_ID_BLOCK, &d), 0);
		assert_int_equal(vtd_bar_read(&d, d.device + CFG(capacity), 8), 1);
	}
	vtd_vm_destroy(vm);
	close(fd);
	unlink(path);
}

static int group_uring(void **state)
{
	(void)state;
	test_aio = DISK_AIO_IO_URING;
	return 0;
}

static int group_threads(void **state)
{
	(void)state;
	test_aio = DISK_AIO_THREADS;
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config),
		T(test_read),
		T(test_write),
		T(test_discard_and_write_zeroes),
		T(test_get_id),
		T(test_errors),
		cmocka_unit_test_setup_teardown(test_read_only, setup_ro, teardown),
		T(test_malformed_short_header),
		T(test_malformed_no_status),
		T(test_malformed_read_with_readable_data),
		T(test_malformed_write_with_writable_data),
		T(test_any_layout),
		T(test_many_in_flight),
		T(test_reset_in_flight),
		cmocka_unit_test(test_bad_images),
	};
	int failed = 0;

	/* Both file systems: ext4 has ZERO_RANGE, tmpfs makes us write zeroes. */
	dir = "/tmp";
	failed += cmocka_run_group_tests_name("virtio-blk io_uring /tmp", tests, group_uring, NULL);
	failed += cmocka_run_group_tests_name("virtio-blk threads /tmp", tests, group_threads, NULL);
	if (access("/dev/shm", W_OK) == 0) {
		dir = "/dev/shm";
		failed += cmocka_run_group_tests_name("virtio-blk io_uring /dev/shm", tests,
						      group_uring, NULL);
		failed += cmocka_run_group_tests_name("virtio-blk threads /dev/shm", tests,
						      group_threads, NULL);
	}
	return failed;
}
