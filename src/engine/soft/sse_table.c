// SPDX-License-Identifier: Apache-2.0
/*
 * The SSE/SSE2 decode table, built from the semantics' list of
 * instructions (sse/sse_table.def; the convention is in fpu_state.h).
 */
#include "engine/soft/ops.h"
#include "engine/soft/sse/sse_ops.h"

static const struct sse_entry sse_table[3][256][4] = {
#define SSE_OP(map, opcode, prefix, form_, flags_, fn_) \
	[map][opcode][prefix].form = form_, [map][opcode][prefix].flags = flags_, \
	[map][opcode][prefix].fn = fn_,
#define SSE_OP_R(map, opcode, prefix, form_, flags_, fn_) \
	[map][opcode][prefix].rform = form_, [map][opcode][prefix].rflags = flags_, \
	[map][opcode][prefix].rfn = fn_,
#define SSE_OP_GRP(map, opcode, prefix, reg, form_, flags_, fn_)
#include "engine/soft/sse/sse_table.def"
#undef SSE_OP
#undef SSE_OP_R
#undef SSE_OP_GRP
};

/* 0F 71, 72, 73: shifts by immediate, keyed by ModRM.reg. */
static const struct sse_entry sse_groups[3][4][8] = {
#define SSE_OP(map, opcode, prefix, form_, flags_, fn_)
#define SSE_OP_GRP(map, opcode, prefix, reg, form_, flags_, fn_) \
	[(opcode) - 0x71][prefix][reg] = { .form = form_, .flags = flags_, .fn = fn_ },
#include "engine/soft/sse/sse_table.def"
#undef SSE_OP
#undef SSE_OP_GRP
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
	return e->fn || e->rfn ? e : NULL;
}
