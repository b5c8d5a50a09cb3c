/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_DEV_ACPI_PM_H
#define KILN_DEV_ACPI_PM_H

/*
 * The ACPI fixed-hardware PM block at PORT_ACPI_PM_BASE, which the FADT
 * points at:
 *   +0 PM1a_STS (write 1 to clear) and +2 PM1a_EN: an enabled status bit
 *      raises the SCI (GSI_ACPI_SCI, level);
 *   +4 PM1a_CNT: SCI_EN reads 1 (there is no SMI_CMD to switch modes);
 *      SLP_EN with SLP_TYP = ACPI_SLP_TYP_S5 powers the VM off;
 *   +8 PM_TMR: 32 bits counting at 3.579545 MHz from CLOCK_MONOTONIC.
 */

struct vm;

#define ACPI_PM_BLOCK_LEN	12
#define ACPI_PM_TIMER_HZ	3579545ULL

int acpi_pm_create(struct vm *vm);

/*
 * Presses the power button: sets PWRBTN_STS, which raises the SCI when the
 * guest enabled it. Any thread. Returns -1 when the VM has no PM block.
 */
int acpi_pm_press_power_button(struct vm *vm);

#endif
