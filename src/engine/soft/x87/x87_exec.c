// SPDX-License-Identifier: Apache-2.0
/*
 * One x87 instruction. The control instructions, whose memory images
 * hold pointers and depend on the mode, are done here in C; every other
 * instruction runs on the host's x87 (x87_host.c), which gives exact
 * results, flags, tags and stack behaviour.
 */
#include <string.h>

#include "engine/soft/x87/x87.h"
#include "engine/soft/x87/x87_host.h"
#include "lib/unaligned.h"

/* The state as an FRSTOR image (no pointers: the host's are meaningless). */
static void to_image(const struct fxsave_area *fx, u8 *img)
{
	memset(img, 0, X87_SAVE_BYTES);
	put_le16(img + 0, fx->fcw);
	/* No exception may be pending, or the host would trap. */
	put_le16(img + 4, fx->fsw & ~(X87_FSW_ES | X87_FSW_B));
	put_le16(img + 8, x87_full_tag(fx));
	for (unsigned int i = 0; i < 8; i++)
		memcpy(img + 28 + 10 * i, fx->st[i].bytes, 10);
}

static void from_image(struct fxsave_area *fx, const u8 *img)
{
	fx->fcw = get_le16(img + 0);
	fx->fsw = get_le16(img + 4);
	fx->ftw = x87_abridged_tag(get_le16(img + 8));
	for (unsigned int i = 0; i < 8; i++)
		memcpy(fx->st[i].bytes, img + 28 + 10 * i, 10);
}

/* Bytes a store is checked against to learn whether the host stored. */
#define SENTINEL_A 0x5a
#define SENTINEL_B 0xa5

static bool all_bytes(const u8 *p, unsigned int n, u8 v)
{
	for (unsigned int i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static bool is_fcomi(u8 opcode, u8 modrm)
{
	return (opcode == 0xdb || opcode == 0xdf) && modrm >= 0xe8 &&
	       modrm <= 0xf7;
}

/*
 * Runs a computational instruction on the host. A store may be
 * suppressed by an unmasked exception; rather than predicting when, the
 * buffer starts as a sentinel and the rare result that equals it is run
 * again with another.
 */
static void run_on_host(struct fxsave_area *fx, struct x87_op *op,
			unsigned int bytes, enum x87_mem_dir dir)
{
	bool reg = (op->modrm >> 6) == 3;
	unsigned int index = reg ? x87_host_reg_index(op->opcode, op->modrm) :
				   x87_host_mem_index(op->opcode, op->modrm);
	u8 before[X87_SAVE_BYTES], img[X87_SAVE_BYTES];
	void *mem = reg ? NULL : op->mem;
	u64 fl;

	to_image(fx, before);
	memcpy(img, before, sizeof(img));
	if (dir == X87_MEM_STORE)
		memset(op->mem, SENTINEL_A, bytes);
	fl = x87_host_run(img, index, mem, op->rflags);
	if (dir == X87_MEM_STORE) {
		bool stored = !all_bytes(op->mem, bytes, SENTINEL_A);

		if (!stored) {
			memcpy(img, before, sizeof(img));
			memset(op->mem, SENTINEL_B, bytes);
			x87_host_run(img, index, mem, op->rflags);
			stored = !all_bytes(op->mem, bytes, SENTINEL_B);
			if (stored)
				memset(op->mem, SENTINEL_A, bytes);
		}
		if (stored)
			op->wrote |= X87_WROTE_MEM;
	}
	from_image(fx, img);
	if (reg && is_fcomi(op->opcode, op->modrm)) {
		op->rflags = fl;
		op->wrote |= X87_WROTE_FLAGS;
	}
}

bool x87_no_wait(u8 opcode, u8 modrm)
{
	if ((modrm >> 6) == 3) {
		switch (opcode << 8 | modrm) {
		case 0xdbe0: /* feni, fndisi, fnsetpm: 8087/287 leftovers */
		case 0xdbe1:
		case 0xdbe4:
		case 0xdbe2: /* fnclex */
		case 0xdbe3: /* fninit */
		case 0xdfe0: /* fnstsw ax */
			return true;
		}
		return false;
	}
	switch (opcode << 8 | ((modrm >> 3) & 7)) {
	case 0xd906: /* fnstenv */
	case 0xd907: /* fnstcw */
	case 0xdd06: /* fnsave */
	case 0xdd07: /* fnstsw */
		return true;
	}
	return false;
}

/* The no-wait instructions: they run even with an exception pending. */
static void run_no_wait(struct fxsave_area *fx, struct x87_op *op)
{
	unsigned int env = op->opsize16 ? 14 : 28;

	if ((op->modrm >> 6) == 3) {
		switch (op->opcode << 8 | op->modrm) {
		case 0xdbe2: /* fnclex */
			fx->fsw &= ~(X87_EXC_FLAGS | X87_FSW_SF | X87_FSW_ES |
				     X87_FSW_B);
			break;
		case 0xdbe3: /* fninit */
			x87_init(fx);
			break;
		case 0xdfe0: /* fnstsw ax */
			op->ax = fx->fsw;
			op->wrote |= X87_WROTE_AX;
			break;
		}
		return;
	}
	switch (op->opcode << 8 | ((op->modrm >> 3) & 7)) {
	case 0xd907: /* fnstcw */
		put_le16(op->mem, fx->fcw);
		break;
	case 0xdd07: /* fnstsw */
		put_le16(op->mem, fx->fsw);
		break;
	case 0xd906: /* fnstenv, which then masks every exception */
		x87_env_store(fx, op->mem, op->opsize16, op->real_mode);
		fx->fcw |= X87_EXC_FLAGS;
		x87_update_es(fx);
		break;
	case 0xdd06: /* fnsave: environment, registers, then fninit */
		x87_env_store(fx, op->mem, op->opsize16, op->real_mode);
		for (unsigned int i = 0; i < 8; i++)
			memcpy(op->mem + env + 10 * i, fx->st[i].bytes, 10);
		x87_init(fx);
		break;
	}
	op->wrote |= X87_WROTE_MEM;
}

/* Waiting control instructions: they load state, and set no pointers. */
static bool run_control(struct fxsave_area *fx, struct x87_op *op)
{
	unsigned int env = op->opsize16 ? 14 : 28;

	if ((op->modrm >> 6) == 3)
		return false;
	switch (op->opcode << 8 | ((op->modrm >> 3) & 7)) {
	case 0xd905: /* fldcw */
		fx->fcw = x87_fcw_value(get_le16(op->mem));
		x87_update_es(fx);
		return true;
	case 0xd904: /* fldenv */
		x87_env_load(fx, op->mem, op->opsize16, op->real_mode);
		return true;
	case 0xdd04: /* frstor */
		x87_env_load(fx, op->mem, op->opsize16, op->real_mode);
		for (unsigned int i = 0; i < 8; i++)
			memcpy(fx->st[i].bytes, op->mem + env + 10 * i, 10);
		return true;
	}
	return false;
}

int x87_exec(struct fxsave_area *fx, struct x87_op *op)
{
	unsigned int bytes;
	enum x87_mem_dir dir;

	op->wrote = 0;
	if (!x87_decode(op->opcode, op->modrm, op->opsize16, &bytes, &dir))
		return FPU_UD;
	if (x87_no_wait(op->opcode, op->modrm)) {
		run_no_wait(fx, op);
		return FPU_OK;
	}
	x87_update_es(fx);
	if (x87_pending(fx))
		return FPU_MF;
	if (run_control(fx, op))
		return FPU_OK;
	run_on_host(fx, op, bytes, dir);
	/* The last non-control instruction, for FNSTENV and exception handlers. */
	fx->fop = (op->opcode & 7) << 8 | op->modrm;
	fx->fip = op->ip;
	if (dir != X87_MEM_NONE)
		fx->fdp = op->dp;
	return FPU_OK;
}

/* FCMOVcc, FCOMI/FUCOMI(P) and FNSTSW AX need the guest's registers. */
static bool needs_gprs(u8 opcode, u8 modrm)
{
	if ((modrm >> 6) != 3)
		return false;
	if ((opcode == 0xda || opcode == 0xdb) && modrm < 0xe0)
		return true;
	return is_fcomi(opcode, modrm) || (opcode == 0xdf && modrm == 0xe0);
}

int x87_execute_io(struct fxsave_area *fx, u8 opcode, u8 modrm,
		   struct x87_mem *mem, u64 rip, struct x87_gpr_io *io)
{
	struct x87_op op = { .opcode = opcode, .modrm = modrm, .ip = rip };
	struct fxsave_area next = *fx;
	unsigned int bytes;
	enum x87_mem_dir dir;
	int f;

	if (!x87_decode(opcode, modrm, !mem->op32, &bytes, &dir))
		return FPU_UD;
	if (!io && needs_gprs(opcode, modrm))
		return FPU_UD;
	/* A pending exception comes before any memory access. */
	if (!x87_no_wait(opcode, modrm) && x87_pending(fx))
		return FPU_MF;
	op.opsize16 = !mem->op32;
	op.real_mode = io && io->real_mode;
	op.rflags = io ? io->rflags : 0;
	if (mem->is_mem) {
		op.dp = mem->ea;
		if (dir == X87_MEM_LOAD)
			mem->read(mem, 0, op.mem, bytes);
	}
	f = x87_exec(&next, &op);
	if (f)
		return f;
	if (mem->is_mem && (op.wrote & X87_WROTE_MEM))
		mem->write(mem, 0, op.mem, bytes);
	*fx = next;
	if (io) {
		io->wrote = op.wrote & (X87_WROTE_FLAGS | X87_WROTE_AX);
		io->rflags = op.rflags;
		io->ax = op.ax;
	}
	return FPU_OK;
}

int x87_execute(struct fxsave_area *fx, u8 opcode, u8 modrm,
		struct x87_mem *mem, u64 rip)
{
	return x87_execute_io(fx, opcode, modrm, mem, rip, NULL);
}
