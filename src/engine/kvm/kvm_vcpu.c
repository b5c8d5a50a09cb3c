// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/kvm/kvm_internal.h"
#include "lib/log.h"

static void kick_handler(int sig)
{
	(void)sig;
}

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;
static int kick_install_error;

/*
 * No SA_RESTART: the signal's only job is to interrupt. (KVM_RUN returns
 * -EINTR either way; a device's blocking syscall on a vCPU thread may see
 * EINTR and must retry.)
 */
static void install_kick_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(KVM_KICK_SIGNAL, &sa, NULL))
		kick_install_error = errno;
}

int kvm_vcpu_create(struct vcpu *vcpu)
{
	struct kvm_vm *kvm = kvm_vm_of(vcpu->vm);
	struct kvm_vcpu *kv = calloc(1, sizeof(*kv));
	void *run;

	if (!kv)
		return -1;
	kv->fd = -1;
	kv->stats_fd = -1;
	pthread_mutex_init(&kv->thread_lock, NULL);
	vcpu->engine_data = kv;

	pthread_once(&kick_once, install_kick_handler);
	if (kick_install_error) {
		pr_err("kvm: cannot install the kick signal handler: %s",
		       strerror(kick_install_error));
		return -1;
	}

	kv->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, (unsigned long)vcpu->index);
	if (kv->fd < 0) {
		pr_err("kvm: KVM_CREATE_VCPU %u: %m", vcpu->index);
		return -1;
	}
	run = mmap(NULL, kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, kv->fd, 0);
	if (run == MAP_FAILED) {
		pr_err("kvm: cannot map vcpu%u's kvm_run area: %m", vcpu->index);
		return -1;
	}
	kv->run = run;
	kv->run_size = kvm->run_size;
	kvm_vcpu_stats_open(kv);

	if (kvm_cpuid_setup(vcpu) || kvm_vcpu_init_boot_state(vcpu))
		return -1;
	return 0;
}

void kvm_vcpu_destroy(struct vcpu *vcpu)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);

	if (!kv)
		return;
	kvm_vcpu_stats_close(kv);
	if (kv->run)
		munmap(kv->run, kv->run_size);
	if (kv->fd >= 0)
		close(kv->fd);
	pthread_mutex_destroy(&kv->thread_lock);
	free(kv);
	vcpu->engine_data = NULL;
}

/*
 * The request bit is already set (vcpu_request()). immediate_exit covers a
 * vCPU about to enter KVM_RUN, the signal one already inside it; the fence
 * pairs with the one in kvm_run.c after immediate_exit is cleared, so that
 * either the vCPU sees the request or its next KVM_RUN exits at once.
 */
void kvm_vcpu_kick(struct vcpu *vcpu)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(vcpu);

	if (!kv || !kv->run)
		return;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);

	pthread_mutex_lock(&kv->thread_lock);
	if (kv->in_run && !pthread_equal(kv->thread, pthread_self()))
		pthread_kill(kv->thread, KVM_KICK_SIGNAL);
	pthread_mutex_unlock(&kv->thread_lock);
}

int kvm_vcpu_enter_thread(struct kvm_vcpu *kv)
{
	sigset_t set;

	/* Whatever the creator blocked, the kick must reach KVM_RUN. */
	sigemptyset(&set);
	sigaddset(&set, KVM_KICK_SIGNAL);
	if (pthread_sigmask(SIG_UNBLOCK, &set, NULL))
		return -1;

	pthread_mutex_lock(&kv->thread_lock);
	kv->thread = pthread_self();
	kv->in_run = true;
	pthread_mutex_unlock(&kv->thread_lock);
	return 0;
}

void kvm_vcpu_leave_thread(struct kvm_vcpu *kv)
{
	pthread_mutex_lock(&kv->thread_lock);
	kv->in_run = false;
	pthread_mutex_unlock(&kv->thread_lock);
}
