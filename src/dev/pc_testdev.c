// SPDX-License-Identifier: Apache-2.0
#include "dev/pc_testdev.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "lib/log.h"
#include "machine/irq.h"
#include "machine/layout.h"
#include "machine/vm.h"

#define SCRATCH_PORTS 4
#define FLUSH_PORTS 4

struct pc_testdev {
	struct vm *vm;
	u32 scratch;		/* atomically: vCPUs may race on it */
	pthread_mutex_t iomem_lock;
	u8 iomem[PC_TESTDEV_IOMEM_SIZE];
};

/* Byte i of the access lands on register byte (offset + i) % 4. */
static void scratch_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct pc_testdev *t = opaque;
	u32 reg = __atomic_load_n(&t->scratch, __ATOMIC_ACQUIRE);
	u8 *out = data;

	for (unsigned int i = 0; i < len; i++)
		out[i] = reg >> (8 * ((offset + i) & 3));
}

static void scratch_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct pc_testdev *t = opaque;
	u32 old = __atomic_load_n(&t->scratch, __ATOMIC_RELAXED), new;
	const u8 *in = data;

	do {
		new = old;
		for (unsigned int i = 0; i < len; i++) {
			unsigned int shift = 8 * ((offset + i) & 3);

			new = (new & ~(0xffu << shift)) | ((u32)in[i] << shift);
		}
	} while (!__atomic_compare_exchange_n(&t->scratch, &old, new, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
}

static const struct bus_device_ops scratch_ops = {
	.read = scratch_read,
	.write = scratch_write,
};

/* Reads of the write-only ports show nothing there. */
static void no_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	bus_data_put(data, len, ~0ULL);
}

static void flush_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	(void)opaque;
	(void)offset;
	pr_debug("pc-testdev: flush page %#llx (nothing to flush)",
		 (unsigned long long)bus_data_get(data, len));
}

static const struct bus_device_ops flush_ops = {
	.read = no_read,
	.write = flush_write,
};

static void irq_line_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct pc_testdev *t = opaque;

	/* offset < PC_TESTDEV_NR_IRQ_LINES: the bus checks the range. */
	irq_set_level(t->vm, (u32)offset, bus_data_get(data, len) != 0);
}

static const struct bus_device_ops irq_line_ops = {
	.read = no_read,
	.write = irq_line_write,
};

/* Plain memory behind MMIO exits: the engine must emulate every access. */
static void iomem_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct pc_testdev *t = opaque;

	pthread_mutex_lock(&t->iomem_lock);
	memcpy(data, &t->iomem[offset], len);
	pthread_mutex_unlock(&t->iomem_lock);
}

static void iomem_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct pc_testdev *t = opaque;

	pthread_mutex_lock(&t->iomem_lock);
	memcpy(&t->iomem[offset], data, len);
	pthread_mutex_unlock(&t->iomem_lock);
}

static const struct bus_device_ops iomem_ops = {
	.read = iomem_read,
	.write = iomem_write,
};

static const struct {
	u16 port;
	u16 len;
	const struct bus_device_ops *ops;
	const char *name;
} ranges[] = {
	{ PC_TESTDEV_PORT_SCRATCH, SCRATCH_PORTS, &scratch_ops, "pc-testdev-scratch" },
	{ PC_TESTDEV_PORT_FLUSH, FLUSH_PORTS, &flush_ops, "pc-testdev-flush" },
	{ PC_TESTDEV_PORT_SCRATCH_BYTE, SCRATCH_PORTS, &scratch_ops, "pc-testdev-scratch" },
	{ PC_TESTDEV_PORT_IRQ, PC_TESTDEV_NR_IRQ_LINES, &irq_line_ops, "pc-testdev-irq" },
};

static void unregister_ranges(struct vm *vm, unsigned int n)
{
	while (n--)
		bus_unregister(&vm->pio_bus, ranges[n].port);
}

static void pc_testdev_free(struct pc_testdev *t)
{
	pthread_mutex_destroy(&t->iomem_lock);
	free(t);
}

static void pc_testdev_destroy(void *opaque)
{
	struct pc_testdev *t = opaque;

	bus_unregister(&t->vm->mmio_bus, LAYOUT_TESTDEV_IOMEM);
	unregister_ranges(t->vm, ARRAY_SIZE(ranges));
	pc_testdev_free(t);
}

int pc_testdev_create(struct vm *vm)
{
	struct pc_testdev *t = calloc(1, sizeof(*t));
	struct vm_device dev = { .name = "pc-testdev", .destroy = pc_testdev_destroy };
	unsigned int i;

	if (!t) {
		pr_err("pc-testdev: out of memory");
		return -1;
	}
	t->vm = vm;
	pthread_mutex_init(&t->iomem_lock, NULL);
	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		if (bus_register(&vm->pio_bus, ranges[i].port, ranges[i].len, ranges[i].ops, t,
				 ranges[i].name)) {
			pr_err("pc-testdev: ports %#x-%#x are taken", ranges[i].port,
			       ranges[i].port + ranges[i].len - 1);
			unregister_ranges(vm, i);
			pc_testdev_free(t);
			return -1;
		}
	}
	if (bus_register(&vm->mmio_bus, LAYOUT_TESTDEV_IOMEM, PC_TESTDEV_IOMEM_SIZE, &iomem_ops,
			 t, "pc-testdev-iomem")) {
		pr_err("pc-testdev: MMIO %#llx+%#x is taken", LAYOUT_TESTDEV_IOMEM,
		       PC_TESTDEV_IOMEM_SIZE);
		unregister_ranges(vm, i);
		pc_testdev_free(t);
		return -1;
	}
	dev.opaque = t;
	if (vm_add_device(vm, &dev)) {
		pc_testdev_destroy(t);
		return -1;
	}
	return 0;
}
