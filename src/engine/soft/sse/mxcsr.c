// SPDX-License-Identifier: Apache-2.0
#include "engine/soft/sse/mxcsr.h"

int mxcsr_load(u32 *mxcsr, u32 value)
{
	if (value & ~MXCSR_SUPPORTED)
		return FPU_GP;
	*mxcsr = value;
	return FPU_OK;
}
