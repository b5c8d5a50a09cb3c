// SPDX-License-Identifier: Apache-2.0
/* MSI-X table, pending bits and masking for virtio-pci functions. */
#include "virtio/virtio_msix.h"

#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "machine/irq.h"

#define ENTRY_ADDR_LO	0
#define ENTRY_ADDR_HI	4
#define ENTRY_DATA	8
#define ENTRY_CTRL	12

int msix_init(struct msix *m, struct vm *vm, unsigned int nr_vectors)
{
	memset(m, 0, sizeof(*m));
	m->vm = vm;
	m->nr_vectors = nr_vectors;
	m->table = calloc(nr_vectors, MSIX_ENTRY_SIZE);
	m->pba = calloc((nr_vectors + 63) / 64, sizeof(u64));
	if (!m->table || !m->pba) {
		msix_destroy(m);
		return -1;
	}
	/* Every vector starts masked (PCI 3.0 §6.8.2.9). */
	for (unsigned int v = 0; v < nr_vectors; v++)
		m->table[v * MSIX_ENTRY_SIZE + ENTRY_CTRL] = MSIX_CTRL_MASKBIT;
	pthread_mutex_init(&m->lock, NULL);
	return 0;
}

void msix_destroy(struct msix *m)
{
	if (m->table && m->pba)
		pthread_mutex_destroy(&m->lock);
	free(m->table);
	free(m->pba);
	m->table = NULL;
	m->pba = NULL;
}

u64 msix_table_size(const struct msix *m)
{
	return (u64)m->nr_vectors * MSIX_ENTRY_SIZE;
}

u64 msix_pba_size(const struct msix *m)
{
	return ALIGN_UP((u64)m->nr_vectors, 64ULL) / 8;
}

static bool pending(const struct msix *m, unsigned int v)
{
	return m->pba[v / 64] & (1ULL << (v % 64));
}

static void set_pending(struct msix *m, unsigned int v, bool on)
{
	if (on)
		m->pba[v / 64] |= 1ULL << (v % 64);
	else
		m->pba[v / 64] &= ~(1ULL << (v % 64));
}

static bool vector_masked(const struct msix *m, unsigned int v)
{
	return m->func_masked || (m->table[v * MSIX_ENTRY_SIZE + ENTRY_CTRL] & MSIX_CTRL_MASKBIT);
}

/* Lock held. */
static void send(struct msix *m, unsigned int v)
{
	const u8 *e = &m->table[v * MSIX_ENTRY_SIZE];
	u64 addr = bus_data_get(e + ENTRY_ADDR_LO, 4) | bus_data_get(e + ENTRY_ADDR_HI, 4) << 32;
	u32 data = bus_data_get(e + ENTRY_DATA, 4);

	m->sent++;
	irq_send_msi(m->vm, addr, data);
}

/* Sends what was held for vectors that are now unmasked; lock held. */
static void flush_pending(struct msix *m)
{
	if (!m->enabled || m->func_masked)
		return;
	for (unsigned int v = 0; v < m->nr_vectors; v++) {
		if (pending(m, v) && !vector_masked(m, v)) {
			set_pending(m, v, false);
			send(m, v);
		}
	}
}

/* Accesses must be dword or qword, aligned, inside the table (PCI 3.0). */
static bool access_ok(u64 off, unsigned int len, u64 size)
{
	return (len == 4 || len == 8) && !(off & (len - 1)) && off + len <= size;
}

void msix_table_read(struct msix *m, u64 off, void *data, unsigned int len)
{
	if (!access_ok(off, len, msix_table_size(m))) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	memcpy(data, &m->table[off], len);
	pthread_mutex_unlock(&m->lock);
}

void msix_table_write(struct msix *m, u64 off, const void *data, unsigned int len)
{
	if (!access_ok(off, len, msix_table_size(m)))
		return;
	pthread_mutex_lock(&m->lock);
	memcpy(&m->table[off], data, len);
	for (u64 o = off; o < off + len; o += 4) {
		/* Only the mask bit of vector control is writable. */
		if (o % MSIX_ENTRY_SIZE == ENTRY_CTRL) {
			u32 ctrl = bus_data_get(&m->table[o], 4) & MSIX_CTRL_MASKBIT;

			bus_data_put(&m->table[o], 4, ctrl);
		}
	}
	flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, u64 off, void *data, unsigned int len)
{
	if (!access_ok(off, len, msix_pba_size(m))) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	memcpy(data, (u8 *)m->pba + off, len);
	pthread_mutex_unlock(&m->lock);
}

void msix_set_control(struct msix *m, bool enabled, bool func_masked)
{
	pthread_mutex_lock(&m->lock);
	__atomic_store_n(&m->enabled, enabled, __ATOMIC_RELAXED);
	m->func_masked = func_masked;
	flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}

bool msix_enabled(struct msix *m)
{
	return __atomic_load_n(&m->enabled, __ATOMIC_RELAXED);
}

void msix_notify(struct msix *m, unsigned int vector)
{
	if (vector >= m->nr_vectors)
		return;
	pthread_mutex_lock(&m->lock);
	if (!m->enabled) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (vector_masked(m, vector)) {
		set_pending(m, vector, true);
		m->held++;
	} else {
		send(m, vector);
	}
	pthread_mutex_unlock(&m->lock);
}
