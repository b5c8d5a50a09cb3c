// SPDX-License-Identifier: Apache-2.0
/*
 * ELF kernels without a multiboot header: a PVH note wins (Linux's
 * vmlinux), else a 64-bit entry entered like a bzImage's.
 */
#include <inttypes.h>
#include <string.h>

#include "lib/log.h"
#include "machine/boot/boot_params.h"
#include "machine/boot/elf.h"
#include "machine/boot/entry_state.h"
#include "machine/boot/loaders.h"
#include "machine/boot/placement.h"
#include "machine/boot/pvh.h"
#include "machine/layout.h"
#include "machine/vm.h"

static int elf64_load(struct vm *vm, const struct elf_file *elf, struct cpu_state *bsp)
{
	struct boot_params bp;
	u64 end, entry;

	if (!elf->is64 || elf->machine != EM_X86_64) {
		pr_err("kernel %s: a 32-bit ELF needs a multiboot header or a PVH note",
		       elf->img->path);
		return -1;
	}
	if (elf_virt_to_phys(elf, elf->entry, &entry) || entry >= BOOT_IDENTITY_MAP_END) {
		pr_err("kernel %s: ELF entry %#" PRIx64 " is not in a segment loaded below 4 GiB",
		       elf->img->path, elf->entry);
		return -1;
	}
	if (elf_load_segments(vm, elf, false, &end))
		return -1;

	/* What a bzImage's header would say, so both boot the same way. */
	memset(&bp, 0, sizeof(bp));
	bp.hdr.boot_flag = BZ_BOOT_FLAG_MAGIC;
	bp.hdr.header = BZ_HDR_MAGIC;
	bp.hdr.version = BOOT_PROTOCOL_KILN;
	bp.hdr.cmdline_size = LAYOUT_CMDLINE_MAX - 1;
	bp.hdr.initrd_addr_max = UINT32_MAX;
	bp.hdr.xloadflags = XLF_KERNEL_64;
	return boot_linux64(vm, &bp, end, boot_low_ram_end(vm), entry, bsp);
}

int elf_boot_load(struct vm *vm, const struct boot_image *img, struct cpu_state *bsp)
{
	struct elf_file elf;
	const u8 *desc;
	u32 desc_len;

	if (elf_parse(img, &elf))
		return -1;
	if (elf_find_note(&elf, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &desc, &desc_len))
		return pvh_load(vm, &elf, desc, desc_len, bsp);
	return elf64_load(vm, &elf, bsp);
}
