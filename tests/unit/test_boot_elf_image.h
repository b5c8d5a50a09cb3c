/* SPDX-License-Identifier: Apache-2.0 */
/* Builds small ELF32 and ELF64 executables in memory for the loader tests. */
#ifndef KILN_TESTS_TEST_BOOT_ELF_IMAGE_H
#define KILN_TESTS_TEST_BOOT_ELF_IMAGE_H

#include <string.h>

#include "lib/types.h"
#include "lib/unaligned.h"

#define TEST_ELF_MAX	0x4000

struct test_elf {
	u8 buf[TEST_ELF_MAX];
	size_t len;
	bool is64;
	unsigned int phnum;
};

#define TEST_EHDR_SIZE(e)	((e)->is64 ? 64 : 52)
#define TEST_PHDR_SIZE(e)	((e)->is64 ? 56 : 32)
#define TEST_PHOFF(e)		TEST_EHDR_SIZE(e)

/* ELF header for an x86 executable with phnum program headers after it. */
static inline void test_elf_init(struct test_elf *e, bool is64, u64 entry, unsigned int phnum)
{
	u8 *h = e->buf;

	memset(e, 0, sizeof(*e));
	e->is64 = is64;
	e->phnum = phnum;
	memcpy(h, "\x7f" "ELF", 4);
	h[4] = is64 ? 2 : 1;		/* class */
	h[5] = 1;			/* little-endian */
	h[6] = 1;			/* version */
	put_le16(h + 16, 2);		/* ET_EXEC */
	put_le16(h + 18, is64 ? 62 : 3);	/* EM_X86_64 or EM_386 */
	put_le32(h + 20, 1);
	if (is64) {
		put_le64(h + 24, entry);
		put_le64(h + 32, 64);	/* phoff */
		put_le16(h + 52, 64);
		put_le16(h + 54, 56);
		put_le16(h + 56, (u16)phnum);
	} else {
		put_le32(h + 24, (u32)entry);
		put_le32(h + 28, 52);
		put_le16(h + 40, 52);
		put_le16(h + 42, 32);
		put_le16(h + 44, (u16)phnum);
	}
	e->len = TEST_PHOFF(e) + (size_t)phnum * TEST_PHDR_SIZE(e);
}

static inline void test_elf_phdr(struct test_elf *e, unsigned int i, u32 type, u64 offset,
				 u64 vaddr, u64 paddr, u64 filesz, u64 memsz, u64 align)
{
	u8 *p = e->buf + TEST_PHOFF(e) + (size_t)i * TEST_PHDR_SIZE(e);

	put_le32(p, type);
	if (e->is64) {
		put_le32(p + 4, 7);	/* RWX */
		put_le64(p + 8, offset);
		put_le64(p + 16, vaddr);
		put_le64(p + 24, paddr);
		put_le64(p + 32, filesz);
		put_le64(p + 40, memsz);
		put_le64(p + 48, align);
	} else {
		put_le32(p + 4, (u32)offset);
		put_le32(p + 8, (u32)vaddr);
		put_le32(p + 12, (u32)paddr);
		put_le32(p + 16, (u32)filesz);
		put_le32(p + 20, (u32)memsz);
		put_le32(p + 24, 7);
		put_le32(p + 28, (u32)align);
	}
}

/* Copies data into the file at offset, growing the file to cover it. */
static inline void test_elf_data(struct test_elf *e, u64 offset, const void *data, size_t len)
{
	memcpy(e->buf + offset, data, len);
	if (offset + len > e->len)
		e->len = offset + len;
}

/* A note (4-byte aligned) at offset; returns its size in the file. */
static inline size_t test_elf_note(struct test_elf *e, u64 offset, const char *name, u32 type,
				   const void *desc, u32 desc_len)
{
	u32 namesz = (u32)strlen(name) + 1;
	size_t name_pad = (namesz + 3) & ~3U, desc_pad = (desc_len + 3) & ~3U;
	u8 *p = e->buf + offset;

	memset(p, 0, 12 + name_pad + desc_pad);
	put_le32(p, namesz);
	put_le32(p + 4, desc_len);
	put_le32(p + 8, type);
	memcpy(p + 12, name, namesz);
	memcpy(p + 12 + name_pad, desc, desc_len);
	if (offset + 12 + name_pad + desc_pad > e->len)
		e->len = offset + 12 + name_pad + desc_pad;
	return 12 + name_pad + desc_pad;
}

#endif
