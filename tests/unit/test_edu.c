// SPDX-License-Identifier: Apache-2.0
/* QEMU's edu device: registers, factorial, interrupts, DMA with and without VT-d. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bus/pci.h"
#include "dev/edu.h"
#include "vtd_harness.h"

#define RAM_BUF		0x300000ULL

struct edu_view {
	struct vm *vm;
	int slot;
	u64 bar;
};

static u32 cfg_addr(int slot, unsigned int reg)
{
	return 0x80000000u | (u32)slot << 11 | (reg & ~3u);
}

static u32 cfg_read(struct vm *vm, int slot, unsigned int reg, unsigned int len)
{
	pio_out(vm, PORT_PCI_CONFIG_ADDR, cfg_addr(slot, reg), 4);
	return pio_in(vm, PORT_PCI_CONFIG_DATA + (reg & 3), len);
}

static void cfg_write(struct vm *vm, int slot, unsigned int reg, u32 v, unsigned int len)
{
	pio_out(vm, PORT_PCI_CONFIG_ADDR, cfg_addr(slot, reg), 4);
	pio_out(vm, PORT_PCI_CONFIG_DATA + (reg & 3), v, len);
}

static u64 rd(struct edu_view *e, u32 off, unsigned int len)
{
	u64 v = 0;

	assert_true(bus_read(&e->vm->mmio_bus, e->bar + off, &v, len));
	return v;
}

static void wr(struct edu_view *e, u32 off, u64 v, unsigned int len)
{
	assert_true(bus_write(&e->vm->mmio_bus, e->bar + off, &v, len));
}

/* A VM with the device (and VT-d if asked), found as a guest finds it. */
static struct edu_view edu_vm(bool vtd)
{
	struct edu_view e = { .vm = h_create(vtd, vtd), .slot = -1 };

	assert_non_null(e.vm);
	assert_int_equal(pci_root_create(e.vm), 0);
	assert_int_equal(edu_create(e.vm), 0);
	for (int s = 0; s < PCI_MAX_SLOTS; s++)
		if (cfg_read(e.vm, s, 0, 4) == (EDU_DEVICE_ID << 16 | EDU_VENDOR_ID))
			e.slot = s;
	assert_true(e.slot >= 0);
	e.bar = cfg_read(e.vm, e.slot, PCI_BASE_ADDRESS_0, 4) & ~0xfULL;
	cfg_write(e.vm, e.slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	return e;
}

static u32 gsi(struct edu_view *e)
{
	return cfg_read(e->vm, e->slot, PCI_INTERRUPT_LINE, 1);
}

static void identity_and_registers(void **state)
{
	struct edu_view e = edu_vm(false);

	(void)state;
	assert_int_equal(cfg_read(e.vm, e.slot, PCI_CLASS_DEVICE, 2), 0x00ff);
	assert_int_equal(cfg_read(e.vm, e.slot, PCI_INTERRUPT_PIN, 1), 1);
	/* BAR0: 1 MiB of 32-bit memory. */
	cfg_write(e.vm, e.slot, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(cfg_read(e.vm, e.slot, PCI_BASE_ADDRESS_0, 4), 0xfff00000);
	cfg_write(e.vm, e.slot, PCI_BASE_ADDRESS_0, (u32)e.bar, 4);
	assert_int_equal(rd(&e, EDU_REG_ID, 4), EDU_ID_VALUE);
	wr(&e, EDU_REG_ALIVE, 0x12345678, 4);
	assert_int_equal(rd(&e, EDU_REG_ALIVE, 4), (u32)~0x12345678u);
	/* Below 0x80 only 4-byte accesses: others read all ones, write nothing. */
	assert_int_equal(rd(&e, EDU_REG_ID, 8), ~0ULL);
	assert_int_equal(rd(&e, EDU_REG_ID, 2), 0xffff);
	wr(&e, EDU_REG_ALIVE, 0, 2);
	assert_int_equal(rd(&e, EDU_REG_ALIVE, 4), (u32)~0x12345678u);
	/* The DMA registers take 4 and 8 bytes, by halves. */
	wr(&e, EDU_REG_DMA_SRC, 0x1122334455667788ULL, 8);
	wr(&e, EDU_REG_DMA_SRC + 4, 0xaabbccdd, 4);
	assert_int_equal(rd(&e, EDU_REG_DMA_SRC, 8), 0xaabbccdd55667788ULL);
	assert_int_equal(rd(&e, EDU_REG_DMA_SRC, 4), 0x55667788);
	/* Unimplemented registers read all ones. */
	assert_int_equal(rd(&e, 0x40, 4), 0xffffffff);
	assert_int_equal(rd(&e, 0x1000, 4), 0xffffffff);
	vm_destroy(e.vm);
}

static void factorial_and_its_interrupt(void **state)
{
	static const struct { u32 n, r; } cases[] = {
		{ 0, 1 }, { 1, 1 }, { 5, 120 }, { 12, 479001600 }, { 13, 1932053504 },
		{ 33, 2147483648u }, { 34, 0 }, { 0xffffffff, 0 },
	};
	struct edu_view e = edu_vm(false);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		wr(&e, EDU_REG_FACTORIAL, cases[i].n, 4);
		assert_int_equal(rd(&e, EDU_REG_FACTORIAL, 4), cases[i].r);
	}
	assert_false(fake_irq_level(gsi(&e)));
	/* With status bit 0x80, a finished factorial raises interrupt 0x1 on INTA. */
	wr(&e, EDU_REG_STATUS, EDU_STATUS_IRQ_FACT | EDU_STATUS_COMPUTING, 4);
	assert_int_equal(rd(&e, EDU_REG_STATUS, 4), EDU_STATUS_IRQ_FACT);
	wr(&e, EDU_REG_FACTORIAL, 3, 4);
	assert_int_equal(rd(&e, EDU_REG_INTR_STATUS, 4), EDU_IRQ_FACT);
	assert_true(fake_irq_level(gsi(&e)));
	wr(&e, EDU_REG_INTR_ACK, EDU_IRQ_FACT, 4);
	assert_int_equal(rd(&e, EDU_REG_INTR_STATUS, 4), 0);
	assert_false(fake_irq_level(gsi(&e)));
	vm_destroy(e.vm);
}

static void raise_and_ack_on_inta_and_msi(void **state)
{
	struct edu_view e = edu_vm(false);
	u8 cap = cfg_read(e.vm, e.slot, PCI_CAPABILITY_LIST, 1);

	(void)state;
	/* The status bits OR together; INTA stays up until all are acked. */
	wr(&e, EDU_REG_INTR_RAISE, 0x3, 4);
	assert_true(fake_irq_level(gsi(&e)));
	wr(&e, EDU_REG_INTR_ACK, 0x1, 4);
	assert_true(fake_irq_level(gsi(&e)));
	wr(&e, EDU_REG_INTR_ACK, 0x2, 4);
	assert_false(fake_irq_level(gsi(&e)));
	/* The MSI capability: 64-bit, one vector. */
	assert_int_equal(cfg_read(e.vm, e.slot, cap, 1), PCI_CAP_ID_MSI);
	assert_int_equal(cfg_read(e.vm, e.slot, cap + PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_64BIT);
	cfg_write(e.vm, e.slot, cap + PCI_MSI_ADDRESS_LO, 0xfee03000, 4);
	cfg_write(e.vm, e.slot, cap + PCI_MSI_ADDRESS_HI, 0, 4);
	cfg_write(e.vm, e.slot, cap + PCI_MSI_DATA_64, 0x4071, 2);
	cfg_write(e.vm, e.slot, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 0x70, 2);
	assert_int_equal(cfg_read(e.vm, e.slot, cap + PCI_MSI_FLAGS, 2),
			 PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_ENABLE);
	/* With MSI on, each raise is a message and INTA stays low. */
	wr(&e, EDU_REG_INTR_RAISE, 0x1, 4);
	assert_int_equal(msis.n, 1);
	assert_int_equal(msis.addr, 0xfee03000);
	assert_int_equal(msis.data, 0x4071);
	assert_false(fake_irq_level(gsi(&e)));
	/* MSI off with an interrupt still pending: INTA takes it. */
	cfg_write(e.vm, e.slot, cap + PCI_MSI_FLAGS, 0, 2);
	assert_true(fake_irq_level(gsi(&e)));
	wr(&e, EDU_REG_INTR_ACK, 0x1, 4);
	assert_false(fake_irq_level(gsi(&e)));
	assert_int_equal(msis.n, 1);
	vm_destroy(e.vm);
}

static void dma(struct edu_view *e, u64 src, u64 dst, u64 count, u64 cmd)
{
	wr(e, EDU_REG_DMA_SRC, src, 8);
	wr(e, EDU_REG_DMA_DST, dst, 8);
	wr(e, EDU_REG_DMA_COUNT, count, 8);
	wr(e, EDU_REG_DMA_CMD, cmd | EDU_CMD_START, 4);
	/* Done before the write returns. */
	assert_int_equal(rd(e, EDU_REG_DMA_CMD, 4) & EDU_CMD_START, 0);
}

static void dma_to_and_from_ram(void **state)
{
	struct edu_view e = edu_vm(false);
	u8 in[256], out[256];

	(void)state;
	for (unsigned int i = 0; i < sizeof(in); i++)
		in[i] = (u8)(i * 7);
	assert_int_equal(guest_write(&e.vm->mem, RAM_BUF, in, sizeof(in)), 0);
	dma(&e, RAM_BUF, EDU_DMA_BUF_ADDR + 100, sizeof(in), 0);
	dma(&e, EDU_DMA_BUF_ADDR + 100, RAM_BUF + 0x1000, sizeof(in),
	    EDU_CMD_FROM_DEVICE | EDU_CMD_IRQ);
	assert_int_equal(guest_read(&e.vm->mem, RAM_BUF + 0x1000, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	/* EDU_CMD_IRQ: interrupt 0x100 when done. */
	assert_int_equal(rd(&e, EDU_REG_INTR_STATUS, 4), EDU_IRQ_DMA);
	assert_true(fake_irq_level(gsi(&e)));
	/* The guest-side address is masked to 28 bits. */
	dma(&e, EDU_DMA_BUF_ADDR + 100, (1ULL << 40) | (RAM_BUF + 0x2000), 16, EDU_CMD_FROM_DEVICE);
	assert_int_equal(guest_read(&e.vm->mem, RAM_BUF + 0x2000, out, 16), 0);
	assert_memory_equal(in, out, 16);
	vm_destroy(e.vm);
}

static void bad_transfers_do_nothing(void **state)
{
	static const struct {
		const char *what;
		u64 buf, count;
	} cases[] = {
		{ "longer than the buffer", EDU_DMA_BUF_ADDR, EDU_DMA_BUF_SIZE + 1 },
		{ "past the buffer's end", EDU_DMA_BUF_ADDR + 4000, 100 },
		{ "below the buffer", EDU_DMA_BUF_ADDR - 4, 8 },
		{ "a count that wraps", EDU_DMA_BUF_ADDR + 8, ~0ULL - 4 },
	};
	struct edu_view e = edu_vm(false);
	u8 zero[64] = { 0 }, out[64], ones[64];

	(void)state;
	memset(ones, 0xff, sizeof(ones));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("%s\n", cases[i].what);
		assert_int_equal(guest_write(&e.vm->mem, RAM_BUF, ones, sizeof(ones)), 0);
		dma(&e, RAM_BUF, cases[i].buf, cases[i].count, 0);
		dma(&e, cases[i].buf, RAM_BUF, cases[i].count, EDU_CMD_FROM_DEVICE);
		assert_int_equal(guest_read(&e.vm->mem, RAM_BUF, out, sizeof(out)), 0);
		assert_memory_equal(out, ones, sizeof(out));
	}
	/* RAM that is not there: the buffer stays as it was. */
	dma(&e, 0x7ff0000, EDU_DMA_BUF_ADDR, 64, 0);
	dma(&e, EDU_DMA_BUF_ADDR, RAM_BUF, 64, EDU_CMD_FROM_DEVICE);
	assert_int_equal(guest_read(&e.vm->mem, RAM_BUF, out, sizeof(out)), 0);
	assert_memory_equal(out, zero, sizeof(out));
	/* Bus mastering off: nothing moves. */
	assert_int_equal(guest_write(&e.vm->mem, RAM_BUF, ones, sizeof(ones)), 0);
	cfg_write(e.vm, e.slot, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	dma(&e, EDU_DMA_BUF_ADDR, RAM_BUF, 64, EDU_CMD_FROM_DEVICE);
	assert_int_equal(guest_read(&e.vm->mem, RAM_BUF, out, sizeof(out)), 0);
	assert_memory_equal(out, ones, sizeof(out));
	/* A command without START does nothing. */
	wr(&e, EDU_REG_DMA_CMD, EDU_CMD_FROM_DEVICE, 4);
	assert_int_equal(rd(&e, EDU_REG_DMA_CMD, 4), EDU_CMD_FROM_DEVICE | 0);
	vm_destroy(e.vm);
}

static void dma_and_msi_through_vtd(void **state)
{
	struct edu_view e = edu_vm(true);
	u16 sid = (u16)(e.slot << 3);
	u8 cap = cfg_read(e.vm, e.slot, PCI_CAPABILITY_LIST, 1);
	u32 v = 0x12345678, out = 0;

	(void)state;
	/* The device's own requester ID picks its context entry. */
	put64(e.vm, H_ROOT, H_CTX | 1);
	put64(e.vm, H_CTX + 16 * sid, H_SL | 1);
	put64(e.vm, H_CTX + 16 * sid + 8, 1);
	put64(e.vm, H_SL, (H_SL + 0x1000) | 3);
	put64(e.vm, H_SL + 0x1000, (H_SL + 0x2000) | 3);
	put64(e.vm, H_SL + 0x2000, RAM_BUF | 3);	/* iova 0 -> RAM_BUF */
	reg_write(e.vm, VTD_REG_RTADDR, H_ROOT, 8);
	gcmd_set(e.vm, VTD_GCMD_SRTP);
	gcmd_set(e.vm, VTD_GCMD_TE);
	assert_int_equal(guest_write(&e.vm->mem, RAM_BUF, &v, 4), 0);
	dma(&e, 0, EDU_DMA_BUF_ADDR, 4, 0);
	dma(&e, EDU_DMA_BUF_ADDR, 4, 4, EDU_CMD_FROM_DEVICE);
	assert_int_equal(guest_read(&e.vm->mem, RAM_BUF + 4, &out, 4), 0);
	assert_int_equal(out, v);
	/* An unmapped IOVA faults with the device's SID, and moves nothing. */
	dma(&e, EDU_DMA_BUF_ADDR, 0x1000, 4, EDU_CMD_FROM_DEVICE);
	assert_int_equal(h_fault_reason(e.vm), VTD_FR_WRITE);
	assert_int_equal(reg_read(e.vm, VTD_REG_FRCD + 8, 8) & 0xffff, sid);
	/* Remappable MSI, checked against the device's SID. */
	put64(e.vm, H_IRT + 16, 1 | 0x77ULL << 16 | 1ULL << 40);
	put64(e.vm, H_IRT + 24, sid | 1ULL << 18);
	reg_write(e.vm, VTD_REG_IRTA, H_IRT | 7, 8);
	gcmd_set(e.vm, VTD_GCMD_SIRTP);
	gcmd_set(e.vm, VTD_GCMD_IRE);
	cfg_write(e.vm, e.slot, cap + PCI_MSI_ADDRESS_LO, 0xfee00000 | 1 << 5 | 1 << 4, 4);
	cfg_write(e.vm, e.slot, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	wr(&e, EDU_REG_INTR_RAISE, 1, 4);
	assert_int_equal(msis.n, 1);
	assert_int_equal(msis.addr, 0xfee01000);
	assert_int_equal(msis.data, 0x77);
	vm_destroy(e.vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identity_and_registers),
		cmocka_unit_test(factorial_and_its_interrupt),
		cmocka_unit_test(raise_and_ack_on_inta_and_msi),
		cmocka_unit_test(dma_to_and_from_ram),
		cmocka_unit_test(bad_transfers_do_nothing),
		cmocka_unit_test(dma_and_msi_through_vtd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
