// SPDX-License-Identifier: Apache-2.0
#include "engine/engine.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *const exit_reason_names[NR_EXIT_REASONS] = {
	[EXIT_IO] = "io",
	[EXIT_MMIO] = "mmio",
	[EXIT_HLT] = "hlt",
	[EXIT_IRQ_WINDOW] = "irq_window",
	[EXIT_INTR] = "intr",
	[EXIT_SHUTDOWN] = "shutdown",
	[EXIT_EXCEPTION] = "exception",
	[EXIT_CPUID] = "cpuid",
	[EXIT_MSR] = "msr",
	[EXIT_HYPERCALL] = "hypercall",
	[EXIT_INTERNAL_ERROR] = "internal_error",
	[EXIT_FAIL_ENTRY] = "fail_entry",
	[EXIT_SYSTEM_EVENT] = "system_event",
	[EXIT_OTHER] = "other",
};

/* Hardware virtualization shows as vmx or svm in /proc/cpuinfo's flags. */
static bool host_has_hw_virt(void)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		found = strstr(line, " vmx") || strstr(line, " svm");
	}
	fclose(f);
	return found;
}

const struct engine_ops *engine_select(const char *name, char *why, size_t why_len)
{
	const struct engine_ops *ops;
	const char *reason;

	if (!strcmp(name, "auto")) {
		if (!kvm_engine_ops.unavailable() && host_has_hw_virt())
			return &kvm_engine_ops;
		name = "soft";
	}
	if (!strcmp(name, "kvm"))
		ops = &kvm_engine_ops;
	else if (!strcmp(name, "soft"))
		ops = &soft_engine_ops;
	else {
		snprintf(why, why_len, "unknown accelerator '%s' (use kvm, soft or auto)", name);
		return NULL;
	}
	reason = ops->unavailable();
	if (reason) {
		snprintf(why, why_len, "--accel %s: %s", ops->name, reason);
		return NULL;
	}
	return ops;
}
