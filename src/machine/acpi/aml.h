/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_ACPI_AML_H
#define KILN_MACHINE_ACPI_AML_H

#include <stddef.h>

#include "lib/types.h"

/*
 * A tiny AML emitter (ACPI 6.0 chapter 20): just what Kiln's DSDT needs.
 * Bytes append to a growing buffer. Objects with a PkgLength (scopes,
 * devices, methods, packages, buffers) are opened, filled, then closed:
 * closing measures the contents and inserts the length before them.
 * Errors (out of memory, a bad name) are sticky: check aml.failed once
 * at the end.
 */
struct aml {
	u8 *buf;
	size_t len;
	size_t cap;
	bool failed;
};

/* AML opcodes. */
#define AML_ZERO		0x00
#define AML_ONE			0x01
#define AML_NAME		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE		0x10
#define AML_BUFFER		0x11
#define AML_PACKAGE		0x12
#define AML_METHOD		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_PREFIX		0x5b
#define AML_ROOT_CHAR		0x5c
#define AML_PARENT_CHAR		0x5e
#define AML_EXT_DEVICE		0x82
#define AML_RETURN		0xa4

void aml_init(struct aml *a);
void aml_free(struct aml *a);

void aml_byte(struct aml *a, u8 b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* "\\_SB.PCI0", "^COM1", "_HID": segments of 1-4 of [A-Z0-9_], padded with _. */
void aml_name_string(struct aml *a, const char *path);
/* The shortest integer encoding of v. */
void aml_integer(struct aml *a, u64 v);
void aml_string(struct aml *a, const char *s);
/* A compressed EISA ID ("PNP0A03") as a DWord integer. */
void aml_eisaid(struct aml *a, const char *id);

/* Name(name, ...): emit the object right after. */
void aml_name(struct aml *a, const char *name);
/* Return(...): emit the value right after. */
void aml_return(struct aml *a);

/* Open a PkgLength object; each returns the mark to pass to aml_close(). */
size_t aml_scope_open(struct aml *a, const char *name);
size_t aml_device_open(struct aml *a, const char *name);
size_t aml_method_open(struct aml *a, const char *name, unsigned int nargs);
size_t aml_package_open(struct aml *a, unsigned int nelems);
void aml_close(struct aml *a, size_t mark);

/* Buffer() holding n bytes. */
void aml_buffer(struct aml *a, const void *data, size_t n);

/*
 * Resource template descriptors (ACPI 6.0 section 6.4), appended raw; wrap
 * them with aml_buffer() after aml_res_end().
 */
void aml_res_word_bus(struct aml *a, u16 min, u16 max);
void aml_res_word_io(struct aml *a, u16 min, u16 max);
void aml_res_dword_memory(struct aml *a, u32 min, u32 max);
void aml_res_io(struct aml *a, u16 min, u16 max, u8 align, u8 len);
void aml_res_irq(struct aml *a, u16 mask);
void aml_res_end(struct aml *a);

#endif
