/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_ACPI_ACPI_TABLES_H
#define KILN_MACHINE_ACPI_ACPI_TABLES_H

#include <stddef.h>

#include "lib/types.h"

/* Table layouts from the ACPI 6.0 specification, chapter 5.2. */

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];	/* "RSD PTR " */
	u8 checksum;		/* over the first 20 bytes */
	char oem_id[6];
	u8 revision;		/* 2: has the XSDT */
	u32 rsdt_addr;
	u32 length;
	u64 xsdt_addr;
	u8 ext_checksum;	/* over all of it */
	u8 reserved[3];
} __attribute__((packed));

#define ACPI_RSDP_V1_SIZE	20

/* Generic Address Structure. */
struct acpi_gas {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
} __attribute__((packed));

#define ACPI_SPACE_MEM		0
#define ACPI_SPACE_IO		1
#define ACPI_ACCESS_BYTE	1
#define ACPI_ACCESS_WORD	2
#define ACPI_ACCESS_DWORD	3

struct acpi_fadt {
	struct acpi_header hdr;
	u32 firmware_ctrl;
	u32 dsdt;
	u8 reserved0;
	u8 preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable;
	u8 acpi_disable;
	u8 s4bios_req;
	u8 pstate_cnt;
	u32 pm1a_evt_blk;
	u32 pm1b_evt_blk;
	u32 pm1a_cnt_blk;
	u32 pm1b_cnt_blk;
	u32 pm2_cnt_blk;
	u32 pm_tmr_blk;
	u32 gpe0_blk;
	u32 gpe1_blk;
	u8 pm1_evt_len;
	u8 pm1_cnt_len;
	u8 pm2_cnt_len;
	u8 pm_tmr_len;
	u8 gpe0_blk_len;
	u8 gpe1_blk_len;
	u8 gpe1_base;
	u8 cst_cnt;
	u16 p_lvl2_lat;
	u16 p_lvl3_lat;
	u16 flush_size;
	u16 flush_stride;
	u8 duty_offset;
	u8 duty_width;
	u8 day_alrm;
	u8 mon_alrm;
	u8 century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl;
	u64 x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	u64 hypervisor_vendor_id;
} __attribute__((packed));

#define ACPI_FADT_REVISION	6
#define ACPI_FADT_MINOR		0

/* FADT flags. */
#define FADT_F_WBINVD		(1U << 0)
#define FADT_F_PROC_C1		(1U << 2)
#define FADT_F_PWR_BUTTON	(1U << 4)	/* no fixed power button */
#define FADT_F_SLP_BUTTON	(1U << 5)	/* no fixed sleep button */
#define FADT_F_FIX_RTC		(1U << 6)	/* no RTC wake status in PM1 */
#define FADT_F_TMR_VAL_EXT	(1U << 8)	/* 32-bit PM timer */
#define FADT_F_RESET_REG_SUP	(1U << 10)

/* FADT IAPC_BOOT_ARCH. */
#define FADT_BOOT_LEGACY_DEVICES	(1U << 0)
#define FADT_BOOT_8042			(1U << 1)
#define FADT_BOOT_VGA_NOT_PRESENT	(1U << 2)

struct acpi_facs {
	char signature[4];
	u32 length;
	u32 hardware_signature;
	u32 firmware_waking_vector;
	u32 global_lock;
	u32 flags;
	u64 x_firmware_waking_vector;
	u8 version;
	u8 reserved0[3];
	u32 ospm_flags;
	u8 reserved1[24];
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header hdr;
	u32 lapic_addr;
	u32 flags;
} __attribute__((packed));

#define ACPI_MADT_REVISION	4
#define MADT_PCAT_COMPAT	(1U << 0)

enum madt_type {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_INT_OVERRIDE = 2,
	MADT_LAPIC_NMI = 4,
};

struct madt_lapic {
	u8 type;
	u8 length;
	u8 processor_uid;
	u8 apic_id;
	u32 flags;
} __attribute__((packed));

#define MADT_LAPIC_ENABLED	(1U << 0)

struct madt_ioapic {
	u8 type;
	u8 length;
	u8 ioapic_id;
	u8 reserved;
	u32 address;
	u32 gsi_base;
} __attribute__((packed));

struct madt_int_override {
	u8 type;
	u8 length;
	u8 bus;			/* 0: ISA */
	u8 source;		/* ISA IRQ */
	u32 gsi;
	u16 flags;
} __attribute__((packed));

/* MPS INTI flags: polarity in bits 0-1, trigger mode in bits 2-3. */
#define MPS_POLARITY_HIGH	0x1
#define MPS_POLARITY_LOW	0x3
#define MPS_TRIGGER_EDGE	(0x1 << 2)
#define MPS_TRIGGER_LEVEL	(0x3 << 2)

struct madt_lapic_nmi {
	u8 type;
	u8 length;
	u8 processor_uid;	/* 0xff: every processor */
	u16 flags;
	u8 lint;
} __attribute__((packed));

#define ACPI_OEM_ID		"KILN  "
#define ACPI_OEM_TABLE_ID	"KILNVMM "
#define ACPI_CREATOR_ID		"KILN"

/* Sum of len bytes, mod 256: a table is valid when its sum is 0. */
u8 acpi_checksum(const void *p, size_t len);

/* Fills a header with Kiln's OEM identity; the checksum is set last. */
void acpi_header_init(struct acpi_header *h, const char sig[4], u32 length, u8 revision);

/* Sets h->checksum so that the h->length bytes at h sum to 0. */
void acpi_header_seal(struct acpi_header *h);

#endif
