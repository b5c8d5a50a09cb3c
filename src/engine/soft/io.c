// SPDX-License-Identifier: Apache-2.0
/* Port I/O and MMIO from the soft CPU onto the machine's buses. */
#include <string.h>
#include <time.h>

#include "bus/bus.h"
#include "engine/soft/irqchip/clock.h"
#include "engine/soft/soft.h"
#include "engine/soft/soft_irq_glue.h"
#include "machine/vcpu.h"

static void count_exit(struct soft_cpu *cpu, enum exit_reason r)
{
	if (cpu->vcpu)
		vcpu_count_exit(cpu->vcpu, r);
}

u64 soft_pio_read(struct soft_cpu *cpu, u16 port, unsigned int size)
{
	u64 v = ~0ULL;

	count_exit(cpu, EXIT_IO);
	if (cpu->svm->pio)
		bus_read(cpu->svm->pio, port, &v, size);
	return v & size_mask(size);
}

void soft_pio_write(struct soft_cpu *cpu, u16 port, unsigned int size, u64 val)
{
	count_exit(cpu, EXIT_IO);
	if (cpu->svm->pio)
		bus_write(cpu->svm->pio, port, &val, size);
}

/* The bus takes 1, 2, 4 or 8 bytes: split anything else. */
static unsigned int mmio_chunk(u64 gpa, unsigned int len)
{
	unsigned int n = 8;

	while (n > len || (gpa & (n - 1)))
		n >>= 1;
	return n;
}

void soft_mmio_read(struct soft_cpu *cpu, u64 gpa, void *buf, unsigned int len)
{
	u8 *p = buf;

	count_exit(cpu, EXIT_MMIO);
	if (soft_lapic_page(cpu, gpa)) {
		soft_lapic_access(cpu, gpa, buf, len, false);
		return;
	}
	while (len) {
		unsigned int n = len <= 8 && (len & (len - 1)) == 0 ? len : mmio_chunk(gpa, len);

		memset(p, 0xff, n);
		if (cpu->svm->mmio)
			bus_read(cpu->svm->mmio, gpa, p, n);
		p += n;
		gpa += n;
		len -= n;
	}
}

void soft_mmio_write(struct soft_cpu *cpu, u64 gpa, const void *buf, unsigned int len)
{
	const u8 *p = buf;

	count_exit(cpu, EXIT_MMIO);
	if (soft_lapic_page(cpu, gpa)) {
		soft_lapic_access(cpu, gpa, (void *)buf, len, true);
		return;
	}
	while (len) {
		unsigned int n = len <= 8 && (len & (len - 1)) == 0 ? len : mmio_chunk(gpa, len);

		if (cpu->svm->mmio)
			bus_write(cpu->svm->mmio, gpa, p, n);
		p += n;
		gpa += n;
		len -= n;
	}
}

u64 host_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

u64 soft_tsc_now(struct soft_cpu *cpu)
{
	bool ok;
	u64 tsc = soft_irq_rdtsc(cpu, &ok);

	if (ok)
		return tsc;
	return host_ns() * SOFT_TSC_PER_NS + cpu->tsc_offset;
}
