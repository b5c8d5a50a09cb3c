/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_BUS_PCI_H
#define KILN_BUS_PCI_H

#include <linux/pci_regs.h>	/* register names and bits, from the kernel's UAPI */
#include <pthread.h>

#include "bus/bus.h"
#include "lib/types.h"

/*
 * PCI bus 0 behind an i440FX-style host bridge, reached with configuration
 * mechanism #1 (ports 0xcf8 and 0xcfc-0xcff); port 0xcf9 is the reset
 * control register.
 *
 * A device fills a struct pci_device (pci_device_init, BARs, capabilities,
 * interrupt pin) and calls pci_register_device(), which picks a slot and,
 * like firmware, assigns its BARs and turns decoding on. From then on the
 * guest owns the BARs: moving one, or toggling COMMAND.MEM/IO, re-registers
 * its range. Memory BARs are claimed on vm->mmio_bus; I/O BARs decode only
 * inside the PCI I/O window [PCI_IO_BAR_START, 0x10000), which the root
 * claims on vm->pio_bus once and dispatches itself (config writes arrive
 * on the PIO bus, which cannot be re-registered from its own callbacks).
 *
 * Locking: every config access runs under the root's config lock, hooks
 * included. BAR handlers run with no PCI lock held, and must not make
 * config accesses. pci_set_intx() is callable from any thread.
 */

struct vm;
struct pci_device;

#define PCI_CFG_SPACE_SIZE	256
#define PCI_MAX_SLOTS		32
#define PCI_IO_WINDOW_END	0x10000ULL
#define PCI_CAP_START		0x40	/* capabilities are placed from here */

enum pci_bar_type {
	PCI_BAR_NONE,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,		/* takes the next BAR slot for its high half */
};

struct pci_bar {
	enum pci_bar_type type;
	bool prefetchable;
	u64 size;				/* a power of two */
	const struct bus_device_ops *ops;	/* offsets are from the BAR's start */
	void *opaque;
	/* Kept by the PCI core: where the BAR decodes, if it does. */
	bool mapped;
	u64 mapped_addr;
};

/*
 * Optional hooks, called under the config lock for the device's config
 * space. A hook sees every access (offset + len <= 256, len 1, 2 or 4)
 * and calls pci_default_config_read()/write() for what it does not handle
 * itself, e.g. after noting an MSI-X enable bit.
 */
struct pci_device_ops {
	u32 (*config_read)(struct pci_device *dev, u32 offset, unsigned int len);
	void (*config_write)(struct pci_device *dev, u32 offset, u32 value, unsigned int len);
};

struct pci_device {
	/* Set by the device before registration (pci_device_init sets slot -1). */
	const char *name;
	const struct pci_device_ops *ops;
	void *opaque;
	int slot;			/* wanted slot, or -1 for the first free one */

	/* The PCI core's: fill through the helpers below. */
	struct pci_root *root;
	u8 config[PCI_CFG_SPACE_SIZE];
	u8 wmask[PCI_CFG_SPACE_SIZE];	/* bits the guest may write */
	u8 w1cmask[PCI_CFG_SPACE_SIZE];	/* bits the guest clears by writing 1 */
	struct pci_bar bars[PCI_STD_NUM_BARS];
	unsigned int cap_next;		/* first free byte for a capability */
	u8 cap_last;			/* the last capability in the list, or 0 */
	bool intx_level;		/* what the device drives (intx lock) */
	bool intx_disabled;		/* COMMAND.INTX_DISABLE (intx lock) */
	bool intx_asserted;		/* what the root counts (intx lock) */
};

struct pci_root {
	struct vm *vm;
	pthread_mutex_t cfg_lock;	/* CONFIG_ADDRESS, slots, config spaces */
	u32 config_address;
	u8 reset_control;
	struct pci_device *slots[PCI_MAX_SLOTS];
	struct pci_device host_bridge;

	u64 mmio_next;			/* firmware-style BAR allocation */
	u64 io_next;

	pthread_rwlock_t io_lock;	/* I/O BAR mappings, for the window */

	pthread_mutex_t intx_lock;
	unsigned int intx_count[4];	/* devices asserting each of GSI 16..19 */

	u64 config_accesses;
};

/* Creates the host bridge and its ports, and sets vm->pci. */
int pci_root_create(struct vm *vm);

/* Little-endian config-space accessors, for device set-up code. */
static inline u32 pci_config_get(const struct pci_device *dev, u32 off, unsigned int len)
{
	return bus_data_get(&dev->config[off], len);
}

static inline void pci_config_set(struct pci_device *dev, u32 off, u32 v, unsigned int len)
{
	bus_data_put(&dev->config[off], len, v);
}

/* Which bits of [off, off + len) the guest may write. */
static inline void pci_config_set_wmask(struct pci_device *dev, u32 off, u32 mask, unsigned int len)
{
	bus_data_put(&dev->wmask[off], len, mask);
}

/*
 * A type 0 header: IDs, class (base << 16 | sub << 8 | prog-if), revision,
 * no BARs, no capabilities, no interrupt pin, slot -1.
 */
void pci_device_init(struct pci_device *dev, const char *name, u16 vendor_id,
		     u16 device_id, u32 class_code, u8 revision);

void pci_device_set_subsystem(struct pci_device *dev, u16 vendor_id, u16 id);

/*
 * Declares BAR n before registration. size is a power of two: at least 4
 * and at most 256 for I/O, at least 16 for memory. A 64-bit BAR uses n and
 * n + 1. Returns -1 for a bad request.
 */
int pci_device_set_bar(struct pci_device *dev, unsigned int n, enum pci_bar_type type,
		       u64 size, bool prefetchable, const struct bus_device_ops *ops,
		       void *opaque);

/* INTA..INTD is pin 1..4; the line register gets GSI_PCI_INTX(slot, pin). */
int pci_device_set_intx_pin(struct pci_device *dev, u8 pin);

/*
 * Appends a capability of len bytes (its 2-byte header included) to the
 * list, dword-aligned, and returns its offset, or -1 when the config space
 * is full. The caller fills the body and sets write masks for it.
 */
int pci_add_capability(struct pci_device *dev, u8 id, unsigned int len);

/* Offset of the first capability with this ID, or 0. */
u8 pci_find_capability(const struct pci_device *dev, u8 id);

/*
 * Picks the slot, assigns the BARs from LAYOUT_PCI_MMIO_START and
 * PCI_IO_BAR_START, enables decoding, routes INTx and makes the device
 * visible. Returns -1 with a message when no slot or BAR space is left.
 */
int pci_register_device(struct vm *vm, struct pci_device *dev);

/* Hides the device and releases its BARs and interrupt line. */
void pci_unregister_device(struct pci_device *dev);

/* The standard behaviour, for hooks to fall back on. */
u32 pci_default_config_read(struct pci_device *dev, u32 offset, unsigned int len);
void pci_default_config_write(struct pci_device *dev, u32 offset, u32 value, unsigned int len);

/* The guest-physical (or port) address the BAR holds now. */
u64 pci_bar_address(const struct pci_device *dev, unsigned int n);

/* Drives the device's INTx pin; shared lines are ORed. Any thread. */
void pci_set_intx(struct pci_device *dev, bool level);

#endif
