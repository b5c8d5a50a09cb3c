/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_IOMMU_VTD_H
#define KILN_IOMMU_VTD_H

#include "lib/types.h"

struct vm;

/*
 * An Intel VT-d remapping unit (--iommu intel), modelled on the VT-d
 * architecture specification, legacy (not scalable) mode:
 *
 *  - registers at LAYOUT_VTD_BASE, where q35 puts them; 32- and 64-bit
 *    accesses;
 *  - DMA remapping: root table -> context entry -> second-level page
 *    tables of 3 or 4 levels (39- or 48-bit guest address width), 2 MiB and
 *    1 GiB pages, pass-through context entries; nothing is cached, so
 *    every invalidation completes at once;
 *  - register-based and queued invalidation (the invalidation-wait
 *    descriptor's status write and interrupt included);
 *  - interrupt remapping (with intremap): remappable-format MSIs and IOAPIC
 *    entries through the interrupt remapping table, xAPIC destinations (no
 *    EIM), source-ID verification of PCI requesters, compatibility-format
 *    interrupts blocked unless GCMD.CFI;
 *  - one fault recording register, the fault status/event registers and
 *    the fault event interrupt.
 *
 * Not modelled: the DMAR ACPI table (the guest must know the address, as
 * kvm-unit-tests does), protected memory regions, advanced fault logging,
 * device TLBs, page requests, posted interrupts, scalable mode, x2APIC
 * (EIM) destinations, snoop control.
 */

/* Registers (byte offsets), as the specification names them. */
#define VTD_REG_VER		0x00
#define VTD_REG_CAP		0x08
#define VTD_REG_ECAP		0x10
#define VTD_REG_GCMD		0x18
#define VTD_REG_GSTS		0x1c
#define VTD_REG_RTADDR		0x20
#define VTD_REG_CCMD		0x28
#define VTD_REG_FSTS		0x34
#define VTD_REG_FECTL		0x38
#define VTD_REG_FEDATA		0x3c
#define VTD_REG_FEADDR		0x40
#define VTD_REG_FEUADDR		0x44
#define VTD_REG_IQH		0x80
#define VTD_REG_IQT		0x88
#define VTD_REG_IQA		0x90
#define VTD_REG_ICS		0x9c
#define VTD_REG_IECTL		0xa0
#define VTD_REG_IEDATA		0xa4
#define VTD_REG_IEADDR		0xa8
#define VTD_REG_IEUADDR		0xac
#define VTD_REG_IRTA		0xb8
#define VTD_REG_IVA		0x200	/* ECAP.IRO * 16 */
#define VTD_REG_IOTLB		0x208
#define VTD_REG_FRCD		0x220	/* CAP.FRO * 16: one 128-bit record */
#define VTD_MMIO_SIZE		0x1000

#define VTD_VERSION		0x10	/* 1.0 */

/* GCMD and GSTS share bit positions. */
#define VTD_GCMD_CFI		(1u << 23)
#define VTD_GCMD_SIRTP		(1u << 24)
#define VTD_GCMD_IRE		(1u << 25)
#define VTD_GCMD_QIE		(1u << 26)
#define VTD_GCMD_WBF		(1u << 27)
#define VTD_GCMD_EAFL		(1u << 28)
#define VTD_GCMD_SFL		(1u << 29)
#define VTD_GCMD_SRTP		(1u << 30)
#define VTD_GCMD_TE		(1u << 31)

/* CAP fields. */
#define VTD_CAP_ND_16BIT	6ULL			/* 65536 domains */
#define VTD_CAP_SAGAW_39	(1ULL << 9)		/* 3-level tables */
#define VTD_CAP_SAGAW_48	(1ULL << 10)		/* 4-level tables */
#define VTD_CAP_MGAW(bits)	((u64)((bits) - 1) << 16)
#define VTD_CAP_FRO(off)	((u64)((off) / 16) << 24)
#define VTD_CAP_SLLPS_2M	(1ULL << 34)
#define VTD_CAP_SLLPS_1G	(1ULL << 35)
#define VTD_CAP_NFR(n)		((u64)((n) - 1) << 40)

/* ECAP fields. */
#define VTD_ECAP_C		(1ULL << 0)	/* page walks are coherent */
#define VTD_ECAP_QI		(1ULL << 1)
#define VTD_ECAP_IR		(1ULL << 3)
#define VTD_ECAP_PT		(1ULL << 6)
#define VTD_ECAP_IRO(off)	((u64)((off) / 16) << 8)

#define VTD_MGAW		48

/* FSTS and FECTL/IECTL. */
#define VTD_FSTS_PFO		(1u << 0)
#define VTD_FSTS_PPF		(1u << 1)
#define VTD_FSTS_IQE		(1u << 4)
#define VTD_FSTS_ICE		(1u << 5)
#define VTD_FSTS_ITE		(1u << 6)
#define VTD_CTL_IP		(1u << 30)
#define VTD_CTL_IM		(1u << 31)
#define VTD_ICS_IWC		(1u << 0)

/* The fault recording register's upper quadword. */
#define VTD_FRCD_F		(1ULL << 63)
#define VTD_FRCD_T_READ		(1ULL << 62)
#define VTD_FRCD_FR_SHIFT	32

/* Fault reasons. */
enum vtd_fault {
	VTD_FR_ROOT_NOT_PRESENT		= 0x01,
	VTD_FR_CTX_NOT_PRESENT		= 0x02,
	VTD_FR_CTX_INVALID		= 0x03,
	VTD_FR_ADDR_BEYOND_AGAW		= 0x04,
	VTD_FR_WRITE			= 0x05,
	VTD_FR_READ			= 0x06,
	VTD_FR_PAGING_ENTRY_ACCESS	= 0x07,
	VTD_FR_ROOT_TABLE_ACCESS	= 0x08,
	VTD_FR_CTX_TABLE_ACCESS		= 0x09,
	VTD_FR_ROOT_RESERVED		= 0x0a,
	VTD_FR_CTX_RESERVED		= 0x0b,
	VTD_FR_PAGING_ENTRY_RESERVED	= 0x0c,
	VTD_FR_IR_REQ_RESERVED		= 0x20,
	VTD_FR_IR_INDEX_OVER		= 0x21,
	VTD_FR_IR_NOT_PRESENT		= 0x22,
	VTD_FR_IR_TABLE_ACCESS		= 0x23,
	VTD_FR_IR_ENTRY_RESERVED	= 0x24,
	VTD_FR_IR_COMPAT_BLOCKED	= 0x25,
	VTD_FR_IR_SID			= 0x26,
};

struct vtd;

/*
 * Creates the unit, claims its registers on vm->mmio_bus and becomes
 * vm->iommu (with a teardown hook). intremap advertises and allows
 * interrupt remapping. Returns -1 with a message on failure.
 */
int vtd_create(struct vm *vm, bool intremap);

#endif
