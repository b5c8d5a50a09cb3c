// SPDX-License-Identifier: Apache-2.0
#include "machine/symbols.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A linear scan: this runs once, when a guest has crashed. */
int symbols_lookup(const char *system_map, u64 addr, char *out, size_t len)
{
	char line[512], best[256] = "";
	u64 best_addr = 0;
	FILE *f;

	if (!system_map)
		return -1;
	f = fopen(system_map, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char type, name[256];
		u64 a;

		if (sscanf(line, "%" SCNx64 " %c %255s", &a, &type, name) != 3)
			continue;
		if (a <= addr && a >= best_addr) {
			best_addr = a;
			snprintf(best, sizeof(best), "%s", name);
		}
	}
	fclose(f);
	if (!best[0])
		return -1;
	snprintf(out, len, "%s+0x%" PRIx64, best, addr - best_addr);
	return 0;
}
