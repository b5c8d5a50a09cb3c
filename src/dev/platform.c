// SPDX-License-Identifier: Apache-2.0
#include "dev/platform.h"

#include "backend/console.h"
#include "bus/pci.h"
#include "dev/acpi_pm.h"
#include "dev/debug_exit.h"
#include "dev/edu.h"
#include "dev/fw_cfg.h"
#include "dev/i8042.h"
#include "dev/pc_testdev.h"
#include "dev/pci_testdev.h"
#include "dev/rtc_cmos.h"
#include "dev/uart_8250.h"
#include "machine/layout.h"
#include "machine/vm.h"

/* The wires between COM1 and the host console, both ways. */
static size_t console_to_uart(void *opaque, const u8 *buf, size_t len)
{
	return uart_8250_receive(opaque, buf, len);
}

static void uart_to_console(void *opaque, const u8 *buf, size_t len)
{
	console_write(opaque, buf, len);
}

static void uart_has_room(void *opaque)
{
	console_input_ready(opaque);
}

static int serial_console_init(struct vm *vm)
{
	struct console_config cfg;
	struct console *con;
	struct uart_8250 *com1;

	com1 = uart_8250_create(vm, PORT_COM1, GSI_COM1, "com1");
	if (!com1)
		return -1;
	console_config_stdio(&cfg);
	/* --virtio-console stdio: hvc0 takes the terminal's input, COM1 keeps its output. */
	if (vm->cfg->hvc == HVC_STDIO) {
		cfg.in_fd = -1;
		cfg.escapes = cfg.raw_tty = false;
	}
	con = console_create(vm, &cfg, &(struct console_frontend){
		.receive = console_to_uart, .opaque = com1,
	});
	if (!con)
		return -1;
	uart_8250_set_backend(com1, &(struct uart_backend){
		.tx = uart_to_console, .rx_ready = uart_has_room, .opaque = con,
	});
	return 0;
}

int platform_devices_init(struct vm *vm)
{
	if (serial_console_init(vm))
		return -1;
	if (i8042_create(vm) || rtc_cmos_create(vm) || debug_exit_create(vm) ||
	    acpi_pm_create(vm) || pci_root_create(vm) || fw_cfg_create(vm))
		return -1;
	if (vm->cfg->testdev && (pc_testdev_create(vm) || pci_testdev_create(vm)))
		return -1;
	if (vm->cfg->edu && edu_create(vm))
		return -1;
	return 0;
}
