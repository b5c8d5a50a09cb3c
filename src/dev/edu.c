// SPDX-License-Identifier: Apache-2.0
#include "dev/edu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci.h"
#include "iommu/iommu.h"
#include "lib/log.h"
#include "machine/irq.h"
#include "machine/vm.h"

#define MSI_CAP_LEN	14	/* header, control, 64-bit address, data */
/* 34! and above hold at least 32 factors of two: 0 in 32 bits. */
#define FACTORIAL_ZERO_FROM 34

struct edu {
	struct pci_device pci;
	struct vm *vm;
	pthread_mutex_t lock;		/* everything below */
	u32 alive;
	u32 factorial;
	u32 status;
	u32 irq_status;
	u64 dma_src, dma_dst, dma_count, dma_cmd;
	/* MSI as the guest last configured it, copied out of config space. */
	bool msi_enabled;
	u64 msi_addr;
	u32 msi_data;
	u8 msi_cap;
	u8 buf[EDU_DMA_BUF_SIZE];
};

static u16 edu_sid(const struct edu *e)
{
	return (u16)(e->pci.slot << 3);	/* bus 0, function 0 */
}

/* The interrupt follows irq_status: INTA's level, or an MSI per raise. */
static void update_intx(struct edu *e)
{
	pci_set_intx(&e->pci, e->irq_status && !e->msi_enabled);
}

static void raise_irq(struct edu *e, u32 val)
{
	e->irq_status |= val;
	if (!e->irq_status)
		return;
	if (e->msi_enabled)
		irq_send_msi_from(e->vm, edu_sid(e), e->msi_addr, e->msi_data);
	else
		update_intx(e);
}

static void lower_irq(struct edu *e, u32 val)
{
	e->irq_status &= ~val;
	update_intx(e);
}

static u32 factorial(u32 n)
{
	u32 r = 1;

	if (n >= FACTORIAL_ZERO_FROM)
		return 0;
	while (n > 1)
		r *= n--;
	return r;
}

static bool bus_master(const struct edu *e)
{
	return __atomic_load_n(&e->pci.config[PCI_COMMAND], __ATOMIC_RELAXED) &
	       PCI_COMMAND_MASTER;
}

/* Whether [addr, addr + len) lies in the device's buffer. */
static bool in_buffer(u64 addr, u64 len)
{
	return addr >= EDU_DMA_BUF_ADDR && len <= EDU_DMA_BUF_SIZE &&
	       addr - EDU_DMA_BUF_ADDR <= EDU_DMA_BUF_SIZE - len;
}

static void run_dma(struct edu *e)
{
	bool to_ram = e->dma_cmd & EDU_CMD_FROM_DEVICE;
	u64 buf_addr = to_ram ? e->dma_src : e->dma_dst;
	u64 ram_addr = (to_ram ? e->dma_dst : e->dma_src) & EDU_DMA_MASK;
	u64 len = e->dma_count;
	u8 *buf;
	int ret;

	if (!in_buffer(buf_addr, len)) {
		pr_warn_once("edu: DMA of %llu bytes at %#llx is outside the device's buffer: dropped",
			     (unsigned long long)len, (unsigned long long)buf_addr);
		return;
	}
	if (!bus_master(e)) {
		pr_warn_once("edu: DMA with bus mastering off: dropped");
		return;
	}
	buf = e->buf + (buf_addr - EDU_DMA_BUF_ADDR);
	ret = to_ram ? dma_write(e->vm, edu_sid(e), ram_addr, buf, len) :
		       dma_read(e->vm, edu_sid(e), ram_addr, buf, len);
	if (ret)
		pr_warn_once("edu: DMA at %#llx was blocked or missed guest RAM",
			     (unsigned long long)ram_addr);
}

static void dma_command(struct edu *e, u64 cmd)
{
	/* Without START nothing happens, as on QEMU; a transfer never stays busy. */
	if (!(cmd & EDU_CMD_START))
		return;
	e->dma_cmd = cmd;
	run_dma(e);
	e->dma_cmd &= ~(u64)EDU_CMD_START;
	if (e->dma_cmd & EDU_CMD_IRQ)
		raise_irq(e, EDU_IRQ_DMA);
}

/* Only 4-byte accesses below 0x80; 4 or 8 bytes for the DMA registers. */
static bool access_ok(u64 offset, unsigned int len)
{
	if (offset < EDU_REG_DMA_SRC)
		return len == 4 && !(offset & 3);
	return (len == 4 || len == 8) && !(offset & (len - 1));
}

static u64 *dma_reg(struct edu *e, u64 offset)
{
	switch (offset & ~7ULL) {
	case EDU_REG_DMA_SRC:	return &e->dma_src;
	case EDU_REG_DMA_DST:	return &e->dma_dst;
	case EDU_REG_DMA_COUNT:	return &e->dma_count;
	case EDU_REG_DMA_CMD:	return &e->dma_cmd;
	default:		return NULL;
	}
}

static void edu_mmio_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct edu *e = opaque;
	u64 v = ~0ULL;	/* unimplemented registers read all ones */
	u64 *reg;

	pthread_mutex_lock(&e->lock);
	if (!access_ok(offset, len)) {
		/* leave all ones */
	} else if ((reg = dma_reg(e, offset))) {
		v = *reg >> (8 * (offset & 7));
	} else {
		switch (offset) {
		case EDU_REG_ID:		v = EDU_ID_VALUE; break;
		case EDU_REG_ALIVE:		v = ~e->alive; break;
		case EDU_REG_FACTORIAL:		v = e->factorial; break;
		case EDU_REG_STATUS:		v = e->status; break;
		case EDU_REG_INTR_STATUS:	v = e->irq_status; break;
		}
	}
	pthread_mutex_unlock(&e->lock);
	bus_data_put(data, len, v);
}

static void edu_mmio_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct edu *e = opaque;
	u64 v = bus_data_get(data, len);
	u64 *reg;

	if (!access_ok(offset, len))
		return;
	pthread_mutex_lock(&e->lock);
	if ((reg = dma_reg(e, offset)) && reg != &e->dma_cmd) {
		unsigned int shift = 8 * (offset & 7);
		u64 mask = (len == 8 ? ~0ULL : 0xffffffffULL) << shift;

		*reg = (*reg & ~mask) | ((v << shift) & mask);
	} else if (reg) {
		if (!(offset & 7))
			dma_command(e, v);
	} else {
		switch (offset) {
		case EDU_REG_ALIVE:
			e->alive = (u32)v;
			break;
		case EDU_REG_FACTORIAL:
			if (e->status & EDU_STATUS_COMPUTING)
				break;
			e->factorial = factorial((u32)v);
			if (e->status & EDU_STATUS_IRQ_FACT)
				raise_irq(e, EDU_IRQ_FACT);
			break;
		case EDU_REG_STATUS:
			e->status = (e->status & ~EDU_STATUS_IRQ_FACT) | ((u32)v & EDU_STATUS_IRQ_FACT);
			break;
		case EDU_REG_INTR_RAISE:
			raise_irq(e, (u32)v);
			break;
		case EDU_REG_INTR_ACK:
			lower_irq(e, (u32)v);
			break;
		}
	}
	pthread_mutex_unlock(&e->lock);
}

static const struct bus_device_ops edu_mmio_ops = {
	.read = edu_mmio_read,
	.write = edu_mmio_write,
};

/* Copies the MSI capability out after each write to it; cfg lock held. */
static void edu_config_write(struct pci_device *dev, u32 offset, u32 value, unsigned int len)
{
	struct edu *e = dev->opaque;
	u8 cap = e->msi_cap;

	pci_default_config_write(dev, offset, value, len);
	if (offset + len <= cap || offset >= (u32)cap + MSI_CAP_LEN)
		return;
	pthread_mutex_lock(&e->lock);
	e->msi_enabled = pci_config_get(dev, cap + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE;
	e->msi_addr = pci_config_get(dev, cap + PCI_MSI_ADDRESS_LO, 4) |
		      (u64)pci_config_get(dev, cap + PCI_MSI_ADDRESS_HI, 4) << 32;
	e->msi_data = pci_config_get(dev, cap + PCI_MSI_DATA_64, 2);
	/* INTA is not used while MSI is on, and is again when it goes off. */
	update_intx(e);
	pthread_mutex_unlock(&e->lock);
}

static const struct pci_device_ops edu_pci_ops = {
	.config_read = pci_default_config_read,
	.config_write = edu_config_write,
};

static int add_msi_capability(struct edu *e)
{
	int off = pci_add_capability(&e->pci, PCI_CAP_ID_MSI, MSI_CAP_LEN);

	if (off < 0)
		return -1;
	e->msi_cap = (u8)off;
	/* One vector, 64-bit addresses, no per-vector masking. */
	pci_config_set(&e->pci, off + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT, 2);
	pci_config_set_wmask(&e->pci, off + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	pci_config_set_wmask(&e->pci, off + PCI_MSI_ADDRESS_LO, 0xfffffffc, 4);
	pci_config_set_wmask(&e->pci, off + PCI_MSI_ADDRESS_HI, 0xffffffff, 4);
	pci_config_set_wmask(&e->pci, off + PCI_MSI_DATA_64, 0xffff, 2);
	return 0;
}

static void edu_free(struct edu *e)
{
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static void edu_destroy(void *opaque)
{
	struct edu *e = opaque;

	pci_unregister_device(&e->pci);
	edu_free(e);
}

int edu_create(struct vm *vm)
{
	struct vm_device dev = { .name = "edu", .destroy = edu_destroy };
	struct edu *e = calloc(1, sizeof(*e));

	if (!e) {
		pr_err("edu: out of memory");
		return -1;
	}
	e->vm = vm;
	pthread_mutex_init(&e->lock, NULL);
	/* Class 0x00ff (unclassified, "other"), revision 0x10, as QEMU's. */
	pci_device_init(&e->pci, "edu", EDU_VENDOR_ID, EDU_DEVICE_ID, 0x00ff00, 0x10);
	e->pci.ops = &edu_pci_ops;
	e->pci.opaque = e;
	if (pci_device_set_bar(&e->pci, 0, PCI_BAR_MEM32, EDU_BAR_SIZE, false, &edu_mmio_ops, e) ||
	    pci_device_set_intx_pin(&e->pci, 1) || add_msi_capability(e) ||
	    pci_register_device(vm, &e->pci)) {
		pr_err("edu: cannot add the device");
		edu_free(e);
		return -1;
	}
	dev.opaque = e;
	if (vm_add_device(vm, &dev)) {
		edu_destroy(e);
		return -1;
	}
	return 0;
}
