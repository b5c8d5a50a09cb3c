// SPDX-License-Identifier: Apache-2.0
/*
 * ACPI power-off as an OS does it: RSDP -> XSDT -> FADT, the DSDT's \_S5
 * package for SLP_TYPa, then SLP_TYP|SLP_EN into PM1a_CNT. Kiln must exit
 * 0. On the way, the MADT must list every vCPU (acpi.cpus= on the command
 * line) and the IOAPIC.
 */
#include "guest.h"
#include "machine/layout.h"

#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1_CNT_LEN 89
#define FADT_X_DSDT 140
#define FADT_X_PM1A_CNT_BLK 172
#define GAS_SYSTEM_IO 1

#define PM1_SCI_EN (1U << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7U << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN (1U << 13)

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_PACKAGE 0x12

#define POWEROFF_WAIT_LOOPS 100000

struct fadt_info {
	u64 dsdt;
	u16 pm1a_cnt;
	u16 sci_int;
	u32 smi_cmd;
};

static void read_fadt(struct fadt_info *f)
{
	const struct acpi_header *h = acpi_find_table("FACP");
	const u8 *p = (const u8 *)h;
	u64 x_pm1a = 0;

	CHECK(h, "no FADT (FACP) in the XSDT");
	CHECK(h->length >= FADT_PM1_CNT_LEN + 1, "FADT is only %u bytes", h->length);
	f->dsdt = *(const u32 *)(p + FADT_DSDT);
	f->pm1a_cnt = (u16)*(const u32 *)(p + FADT_PM1A_CNT_BLK);
	f->sci_int = *(const u16 *)(p + FADT_SCI_INT);
	f->smi_cmd = *(const u32 *)(p + FADT_SMI_CMD);
	if (h->length >= FADT_X_DSDT + 8 && *(const u64 *)(p + FADT_X_DSDT))
		f->dsdt = *(const u64 *)(p + FADT_X_DSDT);
	if (h->length >= FADT_X_PM1A_CNT_BLK + 12) {
		const u8 *gas = p + FADT_X_PM1A_CNT_BLK;

		x_pm1a = *(const u64 *)(gas + 4);
		if (x_pm1a) {
			CHECK(gas[0] == GAS_SYSTEM_IO, "X_PM1a_CNT_BLK is in address space %u, not I/O",
			      gas[0]);
			CHECK(!f->pm1a_cnt || f->pm1a_cnt == x_pm1a,
			      "PM1a_CNT_BLK 0x%x and X_PM1a_CNT_BLK 0x%lx disagree", f->pm1a_cnt, x_pm1a);
			f->pm1a_cnt = (u16)x_pm1a;
		}
	}
	CHECK(f->pm1a_cnt, "the FADT has no PM1a control block");
	CHECK(p[FADT_PM1_CNT_LEN] >= 2, "PM1_CNT_LEN is %u", p[FADT_PM1_CNT_LEN]);
	CHECK(f->dsdt, "the FADT points to no DSDT");
}

/* One integer AML data object: Zero, One, or a byte/word constant. */
static unsigned int aml_integer(const u8 *p, const u8 *end)
{
	CHECK(p < end, "\\_S5 package truncated");
	switch (p[0]) {
	case AML_ZERO:
		return 0;
	case AML_ONE:
		return 1;
	case AML_BYTE_PREFIX:
		CHECK(p + 1 < end, "\\_S5 package truncated");
		return p[1];
	case AML_WORD_PREFIX:
		CHECK(p + 2 < end, "\\_S5 package truncated");
		return p[1] | p[2] << 8;
	default:
		guest_fail("\\_S5 SLP_TYPa is AML opcode 0x%02x, not an integer", p[0]);
	}
}

/* Name(_S5, Package() { SLP_TYPa, SLP_TYPb, ... }) in the DSDT's AML. */
static unsigned int find_s5_slp_typ(u64 dsdt_addr)
{
	const struct acpi_header *dsdt = acpi_table_at(dsdt_addr, "DSDT");
	const u8 *aml = (const u8 *)(dsdt + 1);
	const u8 *end = (const u8 *)dsdt + dsdt->length;

	for (const u8 *p = aml + 1; p + 4 < end; p++) {
		const u8 *q = p + 4;
		unsigned int pkglen_bytes;

		if (memcmp(p, "_S5_", 4))
			continue;
		/* NameOp, optionally with the root prefix before the name. */
		if (!(p[-1] == AML_NAME || (p[-1] == '\\' && p - 2 >= aml && p[-2] == AML_NAME)))
			continue;
		CHECK(q < end && *q == AML_PACKAGE, "\\_S5 is not a package (opcode 0x%02x)", *q);
		q++;
		CHECK(q < end, "\\_S5 package truncated");
		pkglen_bytes = *q >> 6;		/* PkgLength: lead byte plus 0..3 */
		q += 1 + pkglen_bytes;
		CHECK(q < end && *q >= 1, "\\_S5 package has no elements");
		return aml_integer(q + 1, end);
	}
	guest_fail("the DSDT defines no \\_S5 object");
}

static void check_madt(void)
{
	struct madt_info m;

	madt_parse(&m);
	madt_check_cpus(&m, cmdline_need_u64("acpi.cpus"));
	CHECK(m.lapic_addr == LAYOUT_LAPIC_BASE, "MADT LAPIC address 0x%x", m.lapic_addr);
	CHECK(m.nr_ioapics == 1, "MADT lists %u IOAPICs", m.nr_ioapics);
	CHECK(m.ioapic_addr == LAYOUT_IOAPIC_BASE && m.ioapic_gsi_base == 0,
	      "MADT IOAPIC at 0x%x, GSI base %u", m.ioapic_addr, m.ioapic_gsi_base);
}

void guest_main(void)
{
	struct fadt_info f;
	unsigned int slp_typ;
	u16 cnt;

	check_madt();
	read_fadt(&f);
	CHECK(f.sci_int == GSI_ACPI_SCI, "FADT SCI_INT is %u", f.sci_int);
	slp_typ = find_s5_slp_typ(f.dsdt);
	CHECK(slp_typ == ACPI_SLP_TYP_S5, "\\_S5 SLP_TYPa is %u, the PM block expects %u",
	      slp_typ, ACPI_SLP_TYP_S5);

	cnt = inw(f.pm1a_cnt);
	/* No SMI_CMD means no legacy mode: ACPI must already be on. */
	if (!f.smi_cmd)
		CHECK(cnt & PM1_SCI_EN, "PM1a_CNT 0x%x: SCI_EN clear but no SMI_CMD to set it", cnt);
	gprintf("powering off: PM1a_CNT at 0x%x, SLP_TYP %u\n", f.pm1a_cnt, slp_typ);
	outw(f.pm1a_cnt, (cnt & ~PM1_SLP_TYP_MASK) | slp_typ << PM1_SLP_TYP_SHIFT | PM1_SLP_EN);

	for (int i = 0; i < POWEROFF_WAIT_LOOPS; i++)
		cpu_relax();
	guest_fail("still running after writing SLP_TYP|SLP_EN to PM1a_CNT");
}
