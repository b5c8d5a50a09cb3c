/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_DEV_I8042_H
#define KILN_DEV_I8042_H

struct vm;

/*
 * The PS/2 controller at ports 0x60 and 0x64: enough for Linux's i8042 and
 * atkbd drivers to probe it cleanly (a keyboard that acks commands and
 * never sends a key, no mouse behind the AUX port), and the classic reset
 * line: command 0xFE, or an output-port write with bit 0 clear, stops the
 * VM with VM_STOP_RESET.
 */
int i8042_create(struct vm *vm);

/*
 * Types Ctrl-Alt-Del on the keyboard (make then break codes, in the set the
 * guest reads: set 1 when the controller translates, else set 2). A Linux
 * guest reboots, as on a PC. -1 when the VM has no i8042, or the keyboard's
 * queue has no room for the sequence.
 */
int i8042_send_ctrl_alt_del(struct vm *vm);

#endif
