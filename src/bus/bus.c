// SPDX-License-Identifier: Apache-2.0
#include "bus/bus.h"

#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	pthread_rwlock_init(&bus->lock, NULL);
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	pthread_rwlock_destroy(&bus->lock);
	bus->ranges = NULL;
	bus->nr_ranges = bus->cap_ranges = 0;
}

/* Index of the first range whose end is above addr. */
static unsigned int bus_lower_bound(const struct bus *bus, u64 addr)
{
	unsigned int lo = 0, hi = bus->nr_ranges;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (r->base + r->len - 1 < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, u64 base, u64 len,
		 const struct bus_device_ops *ops, void *opaque, const char *name)
{
	unsigned int i;
	int ret = -1;

	if (len == 0 || base + len - 1 < base)
		return -1;
	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr_ranges && bus->ranges[i].base <= base + len - 1)
		goto out;
	if (bus->nr_ranges == bus->cap_ranges) {
		unsigned int cap = bus->cap_ranges ? bus->cap_ranges * 2 : 16;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));

		if (!r)
			goto out;
		bus->ranges = r;
		bus->cap_ranges = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i],
		(bus->nr_ranges - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct bus_range){
		.base = base, .len = len, .ops = ops, .opaque = opaque, .name = name,
	};
	bus->nr_ranges++;
	ret = 0;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, u64 base)
{
	unsigned int i;
	int ret = -1;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr_ranges && bus->ranges[i].base == base) {
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nr_ranges - i - 1) * sizeof(bus->ranges[0]));
		bus->nr_ranges--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

/*
 * Finds the range holding the whole access. An access that starts inside a
 * range but runs past its end is treated as unclaimed rather than handed to
 * a device that would index past its registers.
 */
static const struct bus_range *bus_find(const struct bus *bus, u64 addr,
					unsigned int len)
{
	unsigned int i = bus_lower_bound(bus, addr);
	const struct bus_range *r;

	if (i >= bus->nr_ranges)
		return NULL;
	r = &bus->ranges[i];
	if (addr < r->base || addr - r->base > r->len - len || len > r->len)
		return NULL;
	return r;
}

bool bus_read(struct bus *bus, u64 addr, void *data, unsigned int len)
{
	const struct bus_range *r;
	bool claimed = false;

	pthread_rwlock_rdlock(&bus->lock);
	r = bus_find(bus, addr, len);
	if (r && r->ops->read) {
		r->ops->read(r->opaque, addr - r->base, data, len);
		claimed = true;
	}
	pthread_rwlock_unlock(&bus->lock);
	if (!claimed) {
		memset(data, 0xff, len);
		__atomic_add_fetch(&bus->unclaimed_accesses, 1, __ATOMIC_RELAXED);
	}
	return claimed;
}

bool bus_write(struct bus *bus, u64 addr, const void *data, unsigned int len)
{
	const struct bus_range *r;
	bool claimed = false;

	pthread_rwlock_rdlock(&bus->lock);
	r = bus_find(bus, addr, len);
	if (r && r->ops->write) {
		r->ops->write(r->opaque, addr - r->base, data, len);
		claimed = true;
	}
	pthread_rwlock_unlock(&bus->lock);
	if (!claimed)
		__atomic_add_fetch(&bus->unclaimed_accesses, 1, __ATOMIC_RELAXED);
	return claimed;
}
