// SPDX-License-Identifier: Apache-2.0
/*
 * bzImage: the Linux/x86 boot protocol (Documentation/arch/x86/boot.rst),
 * entered at the 64-bit entry point so that no real-mode code runs.
 */
#include <inttypes.h>
#include <string.h>

#include "lib/log.h"
#include "machine/boot/boot_params.h"
#include "machine/boot/loaders.h"
#include "machine/boot/placement.h"
#include "machine/layout.h"
#include "machine/vm.h"

#define BZ_MIN_PROTOCOL		0x020c	/* 2.12: xloadflags, 64-bit entry */
#define BZ_ENTRY64_OFFSET	0x200	/* startup_64 from the load address */
#define BZ_SECTOR		512
/* 2.12's header ends after init_size and handover_offset. */
#define BZ_HDR_END_2_12		\
	(BZ_SETUP_SECTS + offsetof(struct setup_header, kernel_info_offset))

bool bzimage_detect(const struct boot_image *img)
{
	const u8 *magic = image_at(img, BZ_HEADER, 4);

	return magic && get_le32(magic) == BZ_HDR_MAGIC;
}

/*
 * Copies the file's setup header into hdr. The jump at 0x200 skips the
 * header, so its target (0x202 + the byte at 0x201) is where the header
 * ends; fields past that end stay zero.
 */
static int read_setup_header(const struct boot_image *img, struct setup_header *hdr,
			     u64 *hdr_end)
{
	const u8 *jump = image_at(img, BZ_JUMP, 2);
	u64 len;

	if (!jump)
		return -1;
	*hdr_end = BZ_HEADER + jump[1];
	len = MIN(*hdr_end - BZ_SETUP_SECTS, sizeof(*hdr));
	if (!image_at(img, BZ_SETUP_SECTS, len))
		return -1;
	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr, img->data + BZ_SETUP_SECTS, len);
	return 0;
}

static int check_header(const struct boot_image *img, const struct setup_header *hdr,
			u64 hdr_end)
{
	if (hdr->boot_flag != BZ_BOOT_FLAG_MAGIC) {
		pr_err("kernel %s: bad boot flag %#x (want 0xaa55)", img->path, hdr->boot_flag);
		return -1;
	}
	if (hdr->version < BZ_MIN_PROTOCOL) {
		pr_err("kernel %s: boot protocol %u.%02u is too old (Kiln needs 2.12 or later)",
		       img->path, hdr->version >> 8, hdr->version & 0xff);
		return -1;
	}
	if (hdr_end < BZ_HDR_END_2_12) {
		pr_err("kernel %s: setup header ends at %#" PRIx64 ", too short for boot protocol %u.%02u",
		       img->path, hdr_end, hdr->version >> 8, hdr->version & 0xff);
		return -1;
	}
	if (!(hdr->xloadflags & XLF_KERNEL_64)) {
		pr_err("kernel %s: not a 64-bit kernel (no XLF_KERNEL_64 in xloadflags)",
		       img->path);
		return -1;
	}
	return 0;
}

/*
 * Where the protected-mode kernel goes: pref_address when the kernel is
 * relocatable and that fits, so that loading and decompressing share one
 * range; otherwise 1 MiB, as the protocol's default. Either way the kernel
 * decompresses at max(load, pref_address) rounded up to kernel_alignment,
 * over init_size bytes: that is what must fit, and what the initrd avoids.
 */
static int place_kernel(const struct vm *vm, const struct boot_image *img,
			const struct setup_header *hdr, u64 payload_size,
			u64 *load, u64 *end)
{
	u64 ram_end = boot_low_ram_end(vm);
	u64 need = MAX((u64)hdr->init_size, payload_size);
	u64 align = hdr->kernel_alignment;
	u64 pref = hdr->pref_address;
	u64 run;

	if (align == 0 || (align & (align - 1)) || align > GiB)
		align = 1;
	*load = LAYOUT_KERNEL_DEFAULT;
	if (hdr->relocatable_kernel && pref >= LAYOUT_HIGH_RAM_START &&
	    pref < ram_end && need <= ram_end - pref)
		*load = pref;
	run = ALIGN_UP(MAX(*load, pref), align);
	if (run < MAX(*load, pref) || run >= ram_end || need > ram_end - run ||
	    !boot_range_usable(vm, *load, payload_size)) {
		pr_err("kernel %s: needs %#" PRIx64 " bytes of RAM from %#" PRIx64
		       " but guest RAM below 4 GiB ends at %#" PRIx64,
		       img->path, need, run, ram_end);
		return -1;
	}
	*end = run + need;
	return 0;
}

int bzimage_load(struct vm *vm, const struct boot_image *img, struct cpu_state *bsp)
{
	struct boot_params bp;
	struct setup_header *hdr = &bp.hdr;
	u64 hdr_end, setup_size, payload_size, load, kernel_end, initrd_end;

	memset(&bp, 0, sizeof(bp));
	if (read_setup_header(img, hdr, &hdr_end)) {
		pr_err("kernel %s: truncated bzImage (%" PRIu64 " bytes, no whole setup header)",
		       img->path, img->size);
		return -1;
	}
	if (check_header(img, hdr, hdr_end))
		return -1;

	setup_size = (u64)(hdr->setup_sects ? hdr->setup_sects : 4) * BZ_SECTOR + BZ_SECTOR;
	if (img->size <= setup_size) {
		pr_err("kernel %s: truncated bzImage: %" PRIu64 " bytes, setup alone takes %" PRIu64,
		       img->path, img->size, setup_size);
		return -1;
	}
	payload_size = img->size - setup_size;
	if (place_kernel(vm, img, hdr, payload_size, &load, &kernel_end))
		return -1;
	if (guest_write(&vm->mem, load, img->data + setup_size, payload_size)) {
		pr_err("kernel %s: cannot copy to guest RAM at %#" PRIx64, img->path, load);
		return -1;
	}

	hdr->code32_start = (u32)load;
	initrd_end = MIN((u64)hdr->initrd_addr_max + 1, boot_low_ram_end(vm));
	pr_debug("bzImage protocol %u.%02u loaded at %#" PRIx64 ", runs up to %#" PRIx64,
		 hdr->version >> 8, hdr->version & 0xff, load, kernel_end);
	return boot_linux64(vm, &bp, kernel_end, initrd_end, load + BZ_ENTRY64_OFFSET, bsp);
}
