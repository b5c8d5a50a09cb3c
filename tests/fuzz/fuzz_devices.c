// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the whole machine as a guest sees it: port I/O, MMIO
 * and PCI config cycles to every device model, and guest RAM the "driver"
 * fills with rings, descriptors and tables. Each input builds a machine by
 * hand, as the unit tests do (vm_skeleton_init/add_ram and an engine that
 * only counts interrupts), with the platform devices (COM1, i8042, RTC,
 * ACPI PM, debug-exit, the PCI host bridge, fw_cfg, pc-testdev,
 * pci-testdev, edu), optionally the VT-d model, and the virtio-pci devices
 * whose backends are safe here: blk on a small temporary file, rng,
 * console (output to /dev/null, input from a pipe), net on a backend that
 * drops what the guest sends (slirp is left out: a guest could make it
 * open real connections from the fuzzing host), balloon and vsock on a
 * temporary directory. Then it runs the input's operations on this thread,
 * as a vCPU would, drains the block requests in flight and tears the
 * machine down. ASan and UBSan watch for anything outside guest RAM.
 *
 * Input: one flags byte (VT-d, interrupt remapping, the disk's aio mode),
 * then operations, each an opcode byte and its operands (see the OP_ list;
 * integers little-endian, missing bytes read as zero). Addresses can be
 * given relative to a PCI slot's BAR, wherever the guest has moved it, so
 * that a mutated program keeps reaching the device.
 * tests/fuzz/gen_devices_corpus.py writes the seeds.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bus/bus.h"
#include "bus/pci.h"
#include "dev/acpi_pm.h"
#include "dev/debug_exit.h"
#include "dev/edu.h"
#include "dev/fw_cfg.h"
#include "dev/i8042.h"
#include "dev/pc_testdev.h"
#include "dev/pci_testdev.h"
#include "dev/rtc_cmos.h"
#include "dev/uart_8250.h"
#include "engine/engine.h"
#include "iommu/vtd.h"
#include "lib/log.h"
#include "machine/event_loop.h"
#include "machine/layout.h"
#include "machine/vm.h"
#include "virtio/virtio_balloon.h"
#include "virtio/virtio_dev.h"
#include "virtio/virtio_devices.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_vsock.h"

#define RAM_SIZE	(4 * MiB)
#define DISK_SIZE	(64 * 1024)
#define MAX_OPS		2048
#define GUEST_CID	3

enum {
	FLAG_IOMMU = 1 << 0,
	FLAG_INTREMAP = 1 << 1,
	FLAG_DISK_THREADS = 1 << 2,
	FLAG_DISK_RO = 1 << 3,
};

enum op {
	OP_PIO_WRITE,	/* u16 port, u8 size, u32 value */
	OP_PIO_READ,	/* u16 port, u8 size */
	OP_MMIO_WRITE,	/* address, u8 size, u64 value */
	OP_MMIO_READ,	/* address, u8 size */
	OP_CFG_WRITE,	/* u8 slot, u8 function, u8 register, u8 size, u32 value */
	OP_CFG_READ,	/* u8 slot, u8 function, u8 register, u8 size */
	OP_RAM_WRITE,	/* u32 gpa, u8 length, bytes */
	OP_POLL,	/* run the I/O thread's ready work once, finish block requests */
	OP_HOST_INPUT,	/* u8 target, u8 length, bytes: what the host side sends */
	OP_CAP_WRITE,	/* u8 slot, u8 capability ID, u8 nth, u8 offset, u8 size, u32 value */
	OP_CAP_READ,	/* u8 slot, u8 capability ID, u8 nth, u8 offset, u8 size */
	NR_OPS
};

/*
 * An address operand: u8 kind, then
 *   kind 0: u8 slot, u8 bar, u32 offset -- inside that BAR, wherever it is
 *           (an I/O BAR turns the access into port I/O);
 *   kind 1: u8 region, u32 offset -- inside a fixed device window;
 *   kind 2: u32 address; kind 3: u64 address.
 */
enum { ADDR_BAR, ADDR_FIXED, ADDR_ABS32, ADDR_ABS64, NR_ADDR_KINDS };

static const u64 fixed_windows[] = {
	LAYOUT_VTD_BASE, LAYOUT_TESTDEV_IOMEM, LAYOUT_IOAPIC_BASE, LAYOUT_LAPIC_BASE,
};

struct input {
	const u8 *p;
	size_t left;
};

static u64 take(struct input *in, unsigned int bytes)
{
	u64 v = 0;

	for (unsigned int i = 0; i < bytes; i++) {
		if (in->left) {
			v |= (u64)*in->p++ << (8 * i);
			in->left--;
		}
	}
	return v;
}

static unsigned int take_size(struct input *in, bool allow8)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };

	return sizes[take(in, 1) % (allow8 ? 4 : 3)];
}

/* --- the fake engine: interrupts are counted, nothing else --- */

static unsigned long irq_calls, msis;

static void count_irq_line(struct vm *vm, u32 gsi, bool level)
{
	(void)vm;
	(void)gsi;
	(void)level;
	__atomic_add_fetch(&irq_calls, 1, __ATOMIC_RELAXED);
}

static void count_msi(struct vm *vm, u64 addr, u32 data)
{
	(void)vm;
	(void)addr;
	(void)data;
	__atomic_add_fetch(&msis, 1, __ATOMIC_RELAXED);
}

static const struct engine_ops fuzz_engine = {
	.name = "fuzz",
	.set_irq_line = count_irq_line,
	.send_msi = count_msi,
};

/* --- a network backend that takes every frame and sends nothing of its own --- */

struct sink_net {
	struct net_backend be;
	struct net_frontend fe;
	bool started;
};

static int sink_start(struct net_backend *be, const struct net_frontend *fe)
{
	struct sink_net *s = (struct sink_net *)be;

	s->fe = *fe;
	s->started = true;
	return 0;
}

static int sink_send(struct net_backend *be, const struct virtio_net_hdr_v1 *hdr,
		     const struct iovec *iov, unsigned int cnt, size_t len)
{
	(void)be;
	(void)hdr;
	/* Touch every byte, so that ASan checks the buffers the device handed over. */
	for (unsigned int i = 0; i < cnt; i++)
		for (size_t j = 0; j < iov[i].iov_len; j++)
			__asm__ volatile("" : : "r"(((volatile const u8 *)iov[i].iov_base)[j]));
	return len >= NET_MIN_FRAME ? 0 : -1;
}

static void sink_destroy(struct net_backend *be)
{
	free(be);
}

static const struct net_backend_ops sink_ops = {
	.start = sink_start,
	.send = sink_send,
	.destroy = sink_destroy,
};

/* --- the machine --- */

static char dir[] = "/tmp/kiln-fuzz-devices-XXXXXX";
static char disk_path[64], vsock_path[64], listen_path[72];
static int listen_fd = -1;

struct machine {
	struct vm *vm;
	struct vm_config cfg;
	struct uart_8250 *com1;
	struct virtio_device *blk;
	struct sink_net *net;
	int hvc_in[2];		/* the console's input pipe: [1] is the host's end */
	int hvc_out;
	void *guards[2];	/* PROT_NONE pages either side of guest RAM, or NULL */
};

#define GUARD_SIZE 4096

/*
 * ASan cannot tell guest RAM's mapping from its neighbours: inaccessible
 * pages on both sides turn an access just past it into a crash. Only where
 * the address space there is free (MAP_FIXED_NOREPLACE), which it usually is.
 */
static void add_guards(struct machine *m)
{
	u8 *at[2] = { m->vm->mem.base - GUARD_SIZE, m->vm->mem.base + m->vm->mem.map_size };

	for (int i = 0; i < 2; i++) {
		void *g = mmap(at[i], GUARD_SIZE, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (g == at[i])
			m->guards[i] = g;
		else if (g != MAP_FAILED)
			munmap(g, GUARD_SIZE);	/* an old kernel placed it elsewhere */
	}
}

static void remove_guards(struct machine *m)
{
	for (int i = 0; i < 2; i++)
		if (m->guards[i])
			munmap(m->guards[i], GUARD_SIZE);
}

static void cleanup(void)
{
	if (listen_fd >= 0)
		close(listen_fd);
	unlink(listen_path);
	unlink(vsock_path);
	unlink(disk_path);
	rmdir(dir);
}

/* A temporary directory for the disk and vsock's sockets, one per process. */
static void setup_once(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	snprintf(disk_path, sizeof(disk_path), "%s/disk", dir);
	snprintf(vsock_path, sizeof(vsock_path), "%s/v", dir);
	/* The guest's connections to host port 1 reach a listener that never accepts. */
	snprintf(listen_path, sizeof(listen_path), "%s_1", vsock_path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", listen_path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(listen_fd, 4))
		abort();
	log_threshold = LOG_ERR;	/* the guest's misdeeds are warnings: keep the log short */
}

/* The disk starts from the same zeroed 64 KiB every time. */
static void reset_disk(void)
{
	int fd = open(disk_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || ftruncate(fd, DISK_SIZE))
		abort();
	close(fd);
}

static void uart_tx_nowhere(void *opaque, const u8 *buf, size_t len)
{
	(void)opaque;
	(void)buf;
	(void)len;
}

static void uart_rx_ready(void *opaque)
{
	(void)opaque;
}

static int platform_init(struct machine *m)
{
	struct vm *vm = m->vm;

	m->com1 = uart_8250_create(vm, PORT_COM1, GSI_COM1, "com1");
	if (!m->com1)
		return -1;
	uart_8250_set_backend(m->com1, &(struct uart_backend){
		.tx = uart_tx_nowhere, .rx_ready = uart_rx_ready,
	});
	return i8042_create(vm) || rtc_cmos_create(vm) || debug_exit_create(vm) ||
	       acpi_pm_create(vm) || pci_root_create(vm) || fw_cfg_create(vm) ||
	       pc_testdev_create(vm) || pci_testdev_create(vm) || edu_create(vm) ? -1 : 0;
}

static int virtio_init(struct machine *m, u8 flags)
{
	struct vm *vm = m->vm;
	struct console_config cc = { .in_fd = -1, .out_fd = -1 };

	m->blk = virtio_blk_create(vm, &(struct virtio_blk_options){
		.path = disk_path, .read_only = flags & FLAG_DISK_RO, .id = "fuzz-disk",
		.aio = flags & FLAG_DISK_THREADS ? DISK_AIO_THREADS : DISK_AIO_AUTO,
	});
	if (!m->blk || !virtio_rng_create(vm))
		return -1;
	m->hvc_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (m->hvc_out < 0 || pipe2(m->hvc_in, O_CLOEXEC | O_NONBLOCK))
		return -1;
	cc.in_fd = m->hvc_in[0];
	cc.out_fd = m->hvc_out;
	if (!virtio_console_create(vm, &cc))
		return -1;
	m->net = calloc(1, sizeof(*m->net));
	if (!m->net)
		return -1;
	m->net->be.ops = &sink_ops;
	m->net->be.mtu = 1500;
	m->net->be.vnet_hdr = true;	/* segmentation offered: its header checks fuzzed */
	if (!virtio_net_create(vm, &(struct virtio_net_options){
		.index = 0, .mac = VIRTIO_NET_DEFAULT_MAC,
	}, &m->net->be))
		return -1;	/* the device freed the backend */
	if (!virtio_balloon_create(vm, &(struct virtio_balloon_options){
		.target_mib = 1, .deflate_on_oom = true, .free_page_reporting = true,
	}))
		return -1;
	return virtio_vsock_create(vm, GUEST_CID, vsock_path) ? 0 : -1;
}

static int machine_create(struct machine *m, u8 flags)
{
	memset(m, 0, sizeof(*m));
	m->hvc_in[0] = m->hvc_in[1] = m->hvc_out = -1;
	m->cfg.mem_size = RAM_SIZE;
	m->cfg.nr_cpus = 1;
	m->vm = calloc(1, sizeof(*m->vm));
	if (!m->vm)
		return -1;
	m->vm->engine = &fuzz_engine;
	reset_disk();
	if (vm_skeleton_init(m->vm, &m->cfg) || vm_skeleton_add_ram(m->vm))
		return -1;
	add_guards(m);
	if ((flags & FLAG_IOMMU) && vtd_create(m->vm, flags & FLAG_INTREMAP))
		return -1;
	return platform_init(m) || virtio_init(m, flags) ? -1 : 0;
}

/* Block requests run on the disk's threads: wait (boundedly) until they are back. */
static void drain_blk(struct machine *m)
{
	for (int i = 0; i < 2000 && m->blk &&
			__atomic_load_n(&m->blk->inflight, __ATOMIC_ACQUIRE); i++)
		usleep(500);
}

static void machine_destroy(struct machine *m)
{
	drain_blk(m);
	remove_guards(m);
	vm_destroy(m->vm);
	/* The console's input watch went with the machine; the pipe is ours. */
	for (int i = 0; i < 2; i++)
		if (m->hvc_in[i] >= 0)
			close(m->hvc_in[i]);
	if (m->hvc_out >= 0)
		close(m->hvc_out);
}

/* --- operations --- */

static void pio(struct vm *vm, u16 port, unsigned int size, u32 value, bool write)
{
	if (write)
		bus_write(&vm->pio_bus, port, &value, size);
	else
		bus_read(&vm->pio_bus, port, &value, size);
}

static void mmio(struct vm *vm, u64 addr, unsigned int size, u64 value, bool write)
{
	if (write)
		bus_write(&vm->mmio_bus, addr, &value, size);
	else
		bus_read(&vm->mmio_bus, addr, &value, size);
}

/* An MMIO operation; a BAR-relative address on an I/O BAR becomes port I/O. */
static void memory_op(struct machine *m, struct input *in, bool write)
{
	unsigned int kind = take(in, 1) % NR_ADDR_KINDS;
	u64 addr = 0, value;
	unsigned int size;
	bool io = false;

	switch (kind) {
	case ADDR_BAR: {
		unsigned int slot = take(in, 1) % PCI_MAX_SLOTS, bar = take(in, 1) % PCI_STD_NUM_BARS;
		u64 off = take(in, 4);
		struct pci_device *dev = m->vm->pci->slots[slot];

		if (!dev || dev->bars[bar].type == PCI_BAR_NONE || !dev->bars[bar].size)
			return;
		addr = pci_bar_address(dev, bar) + off % dev->bars[bar].size;
		io = dev->bars[bar].type == PCI_BAR_IO;
		break;
	}
	case ADDR_FIXED: {
		u64 base = fixed_windows[take(in, 1) % ARRAY_SIZE(fixed_windows)];

		addr = base + take(in, 4) % 0x10000;
		break;
	}
	case ADDR_ABS32:
		addr = take(in, 4);
		break;
	default:
		addr = take(in, 8);
		break;
	}
	size = take_size(in, !io);
	value = write ? take(in, size) : 0;
	if (io)
		pio(m->vm, addr, size, value, write);
	else
		mmio(m->vm, addr, size, value, write);
}

static void config_op(struct machine *m, struct input *in, bool write)
{
	unsigned int slot = take(in, 1) % PCI_MAX_SLOTS, fn = take(in, 1) % 8;
	unsigned int reg = take(in, 1), size = take_size(in, false);
	u32 value = write ? take(in, size) : 0;

	pio(m->vm, PORT_PCI_CONFIG_ADDR,
	    4, 1u << 31 | slot << 11 | fn << 8 | (reg & 0xfc), true);
	pio(m->vm, PORT_PCI_CONFIG_DATA + (reg & 3), size, value, write);
}

/*
 * Where the nth capability with this ID starts in slot's config space, as a
 * driver walking the list finds it (0 when there is none: the offset is
 * then from the header's start).
 */
static unsigned int find_capability(struct machine *m, unsigned int slot, u8 id,
				    unsigned int nth)
{
	struct pci_device *dev = m->vm->pci->slots[slot];
	unsigned int pos;

	if (!dev || !(dev->config[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	pos = dev->config[PCI_CAPABILITY_LIST];
	for (int hops = 0; hops < 48 && pos >= PCI_CAP_START && pos < PCI_CFG_SPACE_SIZE - 1; hops++) {
		if (dev->config[pos] == id && !nth--)
			return pos;
		pos = dev->config[pos + 1];
	}
	return 0;
}

/* A config access inside a capability, found the way a driver finds it. */
static void capability_op(struct machine *m, struct input *in, bool write)
{
	unsigned int slot = take(in, 1) % PCI_MAX_SLOTS;
	u8 id = take(in, 1);
	unsigned int nth = take(in, 1) % 8;
	unsigned int reg = (find_capability(m, slot, id, nth) + take(in, 1)) & 0xff;
	unsigned int size = take_size(in, false);
	u32 value = write ? take(in, size) : 0;

	pio(m->vm, PORT_PCI_CONFIG_ADDR, 4, 1u << 31 | slot << 11 | (reg & 0xfc), true);
	pio(m->vm, PORT_PCI_CONFIG_DATA + (reg & 3), size, value, write);
}

static void ram_write(struct machine *m, struct input *in)
{
	u64 gpa = take(in, 4) % RAM_SIZE;
	size_t len = take(in, 1) + 1;
	u8 buf[256];

	if (len > in->left)
		len = in->left;
	memcpy(buf, in->p, len);
	in->p += len;
	in->left -= len;
	if (gpa + len > RAM_SIZE)
		len = RAM_SIZE - gpa;
	if (guest_write(&m->vm->mem, gpa, buf, len))
		abort();	/* below RAM_SIZE is all RAM: the harness is wrong */
}

static void host_input(struct machine *m, struct input *in)
{
	unsigned int target = take(in, 1) % 3;
	size_t len = take(in, 1) + 1;
	u8 buf[256];

	if (len > in->left)
		len = in->left;
	memcpy(buf, in->p, len);
	in->p += len;
	in->left -= len;
	switch (target) {
	case 0:
		uart_8250_receive(m->com1, buf, len);
		break;
	case 1:
		/* A full pipe drops the rest, as a host that stopped typing. */
		if (write(m->hvc_in[1], buf, len) < 0)
			break;
		break;
	default:
		if (m->net->started)
			m->net->fe.receive(m->net->fe.opaque, NULL, buf, len);
		break;
	}
}

static void poll_once(struct machine *m)
{
	event_loop_poll(m->vm->loop, 0);
	drain_blk(m);
}

/*
 * What the devices signalled, and the used index of the rings the seeds set
 * up (tests/fuzz/gen_devices_corpus.py: queue q's used ring at
 * 1 MiB + q * 64 KiB + 8 KiB), to check that a seed gets where it should.
 */
static void report(struct machine *m)
{
	u16 used[4] = { 0 };

	for (unsigned int q = 0; q < ARRAY_SIZE(used); q++)
		guest_read(&m->vm->mem, 0x100000 + q * 0x10000 + 0x2000 + 2, &used[q], 2);
	fprintf(stderr, "fuzz_devices: %lu interrupt line changes, %lu MSIs, stop reason %d, used idx %u %u %u %u, guard pages %d\n",
		irq_calls, msis, m->vm->stop_reason, used[0], used[1], used[2], used[3],
		!!m->guards[0] + !!m->guards[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready, verbose;
	struct input in = { data, size };
	struct machine m;
	u8 flags;

	if (!ready) {
		setup_once();
		verbose = getenv("FUZZ_DEVICES_VERBOSE");
		ready = true;
	}
	irq_calls = msis = 0;
	flags = take(&in, 1);
	if (machine_create(&m, flags)) {
		fprintf(stderr, "fuzz_devices: cannot build the machine\n");
		abort();
	}
	for (unsigned int n = 0; n < MAX_OPS && in.left; n++) {
		enum op op = take(&in, 1) % NR_OPS;

		switch (op) {
		case OP_PIO_WRITE:
		case OP_PIO_READ: {
			bool write = op == OP_PIO_WRITE;
			u16 port = take(&in, 2);
			unsigned int sz = take_size(&in, false);

			pio(m.vm, port, sz, write ? take(&in, sz) : 0, write);
			break;
		}
		case OP_MMIO_WRITE:
			memory_op(&m, &in, true);
			break;
		case OP_MMIO_READ:
			memory_op(&m, &in, false);
			break;
		case OP_CFG_WRITE:
			config_op(&m, &in, true);
			break;
		case OP_CFG_READ:
			config_op(&m, &in, false);
			break;
		case OP_RAM_WRITE:
			ram_write(&m, &in);
			break;
		case OP_POLL:
			poll_once(&m);
			break;
		case OP_CAP_WRITE:
			capability_op(&m, &in, true);
			break;
		case OP_CAP_READ:
			capability_op(&m, &in, false);
			break;
		default:
			host_input(&m, &in);
			break;
		}
	}
	poll_once(&m);
	/* For checking that a seed gets where it should: what the devices signalled. */
	if (verbose)
		report(&m);
	machine_destroy(&m);
	return 0;
}
