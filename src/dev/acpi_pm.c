// SPDX-License-Identifier: Apache-2.0
#include "dev/acpi_pm.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "bus/bus.h"
#include "lib/log.h"
#include "machine/irq.h"
#include "machine/layout.h"
#include "machine/vm.h"
#include "snapshot/snap_section.h"

/* Byte offsets in the block. */
#define OFF_STS		0
#define OFF_EN		2
#define OFF_CNT		4
#define OFF_TMR		8

#define STS_TMR		(1U << 0)
#define STS_GBL		(1U << 5)
#define STS_PWRBTN	(1U << 8)
#define STS_SLPBTN	(1U << 9)
#define STS_RTC		(1U << 10)
#define STS_WAK		(1U << 15)
#define EN_WRITABLE	(STS_TMR | STS_GBL | STS_PWRBTN | STS_SLPBTN | STS_RTC)

#define CNT_SCI_EN	(1U << 0)
#define CNT_BM_RLD	(1U << 1)
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_TYP	(7U << CNT_SLP_TYP_SHIFT)
#define CNT_SLP_EN	(1U << 13)
#define CNT_STORED	(CNT_BM_RLD | CNT_SLP_TYP)

struct acpi_pm {
	pthread_mutex_t lock;
	struct vm *vm;
	u16 sts, en, cnt;
	struct timespec epoch;	/* PM_TMR counts from here */
	bool sci_level;
};

static u32 timer_value(const struct acpi_pm *pm)
{
	struct timespec now;
	u64 ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (u64)(now.tv_sec - pm->epoch.tv_sec) * 1000000000ULL +
	     (u64)now.tv_nsec - (u64)pm->epoch.tv_nsec;
	return (u32)((unsigned __int128)ns * ACPI_PM_TIMER_HZ / 1000000000ULL);
}

static void update_sci(struct acpi_pm *pm)
{
	bool level = pm->sts & pm->en & EN_WRITABLE;

	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_set_level(pm->vm, GSI_ACPI_SCI, level);
	}
}

static u8 byte_of(u32 v, unsigned int i)
{
	return v >> (8 * i);
}

static void pm_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct acpi_pm *pm = opaque;
	u8 *out = data;
	u32 tmr = 0;

	pthread_mutex_lock(&pm->lock);
	if (offset + len > OFF_TMR)
		tmr = timer_value(pm);	/* one sample for the whole access */
	for (unsigned int i = 0; i < len; i++) {
		u64 off = offset + i;

		if (off < OFF_EN)
			out[i] = byte_of(pm->sts, off - OFF_STS);
		else if (off < OFF_CNT)
			out[i] = byte_of(pm->en, off - OFF_EN);
		else if (off < OFF_CNT + 2)
			out[i] = byte_of(pm->cnt | CNT_SCI_EN, off - OFF_CNT);
		else if (off >= OFF_TMR)
			out[i] = byte_of(tmr, off - OFF_TMR);
		else
			out[i] = 0;
	}
	pthread_mutex_unlock(&pm->lock);
}

/* Applies one written byte; returns true when it puts the machine in S5. */
static bool write_byte(struct acpi_pm *pm, unsigned int off, u8 v)
{
	unsigned int shift = 8 * (off & 1);
	u16 bits = (u16)v << shift, mask = 0xff << shift;
	u16 typ;

	switch (off & ~1U) {
	case OFF_STS:
		pm->sts &= ~bits;	/* write 1 to clear */
		return false;
	case OFF_EN:
		pm->en = (pm->en & ~mask) | (bits & EN_WRITABLE);
		return false;
	case OFF_CNT:
		pm->cnt = (pm->cnt & ~mask) | (bits & CNT_STORED);
		if (!(bits & CNT_SLP_EN))
			return false;
		typ = (pm->cnt & CNT_SLP_TYP) >> CNT_SLP_TYP_SHIFT;
		if (typ == ACPI_SLP_TYP_S5)
			return true;
		pr_warn_once("acpi-pm: sleep type %u is not supported; ignored", typ);
		return false;
	default:
		return false;	/* PM_TMR and the gap are read-only */
	}
}

static void pm_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct acpi_pm *pm = opaque;
	const u8 *in = data;
	bool poweroff = false;

	pthread_mutex_lock(&pm->lock);
	for (unsigned int i = 0; i < len; i++)
		poweroff |= write_byte(pm, offset + i, in[i]);
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	if (poweroff) {
		pr_info("acpi-pm: the guest entered S5: powering off");
		vm_request_stop(pm->vm, VM_STOP_POWEROFF, 0);
	}
}

static const struct bus_device_ops pm_ops = {
	.read = pm_read,
	.write = pm_write,
};

static void acpi_pm_destroy(void *opaque)
{
	struct acpi_pm *pm = opaque;

	bus_unregister(&pm->vm->pio_bus, PORT_ACPI_PM_BASE);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

int acpi_pm_press_power_button(struct vm *vm)
{
	struct acpi_pm *pm = vm_find_device(vm, acpi_pm_destroy);

	if (!pm)
		return -1;
	pthread_mutex_lock(&pm->lock);
	pm->sts |= STS_PWRBTN;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

/*
 * Snapshot: the registers, and PM_TMR as the time it has counted, so that
 * the timer goes on from its value rather than jumping.
 */
static u64 ns_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (u64)(now.tv_sec - t->tv_sec) * 1000000000ULL + (u64)now.tv_nsec - (u64)t->tv_nsec;
}

static void pm_save(void *opaque, struct snap_writer *w)
{
	struct acpi_pm *pm = opaque;

	pthread_mutex_lock(&pm->lock);
	snap_put_u16(w, pm->sts);
	snap_put_u16(w, pm->en);
	snap_put_u16(w, pm->cnt);
	snap_put_u64(w, ns_since(&pm->epoch));
	pthread_mutex_unlock(&pm->lock);
}

static int pm_load(void *opaque, struct snap_reader *r)
{
	struct acpi_pm *pm = opaque;
	u16 sts = snap_get_u16(r, "PM1_STS");
	u16 en = snap_get_u16(r, "PM1_EN");
	u16 cnt = snap_get_u16(r, "PM1_CNT");
	u64 counted = snap_get_u64(r, "PM_TMR's time");
	struct timespec now;
	u64 now_ns;

	if (snap_reader_failed(r))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (u64)now.tv_sec * 1000000000ULL + now.tv_nsec;
	if (counted > now_ns)
		return snap_fail(r, "PM_TMR has counted longer than this host is up");
	now_ns -= counted;
	pthread_mutex_lock(&pm->lock);
	pm->sts = sts;
	pm->en = en;
	pm->cnt = cnt;
	pm->epoch.tv_sec = now_ns / 1000000000ULL;
	pm->epoch.tv_nsec = now_ns % 1000000000ULL;
	/* The interrupt controllers' snapshot already has the line at this level. */
	pm->sci_level = sts & en & EN_WRITABLE;
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

static const struct snap_section_ops pm_snap_ops = { .save = pm_save, .load = pm_load };

int acpi_pm_create(struct vm *vm)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	struct vm_device dev = { .name = "acpi-pm", .opaque = pm, .destroy = acpi_pm_destroy };

	if (!pm)
		return -1;
	pthread_mutex_init(&pm->lock, NULL);
	pm->vm = vm;
	clock_gettime(CLOCK_MONOTONIC, &pm->epoch);
	if (bus_register(&vm->pio_bus, PORT_ACPI_PM_BASE, ACPI_PM_BLOCK_LEN, &pm_ops, pm, "acpi-pm")) {
		pr_err("acpi-pm: ports 0x%x-0x%x are taken", PORT_ACPI_PM_BASE,
		       PORT_ACPI_PM_BASE + ACPI_PM_BLOCK_LEN - 1);
		goto fail;
	}
	if (vm_add_device(vm, &dev)) {
		bus_unregister(&vm->pio_bus, PORT_ACPI_PM_BASE);
		goto fail;
	}
	return snap_register(vm, "acpi-pm", &pm_snap_ops, pm);
fail:
	pthread_mutex_destroy(&pm->lock);
	free(pm);
	return -1;
}
