// SPDX-License-Identifier: Apache-2.0
/* The 8259A PIC pair and the ELCR. */
#include "engine/soft/irqchip/pic.h"

#include "engine/soft/irqchip/chip.h"
#include "lib/log.h"

#define MASTER 0
#define SLAVE 1

#define ICW1		0x10	/* command-port bit: start of initialisation */
#define ICW1_IC4	0x01
#define ICW1_SNGL	0x02
#define OCW3		0x08	/* command-port bit, without ICW1: OCW3 */
#define OCW3_POLL	0x04
#define OCW3_RR		0x02	/* read register: bit 0 picks ISR or IRR */
#define OCW3_ESMM	0x40	/* special mask: bit 5 sets or clears it */
#define ICW4_8086	0x01
#define ICW4_AEOI	0x02
#define ICW4_SFNM	0x10

/* Lines that cannot be level-triggered: timer, keyboard, cascade; RTC, FPU. */
#define ELCR_MASK_MASTER 0xf8
#define ELCR_MASK_SLAVE 0xde

/* 0 for the highest priority; lowest_prio has rank 7. */
static unsigned int prio_rank(const struct i8259 *c, unsigned int irq)
{
	return (irq - c->lowest_prio - 1) & 7;
}

/* The highest-priority IRQ among bits, or -1. */
static int highest(const struct i8259 *c, u8 bits)
{
	for (unsigned int k = 1; k <= 8; k++) {
		unsigned int irq = (c->lowest_prio + k) & 7;

		if (bits & (1U << irq))
			return irq;
	}
	return -1;
}

/* The IRQ this 8259 raises INT for, or -1: unmasked and above all in service. */
static int i8259_pending(const struct i8259 *c, bool master)
{
	u8 in_service = c->isr;
	int irq = highest(c, c->irr & ~c->imr);
	int cur;

	if (irq < 0)
		return -1;
	/* Special mask mode lets masked in-service levels stop blocking. */
	if (c->special_mask)
		in_service &= ~c->imr;
	/* Fully nested: a slave request may interrupt one in service there. */
	if (master && c->special_fully_nested)
		in_service &= ~(1U << PIC_CASCADE_IRQ);
	cur = highest(c, in_service);
	if (cur >= 0 && prio_rank(c, irq) >= prio_rank(c, cur))
		return -1;
	return irq;
}

static void i8259_set_line(struct i8259 *c, unsigned int irq, bool level)
{
	u8 bit = 1U << irq;

	if (c->elcr & bit) {
		/* Level: the request follows the line. */
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit;	/* edge: latched on the rising edge */
	}
	if (level)
		c->lines |= bit;
	else
		c->lines &= ~bit;
}

/* The INTA cycle on one 8259 for irq. */
static void i8259_ack(struct i8259 *c, unsigned int irq)
{
	u8 bit = 1U << irq;

	if (!(c->elcr & bit))
		c->irr &= ~bit;
	if (c->auto_eoi) {
		if (c->rotate_on_auto_eoi)
			c->lowest_prio = irq;
	} else {
		c->isr |= bit;
	}
}

/*
 * Propagates the slave's INT to the master's IRQ2 and recomputes the
 * master's INTR. Returns true when INTR rose. Lock held.
 */
static bool pic_update(struct pic *pic)
{
	struct i8259 *m = &pic->chips[MASTER];
	bool old = pic->output, out;

	if (!m->single) {
		if (i8259_pending(&pic->chips[SLAVE], false) >= 0)
			m->irr |= 1U << PIC_CASCADE_IRQ;
		else
			m->irr &= ~(1U << PIC_CASCADE_IRQ);
	}
	out = i8259_pending(m, true) >= 0;
	__atomic_store_n(&pic->output, out, __ATOMIC_RELEASE);
	return out && !old;
}

static void pic_unlock(struct pic *pic, bool rose)
{
	pthread_mutex_unlock(&pic->lock);
	if (rose)
		chip_extint_notify(pic->chip);
}

void pic_set_irq(struct pic *pic, unsigned int irq, bool level)
{
	bool rose;

	if (irq >= 16 || irq == PIC_CASCADE_IRQ)
		return;
	pthread_mutex_lock(&pic->lock);
	i8259_set_line(&pic->chips[irq >> 3], irq & 7, level);
	rose = pic_update(pic);
	pic_unlock(pic, rose);
}

u8 pic_intack(struct pic *pic)
{
	struct i8259 *m = &pic->chips[MASTER], *s = &pic->chips[SLAVE];
	int irq, sirq;
	u8 vector;
	bool rose;

	pthread_mutex_lock(&pic->lock);
	irq = i8259_pending(m, true);
	if (irq < 0) {
		/* The request went away before INTA: a spurious IRQ7. */
		vector = m->vector_base + 7;
	} else {
		i8259_ack(m, irq);
		if (irq == PIC_CASCADE_IRQ && !m->single) {
			sirq = i8259_pending(s, false);
			if (sirq < 0) {
				vector = s->vector_base + 7;
			} else {
				i8259_ack(s, sirq);
				vector = s->vector_base + sirq;
			}
		} else {
			vector = m->vector_base + irq;
		}
	}
	rose = pic_update(pic);
	pic_unlock(pic, rose);
	return vector;
}

static void i8259_icw1(struct i8259 *c, u8 val)
{
	/*
	 * Initialisation clears the masks, the in-service bits and the edge
	 * latches (a line must rise again), and restores default priority.
	 */
	c->need_icw4 = val & ICW1_IC4;
	c->single = val & ICW1_SNGL;
	c->imr = 0;
	c->isr = 0;
	c->irr = c->lines & c->elcr;
	c->lowest_prio = 7;
	c->special_mask = false;
	c->special_fully_nested = false;
	c->auto_eoi = false;
	c->rotate_on_auto_eoi = false;
	c->read_isr = false;
	c->poll = false;
	c->init_step = 2;
}

static void i8259_ocw2(struct i8259 *c, u8 val)
{
	unsigned int irq = val & 7;
	int cur;

	switch (val >> 5) {
	case 0:			/* rotate in auto-EOI: clear */
	case 4:			/* set */
		c->rotate_on_auto_eoi = val >> 7;
		break;
	case 1:			/* non-specific EOI */
	case 5:			/* ... and rotate */
		cur = highest(c, c->isr);
		if (cur < 0)
			break;
		c->isr &= ~(1U << cur);
		if (val >> 7)
			c->lowest_prio = cur;
		break;
	case 3:			/* specific EOI */
		c->isr &= ~(1U << irq);
		break;
	case 7:			/* specific EOI and rotate */
		c->isr &= ~(1U << irq);
		c->lowest_prio = irq;
		break;
	case 6:			/* set priority */
		c->lowest_prio = irq;
		break;
	default:		/* 2: no operation */
		break;
	}
}

static void i8259_ocw3(struct i8259 *c, u8 val)
{
	if (val & OCW3_POLL)
		c->poll = true;
	if (val & OCW3_RR)
		c->read_isr = val & 1;
	if (val & OCW3_ESMM)
		c->special_mask = (val >> 5) & 1;
}

static void i8259_write_data(struct i8259 *c, u8 val)
{
	switch (c->init_step) {
	case 2:			/* ICW2: vector base */
		c->vector_base = val & 0xf8;
		c->init_step = !c->single ? 3 : c->need_icw4 ? 4 : 0;
		break;
	case 3:			/* ICW3: cascade wiring, fixed on a PC */
		c->init_step = c->need_icw4 ? 4 : 0;
		break;
	case 4:			/* ICW4 */
		if (!(val & ICW4_8086))
			pr_warn_once("pic: ICW4 without 8086 mode is not supported");
		c->auto_eoi = val & ICW4_AEOI;
		c->special_fully_nested = val & ICW4_SFNM;
		c->init_step = 0;
		break;
	default:		/* OCW1: the mask */
		c->imr = val;
		break;
	}
}

/* A poll: the highest request, acknowledged as by INTA, or 0. */
static u8 i8259_poll(struct i8259 *c, bool master)
{
	int irq = i8259_pending(c, master);

	c->poll = false;
	if (irq < 0)
		return 0;
	i8259_ack(c, irq);
	return 0x80 | irq;
}

static void pic_read(struct pic *pic, unsigned int which, u64 offset, void *data,
		     unsigned int len)
{
	struct i8259 *c = &pic->chips[which];
	u8 v;
	bool rose = false;

	pthread_mutex_lock(&pic->lock);
	if (c->poll) {
		v = i8259_poll(c, which == MASTER);
		rose = pic_update(pic);
	} else if (offset == 0) {
		v = c->read_isr ? c->isr : c->irr;
	} else {
		v = c->imr;
	}
	pic_unlock(pic, rose);
	bus_data_put(data, len, v);
}

static void pic_write(struct pic *pic, unsigned int which, u64 offset, const void *data,
		      unsigned int len)
{
	struct i8259 *c = &pic->chips[which];
	u8 v = (u8)bus_data_get(data, len);
	bool rose;

	pthread_mutex_lock(&pic->lock);
	if (offset == 1)
		i8259_write_data(c, v);
	else if (v & ICW1)
		i8259_icw1(c, v);
	else if (v & OCW3)
		i8259_ocw3(c, v);
	else
		i8259_ocw2(c, v);
	rose = pic_update(pic);
	pic_unlock(pic, rose);
}

static void pic_master_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	pic_read(opaque, MASTER, offset, data, len);
}

static void pic_master_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	pic_write(opaque, MASTER, offset, data, len);
}

static void pic_slave_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	pic_read(opaque, SLAVE, offset, data, len);
}

static void pic_slave_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	pic_write(opaque, SLAVE, offset, data, len);
}

const struct bus_device_ops pic_master_ops = {
	.read = pic_master_read,
	.write = pic_master_write,
};

const struct bus_device_ops pic_slave_ops = {
	.read = pic_slave_read,
	.write = pic_slave_write,
};

/* ELCR: 0x4d0 for IRQs 0-7, 0x4d1 for 8-15; a 16-bit access covers both. */
static void elcr_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct pic *pic = opaque;
	u64 v = 0;

	pthread_mutex_lock(&pic->lock);
	for (unsigned int i = 0; i < len && offset + i < 2; i++)
		v |= (u64)pic->chips[offset + i].elcr << (8 * i);
	pthread_mutex_unlock(&pic->lock);
	bus_data_put(data, len, v);
}

static void elcr_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct pic *pic = opaque;
	u64 v = bus_data_get(data, len);
	bool rose;

	pthread_mutex_lock(&pic->lock);
	for (unsigned int i = 0; i < len && offset + i < 2; i++) {
		struct i8259 *c = &pic->chips[offset + i];

		c->elcr = (v >> (8 * i)) & c->elcr_mask;
		/* Lines now level-triggered request exactly while high. */
		c->irr = (c->irr & ~c->elcr) | (c->lines & c->elcr);
	}
	rose = pic_update(pic);
	pic_unlock(pic, rose);
}

const struct bus_device_ops pic_elcr_ops = {
	.read = elcr_read,
	.write = elcr_write,
};

void pic_init(struct pic *pic, struct soft_irqchip *chip)
{
	pthread_mutex_init(&pic->lock, NULL);
	pic->chip = chip;
	pic->output = false;
	for (unsigned int i = 0; i < 2; i++) {
		struct i8259 *c = &pic->chips[i];

		*c = (struct i8259){ .lowest_prio = 7 };
		/* Masked until the guest programs it, as firmware leaves it. */
		c->imr = 0xff;
	}
	pic->chips[MASTER].elcr_mask = ELCR_MASK_MASTER;
	pic->chips[SLAVE].elcr_mask = ELCR_MASK_SLAVE;
}

void pic_destroy(struct pic *pic)
{
	pthread_mutex_destroy(&pic->lock);
}
