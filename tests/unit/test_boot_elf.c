// SPDX-License-Identifier: Apache-2.0
/* ELF kernels: a 64-bit entry (like the test guests) and the PVH entry. */
#include "test_boot_vm.h"
#include "test_boot_elf_image.h"

#include "machine/boot/elf.h"
#include "machine/boot/pvh.h"

#define RAM		(512 * MiB)
#define TEXT_ADDR	(1 * MiB)
#define TEXT_OFF	0x1000
#define TEXT_FILESZ	0x800
#define TEXT_MEMSZ	0x3000		/* the rest is bss */
#define DATA_ADDR	(TEXT_ADDR + 0x10000)
#define DATA_OFF	0x1800
#define DATA_SIZE	0x200
#define ENTRY		(TEXT_ADDR + 0x10)
#define NOTE_OFF	0x800
#define CMDLINE		"console=ttyS0 quiet"

static int setup(void **state)
{
	return test_vm_setup(state, RAM, CMDLINE);
}

static void fill_pattern(u8 *p, size_t n, u8 seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (u8)(i * 13 + seed);
}

/*
 * An ELF64 linked at 1 MiB, as the freestanding test guests are: text with
 * bss, a data segment, and optionally a PT_NOTE (its index is phnum - 1).
 */
static void build_elf64(struct test_elf *e, u64 entry, bool with_note)
{
	u8 text[TEXT_FILESZ], data[DATA_SIZE];

	test_elf_init(e, true, entry, with_note ? 3 : 2);
	fill_pattern(text, sizeof(text), 1);
	fill_pattern(data, sizeof(data), 2);
	test_elf_phdr(e, 0, PT_LOAD, TEXT_OFF, TEXT_ADDR, TEXT_ADDR, TEXT_FILESZ, TEXT_MEMSZ, 0x1000);
	test_elf_phdr(e, 1, PT_LOAD, DATA_OFF, DATA_ADDR, DATA_ADDR, DATA_SIZE, DATA_SIZE, 0x1000);
	test_elf_data(e, TEXT_OFF, text, sizeof(text));
	test_elf_data(e, DATA_OFF, data, sizeof(data));
}

static void check_segments(struct test_vm *t, const struct test_elf *e)
{
	assert_memory_equal(test_gpa(t, TEXT_ADDR, TEXT_FILESZ), e->buf + TEXT_OFF, TEXT_FILESZ);
	assert_memory_equal(test_gpa(t, DATA_ADDR, DATA_SIZE), e->buf + DATA_OFF, DATA_SIZE);
	test_check_zeroed(t, TEXT_ADDR + TEXT_FILESZ, TEXT_MEMSZ - TEXT_FILESZ);
}

static void elf64_enters_long_mode(void **state)
{
	struct test_vm *t = *state;
	u8 initrd[5000];
	struct boot_params bp;
	struct test_elf e;

	fill_pattern(initrd, sizeof(initrd), 9);
	t->cfg.initrd_path = test_vm_file(t, "initrd", initrd, sizeof(initrd));
	/* Garbage where the bss goes: the loader must clear it. */
	memset(test_gpa(t, TEXT_ADDR, TEXT_MEMSZ), 0xcc, TEXT_MEMSZ);
	build_elf64(&e, ENTRY, false);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);

	check_segments(t, &e);
	test_check_long_mode(t, ENTRY);
	assert_int_equal(guest_read(&t->vm.mem, LAYOUT_BOOT_PARAMS, &bp, sizeof(bp)), 0);
	test_check_boot_params(t, &bp, CMDLINE);
	assert_int_equal(bp.acpi_rsdp_addr, LAYOUT_ACPI_TABLES);
	assert_int_equal(bp.hdr.ramdisk_size, sizeof(initrd));
	assert_int_equal(bp.hdr.ramdisk_image % 4096, 0);
	assert_true(bp.hdr.ramdisk_image >= DATA_ADDR + DATA_SIZE);
	assert_memory_equal(test_gpa(t, bp.hdr.ramdisk_image, sizeof(initrd)), initrd,
			    sizeof(initrd));
	t->cfg.initrd_path = NULL;
}

/* Linux's vmlinux: virtual addresses high, physical ones low. */
static void virtual_entry_goes_through_paddr(void **state)
{
	const u64 virt = 0xffffffff81000000ULL;
	struct test_vm *t = *state;
	struct test_elf e;

	build_elf64(&e, virt + 0x10, false);
	test_elf_phdr(&e, 0, PT_LOAD, TEXT_OFF, virt, TEXT_ADDR, TEXT_FILESZ, TEXT_MEMSZ, 0x1000);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
	assert_int_equal(t->st.rip, TEXT_ADDR + 0x10);
}

static void check_pvh(struct test_vm *t, u32 entry, bool with_initrd, const u8 *initrd,
		      size_t initrd_len)
{
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_table_entry map[E820_MAX_ENTRIES];
	const struct cpu_state *st = &t->st;

	assert_int_equal(st->rip, entry);
	assert_int_equal(st->gpr[GPR_RBX], PVH_START_INFO);
	assert_true(st->cr0 & CR0_PE);
	assert_false(st->cr0 & CR0_PG);
	assert_int_equal(st->efer & EFER_LMA, 0);
	assert_int_equal(st->cs.l, 0);
	assert_int_equal(st->cs.db, 1);
	assert_int_equal(st->cs.base, 0);
	assert_int_equal(st->cs.limit, 0xffffffff);
	assert_int_equal(st->cs.type & 0xa, 0xa);	/* code, readable */
	assert_int_equal(st->ds.db, 1);
	assert_int_equal(st->ds.limit, 0xffffffff);
	assert_int_equal(st->ss.limit, 0xffffffff);
	assert_int_equal(st->tr.type, 0xb);
	assert_int_equal(st->tr.limit, 0x67);
	assert_int_equal(st->rflags, RFLAGS_FIXED);

	assert_int_equal(guest_read(&t->vm.mem, PVH_START_INFO, &si, sizeof(si)), 0);
	assert_int_equal(si.magic, 0x336ec578);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.rsdp_paddr, LAYOUT_ACPI_TABLES);
	assert_string_equal(test_gpa(t, si.cmdline_paddr, sizeof(CMDLINE)), CMDLINE);
	assert_int_equal(si.memmap_entries, t->vm.memmap.nr_e820);
	assert_int_equal(guest_read(&t->vm.mem, si.memmap_paddr, map,
				    si.memmap_entries * sizeof(map[0])), 0);
	for (unsigned int i = 0; i < si.memmap_entries; i++) {
		assert_int_equal(map[i].addr, t->vm.memmap.e820[i].addr);
		assert_int_equal(map[i].size, t->vm.memmap.e820[i].size);
		assert_int_equal(map[i].type, t->vm.memmap.e820[i].type);
	}
	if (!with_initrd) {
		assert_int_equal(si.nr_modules, 0);
		return;
	}
	assert_int_equal(si.nr_modules, 1);
	assert_int_equal(guest_read(&t->vm.mem, si.modlist_paddr, &mod, sizeof(mod)), 0);
	assert_int_equal(mod.size, initrd_len);
	assert_int_equal(mod.paddr % 4096, 0);
	assert_true(mod.paddr >= DATA_ADDR + DATA_SIZE);
	assert_memory_equal(test_gpa(t, mod.paddr, initrd_len), initrd, initrd_len);
}

static void pvh_note_enters_protected_mode(void **state)
{
	struct test_vm *t = *state;
	u64 pvh_entry = TEXT_ADDR + 0x40;
	u8 initrd[100];
	struct test_elf e;
	size_t n;

	fill_pattern(initrd, sizeof(initrd), 4);
	t->cfg.initrd_path = test_vm_file(t, "initrd", initrd, sizeof(initrd));
	/* The 64-bit ELF entry is ignored: the note wins. Linux's desc is 8 bytes. */
	build_elf64(&e, ENTRY, true);
	n = test_elf_note(&e, NOTE_OFF, "GNU", 3, "abcdefgh", 8);
	n += test_elf_note(&e, NOTE_OFF + n, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &pvh_entry, 8);
	test_elf_phdr(&e, 2, PT_NOTE, NOTE_OFF, 0, 0, n, 0, 4);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
	check_segments(t, &e);
	check_pvh(t, (u32)pvh_entry, true, initrd, sizeof(initrd));
	t->cfg.initrd_path = NULL;

	/* A 4-byte descriptor, no initrd. */
	build_elf64(&e, ENTRY, true);
	n = test_elf_note(&e, NOTE_OFF, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &pvh_entry, 4);
	test_elf_phdr(&e, 2, PT_NOTE, NOTE_OFF, 0, 0, n, 0, 4);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
	check_pvh(t, (u32)pvh_entry, false, NULL, 0);
}

static void bad_pvh_notes(void **state)
{
	struct test_vm *t = *state;
	u64 high = 0x100000000ULL;
	struct test_elf e;
	size_t n;

	build_elf64(&e, ENTRY, true);
	n = test_elf_note(&e, NOTE_OFF, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &high, 8);
	test_elf_phdr(&e, 2, PT_NOTE, NOTE_OFF, 0, 0, n, 0, 4);
	assert_int_equal(test_boot(t, e.buf, e.len), -1);	/* entry above 4 GiB */

	n = test_elf_note(&e, NOTE_OFF, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &high, 2);
	test_elf_phdr(&e, 2, PT_NOTE, NOTE_OFF, 0, 0, n, 0, 4);
	assert_int_equal(test_boot(t, e.buf, e.len), -1);	/* descriptor too short */

	/* A note whose descsz runs past its segment is no note: the 64-bit entry is used. */
	n = test_elf_note(&e, NOTE_OFF, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &high, 8);
	put_le32(e.buf + NOTE_OFF + 4, 0xfffffff0);
	test_elf_phdr(&e, 2, PT_NOTE, NOTE_OFF, 0, 0, n, 0, 4);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
	test_check_long_mode(t, ENTRY);

	/* A PT_NOTE past the end of the file is skipped too. */
	test_elf_phdr(&e, 2, PT_NOTE, 0x100000, 0, 0, 64, 0, 4);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
}

/* Every prefix of a good ELF file fails cleanly: segment data is last. */
static void truncated_elf_fails(void **state)
{
	struct test_vm *t = *state;
	struct test_elf e;

	build_elf64(&e, ENTRY, false);
	test_quiet(true);
	for (size_t len = 1; len < e.len; len++)
		assert_int_equal(test_boot(t, e.buf, len), -1);
	test_quiet(false);
	assert_int_equal(test_boot(t, e.buf, e.len), 0);
}

static void bad_segments_fail(void **state)
{
	struct test_vm *t = *state;
	struct test_elf e;
	static const struct {
		u64 paddr, filesz, memsz, offset;
	} bad[] = {
		{ 0x8000, 0x100, 0x100, TEXT_OFF },		/* below 1 MiB: boot data */
		{ 0x9f000, 0x100, 0x2000, TEXT_OFF },		/* across the EBDA/BIOS hole */
		{ LAYOUT_MMIO_HOLE_START, 0x100, 0x100, TEXT_OFF },	/* the PCI hole */
		{ RAM - 0x1000, 0x100, 0x2000, TEXT_OFF },	/* past the end of RAM */
		{ 0xfffffffffffff000ULL, 0x100, 0x2000, TEXT_OFF },	/* wraps */
		{ TEXT_ADDR, 0x200, 0x100, TEXT_OFF },		/* filesz > memsz */
		{ TEXT_ADDR, 0x100, 0x100, 0x100000 },		/* data past the file */
		{ TEXT_ADDR, 0x100, 0x100, 0xffffffffffffff00ULL },	/* offset wraps */
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		build_elf64(&e, ENTRY, false);
		test_elf_phdr(&e, 1, PT_LOAD, bad[i].offset, bad[i].paddr, bad[i].paddr,
			      bad[i].filesz, bad[i].memsz, 0x1000);
		assert_int_equal(test_boot(t, e.buf, e.len), -1);
	}
}

static void bad_headers_fail(void **state)
{
	struct test_vm *t = *state;
	struct test_elf e;

	build_elf64(&e, ENTRY, false);
	e.buf[5] = 2;					/* big-endian */
	assert_int_equal(test_boot(t, e.buf, e.len), -1);
	build_elf64(&e, ENTRY, false);
	e.buf[4] = 3;					/* no such class */
	assert_int_equal(test_boot(t, e.buf, e.len), -1);
	build_elf64(&e, ENTRY, false);
	put_le16(e.buf + 18, 183);				/* aarch64 */
	assert_int_equal(test_boot(t, e.buf, e.len), -1);
	build_elf64(&e, ENTRY, false);
	put_le16(e.buf + 16, 1);				/* ET_REL */
	assert_int_equal(test_boot(t, e.buf, e.len), -1);
	build_elf64(&e, ENTRY, false);
	put_le16(e.buf + 56, 0);				/* no program headers */
	assert_int_equal(test_boot(t, e.buf, e.len), -1);
	build_elf64(&e, ENTRY, false);
	put_le16(e.buf + 54, 32);				/* phentsize too small */
	assert_int_equal(test_boot(t, e.buf, e.len), -1);
	build_elf64(&e, ENTRY, false);
	put_le16(e.buf + 56, 0xffff);			/* headers past the file */
	assert_int_equal(test_boot(t, e.buf, e.len), -1);
	build_elf64(&e, ENTRY, false);
	put_le64(e.buf + 32, 0xfffffffffffffff0ULL);	/* phoff wraps */
	assert_int_equal(test_boot(t, e.buf, e.len), -1);
	build_elf64(&e, 0x5000000, false);		/* entry in no segment */
	assert_int_equal(test_boot(t, e.buf, e.len), -1);
	build_elf64(&e, ENTRY, false);
	test_elf_phdr(&e, 0, PT_NOTE, TEXT_OFF, 0, 0, 0, 0, 4);
	test_elf_phdr(&e, 1, PT_NOTE, TEXT_OFF, 0, 0, 0, 0, 4);
	assert_int_equal(test_boot(t, e.buf, e.len), -1);	/* nothing to load */

	/* A 32-bit ELF without multiboot header or PVH note cannot be entered. */
	test_elf_init(&e, false, ENTRY, 1);
	test_elf_phdr(&e, 0, PT_LOAD, TEXT_OFF, TEXT_ADDR, TEXT_ADDR, 0x10, 0x10, 0x1000);
	test_elf_data(&e, TEXT_OFF, "0123456789abcdef", 16);
	assert_int_equal(test_boot(t, e.buf, e.len), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(elf64_enters_long_mode),
		cmocka_unit_test(virtual_entry_goes_through_paddr),
		cmocka_unit_test(pvh_note_enters_protected_mode),
		cmocka_unit_test(bad_pvh_notes),
		cmocka_unit_test(truncated_elf_fails),
		cmocka_unit_test(bad_segments_fail),
		cmocka_unit_test(bad_headers_fail),
	};

	return cmocka_run_group_tests(tests, setup, test_vm_teardown);
}
