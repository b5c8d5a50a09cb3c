// SPDX-License-Identifier: Apache-2.0
#include <json-c/json.h>

#include "api/stats_format.h"

void stats_json_init(struct stats_json *sj)
{
	sj->root = json_object_new_object();
}

void stats_json_emit(void *ctx, const char *group, const char *name, u64 value)
{
	struct stats_json *sj = ctx;
	struct json_object *g;

	if (!sj->root)
		return;
	/* Groups need not arrive in one run: find the one already started. */
	if (!json_object_object_get_ex(sj->root, group, &g)) {
		g = json_object_new_object();
		if (!g)
			return;
		json_object_object_add(sj->root, group, g);
	}
	json_object_object_add(g, name, json_object_new_uint64(value));
}
