/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_CLI_CONFIG_H
#define KILN_CLI_CONFIG_H

#include <stdio.h>

#include "lib/types.h"

#define CONFIG_MAX_CPUS 255	/* xAPIC IDs, as QEMU's pc machine */
#define CONFIG_DEFAULT_MEM (512 * MiB)
#define CONFIG_MAX_DISKS 16

/* One --disk path[,ro][,id=NAME][,aio=io_uring|threads]: a virtio-blk device. */
struct disk_config {
	const char *path;
	bool read_only;
	const char *id;			/* GET_ID serial, or NULL */
	const char *aio;		/* "auto", "io_uring" or "threads" */
};

/* Where --virtio-console puts hvc0's host side. */
enum hvc_backend {
	HVC_NONE,
	HVC_STDIO,			/* the terminal; COM1 keeps only its output */
	HVC_FILE,			/* output appended to a file, no input */
	HVC_SOCKET,			/* a unix stream socket Kiln connects to */
};

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
	struct disk_config disks[CONFIG_MAX_DISKS];
	unsigned int nr_disks;
	bool rng;			/* --rng: virtio-rng */
	enum hvc_backend hvc;		/* --virtio-console */
	const char *hvc_path;
};

/*
 * Parses `kiln run` arguments (argv[0] is "run"). On error prints a message
 * naming the bad flag or value and returns -1.
 */
int config_parse_run(struct vm_config *cfg, int argc, char **argv);

/* Frees what config_parse_run() allocated (the --disk specs). */
void config_release(struct vm_config *cfg);

/* "512M", "2G", "1048576": QEMU's size syntax; a bare number is MiB, as -m. */
int parse_size(const char *s, u64 *out);

/* "0=1,1=0": vCPU=hostcpu pairs. */
int parse_cpu_affinity(const char *s, int *affinity, unsigned int max_vcpus);

void config_usage(FILE *out);

#endif
