// SPDX-License-Identifier: Apache-2.0
/*
 * Dirty-page tracking: the bitmap helpers, and each engine (kvm, soft)
 * against the dirty_pages guest on a whole machine (vm_create + vm_run):
 * the pages the guest writes, and only those (plus its own image and the
 * boot page tables the CPU sets accessed/dirty bits in), are reported;
 * reading without clearing keeps them; clearing re-arms them. Then the
 * guest stores to random words without pause while the host copies the
 * pages each clearing read reports, as an incremental snapshot would: once
 * the guest has stopped and a last read is copied, the copy must equal
 * guest memory, or a write was lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../guests/dirty_pages.h"
#include "machine/layout.h"
#include "machine/vm.h"
#include "mem/dirty.h"
#include "mem/dirty_log.h"

#define GUEST_MEM_ARG "64M"
#define WAIT_S 60

/* A guest_mem shaped like a 5 GiB machine; the bitmap never touches hva. */
static void five_gib_layout(struct guest_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
	assert_int_equal(guest_mem_add_region(mem, 0, LAYOUT_MMIO_HOLE_START, (u8 *)0x1000), 0);
	assert_int_equal(guest_mem_add_region(mem, LAYOUT_MMIO_HOLE_END,
					      5 * GiB - LAYOUT_MMIO_HOLE_START, (u8 *)0x2000), 0);
}

static void bitmap_set_test_count_next(void **state)
{
	struct guest_mem mem;
	struct dirty_bitmap b;
	const u64 high = LAYOUT_MMIO_HOLE_END;

	(void)state;
	five_gib_layout(&mem);
	assert_int_equal(dirty_bitmap_alloc(&b, &mem), 0);
	assert_int_equal(b.nr_regions, 2);
	assert_int_equal(b.regions[0].nr_pages, LAYOUT_MMIO_HOLE_START / 4096);
	assert_int_equal(dirty_bitmap_count(&b), 0);
	assert_true(dirty_bitmap_next(&b, 0) == ~0ULL);

	assert_true(dirty_bitmap_set(&b, 0x1234));		/* page 1 */
	assert_true(dirty_bitmap_set(&b, 63 * 4096));		/* last bit of word 0 */
	assert_true(dirty_bitmap_set(&b, 64 * 4096));		/* first of word 1 */
	assert_true(dirty_bitmap_set(&b, LAYOUT_MMIO_HOLE_START - 1));
	assert_true(dirty_bitmap_set(&b, high + 5 * 4096 + 7));
	assert_false(dirty_bitmap_set(&b, LAYOUT_MMIO_HOLE_START));	/* the hole */
	assert_false(dirty_bitmap_set(&b, 5 * GiB + LAYOUT_MMIO_HOLE_END));
	assert_int_equal(dirty_bitmap_count(&b), 5);

	assert_true(dirty_bitmap_test(&b, 0x1000));
	assert_true(dirty_bitmap_test(&b, 0x1fff));
	assert_false(dirty_bitmap_test(&b, 0x2000));
	assert_false(dirty_bitmap_test(&b, 0xfffffffffffff000ULL));

	assert_int_equal(dirty_bitmap_next(&b, 0), 0x1000);
	assert_int_equal(dirty_bitmap_next(&b, 0x1001), 63 * 4096);
	assert_int_equal(dirty_bitmap_next(&b, 63 * 4096 + 1), 64 * 4096);
	assert_int_equal(dirty_bitmap_next(&b, 65 * 4096), LAYOUT_MMIO_HOLE_START - 4096);
	assert_int_equal(dirty_bitmap_next(&b, LAYOUT_MMIO_HOLE_START), high + 5 * 4096);
	assert_true(dirty_bitmap_next(&b, high + 6 * 4096) == ~0ULL);

	dirty_bitmap_clear(&b);
	assert_int_equal(dirty_bitmap_count(&b), 0);
	dirty_bitmap_free(&b);
}

static void bitmap_atomic_range_and_collect(void **state)
{
	struct guest_mem mem;
	struct dirty_bitmap b;
	unsigned long *out[2];
	const u64 high = LAYOUT_MMIO_HOLE_END;

	(void)state;
	five_gib_layout(&mem);
	assert_int_equal(dirty_bitmap_alloc(&b, &mem), 0);
	for (int i = 0; i < 2; i++)
		assert_non_null(out[i] = calloc(dirty_words(b.regions[i].nr_pages),
						sizeof(unsigned long)));
	/* One byte, a range over three pages, one that runs into the hole. */
	dirty_bitmap_set_range_atomic(&b, 0x5000, 1);
	dirty_bitmap_set_range_atomic(&b, 0x8fff, 0x1002);	/* 0x8000 .. 0xa000 */
	dirty_bitmap_set_range_atomic(&b, LAYOUT_MMIO_HOLE_START - 0x10, 0x1000);
	dirty_bitmap_set_range_atomic(&b, high + 0x3000, 0);	/* nothing */
	dirty_bitmap_set_range_atomic(&b, ~0ULL - 5, 100);	/* wraps: nothing */
	assert_int_equal(dirty_bitmap_count(&b), 5);
	assert_true(dirty_bitmap_test(&b, 0x5000) && dirty_bitmap_test(&b, 0x8000) &&
		    dirty_bitmap_test(&b, 0x9000) && dirty_bitmap_test(&b, 0xa000));
	assert_true(dirty_bitmap_test(&b, LAYOUT_MMIO_HOLE_START - 0x1000));
	dirty_bitmap_set_range_atomic(&b, LAYOUT_MMIO_HOLE_START - 0x1000, 0x3000);
	dirty_bitmap_set_range_atomic(&b, high - 0x1000, 0x2000);	/* hole, then high page 0 */
	assert_true(dirty_bitmap_test(&b, high));
	assert_int_equal(dirty_bitmap_count(&b), 6);

	/* Collect ORs in; clear empties exactly what it returned. */
	out[0][0] = 1;		/* the caller's own bit stays */
	dirty_bitmap_collect(&b, 0, out[0], false);
	assert_int_equal(out[0][0], 1UL | 1UL << 5 | 1UL << 8 | 1UL << 9 | 1UL << 10);
	assert_int_equal(dirty_bitmap_count(&b), 6);
	dirty_bitmap_collect(&b, 1, out[1], true);
	assert_int_equal(out[1][0], 1);
	assert_int_equal(dirty_bitmap_count(&b), 5);
	assert_false(dirty_bitmap_test(&b, high));
	dirty_bitmap_collect(&b, 0, out[0], true);
	assert_int_equal(dirty_bitmap_count(&b), 0);
	assert_true(out[0][(LAYOUT_MMIO_HOLE_START / 4096 - 1) / 64] >> 63 & 1);
	free(out[0]);
	free(out[1]);
	dirty_bitmap_free(&b);
}

/* ---- each engine, on a whole machine ------------------------------------- */

struct dirty_machine {
	struct vm_config cfg;
	struct vm *vm;
	pthread_t runner;
	int exit_code;
	char skip[640];
};

static void *run_vm(void *opaque)
{
	struct dirty_machine *m = opaque;

	m->exit_code = vm_run(m->vm);
	return NULL;
}

static struct dirty_machine *machine_create(const struct engine_ops *engine)
{
	struct dirty_machine *m = calloc(1, sizeof(*m));
	const char *build = getenv("BUILD");
	char elf[512], accel[16];
	char *argv[] = { "run", "--accel", accel, "--mem", GUEST_MEM_ARG, "--kernel", elf };

	assert_non_null(m);
	snprintf(accel, sizeof(accel), "%s", engine->name);
	snprintf(elf, sizeof(elf), "%s/guests/dirty_pages.elf", build ? build : "build");
	if (access(elf, R_OK)) {
		snprintf(m->skip, sizeof(m->skip), "%s is not built (make guests)", elf);
		return m;
	}
	if (engine->unavailable()) {
		snprintf(m->skip, sizeof(m->skip), "%s: %s", engine->name, engine->unavailable());
		return m;
	}
	/* The guest's console is COM1 on stdout; it must not read a terminal. */
	assert_non_null(freopen("/dev/null", "r", stdin));
	assert_int_equal(config_parse_run(&m->cfg, ARRAY_SIZE(argv), argv), 0);
	m->vm = vm_create(&m->cfg);
	assert_non_null(m->vm);
	return m;
}

static u64 mailbox_u64(struct vm *vm, size_t offset)
{
	u64 v = 0;

	assert_int_equal(guest_read(&vm->mem, DIRTY_MAILBOX_GPA + offset, &v, sizeof(v)), 0);
	return v;
}

static void wait_phase(struct vm *vm, u64 phase)
{
	for (int i = 0; i < WAIT_S * 100; i++) {
		if (mailbox_u64(vm, offsetof(struct dirty_mailbox, phase)) == phase)
			return;
		usleep(10000);
	}
	fail_msg("the guest did not finish phase %llu in %d s", (unsigned long long)phase,
		 WAIT_S);
}

static bool area_page_in_phase(u64 page, unsigned int phase)
{
	return page % DIRTY_STRIDE == phase - 1 &&
	       page / DIRTY_STRIDE < DIRTY_AREA_PAGES / DIRTY_STRIDE;
}

/* Pages outside the area the guest or its CPU may write: image, mailbox, tables. */
static bool expected_extra(u64 gpa, u64 image_end)
{
	if (gpa >= LAYOUT_KERNEL_DEFAULT && gpa < image_end)
		return true;	/* the guest's own data, bss and stack */
	if (gpa >= LAYOUT_PAGE_TABLES && gpa < LAYOUT_PAGE_TABLES + 0x7000)
		return true;	/* accessed/dirty bits in the boot page tables */
	return gpa == DIRTY_MAILBOX_GPA;
}

/*
 * The area holds exactly phase's pages (phase 0: none); anything else set
 * is an expected extra. Returns the number of extras.
 */
static u64 check_bitmap(const struct dirty_bitmap *b, unsigned int phase, u64 image_end,
			bool show)
{
	u64 extras = 0, found = 0;

	for (u64 page = 0; page < DIRTY_AREA_PAGES + 16; page++) {
		bool want = phase && area_page_in_phase(page, phase);
		bool set = dirty_bitmap_test(b, DIRTY_AREA_GPA + page * 4096);

		if (want != set)
			fail_msg("phase %u: area page %llu is %s", phase,
				 (unsigned long long)page, set ? "dirty" : "clean");
		found += set;
	}
	for (u64 gpa = dirty_bitmap_next(b, 0); gpa != ~0ULL;
	     gpa = dirty_bitmap_next(b, gpa + 4096)) {
		if (gpa >= DIRTY_AREA_GPA && gpa < DIRTY_AREA_GPA + (DIRTY_AREA_PAGES + 16) * 4096)
			continue;
		if (!expected_extra(gpa, image_end))
			fail_msg("phase %u: unexpected dirty page %#llx", phase,
				 (unsigned long long)gpa);
		if (show)
			printf("#   also dirty: %#llx\n", (unsigned long long)gpa);
		extras++;
	}
	assert_int_equal(found + extras, dirty_bitmap_count(b));
	return extras;
}

/* Outside the area, only the expected extras are dirty. */
static void check_bitmap_extras_only(const struct dirty_bitmap *b, u64 image_end)
{
	const u64 area_end = DIRTY_AREA_GPA + DIRTY_AREA_PAGES * 4096ULL;

	for (u64 gpa = dirty_bitmap_next(b, 0); gpa != ~0ULL;
	     gpa = dirty_bitmap_next(b, gpa + 4096))
		if (!(gpa >= DIRTY_AREA_GPA && gpa < area_end) && !expected_extra(gpa, image_end))
			fail_msg("unexpected dirty page %#llx", (unsigned long long)gpa);
}

static void get_log(struct vm *vm, struct dirty_bitmap *b, bool clear)
{
	char err[256] = "";

	dirty_bitmap_clear(b);
	if (vm_dirty_log_get(vm, b, clear, err, sizeof(err)))
		fail_msg("vm_dirty_log_get: %s", err);
}

static void set_go(struct vm *vm, u64 go)
{
	assert_int_equal(guest_write(&vm->mem, DIRTY_MAILBOX_GPA +
				     offsetof(struct dirty_mailbox, go), &go, sizeof(go)), 0);
}

/* Copies into shadow every area page b reports; returns how many. */
static u64 copy_dirty_area(struct vm *vm, const struct dirty_bitmap *b, u8 *shadow)
{
	const u64 len = DIRTY_AREA_PAGES * 4096ULL;
	u64 n = 0;

	for (u64 gpa = dirty_bitmap_next(b, DIRTY_AREA_GPA); gpa < DIRTY_AREA_GPA + len;
	     gpa = dirty_bitmap_next(b, gpa + 4096)) {
		assert_int_equal(guest_read(&vm->mem, gpa, shadow + (gpa - DIRTY_AREA_GPA), 4096), 0);
		n++;
	}
	return n;
}

/*
 * What Kiln's devices write (guest_write(), virtqueues) is not the engine's
 * to see; vm_dirty_log_get() merges it in. The guest waits for go now.
 */
static void device_write_is_merged(struct vm *vm, struct dirty_bitmap *b)
{
	const u64 page = DIRTY_AREA_GPA + 2 * 4096, v = 0x1234;
	u64 in_area = 0;

	assert_int_equal(guest_write(&vm->mem, page + 8, &v, sizeof(v)), 0);
	get_log(vm, b, false);
	for (u64 p = 0; p < DIRTY_AREA_PAGES; p++)
		in_area += dirty_bitmap_test(b, DIRTY_AREA_GPA + p * 4096);
	printf("# %s: a device write to %#llx: %s, %llu area pages dirty\n", vm->engine->name,
	       (unsigned long long)page, dirty_bitmap_test(b, page) ? "dirty" : "clean",
	       (unsigned long long)in_area);
	assert_true(dirty_bitmap_test(b, page));
	assert_int_equal(in_area, 1);
}

/*
 * Phase 3: the guest stores without pause; the host copies what each
 * clearing read reports, then stops the guest and copies a last time.
 */
static void copy_while_running(struct dirty_machine *m, struct dirty_bitmap *b, u64 image_end)
{
	const u64 len = DIRTY_AREA_PAGES * 4096ULL;
	u8 *shadow = malloc(len), *base = malloc(len), *now = malloc(len);
	u64 copied = 0, rounds = 0, changed = 0, lost = 0, stores, read_ns = 0;
	struct vm *vm = m->vm;
	struct timespec t0, t;

	assert_true(shadow && base && now);
	get_log(vm, b, true);
	assert_int_equal(guest_read(&vm->mem, DIRTY_AREA_GPA, base, len), 0);
	memcpy(shadow, base, len);
	set_go(vm, 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct timespec r0, r1;

		usleep(2000);
		clock_gettime(CLOCK_MONOTONIC, &r0);
		get_log(vm, b, true);
		clock_gettime(CLOCK_MONOTONIC, &r1);
		read_ns += (r1.tv_sec - r0.tv_sec) * 1000000000ULL + r1.tv_nsec - r0.tv_nsec;
		copied += copy_dirty_area(vm, b, shadow);
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
	set_go(vm, 3);
	assert_int_equal(pthread_join(m->runner, NULL), 0);
	assert_int_equal(m->exit_code, 1);	/* the guest's quiet debug-exit 0 */
	assert_int_equal(mailbox_u64(vm, offsetof(struct dirty_mailbox, phase)), 3);
	stores = mailbox_u64(vm, offsetof(struct dirty_mailbox, stores));

	/* The guest is gone: the last read holds whatever the others did not. */
	get_log(vm, b, true);
	copied += copy_dirty_area(vm, b, shadow);
	check_bitmap_extras_only(b, image_end);
	assert_int_equal(guest_read(&vm->mem, DIRTY_AREA_GPA, now, len), 0);
	for (u64 p = 0; p < DIRTY_AREA_PAGES; p++) {
		changed += memcmp(base + p * 4096, now + p * 4096, 4096) != 0;
		if (memcmp(shadow + p * 4096, now + p * 4096, 4096)) {
			printf("#   page %#llx changed and the log never said so\n",
			       (unsigned long long)(DIRTY_AREA_GPA + p * 4096));
			lost++;
		}
	}
	printf("# %s phase 3: %llu guest stores over 1.5 s, %llu clearing reads (%llu us each "
	       "on average), %llu pages copied, %llu of %d pages changed, %llu differ from the "
	       "copy\n", vm->engine->name, (unsigned long long)stores, (unsigned long long)rounds,
	       (unsigned long long)(read_ns / rounds / 1000),
	       (unsigned long long)copied, (unsigned long long)changed, DIRTY_AREA_PAGES,
	       (unsigned long long)lost);
	assert_true(stores > 0 && changed > 0);
	assert_int_equal(lost, 0);
	free(shadow);
	free(base);
	free(now);
}

static void reports_exactly_the_written_pages(void **state)
{
	const struct engine_ops *engine = *state;
	struct dirty_machine *m = machine_create(engine);
	struct dirty_bitmap b;
	char err[256] = "";
	u64 image_end, extras;
	struct vm *vm;

	if (m->skip[0]) {
		printf("# SKIP %s dirty log: %s\n", engine->name, m->skip);
		free(m);
		skip();
	}
	vm = m->vm;
	assert_int_equal(dirty_bitmap_alloc(&b, &vm->mem), 0);

	/* Not started: an error, not an empty bitmap. */
	assert_int_equal(vm_dirty_log_get(vm, &b, false, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "dirty-page logging is not started");
	if (vm_dirty_log_start(vm, err, sizeof(err)))
		fail_msg("vm_dirty_log_start: %s", err);
	/* What Kiln itself wrote (the loader) is not the guest's: nothing yet. */
	get_log(vm, &b, false);
	assert_int_equal(dirty_bitmap_count(&b), 0);

	assert_int_equal(pthread_create(&m->runner, NULL, run_vm, m), 0);
	wait_phase(vm, 1);
	image_end = mailbox_u64(vm, offsetof(struct dirty_mailbox, image_end));
	assert_true(image_end > LAYOUT_KERNEL_DEFAULT && image_end < DIRTY_MAILBOX_GPA);

	get_log(vm, &b, false);
	extras = check_bitmap(&b, 1, image_end, true);
	printf("# %s phase 1: %llu dirty pages: the %d written, %llu of the guest's image, "
	       "mailbox and page tables\n", engine->name,
	       (unsigned long long)dirty_bitmap_count(&b), DIRTY_AREA_PAGES / DIRTY_STRIDE,
	       (unsigned long long)extras);
	get_log(vm, &b, false);			/* reading alone keeps them */
	check_bitmap(&b, 1, image_end, false);
	get_log(vm, &b, true);			/* read and clear */
	check_bitmap(&b, 1, image_end, false);
	get_log(vm, &b, false);			/* cleared: the area is clean */
	check_bitmap(&b, 0, image_end, false);

	set_go(vm, 1);
	wait_phase(vm, 2);

	/* Phase 2's pages, and none of phase 1's: the clear re-armed them. */
	get_log(vm, &b, true);
	extras = check_bitmap(&b, 2, image_end, true);
	printf("# %s phase 2: %llu dirty pages: the %d written, %llu extras\n", engine->name,
	       (unsigned long long)dirty_bitmap_count(&b), DIRTY_AREA_PAGES / DIRTY_STRIDE,
	       (unsigned long long)extras);

	device_write_is_merged(vm, &b);
	copy_while_running(m, &b, image_end);

	if (vm_dirty_log_stop(vm, err, sizeof(err)))
		fail_msg("vm_dirty_log_stop: %s", err);
	assert_int_equal(vm_dirty_log_get(vm, &b, false, err, sizeof(err)), -ENOENT);
	dirty_bitmap_free(&b);
	vm_destroy(vm);
	config_release(&m->cfg);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bitmap_set_test_count_next),
		cmocka_unit_test(bitmap_atomic_range_and_collect),
		cmocka_unit_test_prestate(reports_exactly_the_written_pages,
					  (void *)&soft_engine_ops),
		cmocka_unit_test_prestate(reports_exactly_the_written_pages,
					  (void *)&kvm_engine_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
