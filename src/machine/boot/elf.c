// SPDX-License-Identifier: Apache-2.0
#include "machine/boot/elf.h"

#include <inttypes.h>

#include "lib/log.h"
#include "machine/boot/placement.h"
#include "machine/vm.h"

#define EI_CLASS	4
#define EI_DATA		5
#define ELFCLASS32	1
#define ELFCLASS64	2
#define ELFDATA2LSB	1
#define ET_EXEC		2
#define ET_DYN		3
#define ELF32_EHDR_SIZE	52
#define ELF64_EHDR_SIZE	64
#define ELF32_PHDR_SIZE	32
#define ELF64_PHDR_SIZE	56

static const u8 elf_magic[4] = { 0x7f, 'E', 'L', 'F' };

bool elf_detect(const struct boot_image *img)
{
	const u8 *ident = image_at(img, 0, sizeof(elf_magic));

	return ident && !memcmp(ident, elf_magic, sizeof(elf_magic));
}

int elf_parse(const struct boot_image *img, struct elf_file *elf)
{
	const u8 *eh = image_at(img, 0, ELF32_EHDR_SIZE);
	u16 type;

	memset(elf, 0, sizeof(*elf));
	elf->img = img;
	if (!eh || memcmp(eh, elf_magic, sizeof(elf_magic))) {
		pr_err("kernel %s: truncated ELF header", img->path);
		return -1;
	}
	if (eh[EI_DATA] != ELFDATA2LSB ||
	    (eh[EI_CLASS] != ELFCLASS32 && eh[EI_CLASS] != ELFCLASS64)) {
		pr_err("kernel %s: not a little-endian ELF32 or ELF64 file", img->path);
		return -1;
	}
	elf->is64 = eh[EI_CLASS] == ELFCLASS64;
	if (elf->is64 && !(eh = image_at(img, 0, ELF64_EHDR_SIZE))) {
		pr_err("kernel %s: truncated ELF64 header", img->path);
		return -1;
	}
	type = get_le16(eh + 16);
	elf->machine = get_le16(eh + 18);
	if (elf->is64) {
		elf->entry = get_le64(eh + 24);
		elf->phoff = get_le64(eh + 32);
		elf->phentsize = get_le16(eh + 54);
		elf->phnum = get_le16(eh + 56);
	} else {
		elf->entry = get_le32(eh + 24);
		elf->phoff = get_le32(eh + 28);
		elf->phentsize = get_le16(eh + 42);
		elf->phnum = get_le16(eh + 44);
	}
	if (type != ET_EXEC && type != ET_DYN) {
		pr_err("kernel %s: ELF type %u is not an executable", img->path, type);
		return -1;
	}
	if (elf->machine != EM_X86_64 && elf->machine != EM_386) {
		pr_err("kernel %s: ELF machine %u is not x86", img->path, elf->machine);
		return -1;
	}
	if (elf->phentsize < (elf->is64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE) ||
	    elf->phnum == 0 ||
	    !image_at(img, elf->phoff, (u64)elf->phentsize * elf->phnum)) {
		pr_err("kernel %s: ELF program headers missing or past the end of the file",
		       img->path);
		return -1;
	}
	return 0;
}

void elf_phdr(const struct elf_file *elf, unsigned int i, struct elf_phdr *ph)
{
	const u8 *p = elf->img->data + elf->phoff + (u64)i * elf->phentsize;

	ph->type = get_le32(p);
	if (elf->is64) {
		ph->offset = get_le64(p + 8);
		ph->vaddr = get_le64(p + 16);
		ph->paddr = get_le64(p + 24);
		ph->filesz = get_le64(p + 32);
		ph->memsz = get_le64(p + 40);
		ph->align = get_le64(p + 48);
	} else {
		ph->offset = get_le32(p + 4);
		ph->vaddr = get_le32(p + 8);
		ph->paddr = get_le32(p + 12);
		ph->filesz = get_le32(p + 16);
		ph->memsz = get_le32(p + 20);
		ph->align = get_le32(p + 28);
	}
}

int elf_load_segments(struct vm *vm, const struct elf_file *elf, bool low_ok, u64 *end)
{
	const char *path = elf->img->path;
	unsigned int loaded = 0;
	struct elf_phdr ph;
	u8 *dst;

	*end = 0;
	for (unsigned int i = 0; i < elf->phnum; i++) {
		elf_phdr(elf, i, &ph);
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.filesz > ph.memsz || !image_at(elf->img, ph.offset, ph.filesz)) {
			pr_err("kernel %s: ELF segment %u: file range %#" PRIx64 "+%#" PRIx64
			       " is past the end of the file or larger than the segment",
			       path, i, ph.offset, ph.filesz);
			return -1;
		}
		if (!boot_range_usable(vm, ph.paddr, ph.memsz) &&
		    !(low_ok && boot_low_range_usable(vm, ph.paddr, ph.memsz))) {
			pr_err("kernel %s: ELF segment %u at %#" PRIx64 "..%#" PRIx64
			       " is not in usable guest RAM (%s)", path, i, ph.paddr,
			       ph.paddr + ph.memsz, low_ok ? BOOT_USABLE_LOW_TOO : BOOT_USABLE_HIGH);
			return -1;
		}
		dst = gpa_to_hva(&vm->mem, ph.paddr, ph.memsz);
		memcpy(dst, elf->img->data + ph.offset, ph.filesz);
		memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
		*end = MAX(*end, ph.paddr + ph.memsz);
		loaded++;
	}
	if (!loaded) {
		pr_err("kernel %s: ELF file has no PT_LOAD segment", path);
		return -1;
	}
	return 0;
}

int elf_virt_to_phys(const struct elf_file *elf, u64 vaddr, u64 *paddr)
{
	struct elf_phdr ph;

	for (unsigned int i = 0; i < elf->phnum; i++) {
		elf_phdr(elf, i, &ph);
		if (ph.type == PT_LOAD && vaddr - ph.vaddr < ph.memsz) {
			*paddr = ph.paddr + (vaddr - ph.vaddr);
			return 0;
		}
	}
	return -1;
}

/* Searches one PT_NOTE segment's bytes [p, p + len). */
static bool find_note_in(const u8 *p, u64 len, u64 align, const char *name, u32 type,
			 const u8 **desc, u32 *desc_len)
{
	u64 name_len = strlen(name) + 1;
	u64 off = 0;

	while (len - off >= 12) {
		u32 namesz = get_le32(p + off);
		u32 descsz = get_le32(p + off + 4);
		u32 ntype = get_le32(p + off + 8);
		u64 name_off = off + 12;
		u64 desc_off = ALIGN_UP(name_off + namesz, align);
		u64 next = ALIGN_UP(desc_off + descsz, align);

		if (desc_off > len || descsz > len - desc_off)
			return false;
		if (ntype == type && namesz == name_len && !memcmp(p + name_off, name, name_len)) {
			*desc = p + desc_off;
			*desc_len = descsz;
			return true;
		}
		if (next > len)
			return false;
		off = next;
	}
	return false;
}

bool elf_find_note(const struct elf_file *elf, const char *name, u32 type,
		   const u8 **desc, u32 *desc_len)
{
	struct elf_phdr ph;
	const u8 *p;

	for (unsigned int i = 0; i < elf->phnum; i++) {
		elf_phdr(elf, i, &ph);
		if (ph.type != PT_NOTE || !(p = image_at(elf->img, ph.offset, ph.filesz)))
			continue;
		/* Notes are 4-byte aligned, 8 in segments that say so. */
		if (find_note_in(p, ph.filesz, ph.align == 8 ? 8 : 4, name, type, desc, desc_len))
			return true;
	}
	return false;
}
