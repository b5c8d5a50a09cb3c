/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_BOOT_LOADERS_H
#define KILN_MACHINE_BOOT_LOADERS_H

#include "engine/cpu_state.h"
#include "machine/boot/image.h"

struct vm;

/*
 * One loader per kernel format. Each *_detect() only looks at bytes; each
 * *_load() validates everything else, prints a precise error and returns -1
 * when the image is malformed or does not fit.
 */
bool multiboot_detect(const struct boot_image *img);
int multiboot_load(struct vm *vm, const struct boot_image *img, struct cpu_state *bsp);

bool bzimage_detect(const struct boot_image *img);
int bzimage_load(struct vm *vm, const struct boot_image *img, struct cpu_state *bsp);

bool elf_detect(const struct boot_image *img);
int elf_boot_load(struct vm *vm, const struct boot_image *img, struct cpu_state *bsp);

#endif
