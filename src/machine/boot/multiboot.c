// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/multiboot.h"

#include <inttypes.h>
#include <string.h>

#include "lib/log.h"
#include "machine/boot/cmdline.h"
#include "machine/boot/elf.h"
#include "machine/boot/entry_state.h"
#include "machine/boot/initrd.h"
#include "machine/boot/loaders.h"
#include "machine/boot/placement.h"
#include "machine/layout.h"
#include "machine/vm.h"

_Static_assert(sizeof(struct mb_info) == 88, "mb_info layout");
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "mb_mmap_entry layout");
_Static_assert(MB_MODS_ADDR >= MB_INFO_ADDR + sizeof(struct mb_info), "layout");
_Static_assert(MB_MMAP_ADDR >= MB_MODS_ADDR + sizeof(struct mb_module), "layout");
_Static_assert(MB_BIOS_ADDR + MB_BIOS_SIZE <= MB_INFO_ADDR &&
	       MB_BIOS_ADDR >= LAYOUT_GDT + BOOT_GDT_SIZE, "layout");
_Static_assert(MB_MMAP_ADDR + E820_MAX_ENTRIES * sizeof(struct mb_mmap_entry) <=
	       MB_LOADER_NAME_ADDR, "layout");

static const char mb_loader_name[] = "kiln";

/* Offset of the first valid header (magic and checksum), or -1. */
static s64 find_header(const struct boot_image *img)
{
	u64 limit = MIN(img->size, (u64)MB_SEARCH_LIMIT);

	for (u64 off = 0; off + 12 <= limit; off += 4) {
		const u8 *p = img->data + off;
		u32 magic = get_le32(p), flags = get_le32(p + 4);

		if (magic == MB_HEADER_MAGIC && (u32)(magic + flags + get_le32(p + 8)) == 0)
			return (s64)off;
	}
	return -1;
}

bool multiboot_detect(const struct boot_image *img)
{
	return find_header(img) >= 0;
}

/* The a.out kludge: the header's own addresses say what to load where. */
static int load_aout(struct vm *vm, const struct boot_image *img, u64 hdr_off,
		     const struct mb_header *h, u64 *entry, u64 *end)
{
	u64 skip = (u64)h->header_addr - h->load_addr;
	u64 load_off, load_size, mem_end;
	u8 *dst;

	if (h->header_addr < h->load_addr || skip > hdr_off) {
		pr_err("kernel %s: multiboot header_addr %#x and load_addr %#x do not match "
		       "the header's file offset %#" PRIx64,
		       img->path, h->header_addr, h->load_addr, hdr_off);
		return -1;
	}
	load_off = hdr_off - skip;
	if (h->load_end_addr == 0)
		load_size = img->size - load_off;
	else if (h->load_end_addr > h->load_addr)
		load_size = (u64)h->load_end_addr - h->load_addr;
	else
		goto bad_range;
	if (!image_at(img, load_off, load_size))
		goto bad_range;
	mem_end = (u64)h->load_addr + load_size;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < mem_end)
			goto bad_range;
		mem_end = h->bss_end_addr;
	}
	if (!boot_range_usable(vm, h->load_addr, mem_end - h->load_addr) &&
	    !boot_low_range_usable(vm, h->load_addr, mem_end - h->load_addr)) {
		pr_err("kernel %s: multiboot image at %#x..%#" PRIx64
		       " is not in usable guest RAM (" BOOT_USABLE_LOW_TOO ")",
		       img->path, h->load_addr, mem_end);
		return -1;
	}
	dst = gpa_to_hva(&vm->mem, h->load_addr, mem_end - h->load_addr);
	memcpy(dst, img->data + load_off, load_size);
	memset(dst + load_size, 0, mem_end - h->load_addr - load_size);
	*entry = h->entry_addr;
	*end = mem_end;
	return 0;
bad_range:
	pr_err("kernel %s: multiboot load range %#x..%#x (bss to %#x) is inconsistent "
	       "or past the end of the file", img->path, h->load_addr, h->load_end_addr,
	       h->bss_end_addr);
	return -1;
}

static int load_elf(struct vm *vm, const struct boot_image *img, u64 *entry, u64 *end)
{
	struct elf_file elf;

	if (elf_parse(img, &elf))
		return -1;
	if (elf_virt_to_phys(&elf, elf.entry, entry) || *entry > UINT32_MAX) {
		pr_err("kernel %s: ELF entry %#" PRIx64 " is not in a segment loaded below 4 GiB",
		       img->path, elf.entry);
		return -1;
	}
	return elf_load_segments(vm, &elf, true, end);
}

static int write_info(struct vm *vm, const struct initrd_info *initrd, u64 low_end)
{
	const struct memmap *map = &vm->memmap;
	struct mb_mmap_entry mmap[E820_MAX_ENTRIES];
	char mod_string[MB_MOD_STRING_MAX];
	struct mb_module mod = { 0 };
	struct mb_info info = {
		.flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS |
			 MB_INFO_MEM_MAP | MB_INFO_LOADER_NAME,
		.mem_lower = LAYOUT_LOW_RAM_END >> 10,
		.mem_upper = (u32)((low_end - LAYOUT_HIGH_RAM_START) >> 10),
		.cmdline = LAYOUT_CMDLINE,
		.mods_addr = MB_MODS_ADDR,
		.mmap_length = map->nr_e820 * sizeof(mmap[0]),
		.mmap_addr = MB_MMAP_ADDR,
		.boot_loader_name = MB_LOADER_NAME_ADDR,
	};

	for (unsigned int i = 0; i < map->nr_e820; i++)
		mmap[i] = (struct mb_mmap_entry){
			.size = sizeof(mmap[0]) - sizeof(mmap[0].size),
			.addr = map->e820[i].addr,
			.len = map->e820[i].size,
			.type = map->e820[i].type,
		};
	/* kvm-unit-tests read their environment from module 1: the initrd. */
	memset(mod_string, 0, sizeof(mod_string));
	if (initrd->present) {
		info.mods_count = 1;
		mod.mod_start = (u32)initrd->addr;
		mod.mod_end = (u32)(initrd->addr + initrd->size);
		mod.string = MB_MOD_STRING_ADDR;
		/* The module string only names the file; a very long path is cut. */
		memcpy(mod_string, vm->cfg->initrd_path,
		       MIN(strlen(vm->cfg->initrd_path), sizeof(mod_string) - 1));
	}
	if (guest_write(&vm->mem, MB_INFO_ADDR, &info, sizeof(info)) ||
	    guest_write(&vm->mem, MB_MODS_ADDR, &mod, sizeof(mod)) ||
	    guest_write(&vm->mem, MB_MMAP_ADDR, mmap, info.mmap_length) ||
	    guest_write(&vm->mem, MB_LOADER_NAME_ADDR, mb_loader_name, sizeof(mb_loader_name)) ||
	    guest_write(&vm->mem, MB_MOD_STRING_ADDR, mod_string, sizeof(mod_string))) {
		pr_err("boot: no guest RAM for the multiboot info at %#llx", MB_INFO_ADDR);
		return -1;
	}
	return 0;
}

int multiboot_load(struct vm *vm, const struct boot_image *img, struct cpu_state *bsp)
{
	u64 hdr_off = (u64)find_header(img);
	u64 low_end = MIN(boot_low_ram_end(vm), (u64)UINT32_MAX + 1);
	struct initrd_info initrd;
	struct mb_header h = { 0 };
	u64 entry, end;
	u32 unsupported, stub;
	int ret;

	memcpy(&h, img->data + hdr_off, MIN(sizeof(h), img->size - hdr_off));
	unsupported = h.flags & MB_HF_REQUIRED_MASK &
		      ~(MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO | MB_HF_VIDEO_MODE);
	if (unsupported) {
		pr_err("kernel %s: multiboot header requires features Kiln lacks (flags %#x)",
		       img->path, unsupported);
		return -1;
	}
	if (h.flags & MB_HF_VIDEO_MODE)
		pr_warn("kernel %s: multiboot video mode requested; Kiln has no framebuffer",
			img->path);

	if (h.flags & MB_HF_AOUT_KLUDGE) {
		if (!image_at(img, hdr_off, sizeof(h)) || hdr_off + sizeof(h) > MB_SEARCH_LIMIT) {
			pr_err("kernel %s: multiboot header with load addresses is truncated",
			       img->path);
			return -1;
		}
		ret = load_aout(vm, img, hdr_off, &h, &entry, &end);
	} else if (elf_detect(img)) {
		ret = load_elf(vm, img, &entry, &end);
	} else {
		pr_err("kernel %s: multiboot image is neither ELF nor has load addresses (flag 16)",
		       img->path);
		return -1;
	}
	if (ret)
		return -1;

	/* argv[0] is the kernel's name, as a multiboot loader passes it. */
	if (boot_cmdline_write(vm, img->path, LAYOUT_CMDLINE_MAX - 1))
		return -1;
	/* Modules go above 1 MiB, even after a kernel linked in low RAM. */
	if (initrd_load(vm, MAX(end, LAYOUT_HIGH_RAM_START), low_end, false, &initrd))
		return -1;
	if (write_info(vm, &initrd, low_end))
		return -1;
	if (multiboot_bios_setup(vm, (u32)entry, &stub) ||
	    entry_setup_protected_mode(&vm->mem, bsp, stub))
		return -1;
	bsp->gpr[GPR_RAX] = MB_BOOT_MAGIC;
	bsp->gpr[GPR_RBX] = MB_INFO_ADDR;
	pr_debug("multiboot kernel, entry %#" PRIx64 ", ends at %#" PRIx64, entry, end);
	return 0;
}
