/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_MACHINE_STATS_H
#define KILN_MACHINE_STATS_H

#include <stdio.h>

#include "lib/types.h"

/*
 * One way for every subsystem to report its counters: the engine, devices
 * and the machine call stats_emit() for each figure, and the consumer
 * decides the format (--stats text at exit, JSON for the API, Prometheus
 * text for /metrics).
 *
 * group names the source ("vcpu0", "soft_tlb", "uart0"), name the figure
 * ("exits_io", "hits"), in snake_case so they map onto metric names.
 */
struct stats_visitor {
	void (*emit)(void *ctx, const char *group, const char *name, u64 value);
	void *ctx;
};

static inline void stats_emit(const struct stats_visitor *v, const char *group,
			      const char *name, u64 value)
{
	v->emit(v->ctx, group, name, value);
}

/* A visitor that prints "group name=value" lines, grouped, to a stream. */
struct stats_text_printer {
	FILE *out;
	char group[64];
};

void stats_text_emit(void *ctx, const char *group, const char *name, u64 value);
/* Ends the current line; call once after the last stats_emit(). */
void stats_text_finish(struct stats_text_printer *p);

#endif
