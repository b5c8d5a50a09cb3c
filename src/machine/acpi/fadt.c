// SPDX-License-Identifier: Apache-2.0
/*
 * FADT and FACS: fixed-hardware ACPI on the PM block at PORT_ACPI_PM_BASE,
 * always in ACPI mode (no SMI command port), with the PCI reset register.
 */
#include <string.h>

#include "machine/acpi/builders.h"
#include "machine/layout.h"

#define PM1_EVT_LEN	4
#define PM1_CNT_LEN	2
#define PM_TMR_LEN	4
#define FACS_VERSION	2
/* Latencies over 100 and 1000 us say C2 and C3 are not supported. */
#define P_LVL2_LAT_NONE	101
#define P_LVL3_LAT_NONE	1001

static struct acpi_gas io_gas(u16 port, u8 len, u8 access)
{
	return (struct acpi_gas){
		.space_id = ACPI_SPACE_IO,
		.bit_width = (u8)(len * 8),
		.access_size = access,
		.address = port,
	};
}

void fadt_build(struct acpi_fadt *f, u64 dsdt_addr, u64 facs_addr)
{
	memset(f, 0, sizeof(*f));
	acpi_header_init(&f->hdr, "FACP", sizeof(*f), ACPI_FADT_REVISION);
	f->minor_version = ACPI_FADT_MINOR;
	/* The FACS is below 4 GiB: the spec wants X_FIRMWARE_CTRL zero then. */
	f->firmware_ctrl = (u32)facs_addr;
	f->x_firmware_ctrl = 0;
	f->dsdt = (u32)dsdt_addr;
	f->x_dsdt = dsdt_addr;
	f->sci_int = GSI_ACPI_SCI;
	f->smi_cmd = 0;		/* always in ACPI mode: SCI_EN reads 1 */

	f->pm1a_evt_blk = PORT_ACPI_PM1_EVT;
	f->pm1_evt_len = PM1_EVT_LEN;
	f->x_pm1a_evt_blk = io_gas(PORT_ACPI_PM1_EVT, PM1_EVT_LEN, ACPI_ACCESS_WORD);
	f->pm1a_cnt_blk = PORT_ACPI_PM1_CNT;
	f->pm1_cnt_len = PM1_CNT_LEN;
	f->x_pm1a_cnt_blk = io_gas(PORT_ACPI_PM1_CNT, PM1_CNT_LEN, ACPI_ACCESS_WORD);
	f->pm_tmr_blk = PORT_ACPI_PM_TMR;
	f->pm_tmr_len = PM_TMR_LEN;
	f->x_pm_tmr_blk = io_gas(PORT_ACPI_PM_TMR, PM_TMR_LEN, ACPI_ACCESS_DWORD);

	/* Linux reads the RTC's century byte only when the FADT names it. */
	f->century = CMOS_REG_CENTURY;
	f->p_lvl2_lat = P_LVL2_LAT_NONE;
	f->p_lvl3_lat = P_LVL3_LAT_NONE;
	f->iapc_boot_arch = FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042 |
			    FADT_BOOT_VGA_NOT_PRESENT;
	f->flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON |
		   FADT_F_SLP_BUTTON | FADT_F_FIX_RTC | FADT_F_TMR_VAL_EXT |
		   FADT_F_RESET_REG_SUP;
	f->reset_reg = io_gas(PORT_PCI_RESET, 1, ACPI_ACCESS_BYTE);
	f->reset_value = ACPI_RESET_VALUE;
	acpi_header_seal(&f->hdr);
}

void facs_build(struct acpi_facs *facs)
{
	memset(facs, 0, sizeof(*facs));
	memcpy(facs->signature, "FACS", sizeof(facs->signature));
	facs->length = sizeof(*facs);
	facs->version = FACS_VERSION;
}
