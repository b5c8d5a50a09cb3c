// SPDX-License-Identifier: Apache-2.0
/*
 * mkbzimage FAKE_KERNEL.elf OUT: wraps a guest ELF linked at FK_LOAD_ADDR
 * into a bzImage: boot sector with the setup header (boot protocol 2.15,
 * 64-bit capable, relocatable), FK_SETUP_SECTS setup sectors, then the
 * flat protected-mode payload whose 64-bit entry is at offset 0x200.
 * A host tool, built by the host compiler.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_kernel.h"

#define SECTOR 512
#define PAYLOAD_MAX (16 << 20)

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "mkbzimage: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		die("cannot open %s", path);
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die("cannot size %s", path);
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n)
		die("cannot read %s", path);
	fclose(f);
	*len = n;
	return buf;
}

/* Lays the PT_LOAD segments out flat from FK_LOAD_ADDR; returns memory size. */
static uint64_t flatten(const uint8_t *elf, size_t len, uint8_t *out, size_t *file_size)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
	uint64_t mem_end = 0;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64)
		die("%s", "not an x86-64 ELF64 file");
	if (eh->e_entry != FK_LOAD_ADDR + FK_ENTRY64_OFFSET)
		die("%s", "the ELF entry is not at the 64-bit entry offset 0x200");
	if (eh->e_phoff > len || eh->e_phnum > (len - eh->e_phoff) / sizeof(Elf64_Phdr))
		die("%s", "program headers out of the file");
	*file_size = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(elf + eh->e_phoff) + i;
		uint64_t off;

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		if (ph->p_paddr < FK_LOAD_ADDR || ph->p_filesz > ph->p_memsz ||
		    ph->p_paddr - FK_LOAD_ADDR + ph->p_memsz > PAYLOAD_MAX ||
		    ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
			die("%s", "a PT_LOAD segment is out of range");
		off = ph->p_paddr - FK_LOAD_ADDR;
		memcpy(out + off, elf + ph->p_offset, ph->p_filesz);
		if (ph->p_filesz && off + ph->p_filesz > *file_size)
			*file_size = off + ph->p_filesz;
		if (off + ph->p_memsz > mem_end)
			mem_end = off + ph->p_memsz;
	}
	return mem_end;
}

static void fill_setup_header(uint8_t *setup, size_t payload_size, uint64_t init_size)
{
	uint8_t *hdr = setup;

	hdr[0x1f1] = FK_SETUP_SECTS;
	put32(hdr + 0x1f4, (payload_size + 15) / 16);		/* syssize */
	put16(hdr + 0x1fe, 0xaa55);				/* boot_flag */
	hdr[0x200] = 0xeb;					/* jmp past the header */
	hdr[0x201] = 0x6a;
	memcpy(hdr + 0x202, "HdrS", 4);
	put16(hdr + 0x206, FK_BOOT_VERSION);
	hdr[0x211] = FK_LOADED_HIGH;				/* loadflags */
	put32(hdr + 0x214, FK_LOAD_ADDR);			/* code32_start */
	put32(hdr + 0x22c, FK_INITRD_ADDR_MAX);
	put32(hdr + 0x230, FK_KERNEL_ALIGNMENT);
	hdr[0x234] = 1;						/* relocatable_kernel */
	hdr[0x235] = FK_MIN_ALIGNMENT;
	put16(hdr + 0x236, FK_XLF_KERNEL_64 | FK_XLF_CAN_BE_LOADED_ABOVE_4G);
	put32(hdr + 0x238, FK_CMDLINE_SIZE - 1);
	put64(hdr + 0x258, FK_LOAD_ADDR);			/* pref_address */
	put32(hdr + 0x260, init_size);
	/* The jump lands here: real-mode entry is not supported, so halt. */
	hdr[0x26c] = 0xfa;					/* cli */
	hdr[0x26d] = 0xf4;					/* hlt */
	hdr[0x26e] = 0xeb;					/* jmp hlt */
	hdr[0x26f] = 0xfd;
}

int main(int argc, char **argv)
{
	size_t setup_size = (FK_SETUP_SECTS + 1) * SECTOR, elf_len, payload_size;
	uint8_t *elf, *image;
	uint64_t mem_size, init_size;
	FILE *out;

	if (argc != 3) {
		fprintf(stderr, "usage: mkbzimage FAKE_KERNEL.elf OUT\n");
		return 2;
	}
	elf = read_file(argv[1], &elf_len);
	image = calloc(1, setup_size + PAYLOAD_MAX);
	if (!image)
		die("%s", "out of memory");
	mem_size = flatten(elf, elf_len, image + setup_size, &payload_size);
	init_size = (mem_size + FK_INIT_SIZE_ALIGN - 1) & ~(uint64_t)(FK_INIT_SIZE_ALIGN - 1);
	fill_setup_header(image, payload_size, init_size);

	out = fopen(argv[2], "wb");
	if (!out || fwrite(image, 1, setup_size + payload_size, out) != setup_size + payload_size ||
	    fclose(out))
		die("cannot write %s", argv[2]);
	free(image);
	free(elf);
	return 0;
}
