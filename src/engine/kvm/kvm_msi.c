// SPDX-License-Identifier: Apache-2.0
/*
 * MSIs on the kvm engine through KVM's GSI routing and irqfds (issue 5:
 * "MSI-X ... on kvm goes through MSI routing and irqfd where available").
 *
 * Each distinct (address, data) pair a device sends gets a GSI whose
 * route is that message, and an eventfd bound to the GSI with KVM_IRQFD.
 * Sending it again is one write() to the eventfd, from whichever thread
 * completes the request, and KVM injects it in the kernel: the same path a
 * vhost worker or another process would take. A route never changes once
 * made (a vector the guest reprograms is simply a new pair), so senders
 * look the table up without a lock: an entry is complete before nr counts
 * it. KVM_SET_GSI_ROUTING replaces the whole table, so each new route is
 * added to the interrupt controller routes kvm_irq.c set up.
 *
 * Where KVM has no irqfds, a call fails, or all MSI_ROUTES are taken
 * (a guest that keeps reprogramming its vectors), messages go through
 * KVM_SIGNAL_MSI as before: the same delivery, one ioctl each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "engine/kvm/kvm_internal.h"
#include "lib/log.h"
#include "machine/stats.h"

#define MSI_ROUTES	64
#define MSI_GSI_BASE	32	/* past the 24 IOAPIC pins kvm_irq.c routes */

struct kvm_msi_route {
	u64 addr;
	u32 data;
	int fd;
};

struct kvm_msi_routes {
	pthread_mutex_t lock;		/* adding routes */
	bool off;			/* no irqfds here, or one failed */
	unsigned int nr;		/* published entries (atomic) */
	struct kvm_msi_route routes[MSI_ROUTES];
	struct kvm_irq_routing *table;	/* the base routes, then ours */
	u64 sent_irqfd, sent_ioctl;	/* atomic */
};

int kvm_msi_init(struct kvm_vm *kvm, const struct kvm_irq_routing *base)
{
	struct kvm_msi_routes *m = calloc(1, sizeof(*m));
	size_t size = sizeof(*m->table) + (base->nr + MSI_ROUTES) * sizeof(m->table->entries[0]);

	if (!m)
		return -1;
	m->table = calloc(1, size);
	if (!m->table) {
		free(m);
		return -1;
	}
	memcpy(m->table, base, sizeof(*base) + base->nr * sizeof(base->entries[0]));
	pthread_mutex_init(&m->lock, NULL);
	m->off = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) <= 0;
	if (m->off)
		pr_debug("kvm: no KVM_CAP_IRQFD: MSIs through KVM_SIGNAL_MSI");
	kvm->msi = m;
	return 0;
}

void kvm_msi_destroy(struct kvm_vm *kvm)
{
	struct kvm_msi_routes *m = kvm->msi;

	if (!m)
		return;
	/* The VM's fd closes after this: KVM drops the irqfds with it. */
	for (unsigned int i = 0; i < m->nr; i++)
		close(m->routes[i].fd);
	pthread_mutex_destroy(&m->lock);
	free(m->table);
	free(m);
	kvm->msi = NULL;
}

static int find(struct kvm_msi_routes *m, u64 addr, u32 data)
{
	unsigned int nr = __atomic_load_n(&m->nr, __ATOMIC_ACQUIRE);

	for (unsigned int i = 0; i < nr; i++)
		if (m->routes[i].addr == addr && m->routes[i].data == data)
			return m->routes[i].fd;
	return -1;
}

/* A GSI routed to (addr, data) and an irqfd on it; its fd, or -1. m->lock held. */
static int add_route(struct kvm_vm *kvm, struct kvm_msi_routes *m, u64 addr, u32 data)
{
	struct kvm_irq_routing_entry *e = &m->table->entries[m->table->nr];
	u32 gsi = MSI_GSI_BASE + m->nr;
	struct kvm_irqfd irqfd = { .gsi = gsi };
	int fd;

	if (m->off || m->nr == MSI_ROUTES)
		return -1;
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = (u32)addr;
	e->u.msi.address_hi = (u32)(addr >> 32);
	e->u.msi.data = data;
	m->table->nr++;
	if (ioctl(kvm->vm_fd, KVM_SET_GSI_ROUTING, m->table) < 0) {
		pr_warn("kvm: KVM_SET_GSI_ROUTING for an MSI route: %m; using KVM_SIGNAL_MSI");
		goto off;
	}
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	irqfd.fd = fd;
	if (fd < 0 || ioctl(kvm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		pr_warn("kvm: an irqfd for GSI %u: %m; using KVM_SIGNAL_MSI", gsi);
		if (fd >= 0)
			close(fd);
		goto off;
	}
	m->routes[m->nr] = (struct kvm_msi_route){ .addr = addr, .data = data, .fd = fd };
	__atomic_store_n(&m->nr, m->nr + 1, __ATOMIC_RELEASE);
	return fd;
off:
	/* The entry stays in the table (harmless, nothing signals it). */
	m->off = true;
	return -1;
}

/* One ioctl per message: the fallback. */
static void signal_msi(struct vm *vm, u64 addr, u32 data)
{
	struct kvm_msi msi = {
		.address_lo = (u32)addr,
		.address_hi = (u32)(addr >> 32),
		.data = data,
	};

	/* 0 means the guest masked or misrouted it: its choice, not an error. */
	if (ioctl(kvm_vm_of(vm)->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		pr_warn_once("kvm: KVM_SIGNAL_MSI addr %#llx data %#x: %m",
			     (unsigned long long)addr, data);
}

void kvm_send_msi(struct vm *vm, u64 addr, u32 data)
{
	struct kvm_vm *kvm = kvm_vm_of(vm);
	struct kvm_msi_routes *m = kvm->msi;
	u64 one = 1;
	int fd;

	if (!m) {
		signal_msi(vm, addr, data);
		return;
	}
	fd = find(m, addr, data);
	if (fd < 0 && !__atomic_load_n(&m->off, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&m->lock);
		fd = find(m, addr, data);
		if (fd < 0)
			fd = add_route(kvm, m, addr, data);
		pthread_mutex_unlock(&m->lock);
	}
	/* An eventfd counter does not overflow at one per interrupt. */
	if (fd >= 0 && write(fd, &one, sizeof(one)) == sizeof(one)) {
		__atomic_add_fetch(&m->sent_irqfd, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_add_fetch(&m->sent_ioctl, 1, __ATOMIC_RELAXED);
	signal_msi(vm, addr, data);
}

void kvm_msi_report_stats(struct vm *vm, const struct stats_visitor *v)
{
	struct kvm_msi_routes *m = kvm_vm_of(vm)->msi;

	if (!m)
		return;
	stats_emit(v, "kvm", "msi_routes", __atomic_load_n(&m->nr, __ATOMIC_ACQUIRE));
	stats_emit(v, "kvm", "msi_irqfd", __atomic_load_n(&m->sent_irqfd, __ATOMIC_RELAXED));
	stats_emit(v, "kvm", "msi_ioctl", __atomic_load_n(&m->sent_ioctl, __ATOMIC_RELAXED));
}
