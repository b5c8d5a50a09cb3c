// SPDX-License-Identifier: Apache-2.0
/*
 * The soft engine: engine_ops glue around the interpreter. One host thread
 * per vCPU runs cpu_exec(); between slices it serves requests (pause,
 * stop), timers and interrupts, and sleeps on a futex in HLT.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/soft/block.h"
#include "engine/soft/dirty.h"
#include "engine/soft/jit.h"
#include "engine/soft/soft.h"
#include "engine/soft/soft_irq_glue.h"
#include "engine/soft/soft_snapshot.h"
#include "lib/log.h"
#include "machine/stats.h"
#include "machine/vcpu.h"
#include "machine/vm.h"

static const char *soft_unavailable(void)
{
	return NULL;
}

static int soft_vm_create(struct vm *vm)
{
	struct soft_vm *svm = calloc(1, sizeof(*svm));

	if (!svm)
		return -1;
	svm->vm = vm;
	svm->mem = &vm->mem;
	svm->pio = &vm->pio_bus;
	svm->mmio = &vm->mmio_bus;
	svm->nr_cpus = vm->cfg->nr_cpus;
	svm->trace = vm->cfg->trace;
	svm->cpus = calloc(svm->nr_cpus, sizeof(*svm->cpus));
	vm->engine_data = svm;
	if (!svm->cpus)
		return -1;
	svm->cache = code_cache_create(svm);
	if (!svm->cache) {
		pr_err("soft: cannot reserve the translated-code cache");
		return -1;
	}
	svm->jit = jit_arena_create();
	if (soft_irq_init(svm)) {
		pr_err("soft: cannot create the interrupt controllers");
		return -1;
	}
	return 0;
}

static void soft_vm_destroy(struct vm *vm)
{
	struct soft_vm *svm = vm->engine_data;

	if (!svm)
		return;
	soft_irq_destroy(svm);
	soft_dirty_free(svm);
	code_cache_destroy(svm->cache);
	jit_arena_destroy(svm->jit);
	free(svm->cpus);
	free(svm);
	vm->engine_data = NULL;
}

static int soft_vcpu_create(struct vcpu *vcpu)
{
	struct soft_vm *svm = vcpu->vm->engine_data;
	struct soft_cpu *cpu = soft_cpu_alloc(svm, vcpu);

	if (!cpu)
		return -1;
	cpu->reqs = &vcpu->requests;
	cpu->poll_countdown = 1;
	cpu->jit_threshold = jit_threshold(svm->jit);
	/*
	 * Debugging aids: KILN_SOFT_TRACE=1 logs every instruction executed
	 * (one per block, no chaining), for comparing with QEMU's -d exec.
	 */
	if (getenv("KILN_SOFT_TRACE")) {
		cpu->single_step = true;
		cpu->trace_exec = true;
	}
	/* Application processors wait for INIT/SIPI from the LAPIC. */
	cpu->wait_sipi = vcpu->index > 0;
	if (vcpu->index == 0)
		cpu->apic_base |= 1ULL << 8;	/* BSP */
	vcpu->engine_data = cpu;
	if (vcpu->index < svm->nr_cpus)
		svm->cpus[vcpu->index] = cpu;
	soft_irq_vcpu_init(cpu);
	return 0;
}

static void soft_vcpu_destroy(struct vcpu *vcpu)
{
	struct soft_cpu *cpu = vcpu->engine_data;
	struct soft_vm *svm = vcpu->vm->engine_data;

	if (!cpu)
		return;
	if (svm && vcpu->index < svm->nr_cpus)
		svm->cpus[vcpu->index] = NULL;
	soft_cpu_free(cpu);
	vcpu->engine_data = NULL;
}

static int soft_vcpu_set_state(struct vcpu *vcpu, const struct cpu_state *st)
{
	cpu_set_state(vcpu->engine_data, st);
	return 0;
}

static int soft_vcpu_get_state(struct vcpu *vcpu, struct cpu_state *st)
{
	cpu_get_state(vcpu->engine_data, st);
	return 0;
}

static void soft_vcpu_kick(struct vcpu *vcpu)
{
	if (vcpu->engine_data)
		soft_cpu_wake(vcpu->engine_data);
}

/*
 * HLT (or wait-for-SIPI): sleep until an interrupt can be taken, a request
 * arrives or the next timer is due. Never spins: a kick changes the
 * requests word, which the futex waits on.
 */
static void halt_wait(struct soft_cpu *cpu)
{
	struct vcpu *vcpu = cpu->vcpu;
	u64 t0 = host_ns();

	for (;;) {
		unsigned int req;
		u64 deadline;

		if (__atomic_load_n(cpu->reqs, __ATOMIC_ACQUIRE) & (VCPU_REQ_STOP | VCPU_REQ_PAUSE))
			break;
		if (__atomic_load_n(cpu->reqs, __ATOMIC_ACQUIRE) & SOFT_REQ_TB_FLUSH)
			code_cache_quiesce(cpu);
		if (__atomic_load_n(cpu->reqs, __ATOMIC_ACQUIRE) & SOFT_REQ_DIRTY_SYNC)
			soft_dirty_ack(cpu);
		soft_irq_boundary(cpu);
		if ((!cpu->halted && !cpu->wait_sipi) || soft_irq_wakes_halt(cpu))
			break;
		deadline = soft_irq_deadline(cpu);
		__atomic_store_n(&cpu->sleeping, 1, __ATOMIC_SEQ_CST);
		req = __atomic_load_n(cpu->reqs, __ATOMIC_SEQ_CST);
		if (!req) {
			struct timespec ts, *tsp = NULL;

			if (deadline != ~0ULL) {
				ts.tv_sec = deadline / 1000000000ULL;
				ts.tv_nsec = deadline % 1000000000ULL;
				tsp = &ts;
			}
			syscall(SYS_futex, cpu->reqs, FUTEX_WAIT_BITSET_PRIVATE, 0, tsp, NULL,
				FUTEX_BITSET_MATCH_ANY);
		}
		__atomic_store_n(&cpu->sleeping, 0, __ATOMIC_SEQ_CST);
	}
	vcpu->stats.idle_ns += host_ns() - t0;
}

static enum vcpu_run_result soft_vcpu_run(struct vcpu *vcpu)
{
	struct soft_cpu *cpu = vcpu->engine_data;
	u64 t0 = host_ns();
	enum vcpu_run_result ret;
	enum exec_status st;

	for (;;) {
		unsigned int req = __atomic_load_n(cpu->reqs, __ATOMIC_ACQUIRE);

		if ((req & (VCPU_REQ_STOP | VCPU_REQ_PAUSE)) && vcpu_check_requests(vcpu)) {
			ret = VCPU_RUN_STOPPED;
			break;
		}
		if (req & SOFT_REQ_TB_FLUSH)
			code_cache_quiesce(cpu);
		if (req & SOFT_REQ_DIRTY_SYNC)
			soft_dirty_ack(cpu);
		soft_irq_boundary(cpu);
		if ((cpu->halted || cpu->wait_sipi) && cpu->inject_vector < 0) {
			halt_wait(cpu);
			continue;
		}
		code_cache_enter_exec(cpu);
		st = cpu_exec(cpu, 0);
		code_cache_leave_exec(cpu);
		switch (st) {
		case EXEC_CONTINUE:
		case EXEC_STOP:
		case EXEC_EXCEPTION:
			continue;
		case EXEC_HALT:
			vcpu_count_exit(vcpu, EXIT_HLT);
			continue;
		case EXEC_TRIPLE_FAULT:
			vcpu_count_exit(vcpu, EXIT_SHUTDOWN);
			ret = VCPU_RUN_TRIPLE_FAULT;
			goto out;
		case EXEC_ERROR:
			vcpu_count_exit(vcpu, EXIT_INTERNAL_ERROR);
			pr_err("soft: vcpu%u: %s at RIP %#llx", vcpu->index,
			       cpu->fatal ? cpu->fatal : "error", (unsigned long long)cpu->rip);
			ret = VCPU_RUN_ERROR;
			goto out;
		}
	}
out:
	vcpu->stats.run_ns += host_ns() - t0;
	return ret;
}

static void emit_cpu_stats(const struct soft_cpu *cpu, const struct stats_visitor *v)
{
	char group[32];
	const struct soft_cpu_stats *s = &cpu->stats;

	snprintf(group, sizeof(group), "soft_cpu%u", soft_cpu_index(cpu));
	stats_emit(v, group, "insns", s->insns);
	stats_emit(v, group, "blocks_run", s->blocks_run);
	stats_emit(v, group, "blocks_chained", s->chained);
	stats_emit(v, group, "jump_cache_hits", s->jc_hits);
	stats_emit(v, group, "jump_cache_misses", s->jc_misses);
	/*
	 * The fast path does not count hits: memory-operand instructions are
	 * counted per block entry instead, so hits ~ mem_insns - tlb_misses.
	 */
	stats_emit(v, group, "mem_operand_insns", s->mem_insns);
	stats_emit(v, group, "tlb_misses", s->tlb_misses);
	stats_emit(v, group, "tlb_flushes", s->tlb_flushes);
	stats_emit(v, group, "tlb_page_flushes", s->tlb_page_flushes);
	stats_emit(v, group, "exceptions", s->exceptions);
	stats_emit(v, group, "interrupts", s->interrupts);
	stats_emit(v, group, "smc_invalidations", s->smc_invalidations);
}

static void soft_report_stats(struct vm *vm, const struct stats_visitor *v)
{
	struct soft_vm *svm = vm->engine_data;
	struct code_cache_stats cs;

	if (!svm)
		return;
	for (unsigned int i = 0; i < svm->nr_cpus; i++)
		if (svm->cpus[i])
			emit_cpu_stats(svm->cpus[i], v);
	code_cache_get_stats(svm->cache, &cs);
	stats_emit(v, "soft_code_cache", "blocks", cs.blocks);
	stats_emit(v, "soft_code_cache", "translated_insns", cs.translated_insns);
	stats_emit(v, "soft_code_cache", "invalidated_blocks", cs.invalidations);
	stats_emit(v, "soft_code_cache", "bytes_used", cs.bytes_used);
	stats_emit(v, "soft_code_cache", "full_flushes", cs.flushes);
	{
		struct jit_stats js;

		jit_get_stats(svm->jit, &js);
		stats_emit(v, "soft_jit", "compiled_blocks", js.blocks);
		stats_emit(v, "soft_jit", "compiled_insns", js.insns);
		stats_emit(v, "soft_jit", "handler_calls", js.calls);
		stats_emit(v, "soft_jit", "interpreted_tails", js.bailouts);
		stats_emit(v, "soft_jit", "code_bytes", js.bytes);
	}
}

const struct engine_ops soft_engine_ops = {
	.name = "soft",
	.unavailable = soft_unavailable,
	.vm_create = soft_vm_create,
	.vm_destroy = soft_vm_destroy,
	.vcpu_create = soft_vcpu_create,
	.vcpu_destroy = soft_vcpu_destroy,
	.vcpu_set_state = soft_vcpu_set_state,
	.vcpu_get_state = soft_vcpu_get_state,
	.vcpu_run = soft_vcpu_run,
	.vcpu_kick = soft_vcpu_kick,
	.set_irq_line = soft_set_irq_line,
	.send_msi = soft_send_msi,
	.report_stats = soft_report_stats,
	.set_dirty_logging = soft_set_dirty_logging,
	.get_dirty_log = soft_get_dirty_log,
	.snapshot_register = soft_snapshot_register,
};
