// SPDX-License-Identifier: Apache-2.0
/*
 * Device writes in the dirty log, end to end: Linux on the soft engine
 * (2 vCPUs, so a clearing read waits for both) reads a virtio-blk disk
 * whose every 4 KiB block starts with a salted marker. The log is cleared
 * once the guest is up and waiting, then the guest reads the whole disk
 * into its page cache (init_on_alloc=0: no CPU store touches those pages,
 * only the device's DMA). Every guest page that then holds a block must be
 * in the log, which only the virtqueue's marking can put there.
 *
 * And the log as a live migration or an incremental snapshot uses it: a
 * copy of all guest RAM taken before the first instruction, then the pages
 * each clearing read reports copied again every few milliseconds through
 * the boot, the disk read and two processes writing random data on both
 * vCPUs; after vm_pause() and a last read, the copy must equal guest RAM
 * byte for byte, or some write (of the CPU, the page walker, a device) was
 * not logged.
 *
 * Needs the Linux test guest ($BUILD/guest, tools/mkguest); skips without.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "machine/vm.h"
#include "mem/dirty.h"
#include "mem/dirty_log.h"

#define DISK_BLOCKS 2048		/* 8 MiB */
#define BLOCK 4096
#define BOOT_LIMIT_S 300
#define READ_LIMIT_S 120
#define MARKER "KILN-DMA"

struct linux_machine {
	struct vm_config cfg;
	struct vm *vm;
	pthread_t runner;
	int exit_code;
	char disk[64], console[64];
	int go_fd;			/* the guest's console input */
	int saved_stdout, saved_stdin;
	u64 salt;
};

static void *run_vm(void *opaque)
{
	struct linux_machine *m = opaque;

	m->exit_code = vm_run(m->vm);
	return NULL;
}

/* Block i: the marker, the salt, i, then a pattern. */
static void make_disk(struct linux_machine *m)
{
	u8 block[BLOCK];
	int fd;

	snprintf(m->disk, sizeof(m->disk), "/tmp/kiln-dirty-disk-XXXXXX");
	fd = mkstemp(m->disk);
	assert_true(fd >= 0);
	for (u64 i = 0; i < DISK_BLOCKS; i++) {
		for (unsigned int j = 0; j < BLOCK; j++)
			block[j] = i * 31 + j;
		memcpy(block, MARKER, 8);
		memcpy(block + 8, &m->salt, 8);
		memcpy(block + 16, &i, 8);
		assert_int_equal(write(fd, block, BLOCK), BLOCK);
	}
	close(fd);
}

/* Until the console shows what, or the time runs out. */
static bool wait_console(struct linux_machine *m, const char *what, int limit_s)
{
	char buf[65536];

	for (int i = 0;; i++) {
		FILE *f = fopen(m->console, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = '\0';
		if (memmem(buf, n, what, strlen(what)))
			return true;
		if (i >= limit_s * 10)
			return false;
		usleep(100000);
	}
}

static void get_log(struct vm *vm, struct dirty_bitmap *b, bool clear)
{
	char err[256] = "";

	dirty_bitmap_clear(b);
	if (vm_dirty_log_get(vm, b, clear, err, sizeof(err)))
		fail_msg("vm_dirty_log_get: %s", err);
}

/* The console goes to a file while the guest runs; the test's output comes back. */
static void console_to_file(struct linux_machine *m)
{
	int pipefd[2], fd;

	snprintf(m->console, sizeof(m->console), "/tmp/kiln-dirty-console-XXXXXX");
	fd = mkstemp(m->console);
	assert_true(fd >= 0);
	assert_int_equal(pipe(pipefd), 0);
	fflush(stdout);
	m->saved_stdout = dup(1);
	m->saved_stdin = dup(0);
	assert_true(dup2(fd, 1) == 1 && dup2(pipefd[0], 0) == 0);
	close(fd);
	close(pipefd[0]);
	m->go_fd = pipefd[1];
}

static void console_back(struct linux_machine *m)
{
	fflush(stdout);
	dup2(m->saved_stdout, 1);
	dup2(m->saved_stdin, 0);
	close(m->saved_stdout);
	close(m->saved_stdin);
	close(m->go_fd);
}

static void print_console_tail(struct linux_machine *m)
{
	char line[256][160];
	unsigned int n = 0;
	FILE *f = fopen(m->console, "r");

	if (!f)
		return;
	while (fgets(line[n % 256], sizeof(line[0]), f))
		n++;
	fclose(f);
	printf("# the guest's console, last lines:\n");
	for (unsigned int i = n > 20 ? n - 20 : 0; i < n; i++)
		printf("#   %s", line[i % 256]);
}

/*
 * Boots Linux on soft with the marked disk, guest command cmd, the console
 * in a file and dirty logging on from the first instruction; NULL (and a
 * skip) without a guest image. The VM runs in m->runner.
 */
static struct linux_machine *linux_start(const char *cmd, struct dirty_bitmap *b,
					 void (*before_run)(struct linux_machine *m, void *arg),
					 void *arg)
{
	struct linux_machine *m = calloc(1, sizeof(*m));
	const char *build = getenv("BUILD");
	char kernel[512], initrd[512], disk_arg[128], cmdline[1024], err[256];
	char *argv[] = {
		"run", "--accel", "soft", "--mem", "256M", "--cpus", "2", "--kernel", kernel,
		"--initrd", initrd, "--disk", disk_arg, "--cmdline", cmdline,
	};
	struct timespec ts;

	assert_non_null(m);
	snprintf(kernel, sizeof(kernel), "%s/guest/vmlinuz", build ? build : "build");
	snprintf(initrd, sizeof(initrd), "%s/guest/initramfs.cpio.gz", build ? build : "build");
	if (access(kernel, R_OK) || access(initrd, R_OK)) {
		printf("# SKIP no Linux guest in %s/guest (tools/mkguest %s/guest)\n",
		       build ? build : "build", build ? build : "build");
		free(m);
		return NULL;
	}
	snprintf(cmdline, sizeof(cmdline),
		 "console=ttyS0 quiet init_on_alloc=0 -- sh -c \"%s\"", cmd);
	clock_gettime(CLOCK_REALTIME, &ts);
	m->salt = (u64)ts.tv_nsec << 20 ^ (u64)getpid() ^ (u64)ts.tv_sec << 40;
	make_disk(m);
	snprintf(disk_arg, sizeof(disk_arg), "%s", m->disk);
	assert_int_equal(config_parse_run(&m->cfg, ARRAY_SIZE(argv), argv), 0);
	console_to_file(m);
	m->vm = vm_create(&m->cfg);
	assert_non_null(m->vm);
	assert_int_equal(dirty_bitmap_alloc(b, &m->vm->mem), 0);
	if (vm_dirty_log_start(m->vm, err, sizeof(err)))
		fail_msg("vm_dirty_log_start: %s", err);
	if (before_run)
		before_run(m, arg);
	assert_int_equal(pthread_create(&m->runner, NULL, run_vm, m), 0);
	return m;
}

/* Stops the guest unless it stopped itself, and gives the test its output back. */
static void linux_join(struct linux_machine *m, bool stop)
{
	if (stop)
		vm_request_stop(m->vm, VM_STOP_QUIT, 0);
	assert_int_equal(pthread_join(m->runner, NULL), 0);
	console_back(m);
}

static void linux_free(struct linux_machine *m, struct dirty_bitmap *b)
{
	dirty_bitmap_free(b);
	vm_destroy(m->vm);
	config_release(&m->cfg);
	unlink(m->disk);
	unlink(m->console);
	free(m);
}

static void virtio_blk_reads_are_dirty(void **state)
{
	struct dirty_bitmap b;
	struct linux_machine *m = linux_start("echo @READY; read x; dd if=/dev/vda of=/dev/null "
					      "bs=64k; echo @DONE; poweroff -f", &b, NULL, NULL);
	u64 found = 0, dirty = 0, distinct = 0, total = 0;
	u8 *seen = calloc(DISK_BLOCKS, 1);
	bool ready, done;

	(void)state;
	if (!m) {
		free(seen);
		skip();
	}
	assert_non_null(seen);
	ready = wait_console(m, "@READY", BOOT_LIMIT_S);
	if (ready) {
		get_log(m->vm, &b, true);	/* from here on, only the read */
		total = dirty_bitmap_count(&b);
		assert_int_equal(write(m->go_fd, "go\n", 3), 3);
	}
	done = ready && wait_console(m, "@DONE", READ_LIMIT_S);
	if (done)
		get_log(m->vm, &b, false);
	/* The guest powers off; a hung one is stopped. */
	linux_join(m, !done);
	if (!ready || !done) {
		print_console_tail(m);
		fail_msg("the guest did not %s in time (console in %s)",
			 ready ? "finish reading the disk" : "come up", m->console);
	}
	printf("# boot to the prompt: %llu pages dirty (cleared then)\n", (unsigned long long)total);

	for (unsigned int r = 0; r < m->vm->mem.nr_regions; r++) {
		const struct mem_region *reg = &m->vm->mem.regions[r];

		for (u64 off = 0; off + BLOCK <= reg->size; off += BLOCK) {
			const u8 *p = reg->hva + off;
			u64 idx;

			if (memcmp(p, MARKER, 8) || memcmp(p + 8, &m->salt, 8))
				continue;
			memcpy(&idx, p + 16, 8);
			if (idx >= DISK_BLOCKS)
				continue;
			found++;
			distinct += !seen[idx];
			seen[idx] = 1;
			if (dirty_bitmap_test(&b, reg->gpa + off))
				dirty++;
			else if (found - dirty <= 5)
				printf("#   page %#llx holds block %llu and is clean\n",
				       (unsigned long long)(reg->gpa + off), (unsigned long long)idx);
		}
	}
	printf("# virtio-blk read of %d blocks on soft, 2 vCPUs: %llu guest pages hold a block "
	       "(%llu distinct), %llu of them dirty; %llu pages dirty in all\n", DISK_BLOCKS,
	       (unsigned long long)found, (unsigned long long)distinct,
	       (unsigned long long)dirty, (unsigned long long)dirty_bitmap_count(&b));
	assert_int_equal(m->exit_code, 0);
	/*
	 * The read happened: nearly every block is still in the page cache
	 * (a few pages may have been reused since, by the CPU or another
	 * read: 2046 of 2048 once here). What counts is the next line.
	 */
	assert_true(distinct >= DISK_BLOCKS - DISK_BLOCKS / 16);
	assert_int_equal(dirty, found);
	free(seen);
	linux_free(m, &b);
}

/* ---- a live copy of all RAM ---------------------------------------------- */

#define LIVE_AFTER_READ_S 2
#define LIVE_PERIOD_US 10000

/* Guest RAM as one buffer per region, in the copy's order. */
struct ram_copy {
	u8 *bytes[GUEST_MEM_MAX_REGIONS];
};

static void copy_all(struct linux_machine *m, void *arg)
{
	struct ram_copy *c = arg;

	for (unsigned int r = 0; r < m->vm->mem.nr_regions; r++) {
		const struct mem_region *reg = &m->vm->mem.regions[r];

		c->bytes[r] = malloc(reg->size);
		assert_non_null(c->bytes[r]);
		memcpy(c->bytes[r], reg->hva, reg->size);
	}
}

/* Copies the pages b reports; returns how many. */
static u64 copy_dirty(struct vm *vm, const struct dirty_bitmap *b, struct ram_copy *c)
{
	u64 n = 0;

	for (unsigned int r = 0; r < vm->mem.nr_regions; r++) {
		const struct mem_region *reg = &vm->mem.regions[r];

		for (u64 gpa = dirty_bitmap_next(b, reg->gpa); gpa < reg->gpa + reg->size;
		     gpa = dirty_bitmap_next(b, gpa + BLOCK)) {
			memcpy(c->bytes[r] + (gpa - reg->gpa), reg->hva + (gpa - reg->gpa), BLOCK);
			n++;
		}
	}
	return n;
}

static void live_copy_of_all_ram_converges(void **state)
{
	struct ram_copy copy = { { 0 } }, base = { { 0 } };
	struct dirty_bitmap b;
	struct linux_machine *m = linux_start(
		"dd if=/dev/vda of=/dev/null bs=64k; echo @READ; "
		"(while :; do dd if=/dev/urandom of=/dev/shm/a bs=64k count=16 2>/dev/null; done) & "
		"while :; do dd if=/dev/urandom of=/dev/shm/b bs=64k count=16 2>/dev/null; done",
		&b, copy_all, &copy);
	u64 rounds = 0, copied = 0, changed = 0, differ = 0, pages = 0, last, lost[5];
	struct timespec t0, now, read_at = { 0 };
	bool read = false;

	(void)state;
	if (!m)
		skip();
	/* What the guest started from, to count the pages it changed. */
	for (unsigned int r = 0; r < m->vm->mem.nr_regions; r++) {
		base.bytes[r] = malloc(m->vm->mem.regions[r].size);
		assert_non_null(base.bytes[r]);
		memcpy(base.bytes[r], copy.bytes[r], m->vm->mem.regions[r].size);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		usleep(LIVE_PERIOD_US);
		get_log(m->vm, &b, true);
		copied += copy_dirty(m->vm, &b, &copy);
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!read && wait_console(m, "@READ", 0)) {
			read = true;
			read_at = now;
		}
		if (read && now.tv_sec - read_at.tv_sec >= LIVE_AFTER_READ_S)
			break;
		if (now.tv_sec - t0.tv_sec > BOOT_LIMIT_S)
			break;
	}
	vm_pause(m->vm);
	get_log(m->vm, &b, true);
	last = copy_dirty(m->vm, &b, &copy);
	copied += last;
	for (unsigned int r = 0; r < m->vm->mem.nr_regions; r++) {
		const struct mem_region *reg = &m->vm->mem.regions[r];

		for (u64 off = 0; off < reg->size; off += BLOCK, pages++) {
			changed += memcmp(base.bytes[r] + off, reg->hva + off, BLOCK) != 0;
			if (memcmp(copy.bytes[r] + off, reg->hva + off, BLOCK) && ++differ <= 5)
				lost[differ - 1] = reg->gpa + off;
		}
	}
	vm_request_stop(m->vm, VM_STOP_QUIT, 0);
	vm_resume(m->vm);
	linux_join(m, false);
	if (!read) {
		print_console_tail(m);
		fail_msg("the guest did not read its disk in time (console in %s)", m->console);
	}
	printf("# live copy, soft, 2 vCPUs: %llu clearing reads every %d ms over %lld s, "
	       "%llu pages copied after the first full copy, %llu in the last read (paused); "
	       "%llu of %llu pages changed since the start, %llu differ from the copy\n",
	       (unsigned long long)rounds, LIVE_PERIOD_US / 1000,
	       (long long)(now.tv_sec - t0.tv_sec), (unsigned long long)copied,
	       (unsigned long long)last, (unsigned long long)changed,
	       (unsigned long long)pages, (unsigned long long)differ);
	for (u64 i = 0; i < MIN(differ, 5); i++)
		printf("#   page %#llx changed and the log never said so\n",
		       (unsigned long long)lost[i]);
	assert_true(changed > 1000);
	assert_int_equal(differ, 0);
	for (unsigned int r = 0; r < GUEST_MEM_MAX_REGIONS; r++) {
		free(copy.bytes[r]);
		free(base.bytes[r]);
	}
	linux_free(m, &b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(virtio_blk_reads_are_dirty),
		cmocka_unit_test(live_copy_of_all_ram_converges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
