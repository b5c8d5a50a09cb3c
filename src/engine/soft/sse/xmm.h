/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SOFT_SSE_XMM_H
#define KILN_SOFT_SSE_XMM_H

/* union xmm, struct fxsave_area and sse_fn are the soft CPU's (fpu_state.h). */
#include "engine/soft/fpu_state.h"

#define NR_XMM 16

#endif
