// SPDX-License-Identifier: Apache-2.0
/*
 * Entry points shaped for the decoder's operand forms (sse_table.def):
 * plain moves, and the general-register conversions whose width comes
 * from the operand size.
 */
#include "engine/soft/sse/sse_ops.h"

int sse_mov128(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr)
{
	(void)imm;
	(void)mxcsr;
	*d = *s;
	return FPU_OK;
}

int sse_movlo64(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr)
{
	(void)imm;
	(void)mxcsr;
	d->q[0] = s->q[0];
	return FPU_OK;
}

#define BY_OPERAND_SIZE(name)                                                \
	int sse_##name(union xmm *d, const union xmm *s, u8 imm, u32 *mxcsr) \
	{                                                                    \
		return imm == 8 ? sse_##name##64(d, s, imm, mxcsr) :         \
				  sse_##name##32(d, s, imm, mxcsr);          \
	}
BY_OPERAND_SIZE(cvtsi2ss)
BY_OPERAND_SIZE(cvtsi2sd)
BY_OPERAND_SIZE(cvtss2si)
BY_OPERAND_SIZE(cvttss2si)
BY_OPERAND_SIZE(cvtsd2si)
BY_OPERAND_SIZE(cvttsd2si)
