// SPDX-License-Identifier: Apache-2.0
#include "dev/i8042.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "lib/log.h"
#include "machine/irq.h"
#include "machine/layout.h"
#include "machine/vm.h"
#include "snapshot/snap_section.h"

/* Status register (read at 0x64). */
#define STR_OBF		0x01	/* output buffer full */
#define STR_SYS		0x04	/* system flag: POST passed */
#define STR_CMD		0x08	/* the last write went to 0x64 */
#define STR_UNLOCKED	0x10	/* keyboard not inhibited by the keylock */
#define STR_AUXDATA	0x20	/* the output buffer holds AUX data */
#define STR_TIMEOUT	0x40

/* Command byte (controller RAM byte 0). */
#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40
/* As a BIOS leaves it: keyboard on with translation, no mouse. */
#define CTR_DEFAULT	(CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE)

/* Output port (commands 0xD0/0xD1). */
#define OUT_RESET	0x01	/* active low: clearing it resets the CPU */
#define OUT_A20		0x02
#define OUT_KBD_OBF	0x10
#define OUT_AUX_OBF	0x20

/* Controller commands. */
#define CMD_READ_RAM	0x20	/* ..0x3f */
#define CMD_WRITE_RAM	0x60	/* ..0x7f */
#define CMD_AUX_DISABLE	0xa7
#define CMD_AUX_ENABLE	0xa8
#define CMD_AUX_TEST	0xa9
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_DISABLE	0xad
#define CMD_KBD_ENABLE	0xae
#define CMD_READ_OUT	0xd0
#define CMD_WRITE_OUT	0xd1
#define CMD_WRITE_KBD_OBUF 0xd2
#define CMD_WRITE_AUX_OBUF 0xd3
#define CMD_WRITE_AUX	0xd4
#define CMD_A20_OFF	0xdd
#define CMD_A20_ON	0xdf
#define CMD_PULSE	0xf0	/* ..0xff: bits 0-3 low pulse those lines */

/* Keyboard commands and replies. */
#define KBD_SET_LEDS	0xed
#define KBD_ECHO	0xee
#define KBD_SCANCODE	0xf0
#define KBD_GET_ID	0xf2
#define KBD_TYPEMATIC	0xf3
#define KBD_ENABLE	0xf4
#define KBD_RESET_DIS	0xf5
#define KBD_DEFAULTS	0xf6
#define KBD_RESEND	0xfe
#define KBD_RESET	0xff
#define KBD_ACK		0xfa
#define KBD_BAT_OK	0xaa
#define KBD_ID		0xab

#define I8042_QUEUE_SIZE 16

/*
 * Where a queued byte comes from. Only the keyboard itself is silenced by
 * the disable bit (it drives the port's clock line); bytes the controller
 * makes up (command replies, 0xD2/0xD3 loops, AUX timeouts) always come
 * out, on the port they claim to be from.
 */
enum source {
	SRC_CTRL,	/* reported as keyboard data */
	SRC_CTRL_AUX,	/* reported as AUX data */
	SRC_KBD,
};

struct out_byte {
	u8 value;
	u8 source;
	bool timeout;
};

static bool is_aux(const struct out_byte *b)
{
	return b->source == SRC_CTRL_AUX;
}

struct i8042 {
	pthread_mutex_t lock;
	struct vm *vm;

	u8 ram[32];		/* ram[0] is the command byte */
	u8 outport;
	bool last_write_cmd;
	u8 pending_cmd;		/* controller command waiting for its data byte */

	struct out_byte queue[I8042_QUEUE_SIZE];
	unsigned int q_head, q_count;
	bool obf;		/* the output buffer holds out */
	struct out_byte out;

	u8 kbd_pending_cmd;	/* keyboard command waiting for its parameter */
	u8 kbd_scancode_set;

	bool kbd_irq, aux_irq;
};

static void queue_byte(struct i8042 *k, enum source src, u8 value, bool timeout)
{
	if (k->q_count == I8042_QUEUE_SIZE) {
		pr_warn_once("i8042: output queue full, byte dropped");
		return;
	}
	k->queue[(k->q_head + k->q_count) % I8042_QUEUE_SIZE] = (struct out_byte){
		.value = value, .source = src, .timeout = timeout,
	};
	k->q_count++;
}

static void update_irq(struct i8042 *k)
{
	bool aux = is_aux(&k->out);
	bool kbd_level = k->obf && !aux && (k->ram[0] & CTR_KBDINT);
	bool aux_level = k->obf && aux && (k->ram[0] & CTR_AUXINT);

	if (kbd_level != k->kbd_irq) {
		k->kbd_irq = kbd_level;
		irq_set_level(k->vm, GSI_I8042_KBD, kbd_level);
	}
	if (aux_level != k->aux_irq) {
		k->aux_irq = aux_level;
		irq_set_level(k->vm, GSI_I8042_AUX, aux_level);
	}
}

/* Moves the next byte into an empty output buffer, unless its port is off. */
static void refill(struct i8042 *k)
{
	const struct out_byte *b = &k->queue[k->q_head];

	if (k->obf || !k->q_count)
		return;
	if (b->source == SRC_KBD && (k->ram[0] & CTR_KBDDIS))
		return;
	k->out = *b;
	k->obf = true;
	k->q_head = (k->q_head + 1) % I8042_QUEUE_SIZE;
	k->q_count--;
}

static void kbd_reply(struct i8042 *k, u8 value)
{
	queue_byte(k, SRC_KBD, value, false);
}

static void kbd_reset_state(struct i8042 *k)
{
	k->kbd_pending_cmd = 0;
	k->kbd_scancode_set = 2;
}

/* A byte for the keyboard itself, which acks everything it knows. */
static void kbd_write(struct i8042 *k, u8 v)
{
	u8 cmd = k->kbd_pending_cmd;

	if (cmd) {
		k->kbd_pending_cmd = 0;
		if (cmd == KBD_SCANCODE && v == 0) {
			kbd_reply(k, KBD_ACK);
			kbd_reply(k, k->kbd_scancode_set);
		} else if (cmd == KBD_SCANCODE && v > 3) {
			kbd_reply(k, KBD_RESEND);
		} else {
			if (cmd == KBD_SCANCODE)
				k->kbd_scancode_set = v;
			kbd_reply(k, KBD_ACK);
		}
		return;
	}
	switch (v) {
	case KBD_SET_LEDS:
	case KBD_SCANCODE:
	case KBD_TYPEMATIC:
		k->kbd_pending_cmd = v;
		kbd_reply(k, KBD_ACK);
		break;
	case KBD_ECHO:
		kbd_reply(k, KBD_ECHO);
		break;
	case KBD_GET_ID:
		kbd_reply(k, KBD_ACK);
		kbd_reply(k, KBD_ID);
		/* An MF2 keyboard: 0x83, which translation turns into 0x41. */
		kbd_reply(k, (k->ram[0] & CTR_XLATE) ? 0x41 : 0x83);
		break;
	case KBD_RESET:
		kbd_reset_state(k);
		kbd_reply(k, KBD_ACK);
		kbd_reply(k, KBD_BAT_OK);
		break;
	case KBD_ENABLE:
	case KBD_RESET_DIS:
	case KBD_DEFAULTS:
	case 0xf7 ... 0xfd:	/* typematic and make/break modes */
	case KBD_RESEND:
		kbd_reply(k, KBD_ACK);
		break;
	default:
		kbd_reply(k, KBD_RESEND);	/* what a keyboard says to nonsense */
		break;
	}
}

static u8 outport_value(const struct i8042 *k)
{
	u8 v = k->outport & ~(OUT_KBD_OBF | OUT_AUX_OBF);

	if (k->obf)
		v |= is_aux(&k->out) ? OUT_AUX_OBF : OUT_KBD_OBF;
	return v;
}

/* Returns true when the guest asked for a reset. */
static bool controller_data(struct i8042 *k, u8 cmd, u8 v)
{
	switch (cmd) {
	case CMD_WRITE_OUT:
		k->outport = v;
		return !(v & OUT_RESET);
	case CMD_WRITE_KBD_OBUF:
		queue_byte(k, SRC_CTRL, v, false);
		return false;
	case CMD_WRITE_AUX_OBUF:
		queue_byte(k, SRC_CTRL_AUX, v, false);
		return false;
	case CMD_WRITE_AUX:
		/* No mouse: the controller times out waiting for an answer. */
		queue_byte(k, SRC_CTRL_AUX, KBD_RESEND, true);
		return false;
	default:	/* CMD_WRITE_RAM + n */
		k->ram[cmd - CMD_WRITE_RAM] = v;
		return false;
	}
}

/* Returns true when the guest asked for a reset. */
static bool controller_command(struct i8042 *k, u8 cmd)
{
	k->pending_cmd = 0;
	if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + 0x20) {
		queue_byte(k, SRC_CTRL, k->ram[cmd - CMD_READ_RAM], false);
		return false;
	}
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
		k->pending_cmd = cmd;
		return false;
	}
	if (cmd >= CMD_PULSE)
		return !(cmd & OUT_RESET);	/* 0xfe: the classic reboot */
	switch (cmd) {
	case CMD_AUX_DISABLE:
		k->ram[0] |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ram[0] &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		queue_byte(k, SRC_CTRL, 0x00, false);	/* no fault found */
		break;
	case CMD_SELF_TEST:
		k->ram[0] |= CTR_SYS;
		queue_byte(k, SRC_CTRL, 0x55, false);
		break;
	case CMD_KBD_DISABLE:
		k->ram[0] |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ram[0] &= ~CTR_KBDDIS;
		break;
	case CMD_READ_OUT:
		queue_byte(k, SRC_CTRL, outport_value(k), false);
		break;
	case CMD_WRITE_OUT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		k->pending_cmd = cmd;
		break;
	case CMD_A20_OFF:
		k->outport &= ~OUT_A20;
		break;
	case CMD_A20_ON:
		k->outport |= OUT_A20;
		break;
	default:
		pr_warn_once("i8042: unknown controller command 0x%02x", cmd);
		break;
	}
	return false;
}

static u8 status_value(const struct i8042 *k)
{
	u8 v = STR_UNLOCKED;

	if (k->ram[0] & CTR_SYS)
		v |= STR_SYS;
	if (k->last_write_cmd)
		v |= STR_CMD;
	if (k->obf) {
		v |= STR_OBF;
		if (is_aux(&k->out))
			v |= STR_AUXDATA;
		if (k->out.timeout)
			v |= STR_TIMEOUT;
	}
	return v;
}

static void i8042_read(struct i8042 *k, bool cmd_port, void *data, unsigned int len)
{
	u8 v;

	pthread_mutex_lock(&k->lock);
	if (!cmd_port) {
		v = k->out.value;	/* an empty buffer shows the last byte */
		if (k->obf) {
			/* Lowered, then raised again for the next byte: an edge each. */
			k->obf = false;
			update_irq(k);
			refill(k);
		}
	} else {
		v = status_value(k);
	}
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	bus_data_put(data, len, v);
}

static void i8042_write(struct i8042 *k, bool cmd_port, const void *data, unsigned int len)
{
	u8 v = bus_data_get(data, len);
	bool reset;

	pthread_mutex_lock(&k->lock);
	if (!cmd_port) {
		u8 cmd = k->pending_cmd;

		k->last_write_cmd = false;
		k->pending_cmd = 0;
		if (cmd) {
			reset = controller_data(k, cmd, v);
		} else {
			kbd_write(k, v);
			reset = false;
		}
	} else {
		k->last_write_cmd = true;
		reset = controller_command(k, v);
	}
	refill(k);
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	if (reset) {
		pr_info("i8042: the guest pulsed the reset line");
		vm_request_stop(k->vm, VM_STOP_RESET, EXIT_CODE_RESET);
	}
}

static void data_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	(void)offset;
	i8042_read(opaque, false, data, len);
}

static void data_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	(void)offset;
	i8042_write(opaque, false, data, len);
}

static void cmd_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	(void)offset;
	i8042_read(opaque, true, data, len);
}

static void cmd_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	(void)offset;
	i8042_write(opaque, true, data, len);
}

static const struct bus_device_ops i8042_data_ops = {
	.read = data_read,
	.write = data_write,
};

static const struct bus_device_ops i8042_cmd_ops = {
	.read = cmd_read,
	.write = cmd_write,
};

/* Ctrl, Alt and Delete pressed, then released in reverse order. */
static const u8 cad_set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
static const u8 cad_set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };

static void i8042_destroy(void *opaque);

int i8042_send_ctrl_alt_del(struct vm *vm)
{
	struct i8042 *k = vm_find_device(vm, i8042_destroy);
	const u8 *codes = cad_set2;
	size_t n = sizeof(cad_set2);
	int ret = -1;

	if (!k)
		return -1;
	pthread_mutex_lock(&k->lock);
	if (k->ram[0] & CTR_XLATE) {
		codes = cad_set1;
		n = sizeof(cad_set1);
	}
	if (k->q_count + n <= I8042_QUEUE_SIZE) {
		for (size_t i = 0; i < n; i++)
			queue_byte(k, SRC_KBD, codes[i], false);
		refill(k);
		update_irq(k);
		ret = 0;
	}
	pthread_mutex_unlock(&k->lock);
	return ret;
}

static void i8042_destroy(void *opaque)
{
	struct i8042 *k = opaque;

	bus_unregister(&k->vm->pio_bus, PORT_I8042_DATA);
	bus_unregister(&k->vm->pio_bus, PORT_I8042_CMD);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

/* Snapshot: controller RAM, the output queue and buffer, the keyboard. */
static void put_out_byte(struct snap_writer *w, const struct out_byte *b)
{
	snap_put_u8(w, b->value);
	snap_put_u8(w, b->source);
	snap_put_bool(w, b->timeout);
}

static void get_out_byte(struct snap_reader *r, struct out_byte *b)
{
	b->value = snap_get_u8(r, "an output byte");
	b->source = snap_get_max(r, 1, SRC_KBD, "an output byte's source");
	b->timeout = snap_get_bool(r, "an output byte's timeout");
}

static void i8042_save(void *opaque, struct snap_writer *w)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	snap_put_bytes(w, k->ram, sizeof(k->ram));
	snap_put_u8(w, k->outport);
	snap_put_bool(w, k->last_write_cmd);
	snap_put_u8(w, k->pending_cmd);
	for (unsigned int i = 0; i < I8042_QUEUE_SIZE; i++)
		put_out_byte(w, &k->queue[i]);
	snap_put_u8(w, k->q_head);
	snap_put_u8(w, k->q_count);
	snap_put_bool(w, k->obf);
	put_out_byte(w, &k->out);
	snap_put_u8(w, k->kbd_pending_cmd);
	snap_put_u8(w, k->kbd_scancode_set);
	snap_put_bool(w, k->kbd_irq);
	snap_put_bool(w, k->aux_irq);
	pthread_mutex_unlock(&k->lock);
}

static int i8042_load(void *opaque, struct snap_reader *r)
{
	struct i8042 *k = opaque;
	struct i8042 n;

	snap_get_bytes(r, n.ram, sizeof(n.ram), "the controller RAM");
	n.outport = snap_get_u8(r, "the output port");
	n.last_write_cmd = snap_get_bool(r, "the last write's port");
	n.pending_cmd = snap_get_u8(r, "a pending command");
	for (unsigned int i = 0; i < I8042_QUEUE_SIZE; i++)
		get_out_byte(r, &n.queue[i]);
	n.q_head = snap_get_max(r, 1, I8042_QUEUE_SIZE - 1, "the queue head");
	n.q_count = snap_get_max(r, 1, I8042_QUEUE_SIZE, "the queue length");
	n.obf = snap_get_bool(r, "the output buffer flag");
	get_out_byte(r, &n.out);
	n.kbd_pending_cmd = snap_get_u8(r, "a pending keyboard command");
	n.kbd_scancode_set = snap_get_max(r, 1, 3, "the scancode set");
	n.kbd_irq = snap_get_bool(r, "the keyboard IRQ");
	n.aux_irq = snap_get_bool(r, "the AUX IRQ");
	if (snap_reader_failed(r))
		return -1;
	pthread_mutex_lock(&k->lock);
	memcpy(k->ram, n.ram, sizeof(k->ram));
	k->outport = n.outport;
	k->last_write_cmd = n.last_write_cmd;
	k->pending_cmd = n.pending_cmd;
	memcpy(k->queue, n.queue, sizeof(k->queue));
	k->q_head = n.q_head;
	k->q_count = n.q_count;
	k->obf = n.obf;
	k->out = n.out;
	k->kbd_pending_cmd = n.kbd_pending_cmd;
	k->kbd_scancode_set = n.kbd_scancode_set;
	k->kbd_irq = n.kbd_irq;
	k->aux_irq = n.aux_irq;
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static const struct snap_section_ops i8042_snap_ops = { .save = i8042_save, .load = i8042_load };

int i8042_create(struct vm *vm)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	struct vm_device dev = {
		.name = "i8042", .opaque = k, .destroy = i8042_destroy,
	};

	if (!k)
		return -1;
	pthread_mutex_init(&k->lock, NULL);
	k->vm = vm;
	k->ram[0] = CTR_DEFAULT;
	k->outport = OUT_RESET | OUT_A20;
	kbd_reset_state(k);
	/* Two single ports: 0x61 between them belongs to the PIT's speaker gate. */
	if (bus_register(&vm->pio_bus, PORT_I8042_DATA, 1, &i8042_data_ops, k, "i8042")) {
		pr_err("i8042: port 0x%x is taken", PORT_I8042_DATA);
		goto fail;
	}
	if (bus_register(&vm->pio_bus, PORT_I8042_CMD, 1, &i8042_cmd_ops, k, "i8042")) {
		pr_err("i8042: port 0x%x is taken", PORT_I8042_CMD);
		bus_unregister(&vm->pio_bus, PORT_I8042_DATA);
		goto fail;
	}
	if (vm_add_device(vm, &dev)) {
		bus_unregister(&vm->pio_bus, PORT_I8042_DATA);
		bus_unregister(&vm->pio_bus, PORT_I8042_CMD);
		goto fail;
	}
	return snap_register(vm, "i8042", &i8042_snap_ops, k);
fail:
	pthread_mutex_destroy(&k->lock);
	free(k);
	return -1;
}
