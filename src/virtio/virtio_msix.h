/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VIRTIO_VIRTIO_MSIX_H
#define KILN_VIRTIO_VIRTIO_MSIX_H

#include <pthread.h>

#include "lib/types.h"

/*
 * An MSI-X table and pending-bit array (PCI 3.0 §6.8.2), as they appear in
 * a memory BAR, and the delivery of one vector: sent with irq_send_msi(),
 * or left pending while the vector or the whole function is masked and
 * sent when it is unmasked. The enable and function-mask bits live in the
 * capability's message control, in config space; the owner forwards them
 * with msix_set_control(). Any thread; the lock is msix's own.
 */

struct vm;

#define MSIX_ENTRY_SIZE		16
#define MSIX_CTRL_MASKBIT	1U	/* vector control: masked */

struct msix {
	pthread_mutex_t lock;
	struct vm *vm;
	unsigned int nr_vectors;
	u8 *table;		/* nr_vectors entries: addr lo, addr hi, data, control */
	u64 *pba;		/* one bit per vector */
	bool enabled;
	bool func_masked;
	u64 sent, held;		/* messages sent, and left pending when masked */
};

int msix_init(struct msix *m, struct vm *vm, unsigned int nr_vectors);
void msix_destroy(struct msix *m);

/* Bytes the table and the PBA take in the BAR. */
u64 msix_table_size(const struct msix *m);
u64 msix_pba_size(const struct msix *m);

/* BAR accesses; offsets are from the start of the table or of the PBA. */
void msix_table_read(struct msix *m, u64 off, void *data, unsigned int len);
void msix_table_write(struct msix *m, u64 off, const void *data, unsigned int len);
void msix_pba_read(struct msix *m, u64 off, void *data, unsigned int len);

/* The message control's enable and function-mask bits changed. */
void msix_set_control(struct msix *m, bool enabled, bool func_masked);

bool msix_enabled(struct msix *m);

/* Signals vector: sends it, or sets its pending bit while masked. */
void msix_notify(struct msix *m, unsigned int vector);

#endif
