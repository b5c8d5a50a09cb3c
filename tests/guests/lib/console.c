// SPDX-License-Identifier: Apache-2.0
#include "guest.h"
#include "machine/layout.h"

#define UART_THR 0
#define UART_LSR 5
#define LSR_THRE 0x20
/* A UART that never drains must not hang the guest: give up and write. */
#define UART_WAIT_POLLS 1000

void serial_putc(char c)
{
	for (int i = 0; i < UART_WAIT_POLLS; i++)
		if (inb(PORT_COM1 + UART_LSR) & LSR_THRE)
			break;
	outb(PORT_COM1 + UART_THR, (u8)c);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

static void put_unsigned(u64 v, unsigned int base, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		serial_putc(pad);
	while (n)
		serial_putc(buf[--n]);
}

static u64 next_arg(va_list *ap, int longs, bool is_signed)
{
	if (longs)
		return is_signed ? (u64)va_arg(*ap, long) : va_arg(*ap, unsigned long);
	return is_signed ? (u64)(long)va_arg(*ap, int) : va_arg(*ap, unsigned int);
}

/* %s %c %d %u %x and %p, with l/ll and a width: all a guest report needs. */
void gvprintf(const char *fmt, va_list ap)
{
	va_list args;

	va_copy(args, ap);
	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		char pad = ' ';
		u64 v;

		if (*fmt != '%') {
			serial_putc(*fmt);
			continue;
		}
		if (*++fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(args, const char *);

			serial_puts(s ? s : "(null)");
			break;
		}
		case 'c':
			serial_putc((char)va_arg(args, int));
			break;
		case 'd':
			v = next_arg(&args, longs, true);
			if ((long)v < 0) {
				serial_putc('-');
				v = -v;
			}
			put_unsigned(v, 10, width, pad);
			break;
		case 'u':
			put_unsigned(next_arg(&args, longs, false), 10, width, pad);
			break;
		case 'x':
			put_unsigned(next_arg(&args, longs, false), 16, width, pad);
			break;
		case 'p':
			serial_puts("0x");
			put_unsigned((u64)va_arg(args, void *), 16, 0, pad);
			break;
		case '%':
			serial_putc('%');
			break;
		default:
			serial_putc('%');
			serial_putc(*fmt);
			if (!*fmt)
				fmt--;
			break;
		}
	}
	va_end(args);
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gvprintf(fmt, ap);
	va_end(ap);
}

void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_exit_quietly(u32 value)
{
	outl(PORT_DEBUG_EXIT, value);
	halt_forever();
}

void guest_pass(void)
{
	serial_puts("PASS\n");
	guest_exit_quietly(0);
}

void guest_fail(const char *fmt, ...)
{
	va_list ap;

	serial_puts("FAIL: ");
	va_start(ap, fmt);
	gvprintf(fmt, ap);
	va_end(ap);
	serial_putc('\n');
	guest_exit_quietly(1);
}
