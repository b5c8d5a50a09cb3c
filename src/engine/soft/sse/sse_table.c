// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "engine/soft/sse/sse.h"

#define OP_ENTRY(name) { #name, sse_##name },
const struct sse_op_info sse_op_table[] = { SSE_ALL_OPS(OP_ENTRY) };
const unsigned int sse_op_count = ARRAY_SIZE(sse_op_table);

const struct sse_op_info *sse_op_find(const char *name)
{
	for (unsigned int i = 0; i < sse_op_count; i++)
		if (!strcmp(sse_op_table[i].name, name))
			return &sse_op_table[i];
	return NULL;
}
