/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_VIRTIO_TEST_DRIVER_H
#define KILN_TESTS_VIRTIO_TEST_DRIVER_H

/*
 * A test-side virtio driver that does what Linux's virtio_pci_modern does,
 * through the same doors a guest has: PCI config cycles on ports
 * 0xcf8/0xcfc, MMIO on the BAR the capabilities point into, and split
 * rings it builds in guest RAM. It runs against a struct vm built by hand
 * (guest RAM, buses, the PCI root) whose engine records every MSI and
 * interrupt line, so tests can see what the device signalled.
 *
 * It also writes raw descriptors and ring indices, for the malicious cases.
 */

#include <linux/virtio_ring.h>

#include "lib/types.h"

struct vm;

#define VTD_RAM_SIZE	(64 * MiB)
#define VTD_MAX_QUEUES	4
#define VTD_MSI_ADDR	0xfee00000ULL
#define VTD_MSI_DATA(v)	(0x40 + (v))	/* the data the driver programs for vector v */

/* The fake machine. */
struct vm *vtd_vm_create(void);
void vtd_vm_destroy(struct vm *vm);

/* MSIs the engine received with this data, and INTx line levels. */
unsigned int vtd_msi_count(u32 data);
unsigned int vtd_msi_total(void);
bool vtd_gsi_level(u32 gsi);

struct vtd_queue {
	u16 size;
	u64 desc, avail, used;
	u16 avail_idx;		/* the driver's next avail index */
	u16 last_used;		/* used entries consumed so far */
	u16 next_desc;		/* descriptors are handed out round-robin */
};

struct vtd_dev {
	struct vm *vm;
	unsigned int slot;
	u64 bar;			/* BAR 0's address */
	u32 common, isr, device, notify, notify_mult;
	u32 device_len;
	u8 msix_cap, pci_cfg_cap;
	u32 msix_table, msix_pba;
	u16 msix_vectors;
	u64 features;			/* offered, then negotiated */
	struct vtd_queue q[VTD_MAX_QUEUES];
};

/* Guest RAM for rings and buffers: a bump allocator, zeroed. */
u64 vtd_alloc(struct vm *vm, u64 size, u64 align);
void vtd_mem_write(struct vm *vm, u64 gpa, const void *buf, u64 len);
void vtd_mem_read(struct vm *vm, u64 gpa, void *buf, u64 len);
void *vtd_hva(struct vm *vm, u64 gpa);

/* Config cycles through 0xcf8/0xcfc. */
u32 vtd_cfg_read(struct vm *vm, unsigned int slot, unsigned int reg, unsigned int len);
void vtd_cfg_write(struct vm *vm, unsigned int slot, unsigned int reg, u32 v, unsigned int len);

/*
 * Finds the function with virtio device type id, checks the header
 * (vendor, device, revision) and parses its vendor capabilities. -1 when
 * it is missing or malformed.
 */
int vtd_probe(struct vm *vm, u16 device_id, struct vtd_dev *d);

/* BAR 0 accesses, as MMIO from a vCPU. */
u64 vtd_bar_read(struct vtd_dev *d, u32 off, unsigned int len);
void vtd_bar_write(struct vtd_dev *d, u32 off, u64 v, unsigned int len);
u64 vtd_common_read(struct vtd_dev *d, u32 field, unsigned int len);
void vtd_common_write(struct vtd_dev *d, u32 field, u64 v, unsigned int len);

u8 vtd_status(struct vtd_dev *d);
void vtd_set_status(struct vtd_dev *d, u8 status);
/* Writes 0 and waits (up to 5 s) for the status to read 0. */
int vtd_reset(struct vtd_dev *d);

/*
 * Reset, ACKNOWLEDGE, DRIVER, features (wanted & offered), FEATURES_OK.
 * Returns -1 when the device refuses FEATURES_OK.
 */
int vtd_negotiate(struct vtd_dev *d, u64 wanted);

/* Allocates rings of size entries and enables queue q; vector or 0xffff. */
int vtd_setup_queue(struct vtd_dev *d, unsigned int q, u16 size, u16 vector);
void vtd_driver_ok(struct vtd_dev *d);

/* Turns MSI-X on and programs vectors 0..n-1 with VTD_MSI_DATA(v), unmasked. */
void vtd_enable_msix(struct vtd_dev *d);
void vtd_msix_mask(struct vtd_dev *d, unsigned int vector, bool masked);
void vtd_msix_function_mask(struct vtd_dev *d, bool masked);
bool vtd_msix_pending(struct vtd_dev *d, unsigned int vector);

/* One buffer of a chain. */
struct vtd_buf {
	u64 gpa;
	u32 len;
	bool write;		/* device-writable */
};

/* Raw ring access, for building anything, good or bad. */
void vtd_write_desc(struct vtd_dev *d, unsigned int q, u16 i, u64 addr, u32 len, u16 flags,
		    u16 next);
void vtd_write_desc_at(struct vm *vm, u64 table, u16 i, u64 addr, u32 len, u16 flags, u16 next);
/* Puts head in the avail ring and publishes it. */
void vtd_publish(struct vtd_dev *d, unsigned int q, u16 head);
void vtd_set_avail_idx(struct vtd_dev *d, unsigned int q, u16 idx);
void vtd_set_avail_flags(struct vtd_dev *d, unsigned int q, u16 flags);
void vtd_set_used_event(struct vtd_dev *d, unsigned int q, u16 v);
u16 vtd_avail_event(struct vtd_dev *d, unsigned int q);
u16 vtd_used_idx(struct vtd_dev *d, unsigned int q);

/*
 * Builds a chain of n buffers (readable ones first) in the descriptor
 * table, or in an indirect table when indirect is set, and publishes it.
 * Returns its head.
 */
u16 vtd_add_chain(struct vtd_dev *d, unsigned int q, const struct vtd_buf *bufs,
		  unsigned int n, bool indirect);

void vtd_kick(struct vtd_dev *d, unsigned int q);

/*
 * Waits up to timeout_ms for the next used entry of queue q; returns 0 and
 * its id and len, or -1 on timeout.
 */
int vtd_wait_used(struct vtd_dev *d, unsigned int q, unsigned int timeout_ms, u32 *id,
		  u32 *len);

/* Waits up to timeout_ms for cond(arg); true if it came. */
bool vtd_wait_for(bool (*cond)(void *arg), void *arg, unsigned int timeout_ms);

#endif
