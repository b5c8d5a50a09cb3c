// SPDX-License-Identifier: Apache-2.0
#include "engine/engine.h"

static const char *soft_unavailable(void)
{
	return "the soft engine is not yet available";
}

const struct engine_ops soft_engine_ops = {
	.name = "soft",
	.unavailable = soft_unavailable,
};
