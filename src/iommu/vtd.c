// SPDX-License-Identifier: Apache-2.0
/*
 * The VT-d unit's registers: global command and status, root and interrupt
 * table pointers, register-based invalidation, the invalidation queue's
 * registers, fault status, recording and events.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "iommu/vtd_internal.h"
#include "lib/log.h"
#include "machine/layout.h"
#include "machine/stats.h"
#include "machine/vm.h"

#define FSTS_W1C	(VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)
#define FSTS_ERRORS	(FSTS_W1C | VTD_FSTS_PPF)
#define PAGE_MASK_4K	(~0xfffULL)
#define CCMD_ICC	(1ULL << 63)
#define CCMD_CIRG_SHIFT	61
#define CCMD_CAIG_SHIFT	59
#define IOTLB_IVT	(1ULL << 63)
#define IOTLB_IIRG_SHIFT 60
#define IOTLB_IAIG_SHIFT 57
#define IQ_QS_MASK	0x7ULL
#define IQ_QT_MASK	0x7fff0ULL	/* bits 18:4: 128-bit descriptors */
#define IRTA_S_MASK	0xfULL
/* GSTS bits that follow their GCMD bit; the others are one-shot commands. */
#define GCMD_FOLLOWED	(VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI)

int vtd_read_entry(struct vtd *v, u64 gpa, u64 *out, unsigned int nr_quads)
{
	if (guest_read(&v->vm->mem, gpa, out, 8ULL * nr_quads))
		return -1;
	for (unsigned int i = 0; i < nr_quads; i++)
		out[i] = le64toh(out[i]);
	return 0;
}

static void send_event(struct vtd *v, bool fault)
{
	/* Event messages are the unit's own: they are never remapped. */
	if (fault)
		v->vm->engine->send_msi(v->vm, (u64)v->feuaddr << 32 | v->feaddr, v->fedata);
	else
		v->vm->engine->send_msi(v->vm, (u64)v->ieuaddr << 32 | v->ieaddr, v->iedata);
}

void vtd_event(struct vtd *v, bool fault)
{
	u32 *ctl = fault ? &v->fectl : &v->iectl;

	if (*ctl & VTD_CTL_IP)
		return;		/* one pending event covers everything until serviced */
	if (*ctl & VTD_CTL_IM)
		*ctl |= VTD_CTL_IP;
	else
		send_event(v, fault);
}

void vtd_fault(struct vtd *v, u32 sid, enum vtd_fault reason, u64 info, bool read, bool fpd)
{
	v->faults++;
	pr_warn_once("iommu: fault %#x from %04x at %#llx", reason, sid & 0xffff,
		     (unsigned long long)info);
	if (fpd)
		return;
	if (v->frcd_hi & VTD_FRCD_F) {
		/* The only record is still held: overflow. */
		if (!(v->fsts & VTD_FSTS_PFO)) {
			v->fsts |= VTD_FSTS_PFO;
			vtd_event(v, true);
		}
		return;
	}
	v->frcd_lo = info & PAGE_MASK_4K;
	v->frcd_hi = VTD_FRCD_F | (read ? VTD_FRCD_T_READ : 0) |
		     (u64)reason << VTD_FRCD_FR_SHIFT | (sid & 0xffff);
	vtd_event(v, true);
}

/* Primary pending fault: any recording register holds a fault. */
static u32 fsts_value(const struct vtd *v)
{
	return v->fsts | ((v->frcd_hi & VTD_FRCD_F) ? VTD_FSTS_PPF : 0);
}

/* Software serviced every fault condition: the pending event goes away. */
static void fault_status_changed(struct vtd *v)
{
	if (!(fsts_value(v) & FSTS_ERRORS))
		v->fectl &= ~VTD_CTL_IP;
}

static void gcmd_write(struct vtd *v, u32 cmd)
{
	if (cmd & VTD_GCMD_SRTP) {
		v->root_table = v->rtaddr & PAGE_MASK_4K;
		v->gsts |= VTD_GCMD_SRTP;
	}
	if ((cmd & VTD_GCMD_SIRTP) && (v->ecap & VTD_ECAP_IR)) {
		v->ir_table = v->irta & PAGE_MASK_4K;
		v->ir_entries = 2u << (v->irta & IRTA_S_MASK);
		v->gsts |= VTD_GCMD_SIRTP;
	}
	if (!(v->ecap & VTD_ECAP_IR))
		cmd &= ~(VTD_GCMD_IRE | VTD_GCMD_CFI);
	/* Enabling the queue starts it empty at its base. */
	if ((cmd & VTD_GCMD_QIE) && !(v->gsts & VTD_GCMD_QIE))
		v->iqh = 0;
	v->gsts = (v->gsts & ~GCMD_FOLLOWED) | (cmd & GCMD_FOLLOWED);
	/* WBF, SFL and EAFL: CAP.RWBF and CAP.AFL are clear, nothing to do. */
}

/* Register-based invalidation: nothing is cached, so it completes at once. */
static void ccmd_write(struct vtd *v, u64 val)
{
	v->ccmd = val;
	if (!(val & CCMD_ICC))
		return;
	v->ccmd &= ~(CCMD_ICC | 3ULL << CCMD_CAIG_SHIFT);
	v->ccmd |= ((val >> CCMD_CIRG_SHIFT) & 3) << CCMD_CAIG_SHIFT;
}

static void iotlb_write(struct vtd *v, u64 val)
{
	v->iotlb = val;
	if (!(val & IOTLB_IVT))
		return;
	v->iotlb &= ~(IOTLB_IVT | 3ULL << IOTLB_IAIG_SHIFT);
	v->iotlb |= ((val >> IOTLB_IIRG_SHIFT) & 3) << IOTLB_IAIG_SHIFT;
}

/* The 64-bit slot at off (8-aligned): one 64-bit register or two 32-bit ones. */
static u64 slot_read(struct vtd *v, u64 off)
{
	switch (off) {
	case VTD_REG_VER:	return VTD_VERSION;
	case VTD_REG_CAP:	return v->cap;
	case VTD_REG_ECAP:	return v->ecap;
	case VTD_REG_GCMD:	return (u64)v->gsts << 32;	/* GCMD reads 0 */
	case VTD_REG_RTADDR:	return v->rtaddr;
	case VTD_REG_CCMD:	return v->ccmd;
	case VTD_REG_FSTS - 4:	return (u64)fsts_value(v) << 32;
	case VTD_REG_FECTL:	return v->fectl | (u64)v->fedata << 32;
	case VTD_REG_FEADDR:	return v->feaddr | (u64)v->feuaddr << 32;
	case VTD_REG_IQH:	return v->iqh;
	case VTD_REG_IQT:	return v->iqt;
	case VTD_REG_IQA:	return v->iqa;
	case VTD_REG_ICS - 4:	return (u64)v->ics << 32;
	case VTD_REG_IECTL:	return v->iectl | (u64)v->iedata << 32;
	case VTD_REG_IEADDR:	return v->ieaddr | (u64)v->ieuaddr << 32;
	case VTD_REG_IRTA:	return v->irta;
	case VTD_REG_IVA:	return v->iva;
	case VTD_REG_IOTLB:	return v->iotlb;
	case VTD_REG_FRCD:	return v->frcd_lo;
	case VTD_REG_FRCD + 8:	return v->frcd_hi;
	default:		return 0;
	}
}

/* FECTL or IECTL: only IM is writable. Returns whether to send now. */
static bool ectl_write(u32 *ctl, u32 val)
{
	bool unmasked = (*ctl & VTD_CTL_IM) && !(val & VTD_CTL_IM);

	*ctl = (*ctl & VTD_CTL_IP) | (val & VTD_CTL_IM);
	/* Unmasking delivers what was held pending. */
	if (!unmasked || !(*ctl & VTD_CTL_IP))
		return false;
	*ctl &= ~VTD_CTL_IP;
	return true;
}

/*
 * A write of val to the bytes of slot off that mask selects (one or both
 * 32-bit halves). Registers act on the half that holds their command bits.
 */
static void slot_write(struct vtd *v, u64 off, u64 val, u64 mask)
{
	u64 merged = (slot_read(v, off) & ~mask) | (val & mask);
	bool lo = mask & 0xffffffffULL, hi = mask >> 32;
	switch (off) {
	case VTD_REG_GCMD:
		if (lo)
			gcmd_write(v, (u32)val);
		break;
	case VTD_REG_RTADDR:
		/* Legacy mode only: RTADDR.TTM (bits 11:10) stays 0. */
		v->rtaddr = merged & PAGE_MASK_4K;
		break;
	case VTD_REG_CCMD:
		if (hi)
			ccmd_write(v, merged);
		else
			v->ccmd = merged & ~CCMD_ICC;
		break;
	case VTD_REG_FSTS - 4:
		if (hi) {
			v->fsts &= ~((u32)(val >> 32) & FSTS_W1C);
			fault_status_changed(v);
		}
		break;
	case VTD_REG_FECTL:
		if (lo) {
			if (ectl_write(&v->fectl, (u32)val))
				send_event(v, true);
		}
		if (hi)
			v->fedata = (u32)(val >> 32);
		break;
	case VTD_REG_FEADDR:
		v->feaddr = (u32)merged & ~3u;
		v->feuaddr = (u32)(merged >> 32);
		break;
	case VTD_REG_IQT:
		v->iqt = merged & IQ_QT_MASK;
		if (v->gsts & VTD_GCMD_QIE)
			vtd_qi_process(v);
		break;
	case VTD_REG_IQA:
		/* Bits 11:3 (DW among them: 128-bit descriptors only) are reserved. */
		v->iqa = merged & (PAGE_MASK_4K | IQ_QS_MASK);
		break;
	case VTD_REG_ICS - 4:
		if (hi && ((val >> 32) & VTD_ICS_IWC)) {
			v->ics &= ~VTD_ICS_IWC;
			v->iectl &= ~VTD_CTL_IP;
		}
		break;
	case VTD_REG_IECTL:
		if (lo) {
			if (ectl_write(&v->iectl, (u32)val))
				send_event(v, false);
		}
		if (hi)
			v->iedata = (u32)(val >> 32);
		break;
	case VTD_REG_IEADDR:
		v->ieaddr = (u32)merged & ~3u;
		v->ieuaddr = (u32)(merged >> 32);
		break;
	case VTD_REG_IRTA:
		/* EIME (bit 11) is reserved: ECAP.EIM is clear. */
		if (v->ecap & VTD_ECAP_IR)
			v->irta = merged & (PAGE_MASK_4K | IRTA_S_MASK);
		break;
	case VTD_REG_IVA:
		v->iva = merged;
		break;
	case VTD_REG_IOTLB:
		if (hi)
			iotlb_write(v, merged);
		else
			v->iotlb = merged & ~IOTLB_IVT;
		break;
	case VTD_REG_FRCD + 8:
		if (hi && (val & VTD_FRCD_F)) {
			v->frcd_hi &= ~VTD_FRCD_F;
			fault_status_changed(v);
		}
		break;
	default:
		break;	/* read-only or reserved */
	}
}

static void vtd_mmio_read(void *opaque, u64 offset, void *data, unsigned int len)
{
	struct vtd *v = opaque;
	u64 val;

	pthread_mutex_lock(&v->lock);
	val = slot_read(v, offset & ~7ULL) >> (8 * (offset & 7));
	pthread_mutex_unlock(&v->lock);
	bus_data_put(data, len, val);
}

static void vtd_mmio_write(void *opaque, u64 offset, const void *data, unsigned int len)
{
	struct vtd *v = opaque;
	unsigned int shift = 8 * (offset & 7);
	u64 val = bus_data_get(data, len);

	/* The specification allows aligned 32- and 64-bit accesses only. */
	if ((len != 4 && len != 8) || (offset & (len - 1))) {
		pr_warn_once("iommu: ignored %u-byte write at register offset %#llx", len,
			     (unsigned long long)offset);
		return;
	}
	pthread_mutex_lock(&v->lock);
	slot_write(v, offset & ~7ULL, val << shift,
		   (len == 8 ? ~0ULL : 0xffffffffULL) << shift);
	pthread_mutex_unlock(&v->lock);
}

static const struct bus_device_ops vtd_mmio_ops = {
	.read = vtd_mmio_read,
	.write = vtd_mmio_write,
};

static const struct iommu_ops vtd_iommu_ops = {
	.translate = vtd_translate,
	.remap_msi = vtd_remap_msi,
};

static const struct iommu_ops vtd_dma_only_ops = {
	.translate = vtd_translate,
};

static void vtd_destroy(void *opaque)
{
	struct vtd *v = opaque;

	if (v->vm->iommu == &v->iommu)
		v->vm->iommu = NULL;
	bus_unregister(&v->vm->mmio_bus, LAYOUT_VTD_BASE);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

static void vtd_report_stats(void *opaque, const struct stats_visitor *sv)
{
	struct vtd *v = opaque;

	pthread_mutex_lock(&v->lock);
	stats_emit(sv, "iommu", "faults", v->faults);
	stats_emit(sv, "iommu", "dma_translations", v->dma_translations);
	stats_emit(sv, "iommu", "interrupts_remapped", v->interrupts_remapped);
	pthread_mutex_unlock(&v->lock);
}

int vtd_create(struct vm *vm, bool intremap)
{
	struct vm_device dev = {
		.name = "intel-iommu", .destroy = vtd_destroy, .report_stats = vtd_report_stats,
	};
	struct vtd *v = calloc(1, sizeof(*v));

	if (!v) {
		pr_err("intel-iommu: out of memory");
		return -1;
	}
	v->vm = vm;
	pthread_mutex_init(&v->lock, NULL);
	v->cap = VTD_CAP_ND_16BIT | VTD_CAP_SAGAW_39 | VTD_CAP_SAGAW_48 |
		 VTD_CAP_MGAW(VTD_MGAW) | VTD_CAP_FRO(VTD_REG_FRCD) |
		 VTD_CAP_SLLPS_2M | VTD_CAP_SLLPS_1G | VTD_CAP_NFR(1);
	v->ecap = VTD_ECAP_C | VTD_ECAP_QI | VTD_ECAP_PT | VTD_ECAP_IRO(VTD_REG_IVA) |
		  (intremap ? VTD_ECAP_IR : 0);
	v->fectl = v->iectl = VTD_CTL_IM;	/* events start masked */
	v->iommu.ops = intremap ? &vtd_iommu_ops : &vtd_dma_only_ops;
	v->iommu.opaque = v;
	if (bus_register(&vm->mmio_bus, LAYOUT_VTD_BASE, VTD_MMIO_SIZE, &vtd_mmio_ops, v,
			 "intel-iommu")) {
		pr_err("intel-iommu: registers at %#llx overlap another device",
		       (unsigned long long)LAYOUT_VTD_BASE);
		pthread_mutex_destroy(&v->lock);
		free(v);
		return -1;
	}
	dev.opaque = v;
	if (vm_add_device(vm, &dev)) {
		vtd_destroy(v);
		return -1;
	}
	vm->iommu = &v->iommu;
	return 0;
}
