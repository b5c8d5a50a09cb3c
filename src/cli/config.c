// SPDX-License-Identifier: Apache-2.0
#include "cli/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "machine/layout.h"
#include "snapshot/snapshot.h"

int parse_size(const char *s, u64 *out)
{
	unsigned long long v;
	unsigned int shift = 20;	/* bare numbers are MiB, as QEMU's -m */
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'B':
		shift = 0;
		end++;
		break;
	case 'K':
		shift = 10;
		end++;
		break;
	case 'M':
		shift = 20;
		end++;
		break;
	case 'G':
		shift = 30;
		end++;
		break;
	case 'T':
		shift = 40;
		end++;
		break;
	default:
		return -1;
	}
	if (shift && (!strcasecmp(end, "iB") || !strcasecmp(end, "B")))
		end += strlen(end);
	if (*end)
		return -1;
	if (v > (~0ULL >> shift))
		return -1;
	*out = (u64)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > max)
		return -1;
	return 0;
}

int parse_cpu_affinity(const char *s, int *affinity, unsigned int max_vcpus)
{
	long host_cpus = sysconf(_SC_NPROCESSORS_CONF);
	const char *p = s;

	if (!*p)
		return -1;
	while (*p) {
		unsigned long vcpu, host;
		char *end;

		if (!isdigit((unsigned char)*p))
			return -1;
		vcpu = strtoul(p, &end, 10);
		if (*end != '=' || vcpu >= max_vcpus)
			return -1;
		p = end + 1;
		if (!isdigit((unsigned char)*p))
			return -1;
		host = strtoul(p, &end, 10);
		if (host >= (unsigned long)host_cpus)
			return -1;
		affinity[vcpu] = host;
		p = end;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return -1;
	}
	return 0;
}

void config_usage(FILE *out)
{
	fprintf(out,
		"usage: kiln run --kernel PATH [options]\n"
		"       kiln run --restore FILE [options]\n"
		"\n"
		"  --kernel PATH        bzImage, ELF vmlinux (PVH or 64-bit entry) or multiboot image\n"
		"  --initrd PATH        initramfs (or multiboot module)\n"
		"  --cmdline STR        kernel command line (-append)\n"
		"  --mem SIZE, -m       guest RAM: 512M, 2G ... (default 512M; bare numbers are MiB)\n"
		"  --cpus N, -smp       vCPUs, 1..%d (default 1)\n"
		"  --accel ENGINE       kvm, soft or auto (default auto)\n"
		"  --cpu-affinity MAP   pin vCPUs to host CPUs: 0=1,1=0\n"
		"  --stats              print exit and engine counters when the VM stops\n"
		"  --trace              log exceptions and interrupts delivered to the guest\n"
		"  --system-map PATH    symbolise guest RIPs in register dumps\n"
		"  --api-sock PATH      serve the REST API on this unix socket (docs/API.md)\n"
		"  --disk PATH[,ro][,id=NAME][,aio=io_uring|threads]\n"
		"                       a raw image as a virtio-blk disk (repeatable, up to %d)\n"
		"  --rng                a virtio-rng device fed from the host's getrandom()\n"
		"  --testdev            kvm-unit-tests' test devices (pc-testdev, pci-testdev)\n"
		"  --iommu intel[,intremap=on|off]\n"
		"                       an Intel VT-d IOMMU at 0xfed90000 (DMA remapping; with\n"
		"                       intremap=on, interrupt remapping: soft engine only)\n"
		"  --device edu         QEMU's edu PCI device (1234:11e8), for kvm-unit-tests\n"
		"  --virtio-console stdio|file=PATH|socket=PATH\n"
		"                       a virtio console (hvc0) on the terminal (COM1 keeps its\n"
		"                       output but loses its input), a file, or a unix socket\n"
		"  --net user[,hostfwd=tcp::HOSTPORT-:GUESTPORT][,mac=MAC][,mtu=N] | tap=NAME[,mac=MAC]\n"
		"                       a virtio-net card on user-mode networking (libslirp: DHCP\n"
		"                       and DNS on 10.0.2.0/24, the host at 10.0.2.2) or a tap\n"
		"                       (repeatable, up to %d; hostfwd repeatable); user's MTU\n"
		"                       is 16384 unless mtu=N (68..65520) says otherwise\n"
		"  --balloon [size=MIB][,deflate-on-oom][,free-page-reporting]\n"
		"                       a virtio-balloon device, inflated to MIB at start\n"
		"  --vsock cid=N,uds=PATH\n"
		"                       virtio-vsock: the guest's port P on the host is the unix\n"
		"                       socket PATH_P; host programs connect to PATH (CONNECT P)\n"
		"  --mem-backing anon|thp|hugetlb[,size=2M|1G][,path=DIR]\n"
		"                       guest RAM's pages: 4K (default), transparent huge pages,\n"
		"                       or hugetlb pages from the host's pool (docs/MEMORY.md)\n"
		"  --ksm                let the host merge identical guest pages (MADV_MERGEABLE)\n"
		"  --mem-prealloc       commit all guest RAM before the guest starts\n"
		"  --dirty-log          log the pages the guest and devices write from the\n"
		"                       first instruction on (dirty_log in --stats)\n"
		"  --restore FILE       continue from a snapshot (PUT /snapshot/create) instead\n"
		"                       of booting; give the same --disk/--net/... flags, with\n"
		"                       the same disk files; repeat it for diff snapshots, in\n"
		"                       order after their full one (docs/SNAPSHOT.md)\n"
		"\n"
		"Console: the guest's COM1 on stdin/stdout; Ctrl-A x quits.\n"
		"Exit codes: 0 powered off or quit, 2 bad usage, 4 guest reset,\n"
		"6 triple fault, 8 internal error, (v<<1)|1 when the guest writes v to port 0xf4.\n",
		CONFIG_MAX_CPUS, CONFIG_MAX_DISKS, CONFIG_MAX_NICS);
}

enum opt_id {
	OPT_KERNEL, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS, OPT_ACCEL,
	OPT_AFFINITY, OPT_STATS, OPT_TRACE, OPT_SYSMAP, OPT_API_SOCK, OPT_HELP,
	OPT_DISK, OPT_RNG, OPT_HVC, OPT_MEM_BACKING, OPT_KSM, OPT_PREALLOC,
	OPT_NET, OPT_BALLOON, OPT_VSOCK, OPT_TESTDEV, OPT_RESTORE, OPT_IOMMU, OPT_DEVICE,
	OPT_DIRTY_LOG,
};

struct opt_spec {
	const char *name;
	enum opt_id id;
	bool has_arg;
};

/* --balloon's value is optional: it takes the next word unless that is a flag. */
static bool arg_optional(const struct opt_spec *o)
{
	return o->id == OPT_BALLOON;
}

/* Long flags, and the QEMU spellings users already type. */
static const struct opt_spec opts[] = {
	{ "--kernel", OPT_KERNEL, true },	{ "-kernel", OPT_KERNEL, true },
	{ "--initrd", OPT_INITRD, true },	{ "-initrd", OPT_INITRD, true },
	{ "--cmdline", OPT_CMDLINE, true },	{ "-append", OPT_CMDLINE, true },
	{ "--mem", OPT_MEM, true },		{ "-m", OPT_MEM, true },
	{ "--cpus", OPT_CPUS, true },		{ "-smp", OPT_CPUS, true },
	{ "--accel", OPT_ACCEL, true },		{ "-accel", OPT_ACCEL, true },
	{ "--cpu-affinity", OPT_AFFINITY, true },
	{ "--stats", OPT_STATS, false },
	{ "--trace", OPT_TRACE, false },
	{ "--system-map", OPT_SYSMAP, true },
	{ "--api-sock", OPT_API_SOCK, true },
	{ "--disk", OPT_DISK, true },
	{ "--rng", OPT_RNG, false },
	{ "--testdev", OPT_TESTDEV, false },
	{ "--iommu", OPT_IOMMU, true },
	{ "--device", OPT_DEVICE, true },	{ "-device", OPT_DEVICE, true },
	{ "--virtio-console", OPT_HVC, true },
	{ "--net", OPT_NET, true },
	{ "--balloon", OPT_BALLOON, true },
	{ "--vsock", OPT_VSOCK, true },
	{ "--mem-backing", OPT_MEM_BACKING, true },
	{ "--ksm", OPT_KSM, false },
	{ "--mem-prealloc", OPT_PREALLOC, false },	{ "-mem-prealloc", OPT_PREALLOC, false },
	{ "--restore", OPT_RESTORE, true },
	{ "--dirty-log", OPT_DIRTY_LOG, false },
	{ "--help", OPT_HELP, false },		{ "-h", OPT_HELP, false },
};

static const struct opt_spec *find_opt(const char *arg, const char **inline_val)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		size_t n = strlen(opts[i].name);

		if (strncmp(arg, opts[i].name, n))
			continue;
		if (arg[n] == '\0') {
			*inline_val = NULL;
			return &opts[i];
		}
		if (arg[n] == '=' && opts[i].has_arg) {
			*inline_val = arg + n + 1;
			return &opts[i];
		}
	}
	return NULL;
}

static int check_readable_file(const char *flag, const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		pr_err("%s %s: %m", flag, path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("%s %s: not a regular file", flag, path);
		return -1;
	}
	if (access(path, R_OK)) {
		pr_err("%s %s: %m", flag, path);
		return -1;
	}
	return 0;
}

/* "path[,ro][,id=NAME][,aio=MODE]"; a path cannot hold a comma. */
static int parse_disk(struct vm_config *cfg, const char *flag, const char *val)
{
	struct disk_config *d;
	char *copy, *opt, *save = NULL;

	if (cfg->nr_disks >= CONFIG_MAX_DISKS) {
		pr_err("%s: at most %d disks", flag, CONFIG_MAX_DISKS);
		return -1;
	}
	copy = strdup(val);	/* lives as long as the config */
	if (!copy)
		return -1;
	d = &cfg->disks[cfg->nr_disks];
	*d = (struct disk_config){ .path = strtok_r(copy, ",", &save), .aio = "auto" };
	if (!d->path || *val == ',') {
		pr_err("%s '%s': the image path is missing", flag, val);
		free(copy);
		return -1;
	}
	while ((opt = strtok_r(NULL, ",", &save))) {
		if (!strcmp(opt, "ro")) {
			d->read_only = true;
		} else if (!strncmp(opt, "id=", 3) && strlen(opt + 3) <= 20) {
			d->id = opt + 3;
		} else if (!strcmp(opt, "aio=io_uring") || !strcmp(opt, "aio=threads") ||
			   !strcmp(opt, "aio=auto")) {
			d->aio = opt + 4;
		} else {
			pr_err("%s '%s': unknown option '%s' (ro, id=NAME of at most 20 bytes, "
			       "aio=io_uring|threads)", flag, val, opt);
			free(copy);
			return -1;
		}
	}
	cfg->nr_disks++;
	return 0;
}

static int parse_hvc(struct vm_config *cfg, const char *flag, const char *val)
{
	if (!strcmp(val, "stdio")) {
		cfg->hvc = HVC_STDIO;
	} else if (!strncmp(val, "file=", 5) && val[5]) {
		cfg->hvc = HVC_FILE;
		cfg->hvc_path = val + 5;
	} else if (!strncmp(val, "socket=", 7) && val[7]) {
		cfg->hvc = HVC_SOCKET;
		cfg->hvc_path = val + 7;
	} else {
		pr_err("%s '%s': use stdio, file=PATH or socket=PATH", flag, val);
		return -1;
	}
	return 0;
}

/* A disk image must exist, be readable (and writable unless ro) and hold a sector. */
static int check_disk(const struct disk_config *d)
{
	struct stat st;

	if (stat(d->path, &st)) {
		pr_err("--disk %s: %m", d->path);
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		pr_err("--disk %s: not a regular file or block device", d->path);
		return -1;
	}
	if (access(d->path, d->read_only ? R_OK : R_OK | W_OK)) {
		pr_err("--disk %s: %m%s", d->path, d->read_only ? "" : " (add ,ro for read-only)");
		return -1;
	}
	if (S_ISREG(st.st_mode) && st.st_size < 512) {
		pr_err("--disk %s: %lld bytes is smaller than one 512-byte sector", d->path,
		       (long long)st.st_size);
		return -1;
	}
	return 0;
}

static const char *smp_cpus(const char *v)
{
	/* -smp accepts "4" and QEMU's "cpus=4[,...]". */
	if (!strncmp(v, "cpus=", 5))
		v += 5;
	return v;
}

static int apply_opt(struct vm_config *cfg, const struct opt_spec *o, const char *flag,
		     const char *val, const char **affinity)
{
	unsigned long n;

	switch (o->id) {
	case OPT_KERNEL:
		cfg->kernel_path = val;
		break;
	case OPT_INITRD:
		cfg->initrd_path = val;
		break;
	case OPT_CMDLINE:
		cfg->cmdline = val;
		break;
	case OPT_MEM:
		if (parse_size(val, &cfg->mem_size)) {
			pr_err("%s '%s': not a size (try 512M or 2G)", flag, val);
			return -1;
		}
		break;
	case OPT_CPUS: {
		char buf[32];

		snprintf(buf, sizeof(buf), "%s", smp_cpus(val));
		buf[strcspn(buf, ",")] = '\0';
		if (parse_uint(buf, ~0UL, &n) || n < 1 || n > CONFIG_MAX_CPUS) {
			pr_err("%s '%s': the vCPU count must be 1..%d", flag, val,
			       CONFIG_MAX_CPUS);
			return -1;
		}
		cfg->nr_cpus = n;
		break;
	}
	case OPT_ACCEL:
		if (strcmp(val, "kvm") && strcmp(val, "soft") && strcmp(val, "auto") &&
		    strcmp(val, "tcg")) {
			pr_err("%s '%s': use kvm, soft or auto", flag, val);
			return -1;
		}
		cfg->accel = strcmp(val, "tcg") ? val : "soft";
		break;
	case OPT_AFFINITY:
		*affinity = val;
		break;
	case OPT_STATS:
		cfg->stats = true;
		break;
	case OPT_TRACE:
		cfg->trace = true;
		break;
	case OPT_SYSMAP:
		cfg->system_map_path = val;
		break;
	case OPT_API_SOCK:
		if (!*val) {
			pr_err("%s: the socket path is empty", flag);
			return -1;
		}
		cfg->api_sock = val;
		break;
	case OPT_DISK:
		return parse_disk(cfg, flag, val);
	case OPT_RNG:
		cfg->rng = true;
		break;
	case OPT_TESTDEV:
		cfg->testdev = true;
		break;
	case OPT_IOMMU:
		return config_parse_iommu(cfg, flag, val);
	case OPT_DEVICE:
		if (strcmp(val, "edu")) {
			pr_err("%s '%s': the only device is edu", flag, val);
			return -1;
		}
		cfg->edu = true;
		break;
	case OPT_HVC:
		return parse_hvc(cfg, flag, val);
	case OPT_NET:
		return config_parse_net(cfg, flag, val);
	case OPT_BALLOON:
		return config_parse_balloon(cfg, flag, val ? val : "");
	case OPT_VSOCK:
		return config_parse_vsock(cfg, flag, val);
	case OPT_MEM_BACKING: {
		char why[256];

		if (ram_parse_backing(val, &cfg->ram, why, sizeof(why))) {
			pr_err("%s", why);
			return -1;
		}
		break;
	}
	case OPT_KSM:
		cfg->ram.ksm = true;
		break;
	case OPT_PREALLOC:
		cfg->ram.prealloc = true;
		break;
	case OPT_RESTORE:
		/* The first is a full snapshot, the others its diffs in order. */
		if (!cfg->restore_path) {
			cfg->restore_path = val;
		} else if (cfg->nr_restore_diffs < CONFIG_MAX_RESTORE_DIFFS) {
			cfg->restore_diffs[cfg->nr_restore_diffs++] = val;
		} else {
			pr_err("%s: at most %d diff snapshots", flag, CONFIG_MAX_RESTORE_DIFFS);
			return -1;
		}
		break;
	case OPT_DIRTY_LOG:
		cfg->dirty_log = true;
		break;
	case OPT_HELP:
		config_usage(stdout);
		exit(0);
	}
	return 0;
}

static int config_check(struct vm_config *cfg, const char *affinity)
{
	char why[512];

	if (cfg->restore_path && (cfg->kernel_path || cfg->initrd_path)) {
		pr_err("--restore continues a snapshot; it takes no --kernel or --initrd");
		return -1;
	}
	if (!cfg->kernel_path && !cfg->restore_path) {
		pr_err("--kernel is required (see kiln run --help)");
		return -1;
	}
	if (cfg->kernel_path && check_readable_file("--kernel", cfg->kernel_path))
		return -1;
	if (cfg->initrd_path && check_readable_file("--initrd", cfg->initrd_path))
		return -1;
	if (cfg->system_map_path && check_readable_file("--system-map", cfg->system_map_path))
		return -1;
	if (cfg->mem_size < 2 * MiB) {
		pr_err("--mem %llu bytes: at least 2M of guest RAM is needed",
		       (unsigned long long)cfg->mem_size);
		return -1;
	}
	if (cfg->mem_size > LAYOUT_MAX_RAM) {
		pr_err("--mem %lluG: more than the maximum of %lluG of guest RAM",
		       (unsigned long long)(cfg->mem_size >> 30),
		       (unsigned long long)(LAYOUT_MAX_RAM >> 30));
		return -1;
	}
	if (cfg->mem_size & 0xfff) {
		pr_err("--mem must be a multiple of 4K");
		return -1;
	}
	if (ram_check_options(cfg->mem_size, &cfg->ram, why, sizeof(why))) {
		pr_err("%s", why);
		return -1;
	}
	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		if (check_disk(&cfg->disks[i]))
			return -1;
	if (cfg->balloon.size_mib > cfg->mem_size >> 20) {
		pr_err("--balloon size=%llu: more than the guest's %llu MiB of RAM",
		       (unsigned long long)cfg->balloon.size_mib,
		       (unsigned long long)(cfg->mem_size >> 20));
		return -1;
	}
	if (affinity && parse_cpu_affinity(affinity, cfg->cpu_affinity, cfg->nr_cpus)) {
		pr_err("--cpu-affinity '%s': expected VCPU=HOSTCPU[,...] with vCPUs below %u "
		       "and host CPUs below %ld", affinity, cfg->nr_cpus,
		       sysconf(_SC_NPROCESSORS_CONF));
		return -1;
	}
	return 0;
}

void config_release(struct vm_config *cfg)
{
	/* Each disk's options point into one copy that starts with its path. */
	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		free((char *)cfg->disks[i].path);
	cfg->nr_disks = 0;
	for (unsigned int i = 0; i < cfg->nr_nets; i++)
		free(cfg->nets[i].spec);
	cfg->nr_nets = 0;
	free(cfg->vsock.uds_path);
	cfg->vsock.uds_path = NULL;
}

int config_parse_run(struct vm_config *cfg, int argc, char **argv)
{
	const char *affinity = NULL;
	bool mem_given = false, cpus_given = false, accel_given = false;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = CONFIG_DEFAULT_MEM;
	cfg->nr_cpus = 1;
	cfg->accel = "auto";
	cfg->cmdline = "";
	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++)
		cfg->cpu_affinity[i] = -1;

	for (int i = 1; i < argc; i++) {
		const char *val = NULL;
		const struct opt_spec *o = find_opt(argv[i], &val);

		if (!o) {
			pr_err("unknown flag '%s' (see kiln run --help)", argv[i]);
			return -1;
		}
		if (arg_optional(o) && !val && (i + 1 >= argc || argv[i + 1][0] == '-')) {
			/* A bare flag: its defaults. */
		} else if (o->has_arg && !val) {
			if (i + 1 >= argc) {
				pr_err("%s needs a value", argv[i]);
				return -1;
			}
			val = argv[++i];
		}
		if (apply_opt(cfg, o, o->name, val, &affinity))
			return -1;
		mem_given |= o->id == OPT_MEM;
		cpus_given |= o->id == OPT_CPUS;
		accel_given |= o->id == OPT_ACCEL;
	}
	/* The snapshot's header sizes the VM, before anything is checked against it. */
	if (cfg->restore_path &&
	    snapshot_config(cfg, mem_given, cpus_given, accel_given))
		return -1;
	return config_check(cfg, affinity);
}
