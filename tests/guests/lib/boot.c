// SPDX-License-Identifier: Apache-2.0
/* Entry from start.S, exceptions, and what the loader handed over. */
#include "guest.h"

const u8 *boot_params;

struct idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 ist;
	u8 type;
	u16 offset_mid;
	u32 offset_hi;
	u32 reserved;
} __attribute__((packed));

#define NR_EXCEPTIONS 32
#define GATE_INTERRUPT_PRESENT 0x8e
#define EXCEPTION_STUB_SIZE 16

static struct idt_gate idt[NR_EXCEPTIONS] __attribute__((aligned(16)));
extern const u8 exception_stubs[];

static void idt_init(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) desc = { sizeof(idt) - 1, (u64)idt };
	u16 cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	for (int i = 0; i < NR_EXCEPTIONS; i++) {
		u64 handler = (u64)(exception_stubs + i * EXCEPTION_STUB_SIZE);

		idt[i] = (struct idt_gate){
			.offset_lo = (u16)handler,
			.selector = cs,
			.type = GATE_INTERRUPT_PRESENT,
			.offset_mid = (u16)(handler >> 16),
			.offset_hi = (u32)(handler >> 32),
		};
	}
	__asm__ volatile("lidt %0" : : "m"(desc));
}

__attribute__((noreturn)) void exception_report(u64 vector, u64 error, u64 rip);
void exception_report(u64 vector, u64 error, u64 rip)
{
	u64 cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	guest_fail("CPU exception %lu, error code 0x%lx, at RIP 0x%lx (CR2 0x%lx)",
		   vector, error, rip, cr2);
}

__attribute__((noreturn)) void guest_start(const u8 *bp);
void guest_start(const u8 *bp)
{
	boot_params = bp;
	idt_init();
	CHECK(bp, "the loader passed no boot_params (RSI = 0)");
	guest_main();
	guest_pass();
}

const struct e820_entry *e820_table(unsigned int *nr)
{
	*nr = bp_u8(BP_E820_ENTRIES);
	CHECK(*nr <= BP_E820_MAX, "boot_params: %u e820 entries, at most %u fit",
	      *nr, BP_E820_MAX);
	return (const struct e820_entry *)(boot_params + BP_E820_TABLE);
}

u64 e820_ram_between(u64 lo, u64 hi)
{
	unsigned int nr;
	const struct e820_entry *e = e820_table(&nr);
	u64 total = 0;

	for (unsigned int i = 0; i < nr; i++) {
		u64 start = e[i].addr, end = e[i].addr + e[i].size;

		if (e[i].type != E820_RAM)
			continue;
		start = start < lo ? lo : start;
		end = end > hi ? hi : end;
		if (end > start)
			total += end - start;
	}
	return total;
}

bool e820_is_ram(u64 addr, u64 len)
{
	unsigned int nr;
	const struct e820_entry *e = e820_table(&nr);

	for (unsigned int i = 0; i < nr; i++)
		if (e[i].type == E820_RAM && addr >= e[i].addr &&
		    addr + len <= e[i].addr + e[i].size && addr + len >= addr)
			return true;
	return false;
}

const char *cmdline(void)
{
	u64 ptr = bp_u32(BP_CMD_LINE_PTR) | (u64)bp_u32(BP_EXT_CMD_LINE_PTR) << 32;

	return ptr ? (const char *)ptr : NULL;
}

static bool parse_u64(const char *s, u64 *out)
{
	unsigned int base = 10;
	u64 v = 0;
	const char *start;

	if (s[0] == '0' && s[1] == 'x') {
		base = 16;
		s += 2;
	}
	for (start = s; *s && *s != ' '; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			return false;
		v = v * base + d;
	}
	*out = v;
	return s != start;
}

bool cmdline_u64(const char *key, u64 *out)
{
	const char *p = cmdline();
	size_t n = strlen(key);

	if (!p)
		return false;
	for (; *p; p++) {
		bool at_word = p == cmdline() || p[-1] == ' ';

		if (at_word && !strncmp(p, key, n) && p[n] == '=')
			return parse_u64(p + n + 1, out);
	}
	return false;
}

u64 cmdline_need_u64(const char *key)
{
	u64 v;

	CHECK(cmdline_u64(key, &v), "the command line has no number %s= (it is \"%s\")",
	      key, cmdline() ? cmdline() : "");
	return v;
}
