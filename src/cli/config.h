/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_CLI_CONFIG_H
#define KILN_CLI_CONFIG_H

#include <stdio.h>

#include "lib/types.h"

#define CONFIG_MAX_CPUS 255	/* xAPIC IDs, as QEMU's pc machine */
#define CONFIG_DEFAULT_MEM (512 * MiB)

/* Everything `kiln run` was asked for, checked before anything is allocated. */
struct vm_config {
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;
	const char *system_map_path;	/* symbolises RIPs in register dumps */
	u64 mem_size;
	unsigned int nr_cpus;
	const char *accel;		/* "kvm", "soft" or "auto" */
	int cpu_affinity[CONFIG_MAX_CPUS];	/* host CPU per vCPU, -1 = any */
	const char *api_sock;		/* control socket path, or NULL (api/api.h) */
	bool stats;
	bool trace;
};

/*
 * Parses `kiln run` arguments (argv[0] is "run"). On error prints a message
 * naming the bad flag or value and returns -1.
 */
int config_parse_run(struct vm_config *cfg, int argc, char **argv);

/* "512M", "2G", "1048576": QEMU's size syntax; a bare number is MiB, as -m. */
int parse_size(const char *s, u64 *out);

/* "0=1,1=0": vCPU=hostcpu pairs. */
int parse_cpu_affinity(const char *s, int *affinity, unsigned int max_vcpus);

void config_usage(FILE *out);

#endif
