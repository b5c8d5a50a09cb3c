// SPDX-License-Identifier: Apache-2.0
#include "engine/soft/irqchip/ioapic.h"

#include "engine/soft/irqchip/chip.h"
#include "iommu/iommu.h"
#include "lib/log.h"

#define IOREGSEL		0x00
#define IOWIN			0x10
#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VERSION	0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REG_REDIR	0x10

#define REDIR_RO_BITS	((u64)(APIC_DELIVERY_PENDING | APIC_REMOTE_IRR))
/* Vector, delivery and destination modes, polarity, trigger, mask, dest. */
#define REDIR_LO_WRITABLE 0x0001afffULL
#define REDIR_HI_WRITABLE 0xff000000ULL
/* With interrupt remapping: bits 63:48 hold the format bit and the handle. */
#define REDIR_HI_WRITABLE_IR 0xffff0000ULL
#define REDIR_REMAPPABLE	(1ULL << 48)

static bool entry_level(u64 e)
{
	return e & APIC_TRIGGER_LEVEL;
}

static bool entry_fixed(u64 e)
{
	unsigned int mode = (e >> APIC_DM_SHIFT) & 7;

	return mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST;
}

static bool remaps(const struct ioapic *io)
{
	return io->chip && iommu_remaps_interrupts(io->chip->vm);
}

/*
 * A remappable-format entry (VT-d): the entry becomes an interrupt request
 * whose address carries its handle (bits 63:49 and 11), which the IOMMU
 * looks up. False when the IOMMU blocks it.
 */
static bool remapped_msg(struct ioapic *io, u64 e, struct apic_msg *m)
{
	u64 addr = 0xfee00000ULL | ((e >> 49) & 0x7fff) << 5 | 1ULL << 4 |
		   ((e >> 11) & 1) << 2;
	u32 data = (e & APIC_VECTOR_MASK) | (entry_level(e) ? APIC_TRIGGER_LEVEL | (1U << 14) : 0);

	if (iommu_remap_msi(io->chip->vm, IOMMU_SID_NONE, &addr, &data))
		return false;
	return apic_msg_from_msi(addr, data, m);
}

/* Delivers pin's request if its entry lets it through. Lock held. */
static void ioapic_service(struct ioapic *io, unsigned int pin)
{
	u64 e = io->redir[pin];
	u32 bit = 1U << pin;
	struct apic_msg m = {
		.vector = e & APIC_VECTOR_MASK,
		.mode = (e >> APIC_DM_SHIFT) & 7,
		.dest = e >> 56,
		.logical = e & APIC_DEST_LOGICAL,
		.level_trig = entry_level(e),
	};
	bool remapped = (e & REDIR_REMAPPABLE) && remaps(io);

	if (e & APIC_LVT_MASKED)
		return;
	if (entry_level(e)) {
		if (!(io->level & bit) || (e & APIC_REMOTE_IRR))
			return;
	} else {
		if (!(io->pending & bit))
			return;
		io->pending &= ~bit;
	}
	m.lowest = m.mode == APIC_DM_LOWEST;
	if (remapped && !remapped_msg(io, e, &m))
		return;
	/*
	 * Remote IRR waits for an EOI, which only fixed and lowest-priority
	 * vectors ever get, and only if some LAPIC took the message.
	 */
	if (apic_bus_deliver(io->chip, &m, NULL) && entry_level(e) && entry_fixed(e))
		io->redir[pin] |= APIC_REMOTE_IRR;
}

void ioapic_set_irq(struct ioapic *io, unsigned int pin, bool level)
{
	u32 bit = 1U << pin;

	if (pin >= IOAPIC_NR_PINS)
		return;
	pthread_mutex_lock(&io->lock);
	if (level) {
		/* A rising edge; on a masked pin it is ignored, as the 82093AA datasheet says. */
		if (!(io->level & bit) && !entry_level(io->redir[pin]) &&
		    !(io->redir[pin] & APIC_LVT_MASKED))
			io->pending |= bit;
		io->level |= bit;
		ioapic_service(io, pin);
	} else {
		io->level &= ~bit;
	}
	pthread_mutex_unlock(&io->lock);
}

void ioapic_eoi(struct ioapic *io, u8 vector)
{
	pthread_mutex_lock(&io->lock);
	for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++) {
		u64 e = io->redir[pin];

		if ((e & APIC_VECTOR_MASK) != vector || !(e & APIC_REMOTE_IRR))
			continue;
		io->redir[pin] &= ~(u64)APIC_REMOTE_IRR;
		/* Still asserted: it fires again. */
		ioapic_service(io, pin);
	}
	pthread_mutex_unlock(&io->lock);
}

static u32 ioapic_reg_read(struct ioapic *io, u32 reg)
{
	unsigned int pin;

	switch (reg) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return io->id;
	case IOAPIC_REG_VERSION:
		return IOAPIC_VERSION | ((IOAPIC_NR_PINS - 1) << 16);
	}
	if (reg < IOAPIC_REG_REDIR || reg >= IOAPIC_REG_REDIR + 2 * IOAPIC_NR_PINS)
		return 0;
	pin = (reg - IOAPIC_REG_REDIR) / 2;
	return (reg & 1) ? io->redir[pin] >> 32 : (u32)io->redir[pin];
}

static void ioapic_redir_write(struct ioapic *io, unsigned int pin, bool high, u32 v)
{
	u64 e = io->redir[pin];

	if (high) {
		u64 writable = remaps(io) ? REDIR_HI_WRITABLE_IR : REDIR_HI_WRITABLE;

		e = (e & 0xffffffffULL) | ((u64)(v & writable) << 32);
	} else {
		e = (e & (0xffffffff00000000ULL | REDIR_RO_BITS)) | (v & REDIR_LO_WRITABLE);
		/* Remote IRR means nothing to an edge entry, nor pending to a level one. */
		if (entry_level(e))
			io->pending &= ~(1U << pin);
		else
			e &= ~(u64)APIC_REMOTE_IRR;
	}
	io->redir[pin] = e;
	/* Unmasked with a request held: it goes now. */
	ioapic_service(io, pin);
}

static void ioapic_reg_write(struct ioapic *io, u32 reg, u32 v)
{
	if (reg == IOAPIC_REG_ID) {
		io->id = v & 0x0f000000;
		return;
	}
	if (reg < IOAPIC_REG_REDIR || reg >= IOAPIC_REG_REDIR + 2 * IOAPIC_NR_PINS)
		return;	/* version, arbitration and reserved: read-only */
	ioapic_redir_write(io, (reg - IOAPIC_REG_REDIR) / 2, reg & 1, v);
}

static void ioapic_mmio_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct ioapic *io = opaque;
	unsigned int inner = offset & 0xf;
	u64 v = 0;

	pthread_mutex_lock(&io->lock);
	if (inner < 4) {
		if (offset - inner == IOREGSEL)
			v = io->ioregsel >> (8 * inner);
		else if (offset - inner == IOWIN)
			v = ioapic_reg_read(io, io->ioregsel) >> (8 * inner);
	}
	pthread_mutex_unlock(&io->lock);
	bus_data_put(data, len, v);
}

static void ioapic_mmio_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct ioapic *io = opaque;
	u32 v = (u32)bus_data_get(data, len);

	pthread_mutex_lock(&io->lock);
	if (offset == IOREGSEL)
		io->ioregsel = v & 0xff;	/* a byte write is enough */
	else if (offset == IOWIN && len >= 4)
		ioapic_reg_write(io, io->ioregsel, v);
	else
		pr_warn_once("ioapic: ignored %u-byte write at offset %#llx", len,
			     (unsigned long long)offset);
	pthread_mutex_unlock(&io->lock);
}

const struct bus_device_ops ioapic_mmio_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

void ioapic_init(struct ioapic *io, struct soft_irqchip *chip, u8 id)
{
	pthread_mutex_init(&io->lock, NULL);
	io->chip = chip;
	io->ioregsel = 0;
	io->id = (u32)(id & 0xf) << 24;
	io->level = 0;
	io->pending = 0;
	for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++)
		io->redir[pin] = APIC_LVT_MASKED;
}

void ioapic_destroy(struct ioapic *io)
{
	pthread_mutex_destroy(&io->lock);
}
