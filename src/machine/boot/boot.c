// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/boot.h"

#include "lib/log.h"
#include "machine/boot/loaders.h"
#include "machine/vm.h"

int boot_load(struct vm *vm, struct cpu_state *bsp)
{
	struct boot_image img;
	int ret;

	if (!vm->cfg->kernel_path) {
		pr_err("no kernel given (--kernel)");
		return -1;
	}
	if (boot_image_read(vm->cfg->kernel_path, vm->mem.ram_size, &img))
		return -1;

	/*
	 * Multiboot first: its header may sit inside an ELF file, and the
	 * image then wants the multiboot entry state, not the ELF one.
	 */
	if (multiboot_detect(&img))
		ret = multiboot_load(vm, &img, bsp);
	else if (bzimage_detect(&img))
		ret = bzimage_load(vm, &img, bsp);
	else if (elf_detect(&img))
		ret = elf_boot_load(vm, &img, bsp);
	else {
		pr_err("kernel %s: not a bzImage, ELF or multiboot image", img.path);
		ret = -1;
	}
	boot_image_free(&img);
	return ret;
}
