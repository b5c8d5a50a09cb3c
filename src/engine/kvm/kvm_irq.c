// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>
#include <sys/ioctl.h>

#include "engine/kvm/kvm_internal.h"
#include "lib/log.h"
#include "machine/layout.h"

#define IOAPIC_PINS 24
#define ISA_IRQS 16
#define PIC_CASCADE_IRQ 2

static void add_route(struct kvm_irq_routing *r, u32 gsi, u32 chip, u32 pin)
{
	struct kvm_irq_routing_entry *e = &r->entries[r->nr++];

	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

/*
 * KVM's GSI numbers are keys of this table. Kiln's GSIs are ACPI's: GSI n
 * is IOAPIC pin n, and ISA IRQ n (n < 16, but for the cascade) also drives
 * PIC pin n. The exception is the in-kernel PIT, which raises KVM GSI 0: it
 * goes to PIC pin 0 and to IOAPIC pin GSI_PIT, the MADT's IRQ0 override.
 */
int kvm_irq_setup_routing(struct kvm_vm *kvm)
{
	struct kvm_irq_routing *r;
	int ret;

	r = calloc(1, sizeof(*r) + (IOAPIC_PINS + ISA_IRQS) * sizeof(r->entries[0]));
	if (!r)
		return -1;
	for (u32 gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		if (gsi < ISA_IRQS && gsi != PIC_CASCADE_IRQ)
			add_route(r, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				  gsi & 7);
		add_route(r, gsi, KVM_IRQCHIP_IOAPIC, gsi == 0 ? GSI_PIT : gsi);
	}
	ret = ioctl(kvm->vm_fd, KVM_SET_GSI_ROUTING, r);
	if (ret < 0)
		pr_err("kvm: KVM_SET_GSI_ROUTING: %m");
	else
		ret = kvm_msi_init(kvm, r);	/* MSI routes go after these */
	free(r);
	return ret < 0 ? -1 : 0;
}

void kvm_set_irq_line(struct vm *vm, u32 gsi, bool level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(kvm_vm_of(vm)->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		pr_warn_once("kvm: KVM_IRQ_LINE gsi %u level %d: %m", gsi, level);
}
