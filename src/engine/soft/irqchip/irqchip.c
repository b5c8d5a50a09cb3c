// SPDX-License-Identifier: Apache-2.0
/* The soft engine's chip set: creation, bus ranges, GSI routing, CPUID. */
#include "engine/soft/irqchip/chip.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "machine/layout.h"
#include "machine/vm.h"

/* xAPIC IDs are 8 bits and 0xff is broadcast. */
#define SOFT_IRQCHIP_MAX_CPUS 255

struct chip_range {
	bool mmio;
	u64 base;
	u64 len;
	const struct bus_device_ops *ops;
	const char *name;
};

static const struct chip_range chip_ranges[] = {
	{ true, LAYOUT_IOAPIC_BASE, IOAPIC_MMIO_SIZE, &ioapic_mmio_ops, "ioapic" },
	{ false, PORT_PIC_MASTER, 2, &pic_master_ops, "pic-master" },
	{ false, PORT_PIC_SLAVE, 2, &pic_slave_ops, "pic-slave" },
	{ false, PIC_PORT_ELCR, 2, &pic_elcr_ops, "elcr" },
	{ false, PORT_PIT, 4, &pit_ops, "pit" },
	{ false, PIT_PORT_61, 1, &pit_port61_ops, "port61" },
};

static void *range_opaque(struct soft_irqchip *chip, const struct chip_range *r)
{
	if (r->ops == &ioapic_mmio_ops)
		return &chip->ioapic;
	if (r->ops == &pit_ops || r->ops == &pit_port61_ops)
		return &chip->pit;
	return &chip->pic;
}

static struct bus *range_bus(struct soft_irqchip *chip, const struct chip_range *r)
{
	return r->mmio ? &chip->vm->mmio_bus : &chip->vm->pio_bus;
}

void soft_irqchip_destroy(struct soft_irqchip *chip)
{
	if (!chip)
		return;
	while (chip->nr_ranges) {
		const struct chip_range *r = &chip_ranges[--chip->nr_ranges];

		bus_unregister(range_bus(chip, r), r->base);
	}
	pit_destroy(&chip->pit);
	pic_destroy(&chip->pic);
	ioapic_destroy(&chip->ioapic);
	free(chip->lapics);
	free(chip);
}

struct soft_irqchip *soft_irqchip_create(struct vm *vm, unsigned int nr_cpus)
{
	struct soft_irqchip *chip;

	if (nr_cpus == 0 || nr_cpus > SOFT_IRQCHIP_MAX_CPUS) {
		pr_err("soft irqchip: %u vCPUs (xAPIC takes 1 to %d)", nr_cpus,
		       SOFT_IRQCHIP_MAX_CPUS);
		return NULL;
	}
	chip = calloc(1, sizeof(*chip));
	if (!chip)
		return NULL;
	chip->lapics = calloc(nr_cpus, sizeof(*chip->lapics));
	if (!chip->lapics) {
		free(chip);
		return NULL;
	}
	chip->vm = vm;
	chip->mem = &vm->mem;
	chip->nr_cpus = nr_cpus;
	soft_clock_init(&chip->clock, NULL, NULL);
	/* The MADT gives the IOAPIC the ID after the last CPU's. */
	ioapic_init(&chip->ioapic, chip, (u8)nr_cpus);
	pic_init(&chip->pic, chip);
	pit_init(&chip->pit, chip);
	for (unsigned int i = 0; i < nr_cpus; i++)
		lapic_init(&chip->lapics[i], chip, i);

	for (unsigned int i = 0; i < ARRAY_SIZE(chip_ranges); i++) {
		const struct chip_range *r = &chip_ranges[i];

		if (bus_register(range_bus(chip, r), r->base, r->len, r->ops,
				 range_opaque(chip, r), r->name)) {
			pr_err("soft irqchip: %s at %#llx is already claimed", r->name,
			       (unsigned long long)r->base);
			soft_irqchip_destroy(chip);
			return NULL;
		}
		chip->nr_ranges++;
	}
	return chip;
}

void soft_irqchip_set_clock(struct soft_irqchip *chip, soft_clock_fn now, void *opaque)
{
	soft_clock_init(&chip->clock, now, opaque);
}

const struct soft_clock *soft_irqchip_clock(const struct soft_irqchip *chip)
{
	return &chip->clock;
}

struct lapic *soft_irqchip_lapic(struct soft_irqchip *chip, unsigned int cpu)
{
	return cpu < chip->nr_cpus ? &chip->lapics[cpu] : NULL;
}

void chip_extint_notify(struct soft_irqchip *chip)
{
	for (unsigned int i = 0; i < chip->nr_cpus; i++)
		lapic_extint_notify(&chip->lapics[i]);
}

void soft_irqchip_set_irq(struct soft_irqchip *chip, u32 gsi, bool level)
{
	if (gsi >= IOAPIC_NR_PINS) {
		pr_warn_once("soft irqchip: GSI %u does not exist", gsi);
		return;
	}
	/*
	 * ISA IRQs reach both controllers. IRQ0 (the PIT) is GSI 2 by the
	 * MADT's override, and GSI 0 is nothing on the PIC.
	 */
	if (gsi == GSI_PIT)
		pic_set_irq(&chip->pic, 0, level);
	else if (gsi != 0 && gsi < 16)
		pic_set_irq(&chip->pic, gsi, level);
	ioapic_set_irq(&chip->ioapic, gsi, level);
}

void soft_irqchip_send_msi(struct soft_irqchip *chip, u64 addr, u32 data)
{
	apic_bus_send_msi(chip, addr, data);
}

#define CPUID_1_ECX_X2APIC	(1U << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1U << 24)
#define CPUID_1_ECX_HYPERVISOR	(1U << 31)
#define CPUID_1_EDX_APIC	(1U << 9)
#define CPUID_6_EAX_ARAT	(1U << 2)	/* the APIC timer runs in idle */

void soft_irqchip_cpuid(u32 leaf, u32 subleaf, unsigned int cpu, u32 regs[4])
{
	(void)subleaf;
	if (kvmclock_cpuid(leaf, regs))
		return;
	switch (leaf) {
	case 1:
		regs[1] = (regs[1] & 0x00ffffffU) | ((cpu & 0xffU) << 24);
		regs[2] |= CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE | CPUID_1_ECX_HYPERVISOR;
		regs[3] |= CPUID_1_EDX_APIC;
		break;
	case 6:
		regs[0] |= CPUID_6_EAX_ARAT;
		break;
	case 0xb:
		/* The x2APIC ID, on every level of the topology the engine gave. */
		regs[3] = cpu;
		break;
	default:
		/* Other hypervisor leaves: nothing, so Linux stops at KVM's. */
		if (leaf >= 0x40000000U && leaf <= 0x4fffffffU)
			memset(regs, 0, 4 * sizeof(regs[0]));
		break;
	}
}
