// SPDX-License-Identifier: Apache-2.0
/*
 * The soft interrupt controllers in a snapshot: the clock, each LAPIC
 * (timer and kvmclock included), the IOAPIC, the PIC pair and the PIT.
 *
 * Times in these chips are absolute host CLOCK_MONOTONIC ns, which mean
 * nothing in another process or after a reboot. The file holds them as
 * guest time (ns since the chip's clock started); a restore starts the
 * clock so that guest time continues from the snapshot's, and converts
 * back. TSCs and timers thus go on from where they were, as if the VM had
 * been paused for the time it spent in the file.
 */
#include <stdio.h>
#include <string.h>

#include "engine/soft/irqchip/chip.h"
#include "engine/soft/soft_snapshot.h"
#include "machine/vm.h"
#include "mem/guest_mem.h"
#include "snapshot/snap_section.h"

static void put_time(struct snap_writer *w, const struct soft_irqchip *chip, u64 t)
{
	snap_put_u64(w, t == SOFT_TIME_NEVER ? t : t - chip->clock.start_ns);
}

static u64 get_time(struct snap_reader *r, const struct soft_irqchip *chip, const char *what)
{
	u64 t = snap_get_u64(r, what);

	return t == SOFT_TIME_NEVER ? t : t + chip->clock.start_ns;
}

static void put_u32s(struct snap_writer *w, const u32 *v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		snap_put_u32(w, __atomic_load_n(&v[i], __ATOMIC_RELAXED));
}

static void get_u32s(struct snap_reader *r, u32 *v, unsigned int n, const char *what)
{
	for (unsigned int i = 0; i < n; i++)
		v[i] = snap_get_u32(r, what);
}

/* ---- the clock: guest time now ---- */

static void clock_save(void *opaque, struct snap_writer *w)
{
	struct soft_irqchip *chip = opaque;

	snap_put_u64(w, soft_clock_guest_ns(&chip->clock, chip_now(chip)));
}

static int clock_load(void *opaque, struct snap_reader *r)
{
	struct soft_irqchip *chip = opaque;
	u64 guest_ns = snap_get_u64(r, "guest time");
	u64 now = chip_now(chip);

	if (snap_reader_failed(r))
		return -1;
	if (guest_ns > now)
		return snap_fail(r, "guest time %llu ns is ahead of this host's clock",
				 (unsigned long long)guest_ns);
	chip->clock.start_ns = now - guest_ns;
	return 0;
}

static const struct snap_section_ops clock_snap_ops = { .save = clock_save, .load = clock_load };

/* ---- LAPIC ---- */

static void lapic_save(void *opaque, struct snap_writer *w)
{
	struct lapic *l = opaque;
	const struct soft_irqchip *chip = l->chip;
	const struct lapic_timer *t = &l->timer;

	snap_put_u32(w, lapic_load(&l->id));
	snap_put_u32(w, lapic_load(&l->ldr));
	snap_put_u32(w, lapic_load(&l->dfr));
	snap_put_u32(w, lapic_load(&l->svr));
	put_u32s(w, l->lvt, NR_LVT);
	snap_put_u64(w, lapic_load(&l->apic_base));
	snap_put_u32(w, lapic_load(&l->ppr));
	put_u32s(w, l->irr, 8);
	put_u32s(w, l->tmr, 8);
	snap_put_u32(w, __atomic_load_n(&l->events, __ATOMIC_RELAXED));
	snap_put_u8(w, l->sipi_vector);
	snap_put_u32(w, __atomic_load_n(&l->esr_pending, __ATOMIC_RELAXED));
	put_u32s(w, l->isr, 8);
	snap_put_u32(w, l->tpr);
	snap_put_u32(w, l->esr);
	snap_put_u32(w, l->icr_lo);
	snap_put_u32(w, l->icr_hi);
	snap_put_u32(w, t->initial);
	snap_put_u32(w, t->divide_reg);
	snap_put_u32(w, t->divide);
	put_time(w, chip, t->start_ns);
	snap_put_u64(w, t->period_ns);
	put_time(w, chip, t->deadline_ns);
	snap_put_u64(w, t->tsc_deadline);
	snap_put_u64(w, l->tsc_offset);
	snap_put_u64(w, l->wall_clock_msr);
	snap_put_u64(w, l->kvmclock.msr);
	snap_put_u64(w, l->kvmclock.gpa);
	snap_put_bool(w, l->kvmclock.enabled);
	snap_put_u32(w, l->kvmclock.version);
	snap_put_u32(w, __atomic_load_n(&l->nmis, __ATOMIC_RELAXED));
}

static int lapic_load_section(void *opaque, struct snap_reader *r)
{
	struct lapic *l = opaque;
	struct lapic n = *l;
	struct lapic_timer *t = &n.timer;

	n.id = snap_get_u32(r, "the APIC ID");
	n.ldr = snap_get_u32(r, "LDR");
	n.dfr = snap_get_u32(r, "DFR");
	n.svr = snap_get_u32(r, "SVR");
	get_u32s(r, n.lvt, NR_LVT, "an LVT entry");
	n.apic_base = snap_get_u64(r, "APIC_BASE");
	n.ppr = snap_get_max(r, 4, 0xff, "PPR");
	get_u32s(r, n.irr, 8, "IRR");
	get_u32s(r, n.tmr, 8, "TMR");
	n.events = snap_get_u32(r, "pending events");
	n.sipi_vector = snap_get_u8(r, "the SIPI vector");
	n.esr_pending = snap_get_u32(r, "ESR");
	get_u32s(r, n.isr, 8, "ISR");
	n.tpr = snap_get_max(r, 4, 0xff, "TPR");
	n.esr = snap_get_u32(r, "ESR");
	n.icr_lo = snap_get_u32(r, "ICR");
	n.icr_hi = snap_get_u32(r, "ICR");
	t->initial = snap_get_u32(r, "the timer's initial count");
	t->divide_reg = snap_get_max(r, 4, 0xf, "the timer's divide register");
	t->divide = snap_get_max(r, 4, 128, "the timer's divider");
	t->start_ns = get_time(r, l->chip, "the timer's start");
	t->period_ns = snap_get_u64(r, "the timer's period");
	t->deadline_ns = get_time(r, l->chip, "the timer's deadline");
	t->tsc_deadline = snap_get_u64(r, "TSC_DEADLINE");
	n.tsc_offset = snap_get_u64(r, "the TSC offset");
	n.wall_clock_msr = snap_get_u64(r, "the wall-clock MSR");
	n.kvmclock.msr = snap_get_u64(r, "the kvmclock MSR");
	n.kvmclock.gpa = snap_get_u64(r, "the kvmclock address");
	n.kvmclock.enabled = snap_get_bool(r, "kvmclock enabled");
	n.kvmclock.version = snap_get_u32(r, "the kvmclock version");
	n.nmis = snap_get_max(r, 4, LAPIC_MAX_NMIS, "the count of queued NMIs");
	if (snap_reader_failed(r))
		return -1;
	if (!t->divide || (t->divide & (t->divide - 1)))
		return snap_fail(r, "the timer's divider %u is not a power of two", t->divide);
	/*
	 * An armed periodic timer divides by its period (lapic_timer_update);
	 * one-shot and TSC-deadline timers do not use it.
	 */
	if (t->deadline_ns != SOFT_TIME_NEVER &&
	    ((n.lvt[LVT_TIMER] >> APIC_TIMER_MODE_SHIFT) & 3) == APIC_TIMER_PERIODIC &&
	    (!t->period_ns || t->period_ns > (u64)UINT32_MAX * 128))
		return snap_fail(r, "the armed timer's period %llu ns is impossible",
				 (unsigned long long)t->period_ns);
	if (n.events & ~(LAPIC_EV_NMI | LAPIC_EV_INIT | LAPIC_EV_SIPI | LAPIC_EV_EXTINT))
		return snap_fail(r, "unknown pending events %#x", n.events);
	/*
	 * The count goes up before the event bit is set (lapic_queue_nmi()),
	 * so a device thread sending an NMI as the state is saved can leave a
	 * count without its bit: the bit follows the count.
	 */
	if (n.nmis)
		n.events |= LAPIC_EV_NMI;
	if (n.kvmclock.enabled &&
	    !gpa_range_is_ram(l->chip->mem, n.kvmclock.gpa,
			      sizeof(struct pvclock_vcpu_time_info)))
		return snap_fail(r, "kvmclock's area %#llx is not guest RAM",
				 (unsigned long long)n.kvmclock.gpa);
	*l = n;
	return 0;
}

/* Whatever came pending with the file wakes the vCPU when it starts. */
static void lapic_post_load(void *opaque)
{
	struct lapic *l = opaque;

	if (l->kick)
		l->kick(l->kick_opaque);
}

static const struct snap_section_ops lapic_snap_ops = {
	.save = lapic_save,
	.load = lapic_load_section,
	.post_load = lapic_post_load,
};

/* ---- IOAPIC ---- */

static void ioapic_save(void *opaque, struct snap_writer *w)
{
	struct ioapic *io = opaque;

	pthread_mutex_lock(&io->lock);
	snap_put_u32(w, io->ioregsel);
	snap_put_u32(w, io->id);
	for (unsigned int i = 0; i < IOAPIC_NR_PINS; i++)
		snap_put_u64(w, io->redir[i]);
	snap_put_u32(w, io->level);
	snap_put_u32(w, io->pending);
	pthread_mutex_unlock(&io->lock);
}

static int ioapic_load(void *opaque, struct snap_reader *r)
{
	struct ioapic *io = opaque;
	u64 redir[IOAPIC_NR_PINS];
	u32 sel, id, level, pending;

	sel = snap_get_max(r, 4, 0xff, "IOREGSEL");
	id = snap_get_u32(r, "the IOAPIC ID");
	for (unsigned int i = 0; i < IOAPIC_NR_PINS; i++)
		redir[i] = snap_get_u64(r, "a redirection entry");
	level = snap_get_max(r, 4, (1u << IOAPIC_NR_PINS) - 1, "the pin levels");
	pending = snap_get_max(r, 4, (1u << IOAPIC_NR_PINS) - 1, "the pending pins");
	if (snap_reader_failed(r))
		return -1;
	pthread_mutex_lock(&io->lock);
	io->ioregsel = sel;
	io->id = id;
	memcpy(io->redir, redir, sizeof(redir));
	io->level = level;
	io->pending = pending;
	pthread_mutex_unlock(&io->lock);
	return 0;
}

static const struct snap_section_ops ioapic_snap_ops = { .save = ioapic_save, .load = ioapic_load };

/* ---- PIC pair ---- */

static void i8259_save(struct snap_writer *w, const struct i8259 *c)
{
	snap_put_u8(w, c->irr);
	snap_put_u8(w, c->imr);
	snap_put_u8(w, c->isr);
	snap_put_u8(w, c->lines);
	snap_put_u8(w, c->elcr);
	snap_put_u8(w, c->elcr_mask);
	snap_put_u8(w, c->lowest_prio);
	snap_put_u8(w, c->vector_base);
	snap_put_u8(w, c->init_step);
	snap_put_bool(w, c->need_icw4);
	snap_put_bool(w, c->single);
	snap_put_bool(w, c->auto_eoi);
	snap_put_bool(w, c->rotate_on_auto_eoi);
	snap_put_bool(w, c->special_fully_nested);
	snap_put_bool(w, c->special_mask);
	snap_put_bool(w, c->read_isr);
	snap_put_bool(w, c->poll);
}

static void i8259_load(struct snap_reader *r, struct i8259 *c)
{
	c->irr = snap_get_u8(r, "IRR");
	c->imr = snap_get_u8(r, "IMR");
	c->isr = snap_get_u8(r, "ISR");
	c->lines = snap_get_u8(r, "the input lines");
	c->elcr = snap_get_u8(r, "ELCR");
	c->elcr_mask = snap_get_u8(r, "the ELCR mask");
	c->lowest_prio = snap_get_max(r, 1, 7, "the lowest priority");
	c->vector_base = snap_get_u8(r, "the vector base");
	c->init_step = snap_get_max(r, 1, 4, "the initialization step");
	c->need_icw4 = snap_get_bool(r, "ICW4");
	c->single = snap_get_bool(r, "single mode");
	c->auto_eoi = snap_get_bool(r, "auto EOI");
	c->rotate_on_auto_eoi = snap_get_bool(r, "rotation");
	c->special_fully_nested = snap_get_bool(r, "special fully nested mode");
	c->special_mask = snap_get_bool(r, "special mask mode");
	c->read_isr = snap_get_bool(r, "read ISR");
	c->poll = snap_get_bool(r, "poll");
}

static void pic_save(void *opaque, struct snap_writer *w)
{
	struct pic *pic = opaque;

	pthread_mutex_lock(&pic->lock);
	i8259_save(w, &pic->chips[0]);
	i8259_save(w, &pic->chips[1]);
	snap_put_bool(w, pic_output(pic));
	pthread_mutex_unlock(&pic->lock);
}

static int pic_load(void *opaque, struct snap_reader *r)
{
	struct pic *pic = opaque;
	struct i8259 c[2];
	bool out;

	i8259_load(r, &c[0]);
	i8259_load(r, &c[1]);
	out = snap_get_bool(r, "INTR");
	if (snap_reader_failed(r))
		return -1;
	pthread_mutex_lock(&pic->lock);
	memcpy(pic->chips, c, sizeof(c));
	__atomic_store_n(&pic->output, out, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&pic->lock);
	return 0;
}

static const struct snap_section_ops pic_snap_ops = { .save = pic_save, .load = pic_load };

/* ---- PIT ---- */

static void pit_save(void *opaque, struct snap_writer *w)
{
	struct pit *pit = opaque;
	const struct soft_irqchip *chip = pit->chip;

	pthread_mutex_lock(&pit->lock);
	for (unsigned int i = 0; i < 3; i++) {
		const struct pit_channel *c = &pit->ch[i];

		snap_put_u8(w, c->mode);
		snap_put_u8(w, c->access);
		snap_put_bool(w, c->bcd);
		snap_put_bool(w, c->loaded);
		snap_put_bool(w, c->gate);
		snap_put_u32(w, c->count);
		put_time(w, chip, c->load_ns);
		snap_put_u64(w, c->frozen_ticks);
		snap_put_bool(w, c->count_latched);
		snap_put_u16(w, c->latch);
		snap_put_bool(w, c->status_latched);
		snap_put_u8(w, c->status);
		snap_put_bool(w, c->read_hi);
		snap_put_bool(w, c->write_hi);
		snap_put_u8(w, c->write_lo);
		snap_put_u64(w, c->edges_done);
	}
	snap_put_u8(w, pit->port61);
	put_time(w, chip, pit_next_deadline(pit));
	pthread_mutex_unlock(&pit->lock);
}

static int pit_load(void *opaque, struct snap_reader *r)
{
	struct pit *pit = opaque;
	struct pit_channel ch[3];
	u64 deadline;
	u8 port61;

	for (unsigned int i = 0; i < 3; i++) {
		struct pit_channel *c = &ch[i];

		c->mode = snap_get_max(r, 1, 5, "a PIT mode");
		c->access = snap_get_max(r, 1, 3, "a PIT access mode");
		c->bcd = snap_get_bool(r, "BCD");
		c->loaded = snap_get_bool(r, "loaded");
		c->gate = snap_get_bool(r, "a gate");
		c->count = snap_get_max(r, 4, 0x10000, "a PIT count");
		c->load_ns = get_time(r, pit->chip, "a PIT load time");
		c->frozen_ticks = snap_get_u64(r, "a held PIT count");
		c->count_latched = snap_get_bool(r, "a count latch");
		c->latch = snap_get_u16(r, "a latched count");
		c->status_latched = snap_get_bool(r, "a status latch");
		c->status = snap_get_u8(r, "a latched status");
		c->read_hi = snap_get_bool(r, "the read flip-flop");
		c->write_hi = snap_get_bool(r, "the write flip-flop");
		c->write_lo = snap_get_u8(r, "a half-written count");
		c->edges_done = snap_get_u64(r, "the edges delivered");
		/* pit_load's invariants: the count divides, modes 2 and 3 need 2. */
		if (c->loaded && c->count < ((c->mode == 2 || c->mode == 3) ? 2 : 1))
			snap_fail(r, "a loaded PIT channel in mode %u has count %u", c->mode, c->count);
	}
	port61 = snap_get_max(r, 1, 0xf, "port 0x61");
	deadline = get_time(r, pit->chip, "the PIT deadline");
	if (snap_reader_failed(r))
		return -1;
	pthread_mutex_lock(&pit->lock);
	memcpy(pit->ch, ch, sizeof(ch));
	pit->port61 = port61;
	__atomic_store_n(&pit->deadline, deadline, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&pit->lock);
	return 0;
}

static const struct snap_section_ops pit_snap_ops = { .save = pit_save, .load = pit_load };

int soft_irqchip_snapshot_register(struct vm *vm, struct soft_irqchip *chip)
{
	if (snap_register(vm, "soft-clock", &clock_snap_ops, chip))
		return -1;
	for (unsigned int i = 0; i < chip->nr_cpus; i++) {
		char name[SNAP_NAME_MAX];

		snprintf(name, sizeof(name), "lapic%u", i);
		if (snap_register(vm, name, &lapic_snap_ops, &chip->lapics[i]))
			return -1;
	}
	if (snap_register(vm, "ioapic", &ioapic_snap_ops, &chip->ioapic) ||
	    snap_register(vm, "pic", &pic_snap_ops, &chip->pic) ||
	    snap_register(vm, "pit", &pit_snap_ops, &chip->pit))
		return -1;
	return 0;
}
