// SPDX-License-Identifier: Apache-2.0
/*
 * The x87 against the real CPU. For every encoding D8 00 .. DF FF (every
 * register form, every memory form, and the 16-bit environment forms),
 * a random FPU state (any TOP, tags, control word, pending exceptions,
 * registers holding zeros, denormals, unnormals, pseudo-NaNs, NaNs,
 * infinities, boundary values) and a random memory operand:
 *  - the host loads the state with FXRSTOR, runs the instruction, and
 *    saves it with FXSAVE, trapping #MF (SIGFPE) and #UD (SIGILL);
 *  - x87_exec() runs it on the soft engine's state;
 * and the control, status and tag words, the registers, the memory
 * operand afterwards, EFLAGS and AX must agree, as must the verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>

#include "engine/soft/x87/x87.h"
#include "test_sse_util.h"

/* A random 80-bit register value, biased to the classes that matter. */
static void rand_f80(u8 *r)
{
	u64 m = rng64();
	u16 e = rng64() & 0x7fff, sign = (rng64() & 1) << 15;

	switch (rng_below(16)) {
	case 0: /* zero */
		m = 0;
		e = 0;
		break;
	case 1: /* denormal */
		m &= ~(1ULL << 63);
		e = 0;
		break;
	case 2: /* pseudo-denormal */
		m |= 1ULL << 63;
		e = 0;
		break;
	case 3: /* unnormal */
		m &= ~(1ULL << 63);
		break;
	case 4: /* infinity, sometimes a pseudo-infinity */
		m = rng_below(8) ? 1ULL << 63 : 0;
		e = 0x7fff;
		break;
	case 5: /* quiet NaN */
		m |= 3ULL << 62;
		e = 0x7fff;
		break;
	case 6: /* signalling NaN, sometimes a pseudo-NaN */
		m = (m & ~(3ULL << 62)) | 1 | (rng_below(8) ? 1ULL << 63 : 0);
		e = 0x7fff;
		break;
	case 7: /* near the float, double, int16/32/64 limits */
	case 8: {
		static const s16 around[] = { 15, 31, 63, 127, 1023, -126,
					      -1022, -149, -1074, 16383 };

		e = 0x3fff + around[rng_below(ARRAY_SIZE(around))] +
		    (s16)rng_below(5) - 2;
		m |= 1ULL << 63;
		if (rng64() & 1)
			m &= ~0xffffffffffULL;
		break;
	}
	case 9: /* small integers, halves */
		e = 0x3fff + rng_below(16);
		m = (m | 1ULL << 63) & ~((1ULL << 45) - 1);
		break;
	case 10: /* near the edges of the exponent range */
		e = rng64() & 1 ? 0x7ffe - rng_below(3) : 1 + rng_below(3);
		m |= 1ULL << 63;
		break;
	default: /* a normal */
		m |= 1ULL << 63;
		if (e == 0x7fff || e == 0)
			e = 0x3fff;
		break;
	}
	e |= sign;
	memcpy(r, &m, 8);
	memcpy(r + 8, &e, 2);
}

/* Packed BCD: 18 digits and a sign byte; sometimes an invalid nibble. */
static void rand_bcd(u8 *p)
{
	for (unsigned int i = 0; i < 9; i++)
		p[i] = rng_below(10) << 4 | rng_below(10);
	if (!rng_below(8))
		p[rng_below(9)] |= 0xa0;
	p[9] = rng64() & 1 ? 0x80 : 0;
	if (!rng_below(16))
		p[9] = (u8)rng64();
}

static u16 rand_fcw(void)
{
	u16 cw = 0x0040 | (rng64() & 0x0f00);	/* PC, RC; bit 6 reads as 1 */

	if (rng_below(3))
		cw |= X87_EXC_FLAGS;
	else
		cw |= rng64() & X87_EXC_FLAGS;
	cw |= rng64() & 0x1000;			/* X bit, ignored */
	/* Sometimes bits that do not exist, for the loads to drop. */
	if (!rng_below(8))
		cw ^= rng64() & 0xe080;
	return cw;
}

static void rand_state(struct fxsave_area *st)
{
	x87_init(st);
	st->fcw = x87_fcw_value(rand_fcw());
	st->fsw = rng64() & (X87_FSW_TOP | X87_FSW_C0 | X87_FSW_C1 |
			     X87_FSW_C2 | X87_FSW_C3);
	if (!rng_below(4))
		st->fsw |= rng64() & (X87_EXC_FLAGS | X87_FSW_SF);
	switch (rng_below(4)) {
	case 0:
		st->ftw = 0xff;
		break;
	case 1:
		st->ftw = 0;
		break;
	default:
		st->ftw = (u8)rng64();
		break;
	}
	for (unsigned int i = 0; i < 8; i++)
		rand_f80(st->st[i].bytes);
	x87_update_es(st);
}

/* An environment or save image, with its fields mostly sensible. */
static void rand_image(u8 *mem, unsigned int bytes, bool opsize16)
{
	struct fxsave_area st;
	unsigned int env = opsize16 ? 14 : 28;

	rand_state(&st);
	st.fsw |= rng64() & (X87_FSW_ES | X87_FSW_B);
	for (unsigned int i = 0; i < bytes; i++)
		mem[i] = (u8)rng64();
	x87_env_store(&st, mem, opsize16, false);
	if (!rng_below(8))	/* control word bits that do not exist */
		mem[1] ^= rng64() & 0xe0;
	if (!rng_below(4))	/* a tag word that disagrees with the contents */
		memcpy(mem + (opsize16 ? 4 : 8), &(u16){ (u16)rng64() }, 2);
	for (unsigned int i = 0; env + 10 * i < bytes; i++)
		rand_f80(mem + env + 10 * i);
}

static void rand_operand(u8 opcode, u8 reg, u8 *mem, unsigned int bytes,
			 bool opsize16)
{
	u64 v;

	if (bytes >= 14) {
		rand_image(mem, bytes, opsize16);
		return;
	}
	switch (bytes) {
	case 2:
		v = opcode == 0xd9 ? rand_fcw() : rand_int(16);
		break;
	case 4:
		v = opcode == 0xd8 || opcode == 0xd9 ? rand_f32() : rand_int(32);
		break;
	case 8:
		v = opcode == 0xdc || opcode == 0xdd ? rand_f64() : rand_int(64);
		break;
	default:
		if (opcode == 0xdf && reg == 4)
			rand_bcd(mem);
		else
			rand_f80(mem);
		return;
	}
	memcpy(mem, &v, bytes);
}

/*
 * The host side. Stubs as in the engine but built independently here:
 * register forms, memory forms through [rdx], then the four 16-bit
 * environment forms (66 D9 /4, 66 D9 /6, 66 DD /4, 66 DD /6).
 */
#define OPCODES "0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf"
#define MODRMS_C(h) #h "0, " #h "1, " #h "2, " #h "3, " #h "4, " #h "5, " \
	#h "6, " #h "7, " #h "8, " #h "9, " #h "a, " #h "b, " #h "c, "     \
	#h "d, " #h "e, " #h "f"
#define REG_MODRMS MODRMS_C(0xc) ", " MODRMS_C(0xd) ", " MODRMS_C(0xe) ", " \
	MODRMS_C(0xf)
#define MEM_MODRMS "0x02, 0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x32, 0x3a"

struct host_result {
	int trap;		/* 0, SIGFPE or SIGILL */
	u8 fx[512] __attribute__((aligned(16)));
	u64 rax;		/* AH: SF ZF AF PF CF; AL: OF */
	u64 rcx;		/* EAX just after the instruction */
};

static volatile int trap_sig;

static void ill_handler(int sig, siginfo_t *si, void *ctx)
{
	(void)si;
	(void)ctx;
	trap_sig = sig;
	siglongjmp(trap_env, 1);
}

#define SIX_FLAGS (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | \
		   RFLAGS_SF | RFLAGS_OF)

static void host_run(struct host_result *r, unsigned int index, u8 *mem,
		     u64 eflags)
{
	/* AL = 0x7f overflows on +1; AL = 0xff does not. */
	u64 target, rcx = 0;
	u64 rax = (eflags & 0xd5) << 8 | (eflags & RFLAGS_OF ? 0x7f : 0xff);

	trap_sig = 0;
	if (sigsetjmp(trap_env, 1)) {
		host_fpu_reset();
		r->trap = trap_sig ? trap_sig : SIGFPE;
		return;
	}
	asm volatile("lea 1f(%%rip), %[t]\n\t"
		     "lea (%[t], %[idx], 8), %[t]\n\t"
		     /* OF, then SF ZF AF PF CF from the guest. */
		     "add $1, %%al\n\t"
		     "sahf\n\t"
		     "fxrstor64 (%[fx])\n\t"
		     "jmp *%[t]\n\t"
		     ".balign 8\n"
		     "1:\n\t"
		     ".irp op, " OPCODES "\n\t"
		     ".irp m, " REG_MODRMS "\n\t"
		     ".byte \\op, \\m\n\t"
		     "jmp 2f\n\t"
		     ".balign 8\n\t"
		     ".endr\n\t"
		     ".endr\n\t"
		     ".irp op, " OPCODES "\n\t"
		     ".irp m, " MEM_MODRMS "\n\t"
		     ".byte \\op, \\m\n\t"
		     "jmp 2f\n\t"
		     ".balign 8\n\t"
		     ".endr\n\t"
		     ".endr\n\t"
		     ".irp f, 0xd922, 0xd932, 0xdd22, 0xdd32\n\t"
		     ".byte 0x66, (\\f >> 8), (\\f & 0xff)\n\t"
		     "jmp 2f\n\t"
		     ".balign 8\n\t"
		     ".endr\n"
		     "2:\n\t"
		     "mov %%eax, %%ecx\n\t"
		     "lahf\n\t"
		     "seto %%al\n\t"
		     "fxsave64 (%[fx])\n\t"
		     "fninit"
		     : [t] "=&r"(target), "+a"(rax), "+c"(rcx)
		     : [fx] "r"(r->fx), [idx] "r"((u64)index), "d"(mem)
		     : "memory", "cc");
	r->trap = 0;
	r->rax = rax;
	r->rcx = rcx;
}

/* Written byte by byte, not through struct fxsave_area, on purpose. */
static void to_fxsave(const struct fxsave_area *st, u8 *fx)
{
	memset(fx, 0, 512);
	memcpy(fx + 0, &st->fcw, 2);
	memcpy(fx + 2, &st->fsw, 2);
	fx[4] = st->ftw;
	memcpy(fx + 24, &(u32){ 0x1f80 }, 4);
	for (unsigned int i = 0; i < 8; i++)
		memcpy(fx + 32 + 16 * i, st->st[i].bytes, 10);
}

static void from_fxsave(struct fxsave_area *st, const u8 *fx)
{
	memcpy(&st->fcw, fx + 0, 2);
	memcpy(&st->fsw, fx + 2, 2);
	st->ftw = fx[4];
	for (unsigned int i = 0; i < 8; i++)
		memcpy(st->st[i].bytes, fx + 32 + 16 * i, 10);
}

static bool same_regs(const struct fxsave_area *a, const struct fxsave_area *b)
{
	for (unsigned int i = 0; i < 8; i++)
		if (memcmp(a->st[i].bytes, b->st[i].bytes, 10))
			return false;
	return true;
}

/*
 * The memory bytes the host's FNSTENV/FNSAVE filled with its own
 * instruction and data pointers and last opcode, which mean nothing here.
 * The selectors beside them are compared: both store zero.
 */
static bool pointer_byte(unsigned int i, unsigned int bytes, bool opsize16)
{
	if (bytes < 14)
		return false;
	if (opsize16)
		return (i >= 6 && i < 8) || (i >= 10 && i < 12);
	return (i >= 12 && i < 16) || (i >= 18 && i < 24);
}

static void dump_state(const char *who, const struct fxsave_area *st)
{
	print_error("  %s: fcw=%04x fsw=%04x ftw=%02x\n", who, st->fcw,
		    st->fsw, st->ftw);
	for (unsigned int i = 0; i < 8; i++) {
		u64 m;
		u16 e;

		memcpy(&m, st->st[i].bytes, 8);
		memcpy(&e, st->st[i].bytes + 8, 2);
		print_error("    st%u %04x:%016" PRIx64 "\n", i, e, m);
	}
}

struct form {
	u8 opcode, modrm;
	bool opsize16;
	unsigned int host_index;
};

/* One random case of one form; returns false (after printing) on a mismatch. */
static bool one_case(const struct form *f, unsigned int *traps)
{
	static struct host_result hr;
	struct fxsave_area st, want;
	struct x87_op op = { 0 };
	u8 mem[108], host_mem[108];
	unsigned int bytes = 0, n;
	enum x87_mem_dir dir;
	bool reg = (f->modrm >> 6) == 3, ok = true;
	enum fpu_fault fault;
	u64 eflags = rng64() & SIX_FLAGS;

	rand_state(&st);
	x87_decode(f->opcode, f->modrm, f->opsize16, &bytes, &dir);
	n = reg ? 0 : (bytes ? bytes : 108);
	for (unsigned int i = 0; i < sizeof(mem); i++)
		mem[i] = (u8)rng64();
	if (!reg && dir != X87_MEM_STORE)
		rand_operand(f->opcode, (f->modrm >> 3) & 7, mem, bytes,
			     f->opsize16);
	memcpy(host_mem, mem, sizeof(mem));

	to_fxsave(&st, hr.fx);
	host_run(&hr, f->host_index, host_mem, eflags);
	*traps += hr.trap != 0;

	op.opcode = f->opcode;
	op.modrm = f->modrm;
	op.opsize16 = f->opsize16;
	op.rflags = eflags | RFLAGS_FIXED;
	memcpy(op.mem, mem, sizeof(mem));
	want = st;
	fault = x87_exec(&st, &op);

	if (hr.trap == SIGILL || hr.trap == SIGFPE) {
		ok = fault == (hr.trap == SIGILL ? FPU_UD : FPU_MF);
	} else if (fault != FPU_OK) {
		ok = false;
	} else {
		u8 *soft_mem = (op.wrote & X87_WROTE_MEM) ? op.mem : mem;
		u64 host_flags = ((hr.rax >> 8) & 0xd5) |
				 (hr.rax & 1 ? RFLAGS_OF : 0);

		from_fxsave(&want, hr.fx);
		if (want.fcw != st.fcw || want.fsw != st.fsw ||
		    want.ftw != st.ftw || !same_regs(&want, &st))
			ok = false;
		for (unsigned int i = 0; i < n; i++)
			if (soft_mem[i] != host_mem[i] &&
			    !pointer_byte(i, n, f->opsize16))
				ok = false;
		/* The flags written, or left as they were. */
		if ((op.rflags & SIX_FLAGS) != host_flags ||
		    (!(op.wrote & X87_WROTE_FLAGS) && host_flags != eflags))
			ok = false;
		if ((op.wrote & X87_WROTE_AX) && op.ax != (u16)hr.rcx)
			ok = false;
	}
	if (!ok) {
		struct fxsave_area before;

		print_error("%s%02x %02x: soft %d, host trap %d, wrote %#x\n",
			    f->opsize16 ? "66 " : "", f->opcode, f->modrm, fault,
			    hr.trap, op.wrote);
		memcpy(&before, &st, sizeof(st));
		dump_state("soft", &st);
		if (!hr.trap)
			dump_state("host", &want);
		for (unsigned int i = 0; i < n; i++)
			print_error("%s%02x/%02x/%02x", i % 16 ? " " : "\n  mem ",
				    mem[i], host_mem[i], op.mem[i]);
		print_error("\n  flags host %02x of %u, soft %03" PRIx64
			    ", in %03" PRIx64 "\n", (u8)(hr.rax >> 8),
			    (unsigned int)(hr.rax & 1), op.rflags, eflags);
	}
	return ok;
}

/* Every form with the given opcode, register or memory, n cases each. */
static void differential(void **state)
{
	uintptr_t arg = (uintptr_t)*state;
	u8 opcode = arg >> 1;
	bool reg = arg & 1;
	unsigned int n = test_cases(400), traps = 0, forms = 0;

	trap_install();
	{
		struct sigaction sa = { .sa_sigaction = ill_handler,
					.sa_flags = SA_SIGINFO | SA_NODEFER };
		struct sigaction old;

		sigaction(SIGILL, &sa, &old);
		for (unsigned int m = 0; m < (reg ? 64 : 8); m++) {
			struct form f = { .opcode = opcode };

			f.modrm = reg ? 0xc0 + m : m << 3;
			f.host_index = reg ? (opcode - 0xd8) * 64 + m :
					     512 + (opcode - 0xd8) * 8 + m;
			forms++;
			for (unsigned int i = 0; i < n; i++) {
				if (!one_case(&f, &traps)) {
					sigaction(SIGILL, &old, NULL);
					trap_remove();
					fail();
				}
			}
			/* The 16-bit environment forms. */
			if (!reg && (opcode == 0xd9 || opcode == 0xdd) &&
			    (m == 4 || m == 6)) {
				f.opsize16 = true;
				f.host_index = 576 + (opcode == 0xdd) * 2 +
					       (m == 6);
				for (unsigned int i = 0; i < n; i++)
					if (!one_case(&f, &traps)) {
						sigaction(SIGILL, &old, NULL);
						trap_remove();
						fail();
					}
			}
		}
		sigaction(SIGILL, &old, NULL);
	}
	trap_remove();
	assert_true(traps > 0);
}

static int exec(struct fxsave_area *st, u8 opcode, u8 modrm,
			   bool opsize16, bool real_mode, u8 *mem, u64 ip,
			   u64 dp)
{
	struct x87_op op = { .opcode = opcode, .modrm = modrm,
			     .opsize16 = opsize16, .real_mode = real_mode,
			     .ip = ip, .dp = dp };
	int f;

	memcpy(op.mem, mem, sizeof(op.mem));
	f = x87_exec(st, &op);
	if (op.wrote & X87_WROTE_MEM)
		memcpy(mem, op.mem, sizeof(op.mem));
	return f;
}

/*
 * The last instruction and operand pointers: set by non-control
 * instructions only, and laid out per mode by FNSTENV.
 */
static void pointers(void **state)
{
	struct fxsave_area st;
	u8 mem[108] = { 0 }, env[108];
	u32 v32;
	u16 v16;

	(void)state;
	x87_reset(&st);
	memcpy(mem, &(float){ 1.5f }, 4);
	/* fld dword [..] at 0x12345678, operand at 0x9abcdef0 */
	assert_int_equal(exec(&st, 0xd9, 0x00, false, false, mem, 0x12345678,
			      0x9abcdef0), FPU_OK);
	/* fldcw is a control instruction: pointers stay. */
	memcpy(mem, &(u16){ 0x037f }, 2);
	assert_int_equal(exec(&st, 0xd9, 0x28, false, false, mem, 0x1111,
			      0x2222), FPU_OK);
	assert_int_equal(exec(&st, 0xd9, 0x30, false, false, env, 0x3333,
			      0x4444), FPU_OK);
	memcpy(&v32, env + 12, 4);
	assert_int_equal(v32, 0x12345678);
	memcpy(&v16, env + 18, 2);
	assert_int_equal(v16, 0x100);	/* d9 00 */
	memcpy(&v32, env + 20, 4);
	assert_int_equal(v32, 0x9abcdef0);
	/* A register form keeps the data pointer. */
	assert_int_equal(exec(&st, 0xd9, 0xe1, false, false, mem, 0x5555,
			      0x6666), FPU_OK);	/* fabs */
	assert_int_equal(st.fip, 0x5555);
	assert_int_equal(st.fop, 0x1e1);
	assert_int_equal(st.fdp, 0x9abcdef0);

	/* Real mode, 16-bit: 20-bit pointers split, opcode beside FIP. */
	st.fip = 0x12345;
	st.fdp = 0xfedcb;
	st.fop = 0x5a5;
	x87_env_store(&st, env, true, true);
	memcpy(&v16, env + 6, 2);
	assert_int_equal(v16, 0x2345);
	memcpy(&v16, env + 8, 2);
	assert_int_equal(v16, 0x1000 | 0x5a5);
	memcpy(&v16, env + 10, 2);
	assert_int_equal(v16, 0xedcb);
	memcpy(&v16, env + 12, 2);
	assert_int_equal(v16, 0xf000);
	/* Real mode, 32-bit: 32-bit pointers, high halves in bits 12-27. */
	st.fip = 0x87654321;
	st.fdp = 0x0fedcba9;
	x87_env_store(&st, env, false, true);
	memcpy(&v32, env + 12, 4);
	assert_int_equal(v32 & 0xffff, 0x4321);
	memcpy(&v32, env + 16, 4);
	assert_int_equal(v32, 0x8765u << 12 | 0x5a5);
	memcpy(&v32, env + 24, 4);
	assert_int_equal(v32, 0x0fedu << 12);
	/* And each layout reads back what it wrote. */
	for (unsigned int layout = 0; layout < 4; layout++) {
		struct fxsave_area back;
		bool o16 = layout & 1, real = layout & 2;

		st.fip = real ? (o16 ? 0xabcde : 0xabcdef12) : 0x1357;
		st.fdp = real ? (o16 ? 0x54321 : 0x12345678) : 0x2468;
		x87_env_store(&st, env, o16, real);
		x87_reset(&back);
		x87_env_load(&back, env, o16, real);
		assert_int_equal(back.fcw, st.fcw);
		assert_int_equal(back.fsw, st.fsw);
		assert_int_equal(back.ftw, st.ftw);
		assert_int_equal(back.fip, st.fip);
		assert_int_equal(back.fdp, st.fdp);
		if (real || !o16)
			assert_int_equal(back.fop, st.fop);
	}
}

/* FWAIT: #MF exactly when an unmasked exception is pending. */
static void fwait(void **state)
{
	struct fxsave_area st;
	u8 mem[108] = { 0 };

	(void)state;
	x87_reset(&st);
	assert_int_equal(x87_fwait(&st), FPU_OK);
	/* 1/0 with ZE unmasked. */
	memcpy(mem, &(u16){ 0x037b }, 2);
	assert_int_equal(exec(&st, 0xd9, 0x28, false, false, mem, 0, 0),
			 FPU_OK);
	assert_int_equal(exec(&st, 0xd9, 0xe8, false, false, mem, 0, 0),
			 FPU_OK);	/* fld1 */
	assert_int_equal(exec(&st, 0xd9, 0xee, false, false, mem, 0, 0),
			 FPU_OK);	/* fldz */
	assert_int_equal(exec(&st, 0xde, 0xf9, false, false, mem, 0, 0),
			 FPU_OK);	/* fdivp: 1/0 */
	assert_true(st.fsw & X87_FSW_ZE);
	assert_int_equal(x87_fwait(&st), FPU_MF);
	/* The next waiting instruction faults, a no-wait one does not. */
	assert_int_equal(exec(&st, 0xd9, 0xe8, false, false, mem, 0, 0),
			 FPU_MF);
	assert_int_equal(exec(&st, 0xdb, 0xe2, false, false, mem, 0, 0),
			 FPU_OK);	/* fnclex */
	assert_int_equal(x87_fwait(&st), FPU_OK);
}

/* A memory operand for x87_execute_io() over a buffer. */
struct fake_mem {
	struct x87_mem m;
	u8 buf[128];
	unsigned int reads, writes;
	bool fault_on_write;
	jmp_buf fault;
};

static void fake_read(struct x87_mem *m, u64 off, void *buf, unsigned int len)
{
	struct fake_mem *f = (struct fake_mem *)m;

	f->reads++;
	memcpy(buf, f->buf + off, len);
}

static void fake_write(struct x87_mem *m, u64 off, const void *buf,
		       unsigned int len)
{
	struct fake_mem *f = (struct fake_mem *)m;

	if (f->fault_on_write)
		longjmp(f->fault, 1);	/* as the CPU's #PF does */
	f->writes++;
	memcpy(f->buf + off, buf, len);
}

static void fake_init(struct fake_mem *f, bool is_mem)
{
	memset(f, 0, sizeof(*f));
	f->m.read = fake_read;
	f->m.write = fake_write;
	f->m.ea = 0x1000;
	f->m.is_mem = is_mem;
	f->m.op32 = true;
	f->m.long_mode = true;
}

/* The callback entry point: reads, writes, pointers, faults, GPR I/O. */
static void execute_callbacks(void **state)
{
	static struct fxsave_area fx, before;
	static struct fake_mem f;
	struct x87_gpr_io io = { 0 };

	(void)state;
	x87_reset(&fx);
	fake_init(&f, true);
	memcpy(f.buf, &(double){ 2.5 }, 8);
	/* fld qword [mem] */
	assert_int_equal(x87_execute(&fx, 0xdd, 0x00, &f.m, 0x400000), 0);
	assert_int_equal(f.reads, 1);
	assert_int_equal(fx.fip, 0x400000);
	assert_int_equal(fx.fdp, 0x1000);
	/* fstp dword [mem], with the write faulting: nothing changes. */
	before = fx;
	f.fault_on_write = true;
	if (!setjmp(f.fault)) {
		x87_execute(&fx, 0xd9, 0x18, &f.m, 0x400010);
		fail();
	}
	assert_memory_equal(&fx, &before, sizeof(fx));
	f.fault_on_write = false;
	assert_int_equal(x87_execute(&fx, 0xd9, 0x18, &f.m, 0x400010), 0);
	assert_int_equal(f.writes, 1);
	assert_int_equal(*(float *)f.buf, 2.5f);
	assert_int_equal(fx.ftw, 0);

	/* Without the GPR channel, FCOMI and friends are #UD... */
	fake_init(&f, false);
	assert_int_equal(x87_execute(&fx, 0xdb, 0xe9, &f.m, 0), FPU_UD);
	assert_int_equal(x87_execute(&fx, 0xdf, 0xe0, &f.m, 0), FPU_UD);
	/* ...and with it they work: fld1; fldz; fucomi st(1): 0 < 1. */
	assert_int_equal(x87_execute_io(&fx, 0xd9, 0xe8, &f.m, 0, &io), 0);
	assert_int_equal(x87_execute_io(&fx, 0xd9, 0xee, &f.m, 0, &io), 0);
	io.rflags = RFLAGS_FIXED | RFLAGS_OF | RFLAGS_ZF;
	assert_int_equal(x87_execute_io(&fx, 0xdb, 0xe9, &f.m, 0, &io), 0);
	assert_int_equal(io.wrote, X87_WROTE_FLAGS);
	assert_int_equal(io.rflags, RFLAGS_FIXED | RFLAGS_CF);
	/* fcmovb st(0), st(1): CF set, so ST0 becomes 1.0. */
	assert_int_equal(x87_execute_io(&fx, 0xda, 0xc1, &f.m, 0, &io), 0);
	assert_int_equal(fx.st[0].bytes[9], 0x3f);
	assert_int_equal(x87_execute_io(&fx, 0xdf, 0xe0, &f.m, 0, &io), 0);
	assert_int_equal(io.wrote, X87_WROTE_AX);
	assert_int_equal(io.ax, fx.fsw);

	/* A pending exception: #MF before the operand is even read. */
	fake_init(&f, true);
	fx.fcw &= ~X87_FSW_ZE;
	fx.fsw |= X87_FSW_ZE;
	assert_int_equal(x87_execute(&fx, 0xdd, 0x00, &f.m, 0), FPU_MF);
	assert_int_equal(f.reads, 0);
	/* The no-wait fnstcw still runs. */
	assert_int_equal(x87_execute(&fx, 0xd9, 0x38, &f.m, 0), 0);
	assert_int_equal(f.writes, 1);
}

int main(void)
{
	static char names[16][24];
	struct CMUnitTest tests[19];

	rng_seed();
	for (unsigned int i = 0; i < 16; i++) {
		u8 opcode = 0xd8 + i / 2;
		bool reg = i & 1;

		snprintf(names[i], sizeof(names[i]), "%02x_%s", opcode,
			 reg ? "reg" : "mem");
		tests[i] = (struct CMUnitTest){
			.name = names[i], .test_func = differential,
			.initial_state = (void *)(uintptr_t)(opcode << 1 | reg) };
	}
	tests[16] = (struct CMUnitTest){ .name = "pointers",
					 .test_func = pointers };
	tests[17] = (struct CMUnitTest){ .name = "fwait", .test_func = fwait };
	tests[18] = (struct CMUnitTest){ .name = "execute_callbacks",
					 .test_func = execute_callbacks };
	return _cmocka_run_group_tests("x87", tests, ARRAY_SIZE(tests), NULL,
				       NULL);
}
