/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_ENGINE_KVM_KVM_SNAPSHOT_H
#define KILN_ENGINE_KVM_KVM_SNAPSHOT_H

struct vm;

/* engine_ops.snapshot_register: "vcpuN" and "kvm-chips" (kvm_snapshot.c). */
int kvm_snapshot_register(struct vm *vm);

#endif
