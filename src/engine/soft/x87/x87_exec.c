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

static u16 get16(const u8 *p)
{
	u16 v;

	memcpy(&v, p, 2);
	return v;
}

static void put16(u8 *p, u16 v)
{
	memcpy(p, &v, 2);
}

/* The state as an FRSTOR image (no pointers: the host's are meaningless). */
static void to_image(const struct x87_state *st, u8 *img)
{
	memset(img, 0, X87_SAVE_BYTES);
	put16(img + 0, st->fcw);
	/* ES must agree with the flags, or the host would trap. */
	put16(img + 4, st->fsw & ~(X87_FSW_ES | X87_FSW_B));
	put16(img + 8, x87_full_tag(st));
	memcpy(img + 28, st->st, sizeof(st->st));
}

static void from_image(struct x87_state *st, const u8 *img)
{
	st->fcw = get16(img + 0);
	st->fsw = get16(img + 4);
	st->ftw = x87_abridged_tag(get16(img + 8));
	memcpy(st->st, img + 28, sizeof(st->st));
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

/*
 * Runs a computational instruction on the host. A store may be
 * suppressed by an unmasked exception; rather than predicting when, the
 * buffer starts as a sentinel and the rare result that equals it is run
 * again with another.
 */
static void run_on_host(struct x87_state *st, struct x87_op *op,
			unsigned int bytes, enum x87_mem_dir dir)
{
	bool reg = (op->modrm >> 6) == 3;
	unsigned int index = reg ? x87_host_reg_index(op->opcode, op->modrm) :
				   x87_host_mem_index(op->opcode, op->modrm);
	u8 before[X87_SAVE_BYTES], img[X87_SAVE_BYTES];
	u64 fl;
	void *mem = reg ? NULL : op->mem;

	to_image(st, before);
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
	from_image(st, img);

	/* FCOMI, FCOMIP, FUCOMI, FUCOMIP: whatever they did to the flags. */
	if (reg && (op->opcode == 0xdb || op->opcode == 0xdf) &&
	    op->modrm >= 0xe8 && op->modrm <= 0xf7) {
		op->rflags = fl;
		op->wrote |= X87_WROTE_FLAGS;
	}
}

/* FNSAVE/FRSTOR: the environment, then the eight registers in stack order. */
static void save_image(struct x87_state *st, struct x87_op *op)
{
	unsigned int env = op->opsize16 ? 14 : 28;

	x87_env_store(st, op->mem, op->opsize16, op->real_mode);
	memcpy(op->mem + env, st->st, sizeof(st->st));
	op->wrote |= X87_WROTE_MEM;
	x87_init(st);
}

static void restore_image(struct x87_state *st, const struct x87_op *op)
{
	unsigned int env = op->opsize16 ? 14 : 28;

	x87_env_load(st, op->mem, op->opsize16, op->real_mode);
	memcpy(st->st, op->mem + env, sizeof(st->st));
}

/* The no-wait instructions: they run even with an exception pending. */
static bool run_no_wait(struct x87_state *st, struct x87_op *op)
{
	u8 reg = (op->modrm >> 3) & 7;

	if ((op->modrm >> 6) == 3) {
		switch (op->opcode << 8 | op->modrm) {
		case 0xdbe2: /* fnclex */
			st->fsw &= ~(X87_EXC_FLAGS | X87_FSW_SF | X87_FSW_ES |
				     X87_FSW_B);
			return true;
		case 0xdbe3: /* fninit */
			x87_init(st);
			return true;
		case 0xdbe0: /* feni, fndisi, fnsetpm: the 8087/287's, now no-ops */
		case 0xdbe1:
		case 0xdbe4:
			return true;
		case 0xdfe0: /* fnstsw ax */
			op->ax = st->fsw;
			op->wrote |= X87_WROTE_AX;
			return true;
		}
		return false;
	}
	switch (op->opcode << 8 | reg) {
	case 0xd907: /* fnstcw */
		put16(op->mem, st->fcw);
		break;
	case 0xdd07: /* fnstsw */
		put16(op->mem, st->fsw);
		break;
	case 0xd906: /* fnstenv, which then masks every exception */
		x87_env_store(st, op->mem, op->opsize16, op->real_mode);
		st->fcw |= X87_EXC_FLAGS;
		x87_update_es(st);
		break;
	case 0xdd06: /* fnsave */
		save_image(st, op);
		return true;
	default:
		return false;
	}
	op->wrote |= X87_WROTE_MEM;
	return true;
}

/* Waiting control instructions: they load state, and set no pointers. */
static bool run_control(struct x87_state *st, struct x87_op *op)
{
	if ((op->modrm >> 6) == 3)
		return false;
	switch (op->opcode << 8 | ((op->modrm >> 3) & 7)) {
	case 0xd905: /* fldcw */
		st->fcw = x87_fcw_value(get16(op->mem));
		x87_update_es(st);
		return true;
	case 0xd904: /* fldenv */
		x87_env_load(st, op->mem, op->opsize16, op->real_mode);
		return true;
	case 0xdd04: /* frstor */
		restore_image(st, op);
		return true;
	}
	return false;
}

enum fpu_fault x87_exec(struct x87_state *st, struct x87_op *op)
{
	unsigned int bytes;
	enum x87_mem_dir dir;

	op->wrote = 0;
	if (!x87_decode(op->opcode, op->modrm, op->opsize16, &bytes, &dir))
		return FPU_UD;
	if (run_no_wait(st, op))
		return FPU_OK;
	x87_update_es(st);
	if (x87_pending(st))
		return FPU_MF;
	if (run_control(st, op))
		return FPU_OK;
	run_on_host(st, op, bytes, dir);
	/* The last non-control instruction, for FNSTENV and exception handlers. */
	st->fop = (op->opcode & 7) << 8 | op->modrm;
	st->fip = op->ip;
	if (dir != X87_MEM_NONE)
		st->fdp = op->dp;
	return FPU_OK;
}
