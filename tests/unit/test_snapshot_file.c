// SPDX-License-Identifier: Apache-2.0
/*
 * The snapshot file: a VM's RAM and sections survive a round trip, and a
 * file that is corrupted, truncated, of another version or of another
 * machine is refused before anything of it is used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

#include "dev/uart_8250.h"
#include "dev_fake_vm.h"
#include "machine/vcpu.h"
#include "machine/layout.h"
#include "snapshot/snap_crc.h"
#include "snapshot/snap_file.h"
#include "snapshot/snap_section.h"
#include "snapshot/snapshot.h"

#define RAM (8 * MiB)
#define SCR (PORT_COM1 + 7)
#define LCR (PORT_COM1 + 3)

/* A section owned by the test "engine": one bounded value. */
struct test_state {
	u32 value;
};

static void state_save(void *opaque, struct snap_writer *w)
{
	snap_put_u32(w, ((struct test_state *)opaque)->value);
}

static int state_load(void *opaque, struct snap_reader *r)
{
	u32 v = snap_get_max(r, 4, 1000000, "the test value");

	if (snap_reader_failed(r))
		return -1;
	((struct test_state *)opaque)->value = v;
	return 0;
}

static const struct snap_section_ops state_ops = { .save = state_save, .load = state_load };

static int test_register(struct vm *vm)
{
	vm->engine_data = calloc(1, sizeof(struct test_state));
	return vm->engine_data ? snap_register(vm, "test-state", &state_ops, vm->engine_data) : -1;
}

static void test_vm_destroy(struct vm *vm)
{
	free(vm->engine_data);
	vm->engine_data = NULL;
}

static void test_kick(struct vcpu *vcpu)
{
	(void)vcpu;
}

static const struct engine_ops test_engine = {
	.name = "fake",
	.vm_destroy = test_vm_destroy,
	.vcpu_kick = test_kick,
	.set_irq_line = fake_set_irq_line,
	.send_msi = fake_send_msi,
	.snapshot_register = test_register,
};

static const struct engine_ops other_engine = {
	.name = "other",
	.vm_destroy = test_vm_destroy,
	.vcpu_kick = test_kick,
	.set_irq_line = fake_set_irq_line,
	.send_msi = fake_send_msi,
	.snapshot_register = test_register,
};

/* A VM with COM1 (and COM2 when asked) and the test engine's section. */
static struct vm *make_vm(u64 ram, const struct engine_ops *engine, bool com1, bool com2)
{
	struct vm *vm = fake_vm_create(ram);

	assert_non_null(vm);
	vm->engine = engine;
	/* One vCPU that counts as parked: vm_pause() returns at once. */
	vm->vcpus = calloc(1, sizeof(*vm->vcpus));
	assert_non_null(vm->vcpus);
	vm->vcpus[0].vm = vm;
	vm->nr_vcpus = 1;
	vm->nr_parked = 1;
	if (com1)
		assert_non_null(uart_8250_create(vm, PORT_COM1, GSI_COM1, "com1"));
	if (com2)
		assert_non_null(uart_8250_create(vm, 0x2f8, 3, "com2"));
	assert_int_equal(snapshot_vm_init(vm), 0);
	return vm;
}

static char dir[] = "/tmp/kiln-snapshot-test-XXXXXX";
static char good_path[128], try_path[128];
static u8 *good;
static size_t good_len;

static u8 *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	u8 *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? n : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

static void write_all(const char *path, const u8 *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void set_restore(struct vm *vm, const char *path)
{
	((struct vm_config *)vm->cfg)->restore_path = path;
}

/*
 * Restores buf into vm (destroyed after) and expects a refusal whose message
 * contains why: a refusal for some other reason would hide a missed check.
 */
static void refuse_into(const u8 *buf, size_t len, struct vm *vm, const char *why)
{
	char msg[1024] = "";
	int saved = dup(STDERR_FILENO), ret;
	FILE *log = tmpfile();

	assert_non_null(log);
	write_all(try_path, buf, len);
	set_restore(vm, try_path);
	fflush(stderr);
	dup2(fileno(log), STDERR_FILENO);
	ret = snapshot_restore(vm);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(log);
	msg[fread(msg, 1, sizeof(msg) - 1, log)] = '\0';
	fclose(log);
	vm_destroy(vm);
	print_message("refused: %s", msg);
	assert_int_equal(ret, -1);
	if (!strstr(msg, why))
		fail_msg("expected a refusal naming \"%s\", got: %s", why, msg);
}

static void refuse(const u8 *buf, size_t len, const char *why)
{
	refuse_into(buf, len, make_vm(RAM, &test_engine, true, false), why);
}

static int try_restore(const u8 *buf, size_t len)
{
	struct vm *vm = make_vm(RAM, &test_engine, true, false);
	int ret;

	write_all(try_path, buf, len);
	set_restore(vm, try_path);
	ret = snapshot_restore(vm);
	vm_destroy(vm);
	return ret;
}

static u64 le(const u8 *p, unsigned int n)
{
	u64 v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/* Where section name's payload starts in buf, and its length. */
static size_t find_section(const u8 *buf, size_t len, const char *name, u64 *plen)
{
	size_t off = le(buf + 12, 4);

	while (off + 40 <= len) {
		u64 n = le(buf + off + 32, 8);

		if (!strcmp((const char *)buf + off, name)) {
			*plen = n;
			return off + 40;
		}
		off += 40 + n + 4;
	}
	fail_msg("no section %s", name);
	return 0;
}

/* Recomputes a section's CRC after the test changed its payload. */
static void fix_crc(u8 *buf, size_t payload, u64 plen)
{
	u32 crc = snap_crc32c(0, buf + payload - 40, 40 + plen);

	for (int i = 0; i < 4; i++)
		buf[payload + plen + i] = crc >> (8 * i);
}

static int setup(void **state)
{
	struct vm *vm;
	struct test_state *ts;
	char err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(good_path, sizeof(good_path), "%s/good", dir);
	snprintf(try_path, sizeof(try_path), "%s/try", dir);
	vm = make_vm(RAM, &test_engine, true, false);
	memset(gpa_to_hva(&vm->mem, 0x1000, 4096), 0xa5, 4096);
	memcpy(gpa_to_hva(&vm->mem, 0x200010, 5), "kiln!", 5);
	memset(gpa_to_hva(&vm->mem, RAM - 4096, 4096), 0x3c, 4096);
	outb(vm, SCR, 0x5a);
	outb(vm, LCR, 0x03);
	ts = vm->engine_data;
	ts->value = 4242;
	assert_int_equal(snapshot_create(vm, good_path, err, sizeof(err)), 0);
	/* The VM stays paused, as after PUT /snapshot/create. */
	assert_true(vm->paused);
	vm_destroy(vm);
	good = read_all(good_path, &good_len);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(good);
	unlink(good_path);
	unlink(try_path);
	rmdir(dir);
	return 0;
}

static void round_trip_restores_ram_and_sections(void **state)
{
	struct vm *vm = make_vm(RAM, &test_engine, true, false);
	u8 page[4096];

	(void)state;
	/* Sparse: three pages of 2048 stored, plus headers and the bitmap. */
	print_message("snapshot of %llu MiB RAM with 3 non-zero pages: %zu bytes\n",
		      (unsigned long long)(RAM / MiB), good_len);
	assert_true(good_len >= 3 * 4096 && good_len < 4 * 4096 + 2048);

	/* A page the file says is zero must come back zero. */
	memset(gpa_to_hva(&vm->mem, 0x3000, 16), 0xff, 16);
	set_restore(vm, good_path);
	assert_int_equal(snapshot_restore(vm), 0);
	memset(page, 0xa5, sizeof(page));
	assert_memory_equal(gpa_to_hva(&vm->mem, 0x1000, 4096), page, 4096);
	assert_memory_equal(gpa_to_hva(&vm->mem, 0x200010, 5), "kiln!", 5);
	memset(page, 0, sizeof(page));
	assert_memory_equal(gpa_to_hva(&vm->mem, 0x3000, 4096), page, 4096);
	memset(page, 0x3c, sizeof(page));
	assert_memory_equal(gpa_to_hva(&vm->mem, RAM - 4096, 4096), page, 4096);
	assert_int_equal(inb(vm, SCR), 0x5a);
	assert_int_equal(inb(vm, LCR), 0x03);
	assert_int_equal(((struct test_state *)vm->engine_data)->value, 4242);
	vm_destroy(vm);
}

static void rejects_bad_header(void **state)
{
	u8 *b = malloc(good_len);

	(void)state;
	memcpy(b, good, good_len);
	b[0] ^= 1;
	refuse(b, good_len, "not a Kiln snapshot (no KILNSNAP magic)");
	{
		char why[120];

		memcpy(b, good, good_len);
		b[8] = SNAP_VERSION + 1;
		snprintf(why, sizeof(why), "format version %u; this Kiln reads version %u\n",
			 SNAP_VERSION + 1, SNAP_VERSION);
		refuse(b, good_len, why);
		/* An older file says so (its sections lack what this Kiln saves). */
		b[8] = SNAP_VERSION - 1;
		snprintf(why, sizeof(why), "format version %u; this Kiln reads version %u (an older "
			 "Kiln wrote it", SNAP_VERSION - 1, SNAP_VERSION);
		refuse(b, good_len, why);
	}
	memcpy(b, good, good_len);
	b[40] ^= 0x10;			/* inside the header */
	refuse(b, good_len, "the header is corrupted (CRC mismatch)");
	memcpy(b, good, good_len);
	{
		char why[80];

		snprintf(why, sizeof(why), "the header is corrupted: its length %u is impossible",
			 0xff00 | good[12]);
		b[13] = 0xff;
		refuse(b, good_len, why);
	}
	free(b);
}

static void rejects_any_flipped_section_byte(void **state)
{
	static const char *const names[] = { "com1", "test-state", "ram", "end" };
	u8 *b = malloc(good_len);
	unsigned int cases = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		u64 plen;
		size_t p = find_section(good, good_len, names[i], &plen);
		char crc_msg[64];

		snprintf(crc_msg, sizeof(crc_msg), "section '%s' at offset %zu is corrupted",
			 names[i], p - 40);
		/* The name's last byte: still a name, but of nothing this VM has. */
		memcpy(b, good, good_len);
		b[p - 40 + strlen(names[i]) - 1] ^= 0x01;
		refuse(b, good_len, "that no device of this VM takes");
		/* A length one larger: the payload no longer ends where it did. */
		memcpy(b, good, good_len);
		b[p - 8] += 1;
		refuse(b, good_len, !strcmp(names[i], "ram") ? "1 bytes more than its regions" :
				    !strcmp(names[i], "end") ? "the file is truncated: section 'end'" :
				    crc_msg);
		/* The first and last payload bytes, then the CRC itself. */
		if (plen && strcmp(names[i], "ram")) {
			memcpy(b, good, good_len);
			b[p] ^= 0x40;
			refuse(b, good_len, crc_msg);
			memcpy(b, good, good_len);
			b[p + plen - 1] ^= 0x40;
			refuse(b, good_len, crc_msg);
			cases += 2;
		}
		memcpy(b, good, good_len);
		b[p + plen] ^= 0x40;
		refuse(b, good_len, crc_msg);
		cases += 3;
	}
	/* A bit of guest memory: only the CRC can tell. */
	{
		u64 plen;
		size_t p = find_section(good, good_len, "ram", &plen);

		memcpy(b, good, good_len);
		b[p + plen - 100] ^= 0x01;
		refuse(b, good_len, "section 'ram' at offset");
		cases++;
	}
	print_message("%u corrupted files refused\n", cases);
	free(b);
}

static void rejects_truncation_and_junk(void **state)
{
	u8 *b = malloc(good_len + 16);
	u64 plen;
	size_t ram = find_section(good, good_len, "ram", &plen);
	size_t hlen = le(good + 12, 4);
	size_t cuts[] = { hlen, hlen + 20, ram - 1, ram + 30, ram + plen / 2, good_len - 44,
			  good_len - 1 };

	(void)state;
	refuse(good, 0, "0 bytes is too short for a header");
	refuse(good, 15, "15 bytes is too short for a header");
	refuse(good, 60, "the file is truncated: the header needs");
	for (size_t k = 0; k < ARRAY_SIZE(cuts); k++)
		refuse(good, cuts[k], "the file is truncated");
	refuse(good, good_len - 44, "without the end marker");
	memcpy(b, good, good_len);
	memset(b + good_len, 0, 16);
	refuse(b, good_len + 16, "16 bytes of junk after the end marker");
	/* and the untouched file does load */
	assert_int_equal(try_restore(good, good_len), 0);
	free(b);
}

static void rejects_another_machine(void **state)
{
	(void)state;
	refuse_into(good, good_len, make_vm(2 * RAM, &test_engine, true, false),
		    "it has 8 MiB of RAM; this VM has 16 MiB");
	refuse_into(good, good_len, make_vm(RAM, &other_engine, true, false),
		    "taken on the fake engine; this VM runs on other");
	refuse_into(good, good_len, make_vm(RAM, &test_engine, false, false),
		    "section 'com1' that no device of this VM takes");
	refuse_into(good, good_len, make_vm(RAM, &test_engine, true, true),
		    "no section 'com2', which this VM has");
}

/* Values a device would misuse, behind a valid CRC. */
static void rejects_bad_values(void **state)
{
	static const struct {
		const char *section;
		size_t off;
		u8 value;
		const char *why;
	} cases[] = {
		{ "com1", 17, 200, "section 'com1': the FIFO count is 200, more than 16" },
		{ "com1", 16, 16, "section 'com1': the FIFO head is 16, more than 15" },
		{ "test-state", 3, 0x7f, "section 'test-state': the test value is" },
		{ "ram", 16, 2, "bitmap has 3 pages, its count says 2" },
		{ "ram", 17, 0x10, "stores 4099 pages of 2048" },
		{ "ram", 1, 0x10, "RAM region 0 is 0x1000+0x800000 in the file, 0+0x800000 here" },
	};
	u8 *b = malloc(good_len);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 plen;
		size_t p;

		memcpy(b, good, good_len);
		p = find_section(b, good_len, cases[i].section, &plen);
		b[p + cases[i].off] = cases[i].value;
		fix_crc(b, p, plen);
		refuse(b, good_len, cases[i].why);
	}
	free(b);
}

/* Devices with no section: refused rather than silently lost. */
static void refuses_devices_it_cannot_save(void **state)
{
	struct vm *vm = make_vm(RAM, &test_engine, true, false);
	struct vm_config *cfg = (struct vm_config *)vm->cfg;
	char err[256] = "", path[160];

	(void)state;
	snprintf(path, sizeof(path), "%s/testdev", dir);
	cfg->testdev = true;
	assert_int_equal(snapshot_create(vm, path, err, sizeof(err)), -1);
	assert_string_equal(err, "the state of --testdev's devices cannot be saved yet");
	assert_int_equal(access(path, F_OK), -1);
	assert_false(vm->paused);
	cfg->testdev = false;
	vm_destroy(vm);
}

/* A snapshot that cannot be written leaves the VM as it found it. */
static void failed_write_resumes_only_what_it_paused(void **state)
{
	struct vm *vm = make_vm(RAM, &test_engine, true, false);
	char err[256] = "";

	(void)state;
	assert_int_equal(snapshot_create(vm, "/nonexistent-dir/s", err, sizeof(err)), -1);
	assert_string_equal(err, "cannot create /nonexistent-dir/s.partial: No such file or directory");
	assert_false(vm->paused);
	vm_pause(vm);
	assert_int_equal(snapshot_create(vm, "/nonexistent-dir/s", err, sizeof(err)), -1);
	assert_true(vm->paused);
	vm_destroy(vm);
}

/* Diffs need a full snapshot before them, and an engine that logs dirty pages. */
static void diff_needs_a_full_snapshot_and_a_log(void **state)
{
	struct vm *vm = make_vm(RAM, &test_engine, true, false);
	char err[256] = "", path[160];

	(void)state;
	snprintf(path, sizeof(path), "%s/diff", dir);
	assert_int_equal(snapshot_create_diff(vm, path, err, sizeof(err)), -1);
	assert_string_equal(err, "a diff snapshot needs a full one before it in this run of Kiln");
	/* The test engine cannot log dirty pages: the full snapshot still works. */
	assert_int_equal(snapshot_create(vm, path, err, sizeof(err)), 0);
	assert_int_equal(snapshot_create_diff(vm, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "dirty-page logging could not start"));
	unlink(path);
	vm_destroy(vm);
}

static void reader_checks_bounds(void **state)
{
	u8 data[3] = { 1, 2, 7 };
	struct snap_reader r;

	(void)state;
	snap_reader_init(&r, data, sizeof(data));
	assert_true(snap_get_bool(&r, "a"));
	assert_int_equal(snap_get_max(&r, 1, 2, "b"), 2);
	assert_false(snap_reader_failed(&r));
	assert_false(snap_get_bool(&r, "c"));	/* 7 is no boolean */
	assert_true(snap_reader_failed(&r));
	assert_non_null(strstr(r.err, "c is 7"));

	snap_reader_init(&r, data, sizeof(data));
	assert_int_equal(snap_get_u16(&r, "x"), 0x0201);
	assert_int_equal(snap_reader_finish(&r), -1);	/* a byte left over */
	snap_reader_init(&r, data, sizeof(data));
	assert_int_equal(snap_get_u32(&r, "y"), 0);	/* past the end */
	assert_non_null(strstr(r.err, "ends inside y"));
}

static void crc32c_known_value(void **state)
{
	(void)state;
	/* The CRC-32C check value (RFC 3720 B.4). */
	assert_int_equal(snap_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(snap_crc32c(snap_crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32c_known_value),
		cmocka_unit_test(reader_checks_bounds),
		cmocka_unit_test(round_trip_restores_ram_and_sections),
		cmocka_unit_test(rejects_bad_header),
		cmocka_unit_test(rejects_any_flipped_section_byte),
		cmocka_unit_test(rejects_truncation_and_junk),
		cmocka_unit_test(rejects_another_machine),
		cmocka_unit_test(rejects_bad_values),
		cmocka_unit_test(refuses_devices_it_cannot_save),
		cmocka_unit_test(diff_needs_a_full_snapshot_and_a_log),
		cmocka_unit_test(failed_write_resumes_only_what_it_paused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
