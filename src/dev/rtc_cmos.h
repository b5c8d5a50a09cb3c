/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_DEV_RTC_CMOS_H
#define KILN_DEV_RTC_CMOS_H

/*
 * The MC146818 real-time clock and CMOS NVRAM at ports 0x70 (index, bit 7
 * masks NMI) and 0x71 (data). The clock starts at the host's UTC time and
 * keeps whatever offset the guest sets; update-ended, alarm and periodic
 * events set register C and raise IRQ 8 when enabled in register B.
 *
 * The NVRAM holds the memory sizes a PC BIOS reports (0x15-0x18, 0x30-0x31,
 * 0x34-0x35, 0x5b-0x5d), the CPU count (0x5f) and the century (0x32).
 */

struct vm;

int rtc_cmos_create(struct vm *vm);

#endif
