// SPDX-License-Identifier: Apache-2.0
/* The bzImage loader, on synthetic images built here. */
#include "test_boot_vm.h"

#include <fcntl.h>

#define RAM		(256 * MiB)
#define SETUP_SECTS	4
#define SETUP_SIZE	((SETUP_SECTS + 1) * 512)
#define PAYLOAD		(64 * KiB)
#define PREF_ADDR	(16 * MiB)
#define INIT_SIZE	(8 * MiB)
#define CMDLINE		"console=ttyS0 root=/dev/vda"

struct bz {
	struct setup_header hdr;
	u8 *buf;
	size_t len;
};

/*
 * A relocatable 64-bit kernel, protocol 2.15, as a modern bzImage says.
 * The file buffer survives re-initialisation; free it once per test.
 */
static void bz_init(struct bz *bz)
{
	bz->hdr = (struct setup_header){
		.setup_sects = SETUP_SECTS,
		.boot_flag = 0xaa55,
		.jump = 0x6aeb,		/* jmp short to 0x26c: the header's end */
		.header = 0x53726448,
		.version = 0x020f,
		.loadflags = LOADFLAG_LOADED_HIGH,
		.initrd_addr_max = 0x7fffffff,
		.kernel_alignment = 2 * MiB,
		.relocatable_kernel = 1,
		.xloadflags = XLF_KERNEL_64 | 2,
		.cmdline_size = 0x7ff,
		.pref_address = PREF_ADDR,
		.init_size = INIT_SIZE,
	};
	bz->len = SETUP_SIZE + PAYLOAD;
}

/* Lays out the file from bz->hdr: setup sectors, then a patterned payload. */
static const u8 *bz_bytes(struct bz *bz)
{
	size_t setup = (size_t)((bz->hdr.setup_sects ? bz->hdr.setup_sects : 4) + 1) * 512;

	free(bz->buf);
	bz->buf = calloc(1, MAX(bz->len, setup + PAYLOAD));
	assert_non_null(bz->buf);
	memcpy(bz->buf + BZ_SETUP_SECTS, &bz->hdr, sizeof(bz->hdr));
	bz->buf[0x1ef] = 0xff;	/* the file's sentinel byte, not to be copied */
	for (size_t i = setup; i < MAX(bz->len, setup + PAYLOAD); i++)
		bz->buf[i] = (u8)(i * 7 + 3);
	return bz->buf;
}

static int bz_boot(struct test_vm *t, struct bz *bz)
{
	return test_boot(t, bz_bytes(bz), bz->len);
}

static int setup(void **state)
{
	return test_vm_setup(state, RAM, CMDLINE);
}

static void read_bp(struct test_vm *t, struct boot_params *bp)
{
	assert_int_equal(guest_read(&t->vm.mem, LAYOUT_BOOT_PARAMS, bp, sizeof(*bp)), 0);
}

static void good_bzimage_boots(void **state)
{
	struct test_vm *t = *state;
	struct boot_params bp;
	struct bz bz = { 0 };
	u8 initrd[3 * 4096 + 17];
	const u8 *img, *loaded;

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (u8)(i ^ 0x5a);
	t->cfg.initrd_path = test_vm_file(t, "initrd", initrd, sizeof(initrd));
	bz_init(&bz);
	assert_int_equal(bz_boot(t, &bz), 0);
	img = bz.buf;

	/* Relocatable and it fits: loaded at pref_address. */
	loaded = test_gpa(t, PREF_ADDR, PAYLOAD);
	assert_non_null(loaded);
	assert_memory_equal(loaded, img + SETUP_SIZE, PAYLOAD);
	test_check_long_mode(t, PREF_ADDR + 0x200);

	read_bp(t, &bp);
	test_check_boot_params(t, &bp, CMDLINE);
	/* The file's setup header is there, with the loader's fields set. */
	assert_int_equal(bp.hdr.header, 0x53726448);
	assert_int_equal(bp.hdr.version, 0x020f);
	assert_int_equal(bp.hdr.pref_address, PREF_ADDR);
	assert_int_equal(bp.hdr.init_size, INIT_SIZE);
	assert_int_equal(bp.hdr.kernel_alignment, 2 * MiB);
	assert_int_equal(bp.hdr.code32_start, PREF_ADDR);
	assert_int_not_equal(bp.hdr.heap_end_ptr, 0);
	assert_int_equal(bp.acpi_rsdp_addr, LAYOUT_ACPI_TABLES);

	/* The initrd: high, page aligned, clear of the kernel, bytes intact. */
	assert_int_equal(bp.hdr.ramdisk_size, sizeof(initrd));
	assert_int_equal(bp.ext_ramdisk_image, 0);
	assert_int_equal(bp.hdr.ramdisk_image % 4096, 0);
	assert_true(bp.hdr.ramdisk_image >= PREF_ADDR + INIT_SIZE);
	assert_true(bp.hdr.ramdisk_image + sizeof(initrd) <= RAM);
	assert_true(bp.hdr.ramdisk_image + sizeof(initrd) > RAM - 2 * 4096);
	assert_memory_equal(test_gpa(t, bp.hdr.ramdisk_image, sizeof(initrd)), initrd,
			    sizeof(initrd));
	free(bz.buf);
	t->cfg.initrd_path = NULL;
}

static void setup_sects_zero_means_four(void **state)
{
	struct test_vm *t = *state;
	struct bz bz = { 0 };

	bz_init(&bz);
	bz.hdr.setup_sects = 0;
	assert_int_equal(bz_boot(t, &bz), 0);
	assert_memory_equal(test_gpa(t, PREF_ADDR, PAYLOAD), bz.buf + 5 * 512, PAYLOAD);
	free(bz.buf);
}

static void non_relocatable_loads_at_1mib(void **state)
{
	struct test_vm *t = *state;
	struct boot_params bp;
	u8 initrd[4096] = { 1, 2, 3 };
	struct bz bz = { 0 };

	t->cfg.initrd_path = test_vm_file(t, "initrd", initrd, sizeof(initrd));
	bz_init(&bz);
	bz.hdr.relocatable_kernel = 0;
	assert_int_equal(bz_boot(t, &bz), 0);
	assert_memory_equal(test_gpa(t, 1 * MiB, PAYLOAD), bz.buf + SETUP_SIZE, PAYLOAD);
	test_check_long_mode(t, 1 * MiB + 0x200);
	read_bp(t, &bp);
	/* The kernel still runs at pref_address: the initrd stays clear of it. */
	assert_true(bp.hdr.ramdisk_image >= PREF_ADDR + INIT_SIZE);
	bz.hdr.initrd_addr_max = PREF_ADDR + 4 * MiB - 1;
	assert_int_equal(bz_boot(t, &bz), -1);
	free(bz.buf);
	t->cfg.initrd_path = NULL;
}

static void small_ram_falls_back_to_1mib(void **state)
{
	struct test_vm small;
	struct bz bz = { 0 };

	(void)state;
	assert_int_equal(test_vm_init(&small, 20 * MiB), 0);
	bz_init(&bz);
	bz.hdr.pref_address = 16 * MiB;
	bz.hdr.init_size = 2 * MiB;
	bz.hdr.kernel_alignment = 1 * MiB;
	/* 16 + 2 MiB fits in 20 MiB: pref_address. */
	assert_int_equal(bz_boot(&small, &bz), 0);
	assert_int_equal(small.st.rip, 16 * MiB + 0x200);
	/* 16 + 8 MiB does not; nor does running at 16 MiB from 1 MiB. */
	bz.hdr.init_size = 8 * MiB;
	assert_int_equal(bz_boot(&small, &bz), -1);
	/* A kernel happy anywhere (pref 1 MiB) fits from 1 MiB. */
	bz.hdr.pref_address = 1 * MiB;
	assert_int_equal(bz_boot(&small, &bz), 0);
	assert_int_equal(small.st.rip, 1 * MiB + 0x200);
	free(bz.buf);
	test_vm_destroy(&small);
}

/* 5 GiB: RAM on both sides of the PCI hole; initrd_addr_max, not RAM, caps the initrd. */
static void big_ram_splits_e820_and_caps_initrd(void **state)
{
	u8 initrd[8192] = { 0x42 };
	struct boot_params bp;
	struct test_vm big;
	struct bz bz = { 0 };

	(void)state;
	assert_int_equal(test_vm_init(&big, 5 * GiB), 0);
	big.cfg.cmdline = CMDLINE;
	big.cfg.initrd_path = test_vm_file(&big, "initrd", initrd, sizeof(initrd));
	bz_init(&bz);
	assert_int_equal(bz_boot(&big, &bz), 0);
	assert_int_equal(guest_read(&big.vm.mem, LAYOUT_BOOT_PARAMS, &bp, sizeof(bp)), 0);
	assert_int_equal(big.vm.memmap.nr_e820, 4);
	test_check_boot_params(&big, &bp, CMDLINE);
	assert_int_equal(bp.e820_table[3].addr, LAYOUT_MMIO_HOLE_END);
	assert_int_equal(bp.hdr.ramdisk_image + sizeof(initrd), 0x80000000ULL);
	assert_memory_equal(test_gpa(&big, bp.hdr.ramdisk_image, sizeof(initrd)), initrd,
			    sizeof(initrd));
	test_check_long_mode(&big, PREF_ADDR + 0x200);
	free(bz.buf);
	test_vm_destroy(&big);
}

static void old_protocol_has_no_rsdp(void **state)
{
	struct test_vm *t = *state;
	struct boot_params bp;
	struct bz bz = { 0 };

	bz_init(&bz);
	bz.hdr.version = 0x020d;
	assert_int_equal(bz_boot(t, &bz), 0);
	read_bp(t, &bp);
	assert_int_equal(bp.acpi_rsdp_addr, 0);
	free(bz.buf);
}

static void cmdline_limits(void **state)
{
	struct test_vm *t = *state;
	char *long_cmdline;
	struct bz bz = { 0 };

	bz_init(&bz);
	bz.hdr.cmdline_size = strlen(CMDLINE);
	assert_int_equal(bz_boot(t, &bz), 0);		/* exactly cmdline_size */
	bz.hdr.cmdline_size = strlen(CMDLINE) - 1;
	assert_int_equal(bz_boot(t, &bz), -1);		/* one byte over */

	/* The kernel would take more than Kiln's cmdline area holds. */
	long_cmdline = malloc(LAYOUT_CMDLINE_MAX + 1);
	assert_non_null(long_cmdline);
	memset(long_cmdline, 'x', LAYOUT_CMDLINE_MAX);
	long_cmdline[LAYOUT_CMDLINE_MAX] = '\0';
	bz.hdr.cmdline_size = 0xffffffff;
	t->cfg.cmdline = long_cmdline;
	assert_int_equal(bz_boot(t, &bz), -1);
	long_cmdline[LAYOUT_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(bz_boot(t, &bz), 0);
	assert_int_equal(strlen(test_gpa(t, LAYOUT_CMDLINE, LAYOUT_CMDLINE_MAX)),
			 LAYOUT_CMDLINE_MAX - 1);
	t->cfg.cmdline = CMDLINE;
	free(long_cmdline);
	free(bz.buf);
}

/* Every prefix of the file shorter than setup + 1 byte of kernel fails. */
static void truncated_bzimage_fails(void **state)
{
	struct test_vm *t = *state;
	struct bz bz = { 0 };

	bz_init(&bz);
	bz_bytes(&bz);
	test_quiet(true);
	for (size_t len = 1; len <= SETUP_SIZE; len += (len < 0x300 ? 1 : 61))
		assert_int_equal(test_boot(t, bz.buf, len), -1);
	test_quiet(false);
	assert_int_equal(test_boot(t, bz.buf, SETUP_SIZE), -1);
	assert_int_equal(test_boot(t, bz.buf, SETUP_SIZE + 1), 0);
	free(bz.buf);
}

static void bad_headers_fail(void **state)
{
	struct test_vm *t = *state;
	struct bz bz = { 0 };

	bz_init(&bz);
	bz.hdr.header = 0x53726449;		/* "IdrS" */
	assert_int_equal(bz_boot(t, &bz), -1);
	bz_init(&bz);
	bz.hdr.boot_flag = 0x55aa;
	assert_int_equal(bz_boot(t, &bz), -1);
	bz_init(&bz);
	bz.hdr.version = 0x020b;		/* 2.11 */
	assert_int_equal(bz_boot(t, &bz), -1);
	bz_init(&bz);
	bz.hdr.xloadflags = 2;			/* no XLF_KERNEL_64 */
	assert_int_equal(bz_boot(t, &bz), -1);
	bz_init(&bz);
	bz.hdr.jump = 0x40eb;			/* header ends at 0x242 */
	assert_int_equal(bz_boot(t, &bz), -1);
	bz_init(&bz);
	bz.hdr.setup_sects = 255;		/* setup longer than the file */
	bz.len = SETUP_SIZE + PAYLOAD;
	assert_int_equal(test_boot(t, bz_bytes(&bz), SETUP_SIZE + PAYLOAD), -1);
	free(bz.buf);
}

static void kernel_too_big_fails(void **state)
{
	struct test_vm *t = *state;
	struct bz bz = { 0 };

	bz_init(&bz);
	bz.hdr.init_size = RAM;			/* runs past the end of RAM */
	assert_int_equal(bz_boot(t, &bz), -1);
	bz_init(&bz);
	bz.hdr.pref_address = 0xfffffffffff00000ULL;	/* wraps when aligned */
	bz.hdr.relocatable_kernel = 0;
	assert_int_equal(bz_boot(t, &bz), -1);
	bz_init(&bz);
	bz.hdr.kernel_alignment = 3;		/* nonsense: ignored, still boots */
	assert_int_equal(bz_boot(t, &bz), 0);
	free(bz.buf);
}

static void initrd_that_does_not_fit_fails(void **state)
{
	struct test_vm *t = *state;
	struct bz bz = { 0 };
	const char *path;
	int fd;

	/* A sparse initrd bigger than guest RAM. */
	path = test_vm_file(t, "big-initrd", NULL, 0);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, RAM + 4096), 0);
	close(fd);
	t->cfg.initrd_path = path;
	bz_init(&bz);
	assert_int_equal(bz_boot(t, &bz), -1);

	/* 16 MiB under an initrd_addr_max just above the kernel. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 16 * MiB), 0);
	close(fd);
	assert_int_equal(bz_boot(t, &bz), 0);
	bz.hdr.initrd_addr_max = PREF_ADDR + INIT_SIZE + 8 * MiB - 1;
	assert_int_equal(bz_boot(t, &bz), -1);

	t->cfg.initrd_path = "/nonexistent/kiln/initrd";
	assert_int_equal(bz_boot(t, &bz), -1);
	t->cfg.initrd_path = NULL;
	free(bz.buf);
}

static void missing_or_garbage_kernel_fails(void **state)
{
	struct test_vm *t = *state;
	struct cpu_state st;
	u8 garbage[8192];

	t->cfg.kernel_path = NULL;
	assert_int_equal(boot_load(&t->vm, &st), -1);
	t->cfg.kernel_path = "/nonexistent/kiln/vmlinuz";
	assert_int_equal(boot_load(&t->vm, &st), -1);
	t->cfg.kernel_path = t->dir;		/* a directory */
	assert_int_equal(boot_load(&t->vm, &st), -1);
	assert_int_equal(test_boot(t, "", 0), -1);	/* empty */
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (u8)(i * 131 + 17);
	assert_int_equal(test_boot(t, garbage, sizeof(garbage)), -1);
}

/* A real kernel (KILN_TEST_BZIMAGE, e.g. Debian's vmlinuz), when one is at hand. */
static void real_bzimage_parses(void **state)
{
	struct test_vm *t = *state;
	struct boot_params bp;

	t->cfg.kernel_path = getenv("KILN_TEST_BZIMAGE");
	assert_int_equal(boot_load(&t->vm, &t->st), 0);
	read_bp(t, &bp);
	test_check_long_mode(t, bp.hdr.code32_start + 0x200);
	test_check_boot_params(t, &bp, CMDLINE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_bzimage_boots),
		cmocka_unit_test(setup_sects_zero_means_four),
		cmocka_unit_test(non_relocatable_loads_at_1mib),
		cmocka_unit_test(small_ram_falls_back_to_1mib),
		cmocka_unit_test(big_ram_splits_e820_and_caps_initrd),
		cmocka_unit_test(old_protocol_has_no_rsdp),
		cmocka_unit_test(cmdline_limits),
		cmocka_unit_test(truncated_bzimage_fails),
		cmocka_unit_test(bad_headers_fail),
		cmocka_unit_test(kernel_too_big_fails),
		cmocka_unit_test(initrd_that_does_not_fit_fails),
		cmocka_unit_test(missing_or_garbage_kernel_fails),
		cmocka_unit_test(real_bzimage_parses),
	};
	size_t n = ARRAY_SIZE(tests);

	/* cmocka reports skip() as "not ok # SKIP": leave the test out instead. */
	if (!getenv("KILN_TEST_BZIMAGE")) {
		printf("ok - real_bzimage_parses # SKIP set KILN_TEST_BZIMAGE to a bzImage\n");
		n--;
	}
	return _cmocka_run_group_tests("test_boot_bzimage", tests, n, setup, test_vm_teardown);
}
