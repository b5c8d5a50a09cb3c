// SPDX-License-Identifier: Apache-2.0
#include "dev/fw_cfg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "lib/log.h"
#include "machine/layout.h"
#include "machine/vm.h"
#include "snapshot/snap_section.h"

#define FW_CFG_MAX_ITEMS 16
#define FW_CFG_NO_ITEM (-1)

struct fw_cfg_item {
	u16 key;
	u32 len;
	u8 *data;
};

struct fw_cfg {
	pthread_mutex_t lock;		/* vCPUs share the selector, as on QEMU */
	struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
	unsigned int nr_items;
	bool selected;			/* by the guest, since the VM started */
	u16 selector;			/* the key last selected, held or not */
	int cur;			/* its index into items, or FW_CFG_NO_ITEM */
	u32 offset;			/* next byte of items[cur] */
	struct vm *vm;
};

struct fw_cfg *fw_cfg_new(void)
{
	struct fw_cfg *fw = calloc(1, sizeof(*fw));

	if (!fw)
		return NULL;
	pthread_mutex_init(&fw->lock, NULL);
	fw->cur = FW_CFG_NO_ITEM;
	return fw;
}

void fw_cfg_free(struct fw_cfg *fw)
{
	if (!fw)
		return;
	for (unsigned int i = 0; i < fw->nr_items; i++)
		free(fw->items[i].data);
	pthread_mutex_destroy(&fw->lock);
	free(fw);
}

static int find_item(const struct fw_cfg *fw, u16 key)
{
	for (unsigned int i = 0; i < fw->nr_items; i++)
		if (fw->items[i].key == key)
			return (int)i;
	return FW_CFG_NO_ITEM;
}

int fw_cfg_add(struct fw_cfg *fw, u16 key, const void *data, size_t len)
{
	struct fw_cfg_item *it;

	if (fw->nr_items == FW_CFG_MAX_ITEMS || find_item(fw, key) != FW_CFG_NO_ITEM ||
	    len > UINT32_MAX)
		return -1;
	it = &fw->items[fw->nr_items];
	it->data = malloc(len ? len : 1);
	if (!it->data)
		return -1;
	memcpy(it->data, data, len);
	it->key = key;
	it->len = (u32)len;
	fw->nr_items++;
	return 0;
}

void fw_cfg_select(struct fw_cfg *fw, u16 key)
{
	pthread_mutex_lock(&fw->lock);
	fw->selected = true;
	fw->selector = key;
	fw->cur = find_item(fw, key);
	fw->offset = 0;
	pthread_mutex_unlock(&fw->lock);
}

u8 fw_cfg_next_byte(struct fw_cfg *fw)
{
	const struct fw_cfg_item *it;
	u8 b = 0;

	pthread_mutex_lock(&fw->lock);
	if (fw->cur != FW_CFG_NO_ITEM) {
		it = &fw->items[fw->cur];
		if (fw->offset < it->len)
			b = it->data[fw->offset++];
	}
	pthread_mutex_unlock(&fw->lock);
	return b;
}

/*
 * As QEMU's combined port region: any byte read streams data, a 16-bit
 * write at the base selects. Other widths read as nothing there.
 */
static void fw_cfg_port_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	(void)offset;
	bus_data_put(data, len, len == 1 ? fw_cfg_next_byte(opaque) : ~0ULL);
}

static void fw_cfg_port_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	if (offset == 0 && len == 2)
		fw_cfg_select(opaque, (u16)bus_data_get(data, len));
	else
		pr_warn_once("fw_cfg: ignoring a %u-byte write at port %#llx (no data writes)",
			     len, (unsigned long long)(PORT_FW_CFG + offset));
}

static const struct bus_device_ops fw_cfg_ops = {
	.read = fw_cfg_port_read,
	.write = fw_cfg_port_write,
};

/*
 * A snapshot holds the selector and how far into its item the guest has
 * read: a guest stopped halfway through reading an item reads on from
 * there. The items themselves come from the command line, which a restore
 * must repeat (the RAM size and vCPU count are checked against the file).
 */
static void fw_cfg_save(void *opaque, struct snap_writer *w)
{
	struct fw_cfg *fw = opaque;

	pthread_mutex_lock(&fw->lock);
	snap_put_bool(w, fw->selected);
	snap_put_u16(w, fw->selector);
	snap_put_u32(w, fw->offset);
	pthread_mutex_unlock(&fw->lock);
}

static int fw_cfg_load(void *opaque, struct snap_reader *r)
{
	struct fw_cfg *fw = opaque;
	bool selected = snap_get_bool(r, "whether a key is selected");
	u16 selector = snap_get_u16(r, "the selector");
	u32 offset = snap_get_u32(r, "the read offset");
	int cur;
	u32 len;

	if (snap_reader_failed(r))
		return -1;
	if (!selected && (selector || offset))
		return snap_fail(r, "no key is selected, yet the selector is %#x and the offset %u",
				 selector, offset);
	/* Any key may be selected; one this VM does not hold is 0 bytes long. */
	cur = selected ? find_item(fw, selector) : FW_CFG_NO_ITEM;
	len = cur == FW_CFG_NO_ITEM ? 0 : fw->items[cur].len;
	if (offset > len)
		return snap_fail(r, "the read offset %u is past the end of item %#x (%u bytes)",
				 offset, selector, len);
	pthread_mutex_lock(&fw->lock);
	fw->selected = selected;
	fw->selector = selector;
	fw->cur = cur;
	fw->offset = offset;
	pthread_mutex_unlock(&fw->lock);
	return 0;
}

static const struct snap_section_ops fw_cfg_snap_ops = { .save = fw_cfg_save, .load = fw_cfg_load };

static void fw_cfg_destroy(void *opaque)
{
	struct fw_cfg *fw = opaque;

	bus_unregister(&fw->vm->pio_bus, PORT_FW_CFG);
	fw_cfg_free(fw);
}

static int add_le(struct fw_cfg *fw, u16 key, u64 v, unsigned int bytes)
{
	u8 buf[8];

	bus_data_put(buf, bytes, v);
	return fw_cfg_add(fw, key, buf, bytes);
}

static int add_machine_items(struct fw_cfg *fw, const struct vm_config *cfg)
{
	/* "QEMU": what guests check before trusting the rest. */
	static const char signature[4] = { 'Q', 'E', 'M', 'U' };

	return fw_cfg_add(fw, FW_CFG_SIGNATURE, signature, sizeof(signature)) ||
	       add_le(fw, FW_CFG_ID, FW_CFG_VERSION_TRADITIONAL, 4) ||
	       add_le(fw, FW_CFG_RAM_SIZE, cfg->mem_size, 8) ||
	       add_le(fw, FW_CFG_NB_CPUS, cfg->nr_cpus, 2) ||
	       /* No CPU hot-plug: the boot CPUs are all there will be. */
	       add_le(fw, FW_CFG_MAX_CPUS, cfg->nr_cpus, 2) ||
	       /* The MADT's interrupt source override sends ISA IRQ0 to GSI 2. */
	       add_le(fw, FW_CFG_IRQ0_OVERRIDE, 1, 4);
}

int fw_cfg_create(struct vm *vm)
{
	struct fw_cfg *fw = fw_cfg_new();
	struct vm_device dev = { .name = "fw_cfg", .destroy = fw_cfg_destroy };

	if (!fw)
		goto fail;
	fw->vm = vm;
	if (add_machine_items(fw, vm->cfg))
		goto fail;
	if (bus_register(&vm->pio_bus, PORT_FW_CFG, FW_CFG_NR_PORTS, &fw_cfg_ops, fw,
			 "fw_cfg")) {
		pr_err("fw_cfg: ports %#x-%#x are taken", PORT_FW_CFG,
		       PORT_FW_CFG + FW_CFG_NR_PORTS - 1);
		fw_cfg_free(fw);
		return -1;
	}
	dev.opaque = fw;
	if (vm_add_device(vm, &dev)) {
		fw_cfg_destroy(fw);
		return -1;
	}
	return snap_register(vm, "fw-cfg", &fw_cfg_snap_ops, fw);
fail:
	pr_err("fw_cfg: out of memory");
	fw_cfg_free(fw);
	return -1;
}
