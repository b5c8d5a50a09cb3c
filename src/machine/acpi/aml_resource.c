// SPDX-License-Identifier: Apache-2.0
/* Resource template descriptors for _CRS buffers (ACPI 6.0 section 6.4). */
#include "machine/acpi/aml.h"

/* Large descriptors: tag byte, then a 16-bit length of what follows. */
#define RES_DWORD_ADDRESS	0x87
#define RES_WORD_ADDRESS	0x88
/* Small descriptors: type in bits 6-3, length in bits 2-0. */
#define RES_IRQ_NO_FLAGS	0x22	/* type 4, 2 bytes */
#define RES_IO			0x47	/* type 8, 7 bytes */
#define RES_END_TAG		0x79	/* type 15, 1 byte */

/* Address space resource types. */
#define RES_TYPE_MEMORY		0
#define RES_TYPE_IO		1
#define RES_TYPE_BUS		2

/* A bridge's window: produced (not consumed), fixed min and max, positive decode. */
#define RES_GEN_FLAGS_WINDOW	0x0c
#define RES_IO_RANGE_ENTIRE	0x03
#define RES_MEM_RW_CACHEABLE	0x03
#define RES_IO_DECODE16		0x01

static void le(struct aml *a, u64 v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		aml_byte(a, (u8)(v >> (8 * i)));
}

/*
 * Word and DWord address space descriptors share one shape: granularity,
 * min, max, translation and length, each of width bytes.
 */
static void address_space(struct aml *a, u8 tag, unsigned int width, u8 type,
			  u8 type_flags, u64 min, u64 max)
{
	aml_byte(a, tag);
	le(a, 3 + 5 * width, 2);
	aml_byte(a, type);
	aml_byte(a, RES_GEN_FLAGS_WINDOW);
	aml_byte(a, type_flags);
	le(a, 0, width);		/* granularity */
	le(a, min, width);
	le(a, max, width);
	le(a, 0, width);		/* translation offset */
	le(a, max - min + 1, width);	/* length */
}

void aml_res_word_bus(struct aml *a, u16 min, u16 max)
{
	address_space(a, RES_WORD_ADDRESS, 2, RES_TYPE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *a, u16 min, u16 max)
{
	address_space(a, RES_WORD_ADDRESS, 2, RES_TYPE_IO, RES_IO_RANGE_ENTIRE, min, max);
}

void aml_res_dword_memory(struct aml *a, u32 min, u32 max)
{
	address_space(a, RES_DWORD_ADDRESS, 4, RES_TYPE_MEMORY, RES_MEM_RW_CACHEABLE,
		      min, max);
}

void aml_res_io(struct aml *a, u16 min, u16 max, u8 align, u8 len)
{
	aml_byte(a, RES_IO);
	aml_byte(a, RES_IO_DECODE16);
	le(a, min, 2);
	le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_res_irq(struct aml *a, u16 mask)
{
	aml_byte(a, RES_IRQ_NO_FLAGS);
	le(a, mask, 2);
}

void aml_res_end(struct aml *a)
{
	aml_byte(a, RES_END_TAG);
	aml_byte(a, 0);		/* checksum 0: treated as valid */
}
