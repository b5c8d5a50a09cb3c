// SPDX-License-Identifier: Apache-2.0
#include "engine/kvm/kvm_msrs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "engine/kvm/kvm_internal.h"
#include "lib/log.h"

static struct kvm_msrs *msrs_alloc(const struct kvm_msr_entry *e, unsigned int n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));

	if (!m)
		return NULL;
	m->nmsrs = n;
	memcpy(m->entries, e, n * sizeof(m->entries[0]));
	return m;
}

/* KVM_{GET,SET}_MSRS return how many entries, from the first, they did. */
static int msrs_ioctl(int vcpu_fd, unsigned long req, const char *what,
		      const struct kvm_msr_entry *e, struct kvm_msr_entry *out,
		      unsigned int n)
{
	struct kvm_msrs *m = msrs_alloc(e, n);
	int done;

	if (!m)
		return -1;
	done = ioctl(vcpu_fd, req, m);
	if (done < 0)
		pr_err("kvm: %s: %m", what);
	else if ((unsigned int)done < n)
		pr_err("kvm: %s: KVM refused MSR %#x", what, m->entries[done].index);
	if (out)
		memcpy(out, m->entries, n * sizeof(*out));
	free(m);
	return done == (int)n ? 0 : -1;
}

int kvm_msrs_set(int vcpu_fd, const struct kvm_msr_entry *e, unsigned int n)
{
	return msrs_ioctl(vcpu_fd, KVM_SET_MSRS, "KVM_SET_MSRS", e, NULL, n);
}

int kvm_msrs_get(int vcpu_fd, struct kvm_msr_entry *e, unsigned int n)
{
	return msrs_ioctl(vcpu_fd, KVM_GET_MSRS, "KVM_GET_MSRS", e, e, n);
}
