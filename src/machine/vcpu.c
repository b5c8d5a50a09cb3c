// SPDX-License-Identifier: Apache-2.0
#include "machine/vcpu.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "machine/symbols.h"
#include "machine/vm.h"

void vcpu_request(struct vcpu *vcpu, unsigned int req)
{
	__atomic_or_fetch(&vcpu->requests, req, __ATOMIC_RELEASE);
	vcpu->vm->engine->vcpu_kick(vcpu);
}

bool vcpu_check_requests(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	unsigned int req = __atomic_load_n(&vcpu->requests, __ATOMIC_ACQUIRE);

	if (req & VCPU_REQ_STOP)
		return true;
	if (!(req & VCPU_REQ_PAUSE))
		return false;

	pthread_mutex_lock(&vm->pause_lock);
	__atomic_and_fetch(&vcpu->requests, ~VCPU_REQ_PAUSE, __ATOMIC_ACQ_REL);
	vm->nr_parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (vm->paused && !vm_stopping(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->nr_parked--;
	pthread_mutex_unlock(&vm->pause_lock);
	return vm_stopping(vm);
}

void vcpu_dump(struct vcpu *vcpu, const char *why)
{
	struct vm *vm = vcpu->vm;
	struct cpu_state st;
	char sym[256];

	fprintf(stderr, "kiln: vcpu%u: %s\n", vcpu->index, why);
	if (vm->engine->vcpu_get_state(vcpu, &st)) {
		fprintf(stderr, "kiln: vcpu%u: registers unavailable\n", vcpu->index);
		return;
	}
	cpu_state_dump(&st, stderr);
	if (symbols_lookup(vm->cfg->system_map_path, st.rip, sym, sizeof(sym)) == 0)
		fprintf(stderr, "RIP is %s\n", sym);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
	pthread_setname_np(pthread_self(), name);

	switch (vm->engine->vcpu_run(vcpu)) {
	case VCPU_RUN_STOPPED:
		break;
	case VCPU_RUN_TRIPLE_FAULT:
		vcpu_dump(vcpu, "triple fault: the guest shut its CPU down");
		vm_request_stop(vm, VM_STOP_TRIPLE_FAULT, EXIT_CODE_TRIPLE_FAULT);
		break;
	case VCPU_RUN_ERROR:
		vcpu_dump(vcpu, "internal error: the engine cannot continue");
		vm_request_stop(vm, VM_STOP_ERROR, EXIT_CODE_ERROR);
		break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	pthread_attr_t attr;
	int ret;

	pthread_attr_init(&attr);
	if (vcpu->host_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(vcpu->host_cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	ret = pthread_create(&vcpu->thread, &attr, vcpu_thread, vcpu);
	pthread_attr_destroy(&attr);
	if (ret) {
		pr_err("vcpu%u: cannot start thread: %s", vcpu->index, strerror(ret));
		return -1;
	}
	vcpu->thread_started = true;
	return 0;
}

void vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->thread_started)
		pthread_join(vcpu->thread, NULL);
	vcpu->thread_started = false;
}
