// SPDX-License-Identifier: Apache-2.0
/* Multiboot v1 kernels, as kvm-unit-tests' .flat files are. */
#include "test_boot_vm.h"
#include "test_boot_elf_image.h"

#include "engine/soft/soft_standalone.h"
#include "machine/boot/elf.h"
#include "machine/boot/multiboot.h"

#define RAM		(128 * MiB)
#define LOAD_ADDR	(4 * MiB)	/* where kvm-unit-tests link */
#define SEG_OFF		0x1000
#define SEG_SIZE	0x2000
#define BSS_SIZE	0x3000
#define ENTRY		(LOAD_ADDR + 0x40)
#define CMDLINE		"-smp 2 arg"

static int setup(void **state)
{
	return test_vm_setup(state, RAM, CMDLINE);
}

static void mb_header(u8 *p, u32 flags)
{
	put_le32(p, MB_HEADER_MAGIC);
	put_le32(p + 4, flags);
	put_le32(p + 8, (u32)-(MB_HEADER_MAGIC + flags));
}

/* An ELF32 with the multiboot header at the start of its one segment. */
static void build_mb_elf(struct test_elf *e, u32 flags)
{
	u8 seg[SEG_SIZE];

	for (size_t i = 0; i < sizeof(seg); i++)
		seg[i] = (u8)(i * 5 + 1);
	mb_header(seg, flags);
	test_elf_init(e, false, ENTRY, 1);
	test_elf_phdr(e, 0, PT_LOAD, SEG_OFF, LOAD_ADDR, LOAD_ADDR, SEG_SIZE,
		      SEG_SIZE + BSS_SIZE, 0x1000);
	test_elf_data(e, SEG_OFF, seg, sizeof(seg));
}

/*
 * The boot CPU starts in the BIOS stub (multiboot_bios.c), in 32-bit
 * protected mode with flat segments. Run on a standalone soft CPU over the
 * VM's RAM, the stub must reach the kernel's entry having run only its port
 * writes (the standalone CPU drops them: test_boot_multiboot_bios.c checks
 * what they do), with EAX and EBX as the multiboot spec says, interrupts
 * still off and the segments untouched.
 */
static void check_entry(struct test_vm *t, u32 entry)
{
	const struct cpu_state *st = &t->st;
	struct soft_cpu *cpu = soft_cpu_create_standalone(&t->vm.mem);
	struct soft_run_info info;
	struct cpu_state out;

	assert_int_equal(st->rip, MB_BIOS_ADDR);
	assert_int_equal(st->gpr[GPR_RBX], MB_INFO_ADDR);
	assert_true(st->cr0 & CR0_PE);
	assert_false(st->cr0 & CR0_PG);
	assert_int_equal(st->efer, 0);
	assert_int_equal(st->cs.l, 0);
	assert_int_equal(st->cs.db, 1);
	assert_int_equal(st->cs.base, 0);
	assert_int_equal(st->cs.limit, 0xffffffff);
	assert_int_equal(st->ds.limit, 0xffffffff);
	assert_int_equal(st->ds.type & 0xa, 0x2);
	assert_int_equal(st->ss.db, 1);
	assert_int_equal(st->rflags, RFLAGS_FIXED);

	assert_non_null(cpu);
	soft_cpu_set_state(cpu, st);
	assert_int_equal(soft_cpu_run(cpu, 1000, entry, &info), SOFT_RUN_STOP_RIP);
	/* mov al, v; out p, al for each write, then mov eax and jmp. */
	assert_int_equal(info.insns, 2 * mb_bios_nr_writes + 2);
	soft_cpu_get_state(cpu, &out);
	soft_cpu_destroy_standalone(cpu);
	assert_int_equal(out.rip, entry);
	assert_int_equal(out.gpr[GPR_RAX], 0x2badb002);
	assert_int_equal(out.gpr[GPR_RBX], MB_INFO_ADDR);
	for (unsigned int r = GPR_RCX; r < NR_GPRS; r++)
		assert_int_equal(out.gpr[r], st->gpr[r]);
	assert_int_equal(out.rflags & RFLAGS_IF, 0);
	assert_int_equal(out.cs.selector, st->cs.selector);
	assert_int_equal(out.ds.selector, st->ds.selector);
}

/* The info fields kvm-unit-tests' lib/x86/setup.c and cstart*.S read. */
static void check_info(struct test_vm *t, const char *cmdline, const u8 *initrd,
		       size_t initrd_len, u64 kernel_end)
{
	struct mb_mmap_entry mmap[E820_MAX_ENTRIES];
	struct mb_module mod;
	struct mb_info info;

	assert_int_equal(guest_read(&t->vm.mem, MB_INFO_ADDR, &info, sizeof(info)), 0);
	assert_true(info.flags & MB_INFO_MEMORY);
	assert_true(info.flags & MB_INFO_CMDLINE);
	assert_true(info.flags & MB_INFO_MODS);
	assert_true(info.flags & MB_INFO_MEM_MAP);
	assert_int_equal(info.mem_lower, 639);
	assert_int_equal(info.mem_upper, (RAM - 1 * MiB) / KiB);
	assert_string_equal(test_gpa(t, info.cmdline, strlen(cmdline) + 1), cmdline);
	assert_string_equal(test_gpa(t, info.boot_loader_name, 5), "kiln");

	assert_int_equal(info.mmap_length, t->vm.memmap.nr_e820 * 24);
	assert_int_equal(guest_read(&t->vm.mem, info.mmap_addr, mmap, info.mmap_length), 0);
	for (unsigned int i = 0; i < t->vm.memmap.nr_e820; i++) {
		assert_int_equal(mmap[i].size, 20);
		assert_int_equal(mmap[i].addr, t->vm.memmap.e820[i].addr);
		assert_int_equal(mmap[i].len, t->vm.memmap.e820[i].size);
		assert_int_equal(mmap[i].type, t->vm.memmap.e820[i].type);
	}

	if (!initrd) {
		assert_int_equal(info.mods_count, 0);
		return;
	}
	assert_int_equal(info.mods_count, 1);
	assert_int_equal(guest_read(&t->vm.mem, info.mods_addr, &mod, sizeof(mod)), 0);
	assert_int_equal(mod.mod_end - mod.mod_start, initrd_len);
	assert_int_equal(mod.mod_start % 4096, 0);
	assert_true(mod.mod_start >= kernel_end);
	assert_memory_equal(test_gpa(t, mod.mod_start, initrd_len), initrd, initrd_len);
	assert_string_equal(test_gpa(t, mod.string, strlen(t->cfg.initrd_path) + 1),
			    t->cfg.initrd_path);
}

static void elf32_multiboot_boots(void **state)
{
	static const char env[] = "QEMU_ACCEL=kvm\nKVM_UNIT_TESTS_ENV=1\n";
	struct test_vm *t = *state;
	char cmdline[256];
	struct test_elf e;

	t->cfg.initrd_path = test_vm_file(t, "env", env, sizeof(env) - 1);
	memset(test_gpa(t, LOAD_ADDR, SEG_SIZE + BSS_SIZE), 0xcc, SEG_SIZE + BSS_SIZE);
	build_mb_elf(&e, MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);

	check_entry(t, ENTRY);
	assert_memory_equal(test_gpa(t, LOAD_ADDR, SEG_SIZE), e.buf + SEG_OFF, SEG_SIZE);
	test_check_zeroed(t, LOAD_ADDR + SEG_SIZE, BSS_SIZE);
	/* argv[0] is the kernel, then the command line: what kvm-unit-tests parse. */
	snprintf(cmdline, sizeof(cmdline), "%s %s", t->cfg.kernel_path, CMDLINE);
	check_info(t, cmdline, (const u8 *)env, sizeof(env) - 1, LOAD_ADDR + SEG_SIZE + BSS_SIZE);
	t->cfg.initrd_path = NULL;

	/* No initrd, no command line: no module, argv[0] alone. */
	t->cfg.cmdline = NULL;
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
	check_info(t, t->cfg.kernel_path, NULL, 0, 0);
	t->cfg.cmdline = CMDLINE;
}

/* Flag 16: the header's addresses, not ELF, say what to load. */
static void aout_kludge_boots(void **state)
{
	struct test_vm *t = *state;
	const u32 hdr_off = 0x40, load = 2 * MiB, bss_end = load + 0x3000;
	u8 img[0x1000];

	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (u8)(i * 3);
	mb_header(img + hdr_off, MB_HF_MEMORY_INFO | MB_HF_AOUT_KLUDGE);
	put_le32(img + hdr_off + 12, load + hdr_off);	/* header_addr */
	put_le32(img + hdr_off + 16, load);		/* load_addr */
	put_le32(img + hdr_off + 20, 0);			/* load_end: the whole file */
	put_le32(img + hdr_off + 24, bss_end);
	put_le32(img + hdr_off + 28, load + 0x100);	/* entry */
	memset(test_gpa(t, load, 0x3000), 0xcc, 0x3000);
	assert_int_equal(test_boot(t, img, sizeof(img)), 0);
	check_entry(t, load + 0x100);
	assert_memory_equal(test_gpa(t, load, sizeof(img)), img, sizeof(img));
	test_check_zeroed(t, load + sizeof(img), bss_end - load - sizeof(img));

	/* load_end_addr given: only that much is loaded. */
	put_le32(img + hdr_off + 20, load + 0x800);
	put_le32(img + hdr_off + 24, 0);
	memset(test_gpa(t, load, 0x1000), 0xee, 0x1000);
	assert_int_equal(test_boot(t, img, sizeof(img)), 0);
	assert_memory_equal(test_gpa(t, load, 0x800), img, 0x800);
	assert_int_equal(*(u8 *)test_gpa(t, load + 0x800, 1), 0xee);
}

static void bad_aout_headers_fail(void **state)
{
	struct test_vm *t = *state;
	const u32 hdr_off = 0x40, load = 2 * MiB;
	static const struct {
		u32 header_addr, load_addr, load_end, bss_end;
	} bad[] = {
		{ 2 * MiB, 2 * MiB + 0x100, 0, 0 },		/* header below load */
		{ 2 * MiB + 0x1000, 2 * MiB, 0, 0 },		/* before the file start */
		{ 2 * MiB + 0x40, 2 * MiB, 2 * MiB, 0 },	/* load_end == load */
		{ 2 * MiB + 0x40, 2 * MiB, 2 * MiB + 0x2000, 0 },	/* past the file */
		{ 2 * MiB + 0x40, 2 * MiB, 0, 2 * MiB + 0x10 },	/* bss ends in the image */
		{ 0x7040, 0x7000, 0, 0 },			/* on the multiboot info */
		{ 0x9f040, 0x9f000, 0, 0 },			/* into the EBDA */
		{ 0x1f840, 0x1f800, 0, 0 },			/* into the command line */
		{ 0x8040, 0x8000, 0, 0x100100 },		/* low RAM into high */
		{ 0xc0000040, 0xc0000000, 0, 0 },		/* in the PCI hole */
		{ 2 * MiB + 0x40, 2 * MiB, 0, 0xffffffff },	/* bss past RAM */
	};
	u8 img[0x1000];

	memset(img, 0x90, sizeof(img));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		mb_header(img + hdr_off, MB_HF_AOUT_KLUDGE);
		put_le32(img + hdr_off + 12, bad[i].header_addr);
		put_le32(img + hdr_off + 16, bad[i].load_addr);
		put_le32(img + hdr_off + 20, bad[i].load_end);
		put_le32(img + hdr_off + 24, bad[i].bss_end);
		put_le32(img + hdr_off + 28, load);
		assert_int_equal(test_boot(t, img, sizeof(img)), -1);
	}
	/* The header's address fields cut off by the end of the file. */
	memset(img, 0x90, sizeof(img));
	mb_header(img + sizeof(img) - 12, MB_HF_AOUT_KLUDGE);
	assert_int_equal(test_boot(t, img, sizeof(img)), -1);
}

static void bad_multiboot_images_fail(void **state)
{
	struct test_vm *t = *state;
	struct test_elf e;
	u8 raw[0x800];

	/* A requirement Kiln cannot meet (bit 3). */
	build_mb_elf(&e, MB_HF_MEMORY_INFO | (1U << 3));
	assert_int_equal(test_boot(t, e.buf, e.len), -1);

	/* A bad checksum is no header: then an ELF32 without one cannot boot. */
	build_mb_elf(&e, 0);
	put_le32(e.buf + SEG_OFF + 8, 0);
	assert_int_equal(test_boot(t, e.buf, e.len), -1);

	/* A header beyond the first 8 KiB does not count. */
	memset(raw, 0, sizeof(raw));
	assert_int_equal(test_boot(t, raw, sizeof(raw)), -1);

	/* Neither ELF nor flag 16. */
	mb_header(raw + 0x10, MB_HF_MEMORY_INFO);
	assert_int_equal(test_boot(t, raw, sizeof(raw)), -1);

	/* Every truncation of a good image fails cleanly. */
	build_mb_elf(&e, MB_HF_MEMORY_INFO);
	test_quiet(true);
	for (size_t len = 1; len < e.len; len += 7)
		assert_int_equal(test_boot(t, e.buf, len), -1);
	test_quiet(false);

	/* The multiboot command line is bounded like any other. */
	build_mb_elf(&e, 0);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
	{
		char *huge = malloc(LAYOUT_CMDLINE_MAX);

		assert_non_null(huge);
		memset(huge, 'a', LAYOUT_CMDLINE_MAX - 1);
		huge[LAYOUT_CMDLINE_MAX - 1] = '\0';
		t->cfg.cmdline = huge;		/* fits alone, not after argv[0] */
		assert_int_equal(test_boot(t, e.buf, e.len), -1);
		t->cfg.cmdline = CMDLINE;
		free(huge);
	}
}

/* An ELF32 multiboot image with one segment at load: up to 4 KiB from the file, mem in all. */
static void build_mb_elf_at(struct test_elf *e, u32 load, u32 mem)
{
	u8 seg[0x1000];

	memset(seg, 0x90, sizeof(seg));
	mb_header(seg, 0);
	test_elf_init(e, false, load + 0x18, 1);
	test_elf_phdr(e, 0, PT_LOAD, SEG_OFF, load, load, MIN(sizeof(seg), mem), mem, 0x1000);
	test_elf_data(e, SEG_OFF, seg, sizeof(seg));
}

/*
 * kvm-unit-tests' realmode.flat links at 32 KiB, as a kernel a BIOS loads
 * may: conventional RAM the multiboot entry leaves free is usable, and the
 * environment module still goes above 1 MiB.
 */
static void low_ram_multiboot_boots(void **state)
{
	static const char env[] = "TARGET=kiln\n";
	struct test_vm *t = *state;
	const u32 load = 0x8000, mem = 0x5a30;	/* realmode.flat's extent */
	struct test_elf e;
	char cmdline[256];

	t->cfg.initrd_path = test_vm_file(t, "env", env, sizeof(env) - 1);
	memset(test_gpa(t, load, mem), 0xcc, mem);
	build_mb_elf_at(&e, load, mem);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
	check_entry(t, load + 0x18);
	assert_memory_equal(test_gpa(t, load, 0x1000), e.buf + SEG_OFF, 0x1000);
	for (u32 i = 0x1000; i < mem; i++)
		assert_int_equal(*(u8 *)test_gpa(t, load + i, 1), 0);
	snprintf(cmdline, sizeof(cmdline), "%s %s", t->cfg.kernel_path, CMDLINE);
	check_info(t, cmdline, (const u8 *)env, sizeof(env) - 1, LAYOUT_HIGH_RAM_START);
	t->cfg.initrd_path = NULL;

	/* The last bytes below the EBDA, and a segment up to the command line. */
	build_mb_elf_at(&e, 0x9f000, 0xc00);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
	build_mb_elf_at(&e, 0x1f000, 0x1000);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
	build_mb_elf_at(&e, 0x30000, 0x1000);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
}

/* Low RAM is not a way around the hole, the loader's data or RAM's end. */
static void bad_low_ram_segments_fail(void **state)
{
	struct test_vm *t = *state;
	static const struct {
		u32 load, mem;
	} bad[] = {
		{ 0x0000, 0x1000 },		/* the IVT */
		{ 0x7000, 0x2000 },		/* the multiboot info */
		{ 0x9f000, 0xc01 },		/* one byte into the EBDA */
		{ 0x9f000, 0x62000 },		/* across the hole into high RAM */
		{ 0xa0000, 0x1000 },		/* VGA */
		{ 0xe0000, 0x1000 },		/* the ACPI tables / BIOS area */
		{ 0x1f000, 0x1001 },		/* one byte into the command line */
		{ 0x2f000, 0x2000 },		/* the command line's end */
		{ 0x8000, 0xfffff000 },		/* wraps */
		{ RAM - 0x1000, 0x2000 },	/* past RAM's end */
	};
	struct test_elf e;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		build_mb_elf_at(&e, bad[i].load, bad[i].mem);
		assert_int_equal(test_boot(t, e.buf, e.len), -1);
	}
}

/* A real-mode program: four interrupts through the IVT the loader wrote, then HLT. */
static const u8 rm_ints[] = {
	0xcd, 0x08,	/* int 0x08: IRQ0, EOI to the master */
	0xcd, 0x70,	/* int 0x70: IRQ8, EOI to the slave and the master */
	0xcd, 0x21,	/* int 0x21: no handler of the BIOS's, plain IRET */
	0xcd, 0xff,
	0xf4,		/* hlt */
};

/*
 * The real-mode IVT a BIOS leaves: every vector returns to its caller with
 * every register and flag as they were (the PIC vectors send their EOIs,
 * which the standalone CPU drops).
 */
static void bios_ivt_returns(void **state)
{
	struct test_vm *t = *state;
	const u64 code = 0x30000, stack = 0x2f000;
	struct soft_cpu *cpu;
	struct soft_run_info info;
	struct cpu_state st;
	struct test_elf e;

	build_mb_elf(&e, 0);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
	for (unsigned int v = 0; v < 256; v++) {
		u32 vec = *(u32 *)test_gpa(t, MB_IVT_ADDR + 4 * v, 4);

		assert_int_equal(vec >> 16, 0);		/* segment 0 */
		assert_in_range(vec & 0xffff, MB_BIOS_HANDLERS, MB_BIOS_ADDR + MB_BIOS_SIZE - 1);
	}
	memcpy(test_gpa(t, code, sizeof(rm_ints)), rm_ints, sizeof(rm_ints));

	memset(&st, 0, sizeof(st));
	st.cs = (struct segment){ .selector = code >> 4, .base = code, .limit = 0xffff,
				  .type = 0xb, .s = 1, .present = 1 };
	st.ds = st.es = st.fs = st.gs = st.ss =
		(struct segment){ .limit = 0xffff, .type = 0x3, .s = 1, .present = 1 };
	st.ss.selector = stack >> 4;
	st.ss.base = stack & ~0xfULL;
	st.cr0 = CR0_ET;
	st.idt.limit = 0x3ff;
	st.rflags = RFLAGS_FIXED | RFLAGS_CF | RFLAGS_ZF;
	for (unsigned int r = 0; r < NR_GPRS; r++)
		st.gpr[r] = 0x1111 * (r + 1);
	st.gpr[GPR_RSP] = 0x800;
	cpu = soft_cpu_create_standalone(&t->vm.mem);
	assert_non_null(cpu);
	soft_cpu_set_deliver_exceptions(cpu, true);
	soft_cpu_set_state(cpu, &st);
	assert_int_equal(soft_cpu_run(cpu, 100, ~0ULL, &info), SOFT_RUN_HALT);
	soft_cpu_get_state(cpu, &t->st);
	soft_cpu_destroy_standalone(cpu);
	assert_int_equal(t->st.rip, sizeof(rm_ints));
	for (unsigned int r = 0; r < NR_GPRS; r++)
		assert_int_equal(t->st.gpr[r], st.gpr[r]);
	assert_int_equal(t->st.rflags, st.rflags);
}

static void header_past_8k_is_not_multiboot(void **state)
{
	struct test_vm *t = *state;
	struct test_elf e;
	u8 seg[0x200];

	/* The header sits at file offset 0x2000: too far to count. */
	memset(seg, 0, sizeof(seg));
	mb_header(seg, 0);
	test_elf_init(&e, false, LOAD_ADDR, 1);
	test_elf_phdr(&e, 0, PT_LOAD, 0x2000, LOAD_ADDR, LOAD_ADDR, sizeof(seg), sizeof(seg), 0x1000);
	test_elf_data(&e, 0x2000, seg, sizeof(seg));
	assert_int_equal(test_boot(t, e.buf, e.len), -1);	/* a plain ELF32: refused */
	/* Moved to 0x1ff0 it does, and the same image boots. */
	memmove(e.buf + 0x1ff0, e.buf + 0x2000, sizeof(seg));
	test_elf_phdr(&e, 0, PT_LOAD, 0x1ff0, LOAD_ADDR, LOAD_ADDR, sizeof(seg), sizeof(seg), 0x1000);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
	check_entry(t, LOAD_ADDR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(elf32_multiboot_boots),
		cmocka_unit_test(aout_kludge_boots),
		cmocka_unit_test(bad_aout_headers_fail),
		cmocka_unit_test(bad_multiboot_images_fail),
		cmocka_unit_test(header_past_8k_is_not_multiboot),
		cmocka_unit_test(low_ram_multiboot_boots),
		cmocka_unit_test(bad_low_ram_segments_fail),
		cmocka_unit_test(bios_ivt_returns),
	};

	return cmocka_run_group_tests(tests, setup, test_vm_teardown);
}
