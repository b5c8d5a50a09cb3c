/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_GUEST_H
#define KILN_GUEST_H

/*
 * The freestanding test guests' library: port I/O, COM1 output, the
 * debug-exit verdict, and helpers for boot_params, PCI, ACPI and the LAPIC.
 * A guest defines guest_main(); returning from it means pass.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MiB (1UL << 20)
#define GiB (1UL << 30)

/* Port I/O. */
static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u16 inw(u16 port)
{
	u16 v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* MMIO, for the LAPIC: volatile, one access of the given width. */
static inline u32 mmio_read32(u64 addr)
{
	return *(volatile u32 *)addr;
}

static inline void mmio_write32(u64 addr, u32 v)
{
	*(volatile u32 *)addr = v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64)hi << 32 | lo;
}

/* string.c: what the compiler may call, and a few more. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* console.c: COM1 output and the verdict. */
void serial_putc(char c);
void serial_puts(const char *s);
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gvprintf(const char *fmt, va_list ap);
/* Debug-exit port 0xf4: 0 is pass (Kiln exits 1), 1 is fail (Kiln exits 3). */
__attribute__((noreturn)) void guest_pass(void);
__attribute__((noreturn, format(printf, 1, 2))) void guest_fail(const char *fmt, ...);
__attribute__((noreturn)) void halt_forever(void);
/* The debug-exit port with no console output, for guests that count exits. */
__attribute__((noreturn)) void guest_exit_quietly(u32 value);

#define CHECK(cond, ...)                        \
	do {                                    \
		if (!(cond))                    \
			guest_fail(__VA_ARGS__); \
	} while (0)

/* Each guest's test; returning means pass. */
void guest_main(void);

/* boot.c: what the loader handed over (the Linux zero page). */
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_SETUP_SECTS		0x1f1
#define BP_BOOT_FLAG		0x1fe
#define BP_HEADER		0x202
#define BP_VERSION		0x206
#define BP_TYPE_OF_LOADER	0x210
#define BP_LOADFLAGS		0x211
#define BP_CODE32_START		0x214
#define BP_RAMDISK_IMAGE	0x218
#define BP_RAMDISK_SIZE		0x21c
#define BP_CMD_LINE_PTR		0x228
#define BP_INITRD_ADDR_MAX	0x22c
#define BP_KERNEL_ALIGNMENT	0x230
#define BP_RELOCATABLE		0x234
#define BP_XLOADFLAGS		0x236
#define BP_CMDLINE_SIZE		0x238
#define BP_PREF_ADDRESS		0x258
#define BP_INIT_SIZE		0x260
#define BP_E820_TABLE		0x2d0
#define BP_E820_MAX		128

struct e820_entry {
	u64 addr;
	u64 size;
	u32 type;
} __attribute__((packed));

#define E820_RAM 1

extern const u8 *boot_params;

static inline u8 bp_u8(unsigned int off)
{
	return boot_params[off];
}

static inline u16 bp_u16(unsigned int off)
{
	return *(const u16 *)(boot_params + off);
}

static inline u32 bp_u32(unsigned int off)
{
	return *(const u32 *)(boot_params + off);
}

static inline u64 bp_u64(unsigned int off)
{
	return *(const u64 *)(boot_params + off);
}

/* The e820 table, checked to have at most BP_E820_MAX entries. */
const struct e820_entry *e820_table(unsigned int *nr);
/* Bytes of RAM the e820 table lists in [lo, hi). */
u64 e820_ram_between(u64 lo, u64 hi);
/* True when [addr, addr + len) lies inside one RAM entry. */
bool e820_is_ram(u64 addr, u64 len);

/* The command line; NULL when cmd_line_ptr is 0. */
const char *cmdline(void);
/* Value of "key=<number>" on the command line, decimal or 0x hex. */
bool cmdline_u64(const char *key, u64 *out);
/* Like cmdline_u64, but the guest fails when the key is missing. */
u64 cmdline_need_u64(const char *key);

/* pci.c: configuration mechanism #1 on bus 0..255. */
u32 pci_cfg_read32(u8 bus, u8 dev, u8 fn, u8 off);
u16 pci_cfg_read16(u8 bus, u8 dev, u8 fn, u8 off);
u8 pci_cfg_read8(u8 bus, u8 dev, u8 fn, u8 off);
void pci_cfg_write32(u8 bus, u8 dev, u8 fn, u8 off, u32 v);
u32 pci_cfg_address(u8 bus, u8 dev, u8 fn, u8 off);

/* acpi.c: tables through RSDP -> XSDT (or RSDT). */
struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __attribute__((packed));

/* The RSDP in 0xe0000-0xfffff, checksums verified; the guest fails without. */
const u8 *acpi_rsdp(void);
/* A table by signature, its checksum verified; NULL when absent. */
const struct acpi_header *acpi_find_table(const char *sig);
bool acpi_checksum_ok(const void *p, u32 len);
/* The table at addr, checked: its signature is sig and its checksum holds. */
const struct acpi_header *acpi_table_at(u64 addr, const char *sig);

/* MADT (APIC) entries. */
#define MADT_MAX_CPUS 256
struct madt_info {
	u32 lapic_addr;
	unsigned int nr_cpus;		/* enabled Processor Local APIC entries */
	u8 apic_ids[MADT_MAX_CPUS];
	unsigned int nr_ioapics;
	u32 ioapic_addr;
	u32 ioapic_gsi_base;
};
void madt_parse(struct madt_info *info);
/* Fails unless the MADT lists APIC IDs 0..expected-1, each once. */
void madt_check_cpus(const struct madt_info *m, unsigned int expected);

/* lapic.c: the xAPIC at its MMIO page. */
#define LAPIC_ID	0x020
#define LAPIC_SVR	0x0f0
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define ICR_INIT	(5U << 8)
#define ICR_STARTUP	(6U << 8)
#define ICR_LEVEL_ASSERT (1U << 14)
#define ICR_BUSY	(1U << 12)

u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 v);
u32 lapic_id(void);
/* Sends one IPI and waits until the LAPIC has taken it; false on timeout. */
bool lapic_send_ipi(u32 apic_id, u32 icr_lo);

#endif
