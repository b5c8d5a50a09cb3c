/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_GUEST_FAKE_KERNEL_H
#define KILN_GUEST_FAKE_KERNEL_H

/*
 * What mkbzimage writes into the fake kernel's setup header, and what the
 * fake kernel then expects to find in boot_params. Shared by both.
 */
#define FK_SETUP_SECTS		4
#define FK_BOOT_VERSION		0x020f
#define FK_LOAD_ADDR		0x100000UL	/* pref_address, and where it is linked */
#define FK_KERNEL_ALIGNMENT	0x100000U
#define FK_MIN_ALIGNMENT	20		/* log2 of 1 MiB */
#define FK_CMDLINE_SIZE		2048
#define FK_INITRD_ADDR_MAX	0x7fffffffU
#define FK_ENTRY64_OFFSET	0x200		/* of the protected-mode payload */
#define FK_LOADED_HIGH		0x01
#define FK_XLF_KERNEL_64	0x01
#define FK_XLF_CAN_BE_LOADED_ABOVE_4G 0x02
#define FK_INIT_SIZE_ALIGN	4096

/* The runner starts the command line with this; the rest carries numbers. */
#define FK_CMDLINE_PREFIX	"kiln.fake_kernel \"quoted text\" console=ttyS0"

#endif
