// SPDX-License-Identifier: Apache-2.0
#include "machine/stats.h"

#include <inttypes.h>
#include <string.h>

void stats_text_emit(void *ctx, const char *group, const char *name, u64 value)
{
	struct stats_text_printer *p = ctx;

	if (strcmp(p->group, group)) {
		if (p->group[0])
			fputc('\n', p->out);
		snprintf(p->group, sizeof(p->group), "%s", group);
		fprintf(p->out, "%s:", group);
	}
	fprintf(p->out, " %s=%" PRIu64, name, value);
}

void stats_text_finish(struct stats_text_printer *p)
{
	if (p->group[0])
		fputc('\n', p->out);
	p->group[0] = '\0';
}
