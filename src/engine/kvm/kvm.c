// SPDX-License-Identifier: Apache-2.0
#include "engine/engine.h"

static const char *kvm_unavailable(void)
{
	return "the kvm engine is not yet available";
}

const struct engine_ops kvm_engine_ops = {
	.name = "kvm",
	.unavailable = kvm_unavailable,
};
