// SPDX-License-Identifier: Apache-2.0
#include "dev/pci_testdev.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci.h"
#include "lib/log.h"
#include "machine/vm.h"

#define TEST_WIDTH	1
#define NO_TEST		(-1)
#define HDR_MAX		64	/* header and the longest name */
#define DATAMATCH_TEST	2

static const char *const test_names[PCI_TESTDEV_NR_TESTS] = {
	"no-eventfd", "wildcard-eventfd", "datamatch-eventfd",
};

struct pci_testdev;

/* One BAR's view: its own selection and counts. */
struct testdev_bar {
	struct pci_testdev *dev;
	u32 size;
	const char *kind;		/* the name's suffix, as QEMU's */
	int cur;			/* selected test, or NO_TEST */
	u32 count[PCI_TESTDEV_NR_TESTS];
};

struct pci_testdev {
	struct pci_device pci;
	pthread_mutex_t lock;		/* both BARs' state */
	struct testdev_bar mem, io;
};

static u32 doorbell(const struct testdev_bar *b, int test)
{
	return b->size / 2 + (u32)test * TEST_WIDTH;
}

static u32 test_data(int test)
{
	return test == DATAMATCH_TEST ? PCI_TESTDEV_DATAMATCH : PCI_TESTDEV_NOMATCH;
}

/* The selected test's header and name; 0 bytes when none is selected. */
static unsigned int build_header(const struct testdev_bar *b, u8 hdr[HDR_MAX])
{
	int n;

	memset(hdr, 0, HDR_MAX);
	if (b->cur == NO_TEST)
		return 0;
	hdr[PCI_TESTDEV_HDR_TEST] = (u8)b->cur;
	hdr[PCI_TESTDEV_HDR_WIDTH] = TEST_WIDTH;
	bus_data_put(&hdr[PCI_TESTDEV_HDR_OFFSET], 4, doorbell(b, b->cur));
	bus_data_put(&hdr[PCI_TESTDEV_HDR_DATA], 4, test_data(b->cur));
	bus_data_put(&hdr[PCI_TESTDEV_HDR_COUNT], 4, b->count[b->cur]);
	n = snprintf((char *)&hdr[PCI_TESTDEV_HDR_NAME], HDR_MAX - PCI_TESTDEV_HDR_NAME,
		     "%s-%s", b->kind, test_names[b->cur]);
	return PCI_TESTDEV_HDR_NAME + (unsigned int)n + 1;
}

static void testdev_bar_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct testdev_bar *b = opaque;
	u8 hdr[HDR_MAX], *out = data;
	unsigned int hdr_len;

	pthread_mutex_lock(&b->dev->lock);
	hdr_len = build_header(b, hdr);
	pthread_mutex_unlock(&b->dev->lock);
	for (unsigned int i = 0; i < len; i++)
		out[i] = offset + i < hdr_len ? hdr[offset + i] : 0;
}

static void testdev_bar_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct testdev_bar *b = opaque;
	u64 v = bus_data_get(data, len);

	pthread_mutex_lock(&b->dev->lock);
	if (offset == PCI_TESTDEV_HDR_TEST) {
		b->cur = v < PCI_TESTDEV_NR_TESTS ? (int)v : NO_TEST;
		if (b->cur != NO_TEST)
			b->count[b->cur] = 0;
	} else if (b->cur != NO_TEST && offset == doorbell(b, b->cur) &&
		   (b->cur != DATAMATCH_TEST ||
		    (len == TEST_WIDTH && v == test_data(b->cur)))) {
		b->count[b->cur]++;
	}
	pthread_mutex_unlock(&b->dev->lock);
}

static const struct bus_device_ops testdev_bar_ops = {
	.read = testdev_bar_read,
	.write = testdev_bar_write,
};

static void pci_testdev_free(struct pci_testdev *t)
{
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static void pci_testdev_destroy(void *opaque)
{
	struct pci_testdev *t = opaque;

	pci_unregister_device(&t->pci);
	pci_testdev_free(t);
}

static void bar_init(struct pci_testdev *t, struct testdev_bar *b, u32 size, const char *kind)
{
	b->dev = t;
	b->size = size;
	b->kind = kind;
	b->cur = NO_TEST;
}

int pci_testdev_create(struct vm *vm)
{
	struct pci_testdev *t = calloc(1, sizeof(*t));
	struct vm_device dev = { .name = "pci-testdev", .destroy = pci_testdev_destroy };

	if (!t) {
		pr_err("pci-testdev: out of memory");
		return -1;
	}
	pthread_mutex_init(&t->lock, NULL);
	bar_init(t, &t->mem, PCI_TESTDEV_MEM_SIZE, "mmio");
	bar_init(t, &t->io, PCI_TESTDEV_IO_SIZE, "portio");
	/* Base class 0xff: a device that fits no defined class. */
	pci_device_init(&t->pci, "pci-testdev", PCI_TESTDEV_VENDOR_ID, PCI_TESTDEV_DEVICE_ID,
			0xff0000, 0);
	if (pci_device_set_bar(&t->pci, 0, PCI_BAR_MEM32, PCI_TESTDEV_MEM_SIZE, false,
			       &testdev_bar_ops, &t->mem) ||
	    pci_device_set_bar(&t->pci, 1, PCI_BAR_IO, PCI_TESTDEV_IO_SIZE, false,
			       &testdev_bar_ops, &t->io) ||
	    pci_register_device(vm, &t->pci)) {
		pci_testdev_free(t);
		return -1;
	}
	dev.opaque = t;
	if (vm_add_device(vm, &dev)) {
		pci_testdev_destroy(t);
		return -1;
	}
	return 0;
}
