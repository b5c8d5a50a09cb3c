/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_DEV_PLATFORM_H
#define KILN_DEV_PLATFORM_H

struct vm;

/*
 * Creates the legacy platform on vm's buses: COM1 UART wired to the host
 * console, i8042, CMOS RTC, the ACPI PM block, the debug-exit port, the
 * PCI host bridge (vm->pci) and fw_cfg; with --testdev, kvm-unit-tests'
 * pc-testdev and pci-testdev.
 */
int platform_devices_init(struct vm *vm);

#endif
