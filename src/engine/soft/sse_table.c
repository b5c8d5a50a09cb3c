// SPDX-License-Identifier: Apache-2.0
/*
 * The SSE decode table, built from the semantics' own list of
 * instructions (see the convention in fpu_state.h). Until that list
 * exists, every SSE encoding decodes as #UD.
 */
#include "engine/soft/ops.h"

#if __has_include("engine/soft/sse/sse_table.def") && __has_include("engine/soft/sse/sse_ops.h")
#include "engine/soft/sse/sse_ops.h"
#define HAVE_SSE_TABLE 1
#endif

static const struct sse_entry sse_table[3][256][4] = {
#ifdef HAVE_SSE_TABLE
#define SSE_OP(map, opcode, prefix, form, flags, fn) \
	[map][opcode][prefix] = { form, flags, fn },
#define SSE_OP_GRP(map, opcode, prefix, reg, form, flags, fn)
#include "engine/soft/sse/sse_table.def"
#undef SSE_OP
#undef SSE_OP_GRP
#endif
};

/* 0F 71, 72, 73: shifts by immediate, keyed by ModRM.reg. */
static const struct sse_entry sse_groups[3][4][8] = {
#ifdef HAVE_SSE_TABLE
#define SSE_OP(map, opcode, prefix, form, flags, fn)
#define SSE_OP_GRP(map, opcode, prefix, reg, form, flags, fn) \
	[(opcode) - 0x71][prefix][reg] = { form, flags, fn },
#include "engine/soft/sse/sse_table.def"
#undef SSE_OP
#undef SSE_OP_GRP
#endif
};

const struct sse_entry *sse_lookup(unsigned int map, unsigned int opcode,
				   unsigned int prefix, unsigned int reg)
{
	const struct sse_entry *e;

	if (map > SSE_MAP_0F3A || opcode > 0xff || prefix > SSE_PFX_F2 || reg > 7)
		return NULL;
	if (map == SSE_MAP_0F && opcode >= 0x71 && opcode <= 0x73)
		e = &sse_groups[opcode - 0x71][prefix][reg];
	else
		e = &sse_table[map][opcode][prefix];
	return e->fn ? e : NULL;
}
