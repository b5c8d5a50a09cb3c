/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_BUS_BUS_H
#define KILN_BUS_BUS_H

#include <pthread.h>

#include "lib/types.h"

/*
 * An address space that devices claim ranges of: one for port I/O, one for
 * MMIO. Engines turn I/O and MMIO exits into bus_read/bus_write calls, so
 * devices never know which engine runs the guest.
 */

struct bus_device_ops {
	/* offset is relative to the claimed base; len is 1, 2, 4 or 8. */
	void (*read)(void *opaque, u64 offset, void *data, unsigned int len);
	void (*write)(void *opaque, u64 offset, const void *data, unsigned int len);
};

struct bus_range {
	u64 base;
	u64 len;
	const struct bus_device_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;
	struct bus_range *ranges;	/* sorted by base, never overlapping */
	unsigned int nr_ranges;
	unsigned int cap_ranges;
	pthread_rwlock_t lock;		/* PCI BAR moves re-register at runtime */
	u64 unclaimed_accesses;
};

void bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);

/* Claims [base, base + len); -1 when it overlaps a claimed range. */
int bus_register(struct bus *bus, u64 base, u64 len,
		 const struct bus_device_ops *ops, void *opaque, const char *name);
/* Releases the range that starts at base; -1 when there is none. */
int bus_unregister(struct bus *bus, u64 base);

/*
 * Dispatches an access. Reads of unclaimed addresses return all ones and
 * writes to them are dropped, as on a PC. Returns false when unclaimed.
 */
bool bus_read(struct bus *bus, u64 addr, void *data, unsigned int len);
bool bus_write(struct bus *bus, u64 addr, const void *data, unsigned int len);

/* Little-endian helpers for devices that take any access width. */
static inline u64 bus_data_get(const void *data, unsigned int len)
{
	const u8 *p = data;
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < len && i < 8; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

static inline void bus_data_put(void *data, unsigned int len, u64 v)
{
	u8 *p = data;
	unsigned int i;

	for (i = 0; i < len && i < 8; i++)
		p[i] = v >> (8 * i);
}

#endif
