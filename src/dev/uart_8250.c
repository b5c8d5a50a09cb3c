// SPDX-License-Identifier: Apache-2.0
#include "dev/uart_8250.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "lib/log.h"
#include "machine/irq.h"
#include "machine/stats.h"
#include "machine/vm.h"
#include "snapshot/snap_section.h"

/* Register offsets; DLAB (LCR bit 7) turns 0 and 1 into the divisor latch. */
#define REG_RBR_THR_DLL	0
#define REG_IER_DLM	1
#define REG_IIR_FCR	2
#define REG_LCR		3
#define REG_MCR		4
#define REG_LSR		5
#define REG_MSR		6
#define REG_SCR		7

#define IER_RDI		0x01	/* received data available */
#define IER_THRI	0x02	/* transmitter holding register empty */
#define IER_RLSI	0x04	/* receiver line status */
#define IER_MSI		0x08	/* modem status */
#define IER_MASK	0x0f	/* a 16550A has no more: Linux checks */

#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_RX_TIMEOUT	0x0c
#define IIR_FIFO_ON	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04
#define FCR_DMA		0x08
#define FCR_TRIGGER	0xc0
#define FCR_STORED	(FCR_ENABLE | FCR_DMA | FCR_TRIGGER)

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_PE		0x04
#define LSR_FE		0x08
#define LSR_BI		0x10
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define LSR_ERRORS	(LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTAS	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/* With loopback off, the line looks like a connected, ready modem. */
#define MSR_CONNECTED	(MSR_DCD | MSR_DSR | MSR_CTS)

struct uart_8250 {
	pthread_mutex_t lock;
	struct vm *vm;
	const char *name;
	u16 port;
	u32 gsi;
	struct uart_backend be;

	u8 rx_fifo[UART_8250_FIFO_SIZE];
	unsigned int rx_head;
	unsigned int rx_count;
	u8 rbr;			/* last byte read: what an empty RBR shows */

	u8 ier, fcr, lcr, mcr, msr, scr, dll, dlm;
	u8 lsr_errors;		/* OE/PE/FE/BI, cleared when LSR is read */
	/*
	 * The THRE interrupt: set when the holding register empties (at once
	 * here, as transmission is instantaneous) and when IER.THRI is turned
	 * on while it is empty; cleared by reading IIR while it is the
	 * reported source, by writing THR, or by turning IER.THRI off. This
	 * is what Linux's 8250 THRE tests expect.
	 */
	bool thr_ipending;
	bool rx_blocked;	/* the backend holds input we had no room for */
	bool irq_level;

	u64 tx_bytes, rx_bytes, overruns;
};

static unsigned int rx_capacity(const struct uart_8250 *u)
{
	/* With the FIFO off, the 16550A behaves as a 16450: one byte. */
	return (u->fcr & FCR_ENABLE) ? UART_8250_FIFO_SIZE : 1;
}

static unsigned int rx_trigger_level(const struct uart_8250 *u)
{
	static const unsigned int levels[] = { 1, 4, 8, 14 };

	return (u->fcr & FCR_ENABLE) ? levels[u->fcr >> 6] : 1;
}

static bool rx_push(struct uart_8250 *u, u8 byte)
{
	if (u->rx_count >= rx_capacity(u))
		return false;
	u->rx_fifo[(u->rx_head + u->rx_count) % UART_8250_FIFO_SIZE] = byte;
	u->rx_count++;
	u->rx_bytes++;
	return true;
}

static u8 rx_pop(struct uart_8250 *u)
{
	if (u->rx_count) {
		u->rbr = u->rx_fifo[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_8250_FIFO_SIZE;
		u->rx_count--;
	}
	return u->rbr;
}

static void rx_clear(struct uart_8250 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* The interrupt the IIR reports, in the 16550A's priority order. */
static u8 pending_interrupt(const struct uart_8250 *u)
{
	if ((u->ier & IER_RLSI) && (u->lsr_errors & LSR_ERRORS))
		return IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count) {
		/*
		 * Below the trigger level a real FIFO raises a character
		 * timeout after four idle character times. Host input comes
		 * in bursts, so the line is idle as soon as a burst is in:
		 * the timeout is modelled as already elapsed.
		 */
		if (u->rx_count >= rx_trigger_level(u))
			return IIR_RDI;
		return IIR_RX_TIMEOUT;
	}
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

/*
 * On PCs the UART's interrupt output reaches the PIC only through a buffer
 * enabled by OUT2, and loopback forces OUT2 inactive: Linux's 8250 driver
 * sets OUT2 for exactly this reason.
 */
static void update_irq(struct uart_8250 *u)
{
	bool level = pending_interrupt(u) != IIR_NO_INT &&
		     (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);

	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set_level(u->vm, u->gsi, level);
	}
}

/* Modem status inputs: wired to the outputs in loopback, else connected. */
static void update_modem_inputs(struct uart_8250 *u)
{
	u8 in = MSR_CONNECTED, old = u->msr;

	if (u->mcr & MCR_LOOP) {
		in = 0;
		if (u->mcr & MCR_RTS)
			in |= MSR_CTS;
		if (u->mcr & MCR_DTR)
			in |= MSR_DSR;
		if (u->mcr & MCR_OUT1)
			in |= MSR_RI;
		if (u->mcr & MCR_OUT2)
			in |= MSR_DCD;
	}
	u->msr = (old & MSR_DELTAS) | in;
	if ((old ^ in) & MSR_CTS)
		u->msr |= MSR_DCTS;
	if ((old ^ in) & MSR_DSR)
		u->msr |= MSR_DDSR;
	if ((old & MSR_RI) && !(in & MSR_RI))
		u->msr |= MSR_TERI;
	if ((old ^ in) & MSR_DCD)
		u->msr |= MSR_DDCD;
}

/* Whether the backend should be told that input fits again. */
static bool take_rx_ready(struct uart_8250 *u)
{
	if (!u->rx_blocked || (u->mcr & MCR_LOOP) || u->rx_count >= rx_capacity(u))
		return false;
	u->rx_blocked = false;
	return true;
}

static u8 reg_read(struct uart_8250 *u, unsigned int reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	u8 v;

	switch (reg) {
	case REG_RBR_THR_DLL:
		return dlab ? u->dll : rx_pop(u);
	case REG_IER_DLM:
		return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		v = pending_interrupt(u);
		if (v == IIR_THRI)
			u->thr_ipending = false;
		if (u->fcr & FCR_ENABLE)
			v |= IIR_FIFO_ON;
		return v;
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		/* The transmitter is always empty: output leaves at once. */
		v = LSR_THRE | LSR_TEMT | u->lsr_errors;
		if (u->rx_count)
			v |= LSR_DR;
		u->lsr_errors = 0;
		return v;
	case REG_MSR:
		v = u->msr;
		u->msr &= ~MSR_DELTAS;
		return v;
	default:
		return u->scr;
	}
}

/* Returns true when byte must go out to the backend. */
static bool reg_write(struct uart_8250 *u, unsigned int reg, u8 v)
{
	bool dlab = u->lcr & LCR_DLAB;
	u8 changed;

	switch (reg) {
	case REG_RBR_THR_DLL:
		if (dlab) {
			u->dll = v;
			return false;
		}
		u->thr_ipending = true;	/* the holding register empties at once */
		u->tx_bytes++;
		if (!(u->mcr & MCR_LOOP))
			return true;
		if (!rx_push(u, v)) {
			u->lsr_errors |= LSR_OE;
			u->overruns++;
		}
		return false;
	case REG_IER_DLM:
		if (dlab) {
			u->dlm = v;
			return false;
		}
		changed = (u->ier ^ v) & IER_THRI;
		u->ier = v & IER_MASK;
		/* Enabling THRI with the holding register empty re-raises it. */
		if (changed)
			u->thr_ipending = u->ier & IER_THRI;
		return false;
	case REG_IIR_FCR:
		if ((v ^ u->fcr) & FCR_ENABLE || (v & FCR_CLEAR_RX))
			rx_clear(u);
		u->fcr = (v & FCR_ENABLE) ? (v & FCR_STORED) : 0;
		return false;
	case REG_LCR:
		u->lcr = v;
		return false;
	case REG_MCR:
		u->mcr = v & MCR_MASK;
		update_modem_inputs(u);
		return false;
	case REG_LSR:
	case REG_MSR:
		return false;	/* factory test registers: ignored */
	default:
		u->scr = v;
		return false;
	}
}

static void uart_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct uart_8250 *u = opaque;
	struct uart_backend be;
	bool ready;
	u8 v;

	pthread_mutex_lock(&u->lock);
	v = reg_read(u, offset);
	ready = take_rx_ready(u);
	be = u->be;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	/* Wider accesses read the register in the low byte, zeros above. */
	bus_data_put(data, len, v);
	if (ready && be.rx_ready)
		be.rx_ready(be.opaque);
}

static void uart_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct uart_8250 *u = opaque;
	u8 v = bus_data_get(data, len);
	struct uart_backend be;
	bool send, ready;

	pthread_mutex_lock(&u->lock);
	send = reg_write(u, offset, v);
	ready = take_rx_ready(u);
	be = u->be;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	/*
	 * The backend may block (a full pipe): do it unlocked so that input
	 * from the I/O thread is not held up. The guest serialises its own
	 * THR writes, so bytes still leave in order.
	 */
	if (send && be.tx)
		be.tx(be.opaque, &v, 1);
	if (ready && be.rx_ready)
		be.rx_ready(be.opaque);
}

static const struct bus_device_ops uart_ops = {
	.read = uart_read,
	.write = uart_write,
};

size_t uart_8250_receive(struct uart_8250 *u, const u8 *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	/* In loopback the receiver is cut off from the line: input waits. */
	if (!(u->mcr & MCR_LOOP))
		while (n < len && rx_push(u, buf[n]))
			n++;
	if (n < len)
		u->rx_blocked = true;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

void uart_8250_set_backend(struct uart_8250 *u, const struct uart_backend *be)
{
	pthread_mutex_lock(&u->lock);
	u->be = *be;
	pthread_mutex_unlock(&u->lock);
}

static void uart_report_stats(void *opaque, const struct stats_visitor *v)
{
	struct uart_8250 *u = opaque;
	u64 tx, rx, overruns;

	pthread_mutex_lock(&u->lock);
	tx = u->tx_bytes;
	rx = u->rx_bytes;
	overruns = u->overruns;
	pthread_mutex_unlock(&u->lock);
	stats_emit(v, u->name, "tx_bytes", tx);
	stats_emit(v, u->name, "rx_bytes", rx);
	stats_emit(v, u->name, "rx_overruns", overruns);
}

static void uart_destroy(void *opaque)
{
	struct uart_8250 *u = opaque;

	bus_unregister(&u->vm->pio_bus, u->port);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

/* Snapshot: registers, FIFO and the interrupt state (snapshot/snap_section.h). */
static void uart_save(void *opaque, struct snap_writer *w)
{
	struct uart_8250 *u = opaque;

	pthread_mutex_lock(&u->lock);
	snap_put_bytes(w, u->rx_fifo, sizeof(u->rx_fifo));
	snap_put_u8(w, u->rx_head);
	snap_put_u8(w, u->rx_count);
	snap_put_u8(w, u->rbr);
	snap_put_u8(w, u->ier);
	snap_put_u8(w, u->fcr);
	snap_put_u8(w, u->lcr);
	snap_put_u8(w, u->mcr);
	snap_put_u8(w, u->msr);
	snap_put_u8(w, u->scr);
	snap_put_u8(w, u->dll);
	snap_put_u8(w, u->dlm);
	snap_put_u8(w, u->lsr_errors);
	snap_put_bool(w, u->thr_ipending);
	snap_put_bool(w, u->irq_level);
	pthread_mutex_unlock(&u->lock);
}

static int uart_load(void *opaque, struct snap_reader *r)
{
	struct uart_8250 *u = opaque;
	struct uart_8250 n;

	snap_get_bytes(r, n.rx_fifo, sizeof(n.rx_fifo), "the receive FIFO");
	n.rx_head = snap_get_max(r, 1, UART_8250_FIFO_SIZE - 1, "the FIFO head");
	n.rx_count = snap_get_max(r, 1, UART_8250_FIFO_SIZE, "the FIFO count");
	n.rbr = snap_get_u8(r, "RBR");
	n.ier = snap_get_max(r, 1, IER_MASK, "IER");
	n.fcr = snap_get_u8(r, "FCR");
	n.lcr = snap_get_u8(r, "LCR");
	n.mcr = snap_get_u8(r, "MCR");
	n.msr = snap_get_u8(r, "MSR");
	n.scr = snap_get_u8(r, "SCR");
	n.dll = snap_get_u8(r, "DLL");
	n.dlm = snap_get_u8(r, "DLM");
	n.lsr_errors = snap_get_u8(r, "the line errors");
	n.thr_ipending = snap_get_bool(r, "the THRE interrupt");
	n.irq_level = snap_get_bool(r, "the IRQ line");
	if (snap_reader_failed(r))
		return -1;
	pthread_mutex_lock(&u->lock);
	memcpy(u->rx_fifo, n.rx_fifo, sizeof(u->rx_fifo));
	u->rx_head = n.rx_head;
	u->rx_count = n.rx_count;
	u->rbr = n.rbr;
	u->ier = n.ier;
	u->fcr = n.fcr;
	u->lcr = n.lcr;
	u->mcr = n.mcr;
	u->msr = n.msr;
	u->scr = n.scr;
	u->dll = n.dll;
	u->dlm = n.dlm;
	u->lsr_errors = n.lsr_errors;
	u->thr_ipending = n.thr_ipending;
	u->irq_level = n.irq_level;
	u->rx_blocked = false;	/* a new backend holds nothing back */
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static const struct snap_section_ops uart_snap_ops = { .save = uart_save, .load = uart_load };

struct uart_8250 *uart_8250_create(struct vm *vm, u16 port, u32 gsi, const char *name)
{
	struct uart_8250 *u = calloc(1, sizeof(*u));
	struct vm_device dev;

	if (!u)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	u->vm = vm;
	u->name = name;
	u->port = port;
	u->gsi = gsi;
	u->msr = MSR_CONNECTED;
	u->dll = 0x0c;		/* 9600 baud, as a BIOS leaves it */
	if (bus_register(&vm->pio_bus, port, UART_8250_NR_PORTS, &uart_ops, u, name)) {
		pr_err("%s: ports 0x%x-0x%x are taken", name, port, port + UART_8250_NR_PORTS - 1);
		goto fail;
	}
	dev = (struct vm_device){
		.name = name, .opaque = u, .destroy = uart_destroy,
		.report_stats = uart_report_stats,
	};
	if (vm_add_device(vm, &dev)) {
		bus_unregister(&vm->pio_bus, port);
		goto fail;
	}
	if (snap_register(vm, name, &uart_snap_ops, u))
		return NULL;	/* the VM's teardown frees u */
	return u;
fail:
	pthread_mutex_destroy(&u->lock);
	free(u);
	return NULL;
}
