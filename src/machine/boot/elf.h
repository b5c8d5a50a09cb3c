/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_BOOT_ELF_H
#define KILN_MACHINE_BOOT_ELF_H

#include "machine/boot/image.h"

struct vm;

/*
 * A checked view of an ELF32 or ELF64 little-endian executable: both
 * classes reduce to the same fields, so the loaders need not care which.
 */
struct elf_file {
	const struct boot_image *img;
	bool is64;
	u16 machine;
	u64 entry;
	u64 phoff;
	u16 phentsize;
	u16 phnum;
};

struct elf_phdr {
	u32 type;
	u64 offset;
	u64 vaddr;
	u64 paddr;
	u64 filesz;
	u64 memsz;
	u64 align;
};

#define PT_LOAD		1
#define PT_NOTE		4
#define EM_386		3
#define EM_X86_64	62

/* Checks the ELF and program headers' placement; prints why on error. */
int elf_parse(const struct boot_image *img, struct elf_file *elf);

/* Program header i (< phnum), its file range already checked. */
void elf_phdr(const struct elf_file *elf, unsigned int i, struct elf_phdr *ph);

/*
 * Copies every PT_LOAD segment to its physical address (p_paddr) and
 * zeroes its bss. Every segment must lie in usable RAM from 1 MiB up, or
 * with low_ok also in the conventional RAM boot_low_range_usable() allows.
 * Gives the end of the highest segment.
 */
int elf_load_segments(struct vm *vm, const struct elf_file *elf, bool low_ok, u64 *end);

/*
 * Finds the note (name, type) in a PT_NOTE segment; gives its descriptor
 * and length. False when there is none.
 */
bool elf_find_note(const struct elf_file *elf, const char *name, u32 type,
		   const u8 **desc, u32 *desc_len);

/* The physical address of a virtual one, through the PT_LOAD that holds it. */
int elf_virt_to_phys(const struct elf_file *elf, u64 vaddr, u64 *paddr);

#endif
