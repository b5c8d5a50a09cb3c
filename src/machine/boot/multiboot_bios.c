// SPDX-License-Identifier: Apache-2.0
/*
 * What a PC BIOS leaves behind for the multiboot loader it starts, and
 * that a kernel loaded that way may rely on. kvm-unit-tests' realmode test
 * halts with interrupts on and waits for the BIOS's timer tick, as it does
 * under QEMU after SeaBIOS:
 *
 *   - the 8259 pair initialised with vectors 0x08 and 0x70 (the PC's),
 *     only the timer (IRQ0) and the cascade unmasked;
 *   - the PIT's channel 0 as a square wave at 18.2 Hz (count 65536);
 *   - a real-mode IVT whose PIC vectors acknowledge the PIC and return, and
 *     whose other vectors just return.
 *
 * Kiln has no firmware, so the multiboot entry starts a few instructions
 * of its own: they program the PIC and the PIT through their ports as a
 * BIOS does, which works the same on both engines (KVM's in-kernel PIC and
 * PIT see the same port writes), then load EAX with the boot magic and
 * jump to the kernel's entry (EBX already holds the info's address). The
 * IVT and its handlers are plain memory, written here.
 */
#include "machine/boot/multiboot.h"

#include <string.h>

#include "lib/log.h"
#include "machine/vm.h"

#define PIC_VECTOR_MASTER	0x08
#define PIC_VECTOR_SLAVE	0x70
#define PIT_MODE		(PORT_PIT + 3)

/* The BIOS's port writes, in order: (port, value). */
const struct mb_bios_write mb_bios_writes[] = {
	/* ICW1 (edge, cascade, ICW4 follows), ICW2 (vector base), ICW3, ICW4 (8086). */
	{ PORT_PIC_MASTER, 0x11 }, { PORT_PIC_MASTER + 1, PIC_VECTOR_MASTER },
	{ PORT_PIC_MASTER + 1, 1 << 2 }, { PORT_PIC_MASTER + 1, 0x01 },
	{ PORT_PIC_SLAVE, 0x11 }, { PORT_PIC_SLAVE + 1, PIC_VECTOR_SLAVE },
	{ PORT_PIC_SLAVE + 1, 2 }, { PORT_PIC_SLAVE + 1, 0x01 },
	/* OCW1: the timer and the cascade only. */
	{ PORT_PIC_MASTER + 1, 0xfa }, { PORT_PIC_SLAVE + 1, 0xff },
	/* Channel 0, low then high byte, mode 3, binary; count 0 is 65536. */
	{ PIT_MODE, 0x36 }, { PORT_PIT, 0x00 }, { PORT_PIT, 0x00 },
};
const unsigned int mb_bios_nr_writes = ARRAY_SIZE(mb_bios_writes);

/* Real-mode handlers: push ax; mov al, 0x20 (EOI); out ...; pop ax; iret. */
static const u8 handler_master[] = { 0x50, 0xb0, 0x20, 0xe6, PORT_PIC_MASTER, 0x58, 0xcf };
static const u8 handler_slave[] = { 0x50, 0xb0, 0x20, 0xe6, PORT_PIC_SLAVE,
				    0xe6, PORT_PIC_MASTER, 0x58, 0xcf };
static const u8 handler_iret[] = { 0xcf };

#define HANDLER_MASTER	MB_BIOS_HANDLERS
#define HANDLER_SLAVE	(HANDLER_MASTER + 0x10)
#define HANDLER_IRET	(HANDLER_SLAVE + 0x10)
_Static_assert(sizeof(handler_master) <= 0x10 && sizeof(handler_slave) <= 0x10, "layout");
_Static_assert(HANDLER_IRET + sizeof(handler_iret) <= MB_BIOS_ADDR + MB_BIOS_SIZE, "layout");
_Static_assert(HANDLER_IRET < 0x10000, "the IVT's handlers are in segment 0");

/* The 32-bit entry stub: the port writes, mov eax, magic; jmp entry. */
static size_t build_stub(u8 *p, u32 entry)
{
	size_t n = 0;
	s32 rel;

	for (unsigned int i = 0; i < mb_bios_nr_writes; i++) {
		p[n++] = 0xb0;				/* mov al, imm8 */
		p[n++] = mb_bios_writes[i].value;
		p[n++] = 0xe6;				/* out imm8, al */
		p[n++] = (u8)mb_bios_writes[i].port;
	}
	p[n++] = 0xb8;					/* mov eax, imm32 */
	memcpy(p + n, &(u32){ MB_BOOT_MAGIC }, 4);
	n += 4;
	p[n++] = 0xe9;					/* jmp rel32 */
	rel = (s32)(entry - (u32)(MB_BIOS_ADDR + n + 4));
	memcpy(p + n, &rel, 4);
	return n + 4;
}

int multiboot_bios_setup(struct vm *vm, u32 entry, u32 *stub)
{
	u8 code[MB_BIOS_HANDLERS - MB_BIOS_ADDR];
	u32 ivt[256];
	size_t len;

	_Static_assert(ARRAY_SIZE(mb_bios_writes) * 4 + 10 <= sizeof(code), "stub size");
	memset(code, 0xcc, sizeof(code));
	len = build_stub(code, entry);
	for (unsigned int v = 0; v < ARRAY_SIZE(ivt); v++) {
		u32 handler = HANDLER_IRET;

		if (v - PIC_VECTOR_MASTER < 8)
			handler = HANDLER_MASTER;
		else if (v - PIC_VECTOR_SLAVE < 8)
			handler = HANDLER_SLAVE;
		ivt[v] = handler;			/* segment 0, offset handler */
	}
	if (guest_write(&vm->mem, MB_BIOS_ADDR, code, len) ||
	    guest_write(&vm->mem, HANDLER_MASTER, handler_master, sizeof(handler_master)) ||
	    guest_write(&vm->mem, HANDLER_SLAVE, handler_slave, sizeof(handler_slave)) ||
	    guest_write(&vm->mem, HANDLER_IRET, handler_iret, sizeof(handler_iret)) ||
	    guest_write(&vm->mem, MB_IVT_ADDR, ivt, sizeof(ivt))) {
		pr_err("boot: no guest RAM for the BIOS state at %#x", MB_IVT_ADDR);
		return -1;
	}
	*stub = MB_BIOS_ADDR;
	return 0;
}
