/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_CLI_CONFIG_H
#define KILN_CLI_CONFIG_H

#include <stdio.h>

#include "lib/types.h"
#include "mem/ram.h"

#define CONFIG_MAX_CPUS 255	/* xAPIC IDs, as QEMU's pc machine */
#define CONFIG_DEFAULT_MEM (512 * MiB)
#define CONFIG_MAX_DISKS 16
#define CONFIG_MAX_RESTORE_DIFFS 64

/* One --disk path[,ro][,id=NAME][,aio=io_uring|threads]: a virtio-blk device. */
struct disk_config {
	const char *path;
	bool read_only;
	const char *id;			/* GET_ID serial, or NULL */
	const char *aio;		/* "auto", "io_uring" or "threads" */
};

#define CONFIG_MAX_NICS 4
#define CONFIG_MAX_HOSTFWD 16

/* One hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT of --net user. */
struct net_hostfwd {
	bool udp;
	u32 host_addr;			/* network byte order; 0: every address */
	u16 host_port;
	u32 guest_addr;			/* network byte order; 0: the guest's (10.0.2.15) */
	u16 guest_port;
};

enum net_kind {
	NET_USER,			/* libslirp */
	NET_TAP,
};

/* One --net user[,hostfwd=...][,mac=...] or tap=NAME[,mac=...]: a virtio-net device. */
struct net_config {
	enum net_kind kind;
	char *spec;			/* our copy of the value; tap_name points into it */
	const char *tap_name;
	bool has_mac;
	u8 mac[6];
	struct net_hostfwd hostfwd[CONFIG_MAX_HOSTFWD];
	unsigned int nr_hostfwd;
	unsigned int mtu;		/* user: mtu=, 0 for the default */
};

/* --balloon [size=MIB][,deflate-on-oom][,free-page-reporting] */
struct balloon_config {
	bool enabled;
	u64 size_mib;			/* the initial target */
	bool deflate_on_oom;
	bool free_page_reporting;
};

/* --vsock cid=N,uds=PATH */
struct vsock_config {
	bool enabled;
	u32 cid;
	char *uds_path;			/* our copy */
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
	bool testdev;			/* --testdev: pc-testdev and pci-testdev */
	bool iommu;			/* --iommu intel: a VT-d IOMMU */
	bool iommu_intremap;		/* --iommu intel,intremap=on */
	bool edu;			/* --device edu: QEMU's educational PCI device */
	enum hvc_backend hvc;		/* --virtio-console */
	const char *hvc_path;
	struct ram_options ram;		/* --mem-backing, --ksm, --mem-prealloc */
	bool dirty_log;			/* --dirty-log: dirty-page logging from the start */
	struct net_config nets[CONFIG_MAX_NICS];
	unsigned int nr_nets;
	struct balloon_config balloon;
	struct vsock_config vsock;
	const char *restore_path;	/* --restore FILE: load it instead of booting */
	const char *restore_diffs[CONFIG_MAX_RESTORE_DIFFS];	/* later --restore: diffs */
	unsigned int nr_restore_diffs;
};

/*
 * Parses `kiln run` arguments (argv[0] is "run"). On error prints a message
 * naming the bad flag or value and returns -1.
 */
int config_parse_run(struct vm_config *cfg, int argc, char **argv);

/* Frees what config_parse_run() allocated (the --disk specs). */
void config_release(struct vm_config *cfg);

/*
 * The values of --net, --balloon and --vsock (virtio/virtio_*_opts.c); each
 * prints what is wrong and returns -1.
 */
int config_parse_net(struct vm_config *cfg, const char *flag, const char *val);
int config_parse_balloon(struct vm_config *cfg, const char *flag, const char *val);
int config_parse_vsock(struct vm_config *cfg, const char *flag, const char *val);
/* --iommu intel[,intremap=on|off][,eim=off] (iommu/iommu_opts.c). */
int config_parse_iommu(struct vm_config *cfg, const char *flag, const char *val);

/* "512M", "2G", "1048576": QEMU's size syntax; a bare number is MiB, as -m. */
int parse_size(const char *s, u64 *out);

/* "0=1,1=0": vCPU=hostcpu pairs. */
int parse_cpu_affinity(const char *s, int *affinity, unsigned int max_vcpus);

void config_usage(FILE *out);

#endif
