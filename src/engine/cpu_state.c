// SPDX-License-Identifier: Apache-2.0
#include "engine/cpu_state.h"

#include <inttypes.h>

static const char *const gpr_names[NR_GPRS] = {
	"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
	"R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15",
};

static void dump_segment(FILE *out, const char *name, const struct segment *s)
{
	fprintf(out, "%-3s sel=%04x base=%016" PRIx64 " limit=%08x type=%x s=%u dpl=%u p=%u l=%u db=%u g=%u\n",
		name, s->selector, s->base, s->limit, s->type, s->s, s->dpl,
		s->present, s->l, s->db, s->g);
}

void cpu_state_dump(const struct cpu_state *st, FILE *out)
{
	for (int i = 0; i < NR_GPRS; i++)
		fprintf(out, "%s=%016" PRIx64 "%s", gpr_names[i], st->gpr[i],
			i % 4 == 3 ? "\n" : " ");
	fprintf(out, "RIP=%016" PRIx64 " RFLAGS=%016" PRIx64 "\n", st->rip, st->rflags);
	dump_segment(out, "CS", &st->cs);
	dump_segment(out, "SS", &st->ss);
	dump_segment(out, "DS", &st->ds);
	dump_segment(out, "ES", &st->es);
	dump_segment(out, "FS", &st->fs);
	dump_segment(out, "GS", &st->gs);
	dump_segment(out, "TR", &st->tr);
	fprintf(out, "GDT=%016" PRIx64 "/%04x IDT=%016" PRIx64 "/%04x\n",
		st->gdt.base, st->gdt.limit, st->idt.base, st->idt.limit);
	fprintf(out, "CR0=%016" PRIx64 " CR2=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%016" PRIx64 "\n",
		st->cr0, st->cr2, st->cr3, st->cr4);
	fprintf(out, "EFER=%016" PRIx64 " APIC_BASE=%016" PRIx64 "\n", st->efer, st->apic_base);
}
