// SPDX-License-Identifier: Apache-2.0
/* VT-d interrupt remapping: MSIs through irq_send_msi_from(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "machine/irq.h"
#include "vtd_harness.h"

#define IRT_ENTRIES	256
#define IRTE_P		(1ULL << 0)
#define IRTE_FPD	(1ULL << 1)
#define IRTE_DM		(1ULL << 2)
#define IRTE_TM		(1ULL << 4)

static u64 irte_lo(u8 vector, u8 dest, u64 flags)
{
	return IRTE_P | flags | (u64)vector << 16 | (u64)dest << 40;
}

static u64 irte_hi(u16 sid, unsigned int sq, unsigned int svt)
{
	return sid | (u64)sq << 16 | (u64)svt << 18;
}

static void put_irte(struct vm *vm, unsigned int i, u64 lo, u64 hi)
{
	put64(vm, H_IRT + 16 * i, lo);
	put64(vm, H_IRT + 16 * i + 8, hi);
}

/* A remappable-format MSI address for handle. */
static u64 msi_handle(u32 handle, bool shv)
{
	return 0xfee00000ULL | (handle & 0x7fff) << 5 | 1 << 4 | (shv ? 1 << 3 : 0) |
	       ((handle >> 15) & 1) << 2;
}

static struct vm *ir_vm(void)
{
	struct vm *vm = h_create(true, true);

	assert_non_null(vm);
	reg_write(vm, VTD_REG_IRTA, H_IRT | 7, 8);	/* 2^(7+1) entries */
	gcmd_set(vm, VTD_GCMD_SIRTP);
	gcmd_set(vm, VTD_GCMD_IRE);
	return vm;
}

static void remaps_through_the_table(void **state)
{
	struct vm *vm = ir_vm();

	(void)state;
	put_irte(vm, 5, irte_lo(0x44, 2, 0), irte_hi(H_SID, 0, 1));
	irq_send_msi_from(vm, H_SID, msi_handle(5, false), 0);
	assert_int_equal(msis.n, 1);
	assert_int_equal(msis.addr, 0xfee02000);
	assert_int_equal(msis.data, 0x44);
	/* Logical, level-triggered, lowest priority (delivery mode 1). */
	put_irte(vm, 6, irte_lo(0x45, 0x0c, IRTE_DM | IRTE_TM | 1 << 5), irte_hi(0, 0, 0));
	irq_send_msi_from(vm, H_SID, msi_handle(6, false), 0);
	assert_int_equal(msis.addr, 0xfee0c004);
	assert_int_equal(msis.data, 0x45 | 1 << 8 | 1 << 14 | 1 << 15);
	/* Subhandle valid: the data's low 16 bits are added to the handle. */
	irq_send_msi_from(vm, H_SID, msi_handle(4, true), 2);
	assert_int_equal(msis.n, 3);
	assert_int_equal(msis.data & 0xff, 0x45);
	assert_int_equal(h_fault_reason(vm), 0);
	vm_destroy(vm);
}

static void source_id_verification(void **state)
{
	struct vm *vm = ir_vm();

	(void)state;
	/* Full SID: 00:03.1 is not 00:03.0. */
	put_irte(vm, 1, irte_lo(0x50, 0, 0), irte_hi(H_SID, 0, 1));
	irq_send_msi_from(vm, H_SID | 1, msi_handle(1, false), 0);
	assert_int_equal(msis.n, 0);
	assert_int_equal(h_fault_reason(vm), VTD_FR_IR_SID);
	assert_int_equal(reg_read(vm, VTD_REG_FRCD + 8, 8) & 0xffff, H_SID | 1);
	assert_int_equal(reg_read(vm, VTD_REG_FRCD, 8), 1ULL << 48);
	h_fault_clear(vm);
	/* SQ 3 ignores the function number. */
	put_irte(vm, 1, irte_lo(0x50, 0, 0), irte_hi(H_SID, 3, 1));
	irq_send_msi_from(vm, H_SID | 7, msi_handle(1, false), 0);
	assert_int_equal(msis.n, 1);
	/* Bus range 1..2: bus 0 is outside, bus 2 inside. */
	put_irte(vm, 1, irte_lo(0x50, 0, 0), irte_hi(0x0102, 0, 2));
	irq_send_msi_from(vm, 0x0018, msi_handle(1, false), 0);
	assert_int_equal(msis.n, 1);
	irq_send_msi_from(vm, 0x0218, msi_handle(1, false), 0);
	assert_int_equal(msis.n, 2);
	h_fault_clear(vm);
	/* No requester to check (the IOAPIC's path): verification is skipped. */
	put_irte(vm, 1, irte_lo(0x50, 0, 0), irte_hi(H_SID, 0, 1));
	irq_send_msi(vm, msi_handle(1, false), 0);
	assert_int_equal(msis.n, 3);
	vm_destroy(vm);
}

static void blocked_requests(void **state)
{
	static const struct {
		const char *what;
		u32 handle;
		bool shv;
		u32 data;
		u64 lo, hi;		/* written to entry handle (when in the table) */
		unsigned int reason;
	} cases[] = {
		{ "index past the table", IRT_ENTRIES, false, 0, 0, 0, VTD_FR_IR_INDEX_OVER },
		{ "handle bit 15", 0x8001, false, 0, 0, 0, VTD_FR_IR_INDEX_OVER },
		{ "subhandle past the table", 200, true, 100, 0, 0, VTD_FR_IR_INDEX_OVER },
		{ "data bits 31:16 with SHV", 2, true, 0x10000, 0, 0, VTD_FR_IR_REQ_RESERVED },
		{ "not present", 2, false, 0, 0x44ULL << 16, 0, VTD_FR_IR_NOT_PRESENT },
		{ "posted format", 2, false, 0, IRTE_P | 1ULL << 15, 0, VTD_FR_IR_ENTRY_RESERVED },
		{ "reserved high bits", 2, false, 0, IRTE_P, 1ULL << 40, VTD_FR_IR_ENTRY_RESERVED },
		{ "reserved SVT", 2, false, 0, IRTE_P, 3ULL << 18, VTD_FR_IR_ENTRY_RESERVED },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vm *vm = ir_vm();

		print_message("%s\n", cases[i].what);
		if (cases[i].handle < IRT_ENTRIES)
			put_irte(vm, cases[i].handle, cases[i].lo, cases[i].hi);
		irq_send_msi_from(vm, H_SID, msi_handle(cases[i].handle, cases[i].shv),
				  cases[i].data);
		assert_int_equal(msis.n, 0);
		assert_int_equal(h_fault_reason(vm), cases[i].reason);
		vm_destroy(vm);
	}
}

static void fault_disable_and_table_outside_ram(void **state)
{
	struct vm *vm = ir_vm();

	(void)state;
	/* FPD: not present, blocked, and nothing recorded. */
	put_irte(vm, 3, IRTE_FPD, 0);
	irq_send_msi_from(vm, H_SID, msi_handle(3, false), 0);
	assert_int_equal(msis.n, 0);
	assert_int_equal(h_fault_reason(vm), 0);
	/* A table at the top of the address space. */
	reg_write(vm, VTD_REG_IRTA, 0xfffff000ULL | 0xf, 8);
	gcmd_set(vm, VTD_GCMD_SIRTP);
	irq_send_msi_from(vm, H_SID, msi_handle(0x7fff, false), 0);
	assert_int_equal(msis.n, 0);
	assert_int_equal(h_fault_reason(vm), VTD_FR_IR_TABLE_ACCESS);
	vm_destroy(vm);
}

static void compatibility_format(void **state)
{
	struct vm *vm = ir_vm();

	(void)state;
	/* Blocked while remapping is on... */
	irq_send_msi_from(vm, H_SID, 0xfee01000, 0x33);
	assert_int_equal(msis.n, 0);
	assert_int_equal(h_fault_reason(vm), VTD_FR_IR_COMPAT_BLOCKED);
	/* ...unless CFI lets it through untouched... */
	gcmd_set(vm, VTD_GCMD_CFI);
	irq_send_msi_from(vm, H_SID, 0xfee01000, 0x33);
	assert_int_equal(msis.n, 1);
	assert_int_equal(msis.addr, 0xfee01000);
	assert_int_equal(msis.data, 0x33);
	/* ...and with remapping off, everything is untouched. */
	reg_write(vm, VTD_REG_GCMD, 0, 4);
	irq_send_msi_from(vm, H_SID, msi_handle(9, false), 0x34);
	assert_int_equal(msis.n, 2);
	assert_int_equal(msis.addr, msi_handle(9, false));
	vm_destroy(vm);
}

static void without_an_iommu_nothing_changes(void **state)
{
	struct vm *vm = h_create(false, false);
	u32 v = 0x1234, out = 0;

	(void)state;
	assert_null(vm->iommu);
	irq_send_msi_from(vm, H_SID, 0xfee01000, 0x33);
	assert_int_equal(msis.n, 1);
	assert_int_equal(msis.data, 0x33);
	assert_int_equal(dma_write(vm, H_SID, 0x300000, &v, 4), 0);
	assert_int_equal(dma_read(vm, H_SID, 0x300000, &out, 4), 0);
	assert_int_equal(out, v);
	assert_int_equal(dma_read(vm, H_SID, H_RAM - 2, &out, 4), -1);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(remaps_through_the_table),
		cmocka_unit_test(source_id_verification),
		cmocka_unit_test(blocked_requests),
		cmocka_unit_test(fault_disable_and_table_outside_ram),
		cmocka_unit_test(compatibility_format),
		cmocka_unit_test(without_an_iommu_nothing_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
