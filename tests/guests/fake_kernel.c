// SPDX-License-Identifier: Apache-2.0
/*
 * A "kernel" in bzImage format (mkbzimage), entered through the 64-bit
 * boot protocol. It checks what a loader owes a Linux kernel:
 *  - boot_params.hdr: our own setup header, plus type_of_loader set;
 *  - the command line, at cmd_line_ptr, as the runner passed it;
 *  - the initrd, at ramdisk_image/size, byte for byte (POSIX cksum CRC);
 *  - an e820 table that is sorted, disjoint and totals --mem;
 *  - where everything sits: in RAM, page aligned, and nothing overlapping.
 * Numbers come on the command line: fk.initrd_size=, fk.initrd_cksum=,
 * fk.mem_mib=.
 */
#include "fake_kernel.h"
#include "guest.h"

#define E820_MAX_TYPE 5
#define PAGE_SIZE 4096

extern const u8 __image_start[], __image_end[], startup_64[];

struct range {
	const char *what;
	u64 start, len;
};

static void check_header(void)
{
	u64 init_size = ((u64)(__image_end - __image_start) + FK_INIT_SIZE_ALIGN - 1) &
			~(u64)(FK_INIT_SIZE_ALIGN - 1);

	CHECK(!memcmp(boot_params + BP_HEADER, "HdrS", 4), "boot_params.hdr has no HdrS magic");
	CHECK(bp_u16(BP_VERSION) == FK_BOOT_VERSION, "hdr.version 0x%x", bp_u16(BP_VERSION));
	CHECK(bp_u16(BP_BOOT_FLAG) == 0xaa55, "hdr.boot_flag 0x%x", bp_u16(BP_BOOT_FLAG));
	CHECK(bp_u8(BP_SETUP_SECTS) == FK_SETUP_SECTS, "hdr.setup_sects %u", bp_u8(BP_SETUP_SECTS));
	CHECK(bp_u8(BP_TYPE_OF_LOADER) != 0, "the loader left hdr.type_of_loader 0");
	CHECK(bp_u8(BP_LOADFLAGS) & FK_LOADED_HIGH, "hdr.loadflags 0x%x lost LOADED_HIGH",
	      bp_u8(BP_LOADFLAGS));
	CHECK(bp_u16(BP_XLOADFLAGS) & FK_XLF_KERNEL_64, "hdr.xloadflags 0x%x", bp_u16(BP_XLOADFLAGS));
	CHECK(bp_u8(BP_RELOCATABLE) == 1, "hdr.relocatable_kernel %u", bp_u8(BP_RELOCATABLE));
	CHECK(bp_u64(BP_PREF_ADDRESS) == FK_LOAD_ADDR, "hdr.pref_address 0x%lx",
	      bp_u64(BP_PREF_ADDRESS));
	CHECK(bp_u32(BP_INIT_SIZE) == init_size, "hdr.init_size 0x%x, the image needs 0x%lx",
	      bp_u32(BP_INIT_SIZE), init_size);
	CHECK(bp_u32(BP_CMDLINE_SIZE) == FK_CMDLINE_SIZE - 1, "hdr.cmdline_size %u",
	      bp_u32(BP_CMDLINE_SIZE));
}

/* Loaded where the 64-bit entry says, aligned, and wholly in RAM. */
static struct range check_kernel_placement(void)
{
	u64 entry = (u64)startup_64, load = entry - FK_ENTRY64_OFFSET;
	u64 init_size = bp_u32(BP_INIT_SIZE);

	CHECK(load % FK_KERNEL_ALIGNMENT == 0, "kernel loaded at 0x%lx, not %u-aligned", load,
	      FK_KERNEL_ALIGNMENT);
	CHECK(e820_is_ram(load, init_size), "kernel at 0x%lx+0x%lx is not all RAM", load, init_size);
	if (load != FK_LOAD_ADDR)
		gprintf("note: relocated to 0x%lx (pref_address 0x%lx)\n", load, FK_LOAD_ADDR);
	return (struct range){ "kernel", load, init_size };
}

static struct range check_cmdline(void)
{
	const char *cl = cmdline();
	u64 len;

	CHECK(cl, "cmd_line_ptr is 0");
	len = strlen(cl);
	CHECK(len < FK_CMDLINE_SIZE, "the command line is %lu bytes, longer than cmdline_size", len);
	CHECK(e820_is_ram((u64)cl, len + 1), "the command line at %p is not in RAM", cl);
	CHECK(!strncmp(cl, FK_CMDLINE_PREFIX " ", sizeof(FK_CMDLINE_PREFIX)),
	      "the command line is \"%s\"", cl);
	return (struct range){ "command line", (u64)cl, len + 1 };
}

static u32 crc_table[256];

/* POSIX cksum: CRC-32 (0x04c11db7, MSB first) over the data, then its length. */
static u32 posix_cksum(const u8 *p, u64 len)
{
	u32 crc = 0;

	for (u32 i = 0; i < 256; i++) {
		u32 c = i << 24;

		for (int k = 0; k < 8; k++)
			c = c & 0x80000000 ? c << 1 ^ 0x04c11db7 : c << 1;
		crc_table[i] = c;
	}
	for (u64 i = 0; i < len; i++)
		crc = crc << 8 ^ crc_table[(crc >> 24 ^ p[i]) & 0xff];
	for (u64 n = len; n; n >>= 8)
		crc = crc << 8 ^ crc_table[(crc >> 24 ^ n) & 0xff];
	return ~crc;
}

static struct range check_initrd(void)
{
	u64 addr = bp_u32(BP_RAMDISK_IMAGE) | (u64)bp_u32(BP_EXT_RAMDISK_IMAGE) << 32;
	u64 size = bp_u32(BP_RAMDISK_SIZE) | (u64)bp_u32(BP_EXT_RAMDISK_SIZE) << 32;
	u64 want_size = cmdline_need_u64("fk.initrd_size");
	u64 want_sum = cmdline_need_u64("fk.initrd_cksum");
	u32 sum;

	CHECK(size == want_size, "ramdisk_size %lu, the initrd has %lu bytes", size, want_size);
	CHECK(addr && addr % PAGE_SIZE == 0, "ramdisk_image 0x%lx is not page aligned", addr);
	CHECK(addr + size - 1 <= FK_INITRD_ADDR_MAX, "initrd ends at 0x%lx, above initrd_addr_max",
	      addr + size - 1);
	CHECK(e820_is_ram(addr, size), "the initrd at 0x%lx+0x%lx is not all RAM", addr, size);
	sum = posix_cksum((const u8 *)addr, size);
	CHECK(sum == want_sum, "initrd cksum %u, expected %lu", sum, want_sum);
	return (struct range){ "initrd", addr, size };
}

static void check_e820(void)
{
	u64 mem = cmdline_need_u64("fk.mem_mib") * MiB, prev_end = 0;
	unsigned int nr;
	const struct e820_entry *e = e820_table(&nr);

	CHECK(nr > 0, "boot_params has no e820 entries");
	for (unsigned int i = 0; i < nr; i++) {
		CHECK(e[i].size > 0, "e820[%u] is empty", i);
		CHECK(e[i].type >= 1 && e[i].type <= E820_MAX_TYPE, "e820[%u] has type %u", i, e[i].type);
		CHECK(e[i].addr + e[i].size > e[i].addr, "e820[%u] wraps", i);
		CHECK(i == 0 || e[i].addr >= prev_end,
		      "e820[%u] at 0x%lx overlaps or precedes the entry before", i, e[i].addr);
		prev_end = e[i].addr + e[i].size;
	}
	CHECK(e820_ram_between(0, 640 * 1024) >= 512 * 1024,
	      "e820 lists only %lu bytes of conventional memory", e820_ram_between(0, 640 * 1024));
	/* Above 1 MiB, every byte of guest RAM is usable RAM. */
	CHECK(e820_ram_between(MiB, ~0ULL) == mem - MiB,
	      "e820 lists %lu bytes of RAM above 1 MiB, --mem gives %lu",
	      e820_ram_between(MiB, ~0ULL), mem - MiB);
}

static bool overlap(const struct range *a, const struct range *b)
{
	return a->start < b->start + b->len && b->start < a->start + a->len;
}

void guest_main(void)
{
	struct range r[4];

	check_header();
	check_e820();
	r[0] = check_kernel_placement();
	r[1] = check_cmdline();
	r[2] = check_initrd();
	r[3] = (struct range){ "boot_params", (u64)boot_params, PAGE_SIZE };
	CHECK(e820_is_ram(r[3].start, r[3].len), "boot_params at 0x%lx is not RAM", r[3].start);
	for (unsigned int i = 0; i < ARRAY_SIZE(r); i++)
		for (unsigned int j = i + 1; j < ARRAY_SIZE(r); j++)
			CHECK(!overlap(&r[i], &r[j]), "the %s (0x%lx+0x%lx) overlaps the %s (0x%lx+0x%lx)",
			      r[i].what, r[i].start, r[i].len, r[j].what, r[j].start, r[j].len);
	gprintf("fake kernel at 0x%lx: boot_params, cmdline, %lu-byte initrd and e820 check out\n",
		r[0].start, r[2].len);
}
