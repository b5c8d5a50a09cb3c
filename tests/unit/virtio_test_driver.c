// SPDX-License-Identifier: Apache-2.0
/* The test-side virtio-pci driver: see virtio_test_driver.h. */
#include "virtio_test_driver.h"

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "bus/pci.h"
#include "engine/engine.h"
#include "machine/layout.h"
#include "machine/vm.h"
#include "mem/guest_mem.h"

/* --- the fake machine --- */

#define MSI_LOG 4096
#define NR_GSIS 32

static struct {
	pthread_mutex_t lock;
	unsigned int n;
	u32 data[MSI_LOG];
	bool level[NR_GSIS];
} irqs = { .lock = PTHREAD_MUTEX_INITIALIZER };

static u64 alloc_next;

static void vtd_set_irq_line(struct vm *vm, u32 gsi, bool level)
{
	(void)vm;
	if (gsi < NR_GSIS)
		__atomic_store_n(&irqs.level[gsi], level, __ATOMIC_RELEASE);
}

static void vtd_send_msi(struct vm *vm, u64 addr, u32 data)
{
	(void)vm;
	(void)addr;
	pthread_mutex_lock(&irqs.lock);
	if (irqs.n < MSI_LOG)
		irqs.data[irqs.n++] = data;
	pthread_mutex_unlock(&irqs.lock);
}

static const struct engine_ops vtd_engine = {
	.name = "virtio-test",
	.set_irq_line = vtd_set_irq_line,
	.send_msi = vtd_send_msi,
};

unsigned int vtd_msi_count(u32 data)
{
	unsigned int c = 0;

	pthread_mutex_lock(&irqs.lock);
	for (unsigned int i = 0; i < irqs.n; i++)
		c += irqs.data[i] == data;
	pthread_mutex_unlock(&irqs.lock);
	return c;
}

unsigned int vtd_msi_total(void)
{
	unsigned int n;

	pthread_mutex_lock(&irqs.lock);
	n = irqs.n;
	pthread_mutex_unlock(&irqs.lock);
	return n;
}

bool vtd_gsi_level(u32 gsi)
{
	return gsi < NR_GSIS && __atomic_load_n(&irqs.level[gsi], __ATOMIC_ACQUIRE);
}

struct vm *vtd_vm_create(void)
{
	static struct vm_config cfg;
	struct vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	pthread_mutex_lock(&irqs.lock);
	irqs.n = 0;
	memset(irqs.level, 0, sizeof(irqs.level));
	pthread_mutex_unlock(&irqs.lock);
	cfg.mem_size = VTD_RAM_SIZE;
	cfg.nr_cpus = 1;
	vm->engine = &vtd_engine;
	if (vm_skeleton_init(vm, &cfg) || vm_skeleton_add_ram(vm) || pci_root_create(vm)) {
		vm_destroy(vm);
		return NULL;
	}
	alloc_next = 1 * MiB;
	return vm;
}

void vtd_vm_destroy(struct vm *vm)
{
	vm_destroy(vm);
}

u64 vtd_alloc(struct vm *vm, u64 size, u64 align)
{
	u64 a = ALIGN_UP(alloc_next, align);

	if (a + size > VTD_RAM_SIZE)
		abort();	/* a test asked for more than the fake RAM */
	alloc_next = a + size;
	memset(gpa_to_hva(&vm->mem, a, size), 0, size);
	return a;
}

void vtd_mem_write(struct vm *vm, u64 gpa, const void *buf, u64 len)
{
	if (guest_write(&vm->mem, gpa, buf, len))
		abort();
}

void vtd_mem_read(struct vm *vm, u64 gpa, void *buf, u64 len)
{
	if (guest_read(&vm->mem, gpa, buf, len))
		abort();
}

void *vtd_hva(struct vm *vm, u64 gpa)
{
	return gpa_to_hva(&vm->mem, gpa, 1);
}

/* --- PCI --- */

static u32 cfg_address(unsigned int slot, unsigned int reg)
{
	return 0x80000000U | slot << 11 | (reg & 0xfc);
}

u32 vtd_cfg_read(struct vm *vm, unsigned int slot, unsigned int reg, unsigned int len)
{
	u32 a = cfg_address(slot, reg), v = 0;

	bus_write(&vm->pio_bus, PORT_PCI_CONFIG_ADDR, &a, 4);
	bus_read(&vm->pio_bus, PORT_PCI_CONFIG_DATA + (reg & 3), &v, len);
	return v;
}

void vtd_cfg_write(struct vm *vm, unsigned int slot, unsigned int reg, u32 v, unsigned int len)
{
	u32 a = cfg_address(slot, reg);

	bus_write(&vm->pio_bus, PORT_PCI_CONFIG_ADDR, &a, 4);
	bus_write(&vm->pio_bus, PORT_PCI_CONFIG_DATA + (reg & 3), &v, len);
}

static int parse_caps(struct vtd_dev *d)
{
	struct vm *vm = d->vm;
	unsigned int seen = 0;
	u8 at = vtd_cfg_read(vm, d->slot, PCI_CAPABILITY_LIST, 1);

	for (int guard = 0; at && guard < 48; guard++) {
		u8 id = vtd_cfg_read(vm, d->slot, at, 1);

		if (id == PCI_CAP_ID_VNDR) {
			u8 type = vtd_cfg_read(vm, d->slot, at + VIRTIO_PCI_CAP_CFG_TYPE, 1);
			u8 bar = vtd_cfg_read(vm, d->slot, at + VIRTIO_PCI_CAP_BAR, 1);
			u32 off = vtd_cfg_read(vm, d->slot, at + VIRTIO_PCI_CAP_OFFSET, 4);
			u32 len = vtd_cfg_read(vm, d->slot, at + VIRTIO_PCI_CAP_LENGTH, 4);

			if (bar != 0 && type != VIRTIO_PCI_CAP_PCI_CFG)
				return -1;	/* this driver only knows BAR 0 */
			switch (type) {
			case VIRTIO_PCI_CAP_COMMON_CFG:
				if (len < sizeof(struct virtio_pci_common_cfg))
					return -1;
				d->common = off;
				break;
			case VIRTIO_PCI_CAP_NOTIFY_CFG:
				d->notify = off;
				d->notify_mult = vtd_cfg_read(vm, d->slot,
							      at + VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
				break;
			case VIRTIO_PCI_CAP_ISR_CFG:
				d->isr = off;
				break;
			case VIRTIO_PCI_CAP_DEVICE_CFG:
				d->device = off;
				d->device_len = len;
				break;
			case VIRTIO_PCI_CAP_PCI_CFG:
				d->pci_cfg_cap = at;
				break;
			}
			seen |= 1U << type;
		} else if (id == PCI_CAP_ID_MSIX) {
			u32 table = vtd_cfg_read(vm, d->slot, at + PCI_MSIX_TABLE, 4);
			u32 pba = vtd_cfg_read(vm, d->slot, at + PCI_MSIX_PBA, 4);

			d->msix_cap = at;
			d->msix_vectors = (vtd_cfg_read(vm, d->slot, at + PCI_MSIX_FLAGS, 2) &
					   PCI_MSIX_FLAGS_QSIZE) + 1;
			if ((table & PCI_MSIX_TABLE_BIR) || (pba & PCI_MSIX_PBA_BIR))
				return -1;
			d->msix_table = table & PCI_MSIX_TABLE_OFFSET;
			d->msix_pba = pba & PCI_MSIX_PBA_OFFSET;
		}
		at = vtd_cfg_read(vm, d->slot, at + PCI_CAP_LIST_NEXT, 1);
	}
	/* Common, notify, ISR and the PCI config window must all be there. */
	if ((seen & 0x2e) != 0x2e || !d->msix_cap)
		return -1;
	return 0;
}

int vtd_probe(struct vm *vm, u16 device_id, struct vtd_dev *d)
{
	memset(d, 0, sizeof(*d));
	d->vm = vm;
	for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++) {
		u32 id = vtd_cfg_read(vm, s, PCI_VENDOR_ID, 4);
		u32 lo, hi;

		if (id != (0x1af4U | (u32)(0x1040 + device_id) << 16))
			continue;
		if ((vtd_cfg_read(vm, s, PCI_REVISION_ID, 1)) < 1)
			return -1;
		d->slot = s;
		lo = vtd_cfg_read(vm, s, PCI_BASE_ADDRESS_0, 4);
		hi = vtd_cfg_read(vm, s, PCI_BASE_ADDRESS_1, 4);
		if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) != PCI_BASE_ADDRESS_MEM_TYPE_64)
			return -1;
		d->bar = (lo & PCI_BASE_ADDRESS_MEM_MASK) | (u64)hi << 32;
		if (!d->bar)
			return -1;
		return parse_caps(d);
	}
	return -1;
}

u64 vtd_bar_read(struct vtd_dev *d, u32 off, unsigned int len)
{
	u64 v = 0;

	bus_read(&d->vm->mmio_bus, d->bar + off, &v, len);
	return v;
}

void vtd_bar_write(struct vtd_dev *d, u32 off, u64 v, unsigned int len)
{
	bus_write(&d->vm->mmio_bus, d->bar + off, &v, len);
}

u64 vtd_common_read(struct vtd_dev *d, u32 field, unsigned int len)
{
	return vtd_bar_read(d, d->common + field, len);
}

void vtd_common_write(struct vtd_dev *d, u32 field, u64 v, unsigned int len)
{
	vtd_bar_write(d, d->common + field, v, len);
}

u8 vtd_status(struct vtd_dev *d)
{
	return vtd_common_read(d, VIRTIO_PCI_COMMON_STATUS, 1);
}

void vtd_set_status(struct vtd_dev *d, u8 status)
{
	vtd_common_write(d, VIRTIO_PCI_COMMON_STATUS, status, 1);
}

static bool status_is_zero(void *arg)
{
	return vtd_status(arg) == 0;
}

int vtd_reset(struct vtd_dev *d)
{
	vtd_set_status(d, 0);
	return vtd_wait_for(status_is_zero, d, 5000) ? 0 : -1;
}

int vtd_negotiate(struct vtd_dev *d, u64 wanted)
{
	u64 offered;

	if (vtd_reset(d))
		return -1;
	memset(d->q, 0, sizeof(d->q));
	vtd_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vtd_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vtd_common_write(d, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	offered = vtd_common_read(d, VIRTIO_PCI_COMMON_DF, 4);
	vtd_common_write(d, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	offered |= vtd_common_read(d, VIRTIO_PCI_COMMON_DF, 4) << 32;
	d->features = offered & wanted;
	vtd_common_write(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	vtd_common_write(d, VIRTIO_PCI_COMMON_GF, (u32)d->features, 4);
	vtd_common_write(d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	vtd_common_write(d, VIRTIO_PCI_COMMON_GF, d->features >> 32, 4);
	vtd_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		       VIRTIO_CONFIG_S_FEATURES_OK);
	return vtd_status(d) & VIRTIO_CONFIG_S_FEATURES_OK ? 0 : -1;
}

int vtd_setup_queue(struct vtd_dev *d, unsigned int q, u16 size, u16 vector)
{
	struct vtd_queue *vq = &d->q[q];
	u16 max;

	vtd_common_write(d, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	max = vtd_common_read(d, VIRTIO_PCI_COMMON_Q_SIZE, 2);
	if (!max || size > max)
		return -1;
	memset(vq, 0, sizeof(*vq));
	vq->size = size;
	vq->desc = vtd_alloc(d->vm, 16ULL * size, 4096);
	vq->avail = vtd_alloc(d->vm, 6 + 2ULL * size, 2);
	vq->used = vtd_alloc(d->vm, 6 + 8ULL * size, 4);
	vtd_common_write(d, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	vtd_common_write(d, VIRTIO_PCI_COMMON_Q_DESCLO, vq->desc, 4);
	vtd_common_write(d, VIRTIO_PCI_COMMON_Q_DESCHI, vq->desc >> 32, 4);
	vtd_common_write(d, VIRTIO_PCI_COMMON_Q_AVAILLO, vq->avail, 4);
	vtd_common_write(d, VIRTIO_PCI_COMMON_Q_AVAILHI, vq->avail >> 32, 4);
	vtd_common_write(d, VIRTIO_PCI_COMMON_Q_USEDLO, vq->used, 4);
	vtd_common_write(d, VIRTIO_PCI_COMMON_Q_USEDHI, vq->used >> 32, 4);
	vtd_common_write(d, VIRTIO_PCI_COMMON_Q_MSIX, vector, 2);
	if (vtd_common_read(d, VIRTIO_PCI_COMMON_Q_MSIX, 2) != vector)
		return -1;
	vtd_common_write(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	return vtd_common_read(d, VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1 ? 0 : -1;
}

void vtd_driver_ok(struct vtd_dev *d)
{
	vtd_set_status(d, vtd_status(d) | VIRTIO_CONFIG_S_DRIVER_OK);
}

void vtd_enable_msix(struct vtd_dev *d)
{
	u16 ctrl = vtd_cfg_read(d->vm, d->slot, d->msix_cap + PCI_MSIX_FLAGS, 2);

	for (unsigned int v = 0; v < d->msix_vectors; v++) {
		u32 e = d->msix_table + 16 * v;

		vtd_bar_write(d, e + PCI_MSIX_ENTRY_LOWER_ADDR, VTD_MSI_ADDR, 4);
		vtd_bar_write(d, e + PCI_MSIX_ENTRY_UPPER_ADDR, 0, 4);
		vtd_bar_write(d, e + PCI_MSIX_ENTRY_DATA, VTD_MSI_DATA(v), 4);
		vtd_bar_write(d, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	}
	vtd_cfg_write(d->vm, d->slot, d->msix_cap + PCI_MSIX_FLAGS,
		      ctrl | PCI_MSIX_FLAGS_ENABLE, 2);
}

void vtd_msix_mask(struct vtd_dev *d, unsigned int vector, bool masked)
{
	vtd_bar_write(d, d->msix_table + 16 * vector + PCI_MSIX_ENTRY_VECTOR_CTRL,
		      masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0, 4);
}

void vtd_msix_function_mask(struct vtd_dev *d, bool masked)
{
	u16 ctrl = vtd_cfg_read(d->vm, d->slot, d->msix_cap + PCI_MSIX_FLAGS, 2);

	ctrl = masked ? ctrl | PCI_MSIX_FLAGS_MASKALL : ctrl & ~PCI_MSIX_FLAGS_MASKALL;
	vtd_cfg_write(d->vm, d->slot, d->msix_cap + PCI_MSIX_FLAGS, ctrl, 2);
}

bool vtd_msix_pending(struct vtd_dev *d, unsigned int vector)
{
	u64 word = vtd_bar_read(d, d->msix_pba + 8 * (vector / 64), 8);

	return word & (1ULL << (vector % 64));
}

/* --- rings --- */

void vtd_write_desc_at(struct vm *vm, u64 table, u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	u8 desc[16];

	memcpy(desc, &addr, 8);
	memcpy(desc + 8, &len, 4);
	memcpy(desc + 12, &flags, 2);
	memcpy(desc + 14, &next, 2);
	vtd_mem_write(vm, table + 16ULL * i, desc, 16);
}

void vtd_write_desc(struct vtd_dev *d, unsigned int q, u16 i, u64 addr, u32 len, u16 flags,
		    u16 next)
{
	vtd_write_desc_at(d->vm, d->q[q].desc, i, addr, len, flags, next);
}

static void write16(struct vm *vm, u64 gpa, u16 v)
{
	__atomic_store_n((u16 *)gpa_to_hva(&vm->mem, gpa, 2), v, __ATOMIC_RELEASE);
}

static u16 read16(struct vm *vm, u64 gpa)
{
	return __atomic_load_n((u16 *)gpa_to_hva(&vm->mem, gpa, 2), __ATOMIC_ACQUIRE);
}

void vtd_set_avail_idx(struct vtd_dev *d, unsigned int q, u16 idx)
{
	d->q[q].avail_idx = idx;
	write16(d->vm, d->q[q].avail + 2, idx);
}

void vtd_publish(struct vtd_dev *d, unsigned int q, u16 head)
{
	struct vtd_queue *vq = &d->q[q];

	write16(d->vm, vq->avail + 4 + 2ULL * (vq->avail_idx % vq->size), head);
	vtd_set_avail_idx(d, q, vq->avail_idx + 1);
}

void vtd_set_avail_flags(struct vtd_dev *d, unsigned int q, u16 flags)
{
	write16(d->vm, d->q[q].avail, flags);
}

void vtd_set_used_event(struct vtd_dev *d, unsigned int q, u16 v)
{
	write16(d->vm, d->q[q].avail + 4 + 2ULL * d->q[q].size, v);
}

u16 vtd_avail_event(struct vtd_dev *d, unsigned int q)
{
	return read16(d->vm, d->q[q].used + 4 + 8ULL * d->q[q].size);
}

u16 vtd_used_idx(struct vtd_dev *d, unsigned int q)
{
	return read16(d->vm, d->q[q].used + 2);
}

u16 vtd_add_chain(struct vtd_dev *d, unsigned int q, const struct vtd_buf *bufs,
		  unsigned int n, bool indirect)
{
	struct vtd_queue *vq = &d->q[q];
	u16 head = vq->next_desc;

	if (indirect) {
		u64 table = vtd_alloc(d->vm, 16ULL * n, 16);

		for (unsigned int i = 0; i < n; i++)
			vtd_write_desc_at(d->vm, table, i, bufs[i].gpa, bufs[i].len,
					  (bufs[i].write ? VRING_DESC_F_WRITE : 0) |
					  (i + 1 < n ? VRING_DESC_F_NEXT : 0), i + 1);
		vtd_write_desc(d, q, head, table, 16 * n, VRING_DESC_F_INDIRECT, 0);
		vq->next_desc = (head + 1) % vq->size;
	} else {
		for (unsigned int i = 0; i < n; i++) {
			u16 at = vq->next_desc;

			vq->next_desc = (at + 1) % vq->size;
			vtd_write_desc(d, q, at, bufs[i].gpa, bufs[i].len,
				       (bufs[i].write ? VRING_DESC_F_WRITE : 0) |
				       (i + 1 < n ? VRING_DESC_F_NEXT : 0), vq->next_desc);
		}
	}
	vtd_publish(d, q, head);
	return head;
}

void vtd_kick(struct vtd_dev *d, unsigned int q)
{
	vtd_bar_write(d, d->notify + q * d->notify_mult, q, 2);
}

struct used_wait {
	struct vtd_dev *d;
	unsigned int q;
};

static bool used_ready(void *arg)
{
	struct used_wait *w = arg;

	return vtd_used_idx(w->d, w->q) != w->d->q[w->q].last_used;
}

int vtd_wait_used(struct vtd_dev *d, unsigned int q, unsigned int timeout_ms, u32 *id,
		  u32 *len)
{
	struct vtd_queue *vq = &d->q[q];
	struct used_wait w = { d, q };
	u8 elem[8];

	if (!vtd_wait_for(used_ready, &w, timeout_ms))
		return -1;
	vtd_mem_read(d->vm, vq->used + 4 + 8ULL * (vq->last_used % vq->size), elem, 8);
	memcpy(id, elem, 4);
	memcpy(len, elem + 4, 4);
	vq->last_used++;
	return 0;
}

bool vtd_wait_for(bool (*cond)(void *arg), void *arg, unsigned int timeout_ms)
{
	for (unsigned int waited = 0;; waited++) {
		if (cond(arg))
			return true;
		if (waited >= timeout_ms * 10)
			return false;
		usleep(100);
	}
}
