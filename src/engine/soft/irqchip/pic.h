/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_SOFT_IRQCHIP_PIC_H
#define KILN_ENGINE_SOFT_IRQCHIP_PIC_H

#include <pthread.h>

#include "bus/bus.h"
#include "lib/types.h"

struct soft_irqchip;

/*
 * The two cascaded 8259As of a PC (master at 0x20, slave at 0xa0 on the
 * master's IRQ2) and the ELCR at 0x4d0/0x4d1, which makes single lines
 * level-triggered. The master's INTR output reaches the LAPICs' LINT0
 * (ExtINT) and the vector comes from pic_intack(), the INTA cycle.
 */

#define PIC_PORT_ELCR		0x4d0
#define PIC_CASCADE_IRQ		2

struct i8259 {
	u8 irr;			/* requests */
	u8 imr;			/* masks */
	u8 isr;			/* in service */
	u8 lines;		/* input levels, for edge detection */
	u8 elcr;		/* 1 = level-triggered */
	u8 elcr_mask;		/* lines that may be level-triggered */
	u8 lowest_prio;		/* rotation: the IRQ with the lowest priority */
	u8 vector_base;		/* ICW2 */
	u8 init_step;		/* 0 = ready, else the ICW expected next */
	bool need_icw4;
	bool single;		/* ICW1 SNGL: no cascade */
	bool auto_eoi;
	bool rotate_on_auto_eoi;
	bool special_fully_nested;
	bool special_mask;
	bool read_isr;		/* OCW3: command port reads ISR, not IRR */
	bool poll;		/* OCW3: the next read is a poll */
};

struct pic {
	pthread_mutex_t lock;
	struct soft_irqchip *chip;
	struct i8259 chips[2];	/* master, slave */
	bool output;		/* master INTR; atomic */
};

extern const struct bus_device_ops pic_master_ops;
extern const struct bus_device_ops pic_slave_ops;
extern const struct bus_device_ops pic_elcr_ops;

void pic_init(struct pic *pic, struct soft_irqchip *chip);
void pic_destroy(struct pic *pic);
/* irq 0-15; 2 is the cascade and is ignored. */
void pic_set_irq(struct pic *pic, unsigned int irq, bool level);

/* Any thread: the master's INTR line. */
static inline bool pic_output(struct pic *pic)
{
	return __atomic_load_n(&pic->output, __ATOMIC_ACQUIRE);
}

/* The INTA cycle: the vector for the highest request (IRQ7's if none). */
u8 pic_intack(struct pic *pic);

#endif
