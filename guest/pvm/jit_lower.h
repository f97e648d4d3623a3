/*
 * jit_lower.h — the lowering helpers of jit_compile.c: control flow
 * (branches, calls, returns, dynamic jumps), PVM memory accesses and the
 * arithmetic sequences that compile_insn's opcode cases are made of.
 * Included by jit_compile.c only (static functions of its one translation
 * unit, so they inline into the walk).
 */
#ifndef NUB_JIT_LOWER_H
#define NUB_JIT_LOWER_H

#include "jit_compiler.h"

/* ---- Control flow ------------------------------------------------------ */
/* Jump (cc < 0: always) to the block at target, or panic at pc if target
 * is not a block start (SPEC §6.2). */
JIT_EMITTER uint8_t *branch(struct compiler *c, uint8_t *p, int cc, int64_t target, uint32_t pc)
{
    p = cc < 0 ? emit_jmp32(p) : emit_jcc32(p, (enum x86_cc)cc);
    size_t site = code_off(c, p) - 4;
    if (target >= 0 && pvm_program_is_block_start(c->p, (uint64_t)target))
        add_fixup(c, site, (uint32_t)target);
    else
        add_stub(c, site, pc, STUB_PANIC);
    return p;
}

/* Jump tables up to this many entries get the dispatch inlined at each
 * dynamic jump (any real program: the bound keeps odd addresses, which
 * the rotate below maps to 2^31 and up, out of the index range). */
#define JIT_DJUMP_INLINE_MAX (UINT32_C(1) << 30)

/*
 * eax holds the address: ctx.pc = pc; goto djump's target. The dispatch is
 * inlined, so that each dynamic jump (mostly returns) has its own indirect
 * branch for the predictor, and its checks are folded: rotating a right by
 * one puts bit 0 on top, so after subtracting 1 every odd a and a = 0 are
 * >= 2^31 - 1 > J, and an even a in 2..2J is its table index a/2 - 1.
 */
JIT_EMITTER uint8_t *dispatch(struct compiler *c, uint8_t *p)
{
    const struct pvm_program *prog = c->p;
    if (prog->jump_entry_size == 0 || prog->jump_table_len == 0 ||
        prog->jump_table_len > JIT_DJUMP_INLINE_MAX)
        return jmp_back(c, p, c->djump_label);
    p = emit_alu_ri(p, false, X86_ALU_CMP, SCRATCH, (int32_t)PVM_HALT_ADDRESS);
    p = jcc_back(c, p, X86_CC_E, c->halt_label);
    p = emit_shift_ri(p, false, X86_SH_ROR, SCRATCH, 1);                            /* ror eax, 1 */
    p = emit_alu_ri(p, false, X86_ALU_SUB, SCRATCH, 1);                             /* sub eax, 1 */
    p = emit_alu_ri(p, false, X86_ALU_CMP, SCRATCH, (int32_t)prog->jump_table_len); /* cmp eax, J */
    p = jcc_back(c, p, X86_CC_AE, c->panic_label);
    return jit_table_jump(c, p, 2, 0); /* eax = i: entry i at [table + rax*4] */
}

JIT_EMITTER uint8_t *dynamic_jump(struct compiler *c, uint8_t *p, uint32_t pc)
{
    p = emit_store32_imm_disp(p, CTXB, CTX(pc), pc);
    return dispatch(c, p);
}

/*
 * Where a `ret` comes back to, right after the `call` of a call that wrote
 * ret_addr to ra. eax = the address the return jumped to, ctx.pc = the
 * return: if it is ret_addr, go on at its block, else dispatch in general.
 * next_pc: the block the code after the pad opens (UINT32_MAX: none), which
 * the pad falls through to.
 */
static JIT_CURSOR uint8_t *return_pad(struct compiler *c, uint8_t *p, uint64_t ret_addr,
                                      uint32_t next_pc)
{
    uint32_t target;
    if (pvm_program_dynamic_jump(c->p, (uint32_t)ret_addr, &target) != PVM_DJUMP_TARGET)
        return jmp_back(c, p, c->djump_label);
    p = emit_alu_ri(p, false, X86_ALU_CMP, SCRATCH, (int32_t)(uint32_t)ret_addr); /* cmp eax, R */
    p = jcc_back(c, p, X86_CC_NE, c->djump_label);
    if (target != next_pc) {
        p = emit_jmp32(p);
        add_fixup(c, code_off(c, p) - 4, target);
    }
    return p;
}

/* `jz rel32` taken when the return stack is full: rsp is at a multiple of
 * its size, the bottom of the region the entry set up (jit.h). The rel32
 * is left for the caller to fix up or link. */
JIT_EMITTER uint8_t *jump_if_return_stack_full(uint8_t *p)
{
    p = emit_test_ri(p, false, X86_RSP,
                     (int32_t)JIT_RETURN_STACK_BYTES - 8); /* test esp, size - 8 */
    return emit_jcc32(p, X86_CC_E);
}

/* A call to the block at target (a block start) writing ret_addr to ra
 * (already written): push a return frame if there is room. The call ends
 * its block: the code of next_pc, a new block, follows. */
static JIT_CURSOR uint8_t *call_direct(struct compiler *c, uint8_t *p, uint32_t target,
                                       uint64_t ret_addr, uint32_t next_pc)
{
    p = jump_if_return_stack_full(p); /* full: plain jump */
    add_fixup(c, code_off(c, p) - 4, target);
    p = emit_call32(p);
    add_fixup(c, code_off(c, p) - 4, target);
    return return_pad(c, p, ret_addr, next_pc);
}

/* A call through eax (computed before ra was written with ret_addr). */
static JIT_CURSOR uint8_t *call_indirect(struct compiler *c, uint8_t *p, uint32_t pc,
                                         uint64_t ret_addr)
{
    p = emit_store32_imm_disp(p, CTXB, CTX(pc), pc);
    p = jump_if_return_stack_full(p);
    uint8_t *full = p - 4;
    p = emit_call32(p);
    uint8_t *call = p - 4;
    p = return_pad(c, p, ret_addr, UINT32_MAX);
    jit_link32_at(full, p);
    jit_link32_at(call, p);
    return dispatch(c, p);
}

/* A return through ra (eax = the address): always a `ret`. With no call
 * frame left it lands in emit_empty_return, which dispatches. */
static JIT_CURSOR uint8_t *return_jump(uint8_t *p, uint32_t pc)
{
    p = emit_store32_imm_disp(p, CTXB, CTX(pc), pc);
    return emit_ret(p);
}

/* ---- Memory ------------------------------------------------------------ */
JIT_EMITTER uint8_t *addr_indirect(uint8_t *p, unsigned reg, uint64_t x)
{
    return emit_lea(p, false, SCRATCH, reg, (int32_t)x); /* lea eax, [reg+X] (wraps mod 2^32) */
}

/* The memory operand of an access at lo32(base + x) (base: an x86
 * register, or X86_GSBASE for the address lo32(x)). */
struct maddr {
    int base;
    int32_t disp;
};

JIT_INLINE struct maddr at_direct(uint64_t x)
{
    return (struct maddr){.base = X86_GSBASE, .disp = (int32_t)(uint32_t)x};
}

JIT_INLINE struct maddr at_indirect(unsigned reg, uint64_t x)
{
    return (struct maddr){.base = reg, .disp = (int32_t)(uint32_t)x};
}

JIT_EMITTER uint8_t *load(struct compiler *c, uint8_t *p, uint32_t pc, unsigned form, unsigned dst,
                          struct maddr m)
{
    add_fault_site(c, p, pc);
    return emit_load_m(p, form, dst, m.base, m.disp);
}

JIT_EMITTER uint8_t *store(struct compiler *c, uint8_t *p, uint32_t pc, unsigned form, unsigned src,
                           struct maddr m)
{
    add_fault_site(c, p, pc);
    return emit_store_m(p, form, src, m.base, m.disp);
}

JIT_EMITTER uint8_t *store_imm(struct compiler *c, uint8_t *p, uint32_t pc, unsigned width,
                               uint64_t value, struct maddr m)
{
    static const unsigned forms[9] = {[1] = X86_STORE_IMM_8,
                                      [2] = X86_STORE_IMM_16,
                                      [4] = X86_STORE_IMM_32,
                                      [8] = X86_STORE_IMM_64};
    add_fault_site(c, p, pc);
    return emit_store_imm_m(p, forms[width], m.base, m.disp, (int32_t)value, width < 4 ? width : 4);
}

static const unsigned load_forms[] = {
    [PVM_OP_load_u8 - PVM_OP_load_u8] = X86_LOAD_U8,
    [PVM_OP_load_i8 - PVM_OP_load_u8] = X86_LOAD_I8,
    [PVM_OP_load_u16 - PVM_OP_load_u8] = X86_LOAD_U16,
    [PVM_OP_load_i16 - PVM_OP_load_u8] = X86_LOAD_I16,
    [PVM_OP_load_u32 - PVM_OP_load_u8] = X86_LOAD_U32,
    [PVM_OP_load_i32 - PVM_OP_load_u8] = X86_LOAD_I32,
    [PVM_OP_load_u64 - PVM_OP_load_u8] = X86_LOAD_U64,
};
static const unsigned store_forms[] = {X86_STORE_8, X86_STORE_16, X86_STORE_32, X86_STORE_64};
static const unsigned store_widths[] = {1, 2, 4, 8};

_Static_assert(PVM_OP_store_ind_u16 - PVM_OP_store_ind_u8 == 1 &&
                   PVM_OP_store_ind_u32 - PVM_OP_store_ind_u8 == 2 &&
                   PVM_OP_store_ind_u64 - PVM_OP_store_ind_u8 == 3,
               "store_ind_* in the order of store_forms");

JIT_INLINE bool is_store_ind(uint8_t op)
{
    return op >= PVM_OP_store_ind_u8 && op <= PVM_OP_store_ind_u64;
}

/* `store_ind_* A, B, X` on its own: mem[lo32(B + X)] = A. */
JIT_EMITTER uint8_t *plain_store_ind(struct compiler *c, uint8_t *p, const struct pvm_insn *in)
{
    return store(c, p, in->pc, store_forms[in->opcode - PVM_OP_store_ind_u8], (unsigned)R(in->ra),
                 at_indirect((unsigned)R(in->rb), in->imm_x));
}

/* ---- Arithmetic helpers ------------------------------------------------ */
/* D = sx32(eax) */
JIT_EMITTER uint8_t *sx32_to(uint8_t *p, unsigned d)
{
    return emit_movsxd_rr(p, d, SCRATCH); /* movsxd D, eax */
}

/* D = A op B, 64-bit, op in {add, sub, and, or, xor}. */
JIT_EMITTER uint8_t *alu3_64(uint8_t *p, enum x86_alu op, bool commutative, unsigned d, unsigned a,
                             unsigned bb)
{
    if (d == a) {
        p = emit_alu_rr(p, true, op, d, bb);
    } else if (d == bb) {
        if (commutative) {
            p = emit_alu_rr(p, true, op, d, a);
        } else {
            p = emit_mov_rr(p, true, SCRATCH, a);
            p = emit_alu_rr(p, true, op, SCRATCH, bb);
            p = emit_mov_rr(p, true, d, SCRATCH);
        }
    } else if (op == X86_ALU_ADD) {
        p = x86_rm(p, XF_W | 0x8D, d, a, bb, 0, 0); /* lea D, [A+B] */
    } else {
        p = emit_mov_rr(p, true, d, a);
        p = emit_alu_rr(p, true, op, d, bb);
    }
    return p;
}

/* D = sx32(lo32(A) op lo32(B)) */
JIT_EMITTER uint8_t *alu3_32(uint8_t *p, enum x86_alu op, unsigned d, unsigned a, unsigned bb)
{
    if (d == a) { /* in place: op D32, B32; movsxd D, D32 */
        p = emit_alu_rr(p, false, op, d, bb);
        p = emit_movsxd_rr(p, d, d);
        return p;
    }
    p = emit_mov_rr(p, false, SCRATCH, a); /* mov eax, A32 */
    p = emit_alu_rr(p, false, op, SCRATCH, bb);
    p = sx32_to(p, d);
    return p;
}

/* D = src op imm (64-bit, imm sign-extended). */
JIT_EMITTER uint8_t *alu_imm_64(uint8_t *p, enum x86_alu op, unsigned d, unsigned src, uint64_t x)
{
    if (op == X86_ALU_AND && (x == 0xFF || x == 0xFFFF)) { /* the zero-extending moves */
        if (x == 0xFF)
            p = emit_movzx8_rr(p, d, src);
        else
            p = emit_movzx16_rr(p, d, src);
        return p;
    }
    p = mov64(p, d, src);
    p = emit_alu_ri(p, true, op, d, (int32_t)x);
    return p;
}

/* D = flag ? 1 : 0 after the compare that set the flags, for a D the
 * compare read: `mov D32, 0` (which leaves the flags alone) and setcc D8.
 * The flag is then one setcc away, where `setcc al; mov D, rax` would add
 * the mov to the dependency chain (carry chains of set_lt_u). */
JIT_EMITTER uint8_t *set_cc_after(uint8_t *p, enum x86_cc cc, unsigned d)
{
    p = emit_mov_ri(p, (int)d, 0); /* mov D32, 0 */
    return emit_setcc(p, cc, d);
}

/* D = (A cmp B/imm) ? 1 : 0. A D distinct from the operands is cleared
 * before the compare (xor, the zeroing idiom) and set in place; otherwise
 * after it (set_cc_after). */
JIT_EMITTER uint8_t *set_cc_rr(uint8_t *p, enum x86_cc cc, unsigned d, unsigned a, unsigned bb)
{
    if (d != a && d != bb) {
        p = emit_alu_rr(p, false, X86_ALU_XOR, d, d); /* xor D32, D32 (before cmp) */
        p = emit_alu_rr(p, true, X86_ALU_CMP, a, bb);
        p = emit_setcc(p, cc, d);
        return p;
    }
    p = emit_alu_rr(p, true, X86_ALU_CMP, a, bb);
    return set_cc_after(p, cc, d);
}

JIT_EMITTER uint8_t *set_cc_ri(uint8_t *p, enum x86_cc cc, unsigned d, unsigned a, uint64_t x)
{
    if (d != a) {
        p = emit_alu_rr(p, false, X86_ALU_XOR, d, d);
        p = emit_alu_ri(p, true, X86_ALU_CMP, a, (int32_t)x);
        p = emit_setcc(p, cc, d);
        return p;
    }
    p = emit_alu_ri(p, true, X86_ALU_CMP, a, (int32_t)x);
    return set_cc_after(p, cc, d);
}

/*
 * D = value shifted/rotated by count (x86 masks cl to 5 or 6 bits, exactly
 * the PVM's "& 31" / "& 63"). The count must be in cl, whose PVM register
 * is parked in ctx.spill_rcx meanwhile:
 *   rax = value; [spill] = rcx; rcx = count; op rax, cl; rcx = [spill]; D = rax
 */
static JIT_CURSOR uint8_t *shift_var(uint8_t *p, bool w64, enum x86_shift op, bool value_is_imm,
                                     unsigned value_reg, uint64_t value_imm, unsigned count_reg,
                                     unsigned d)
{
    if (value_is_imm)
        p = emit_mov_ri(p, SCRATCH, w64 ? value_imm : (uint32_t)value_imm);
    else
        p = emit_mov_rr(p, w64, SCRATCH, value_reg);
    bool park = count_reg != X86_RCX;
    if (park) {
        p = emit_store_disp(p, X86_RCX, CTXB, CTX(spill_rcx));
        p = emit_mov_rr(p, false, X86_RCX, count_reg); /* mov ecx, count32 */
    }
    p = emit_shift_cl(p, w64, op, SCRATCH);
    if (park)
        p = emit_load_disp(p, X86_RCX, CTXB, CTX(spill_rcx));
    if (w64)
        p = emit_mov_rr(p, true, d, SCRATCH);
    else
        p = sx32_to(p, d);
    return p;
}

/* D = shift(lo32/64 of src, constant count) */
JIT_EMITTER uint8_t *shift_imm(uint8_t *p, bool w64, enum x86_shift op, unsigned d, unsigned src,
                               uint64_t count)
{
    if (w64) {
        p = mov64(p, d, src);
        p = emit_shift_ri(p, true, op, d, (uint8_t)(count & 63));
    } else if (op == X86_SH_SHR && (count & 31) != 0) {
        /* bit 31 of the result is 0: sign- and zero-extension agree */
        if (d != src)
            p = emit_mov_rr(p, false, d, src);
        p = emit_shift_ri(p, false, op, d, (uint8_t)(count & 31));
    } else if (d == src) {
        p = emit_shift_ri(p, false, op, d, (uint8_t)(count & 31));
        p = emit_movsxd_rr(p, d, d);
    } else {
        p = emit_mov_rr(p, false, SCRATCH, src);
        p = emit_shift_ri(p, false, op, SCRATCH, (uint8_t)(count & 31));
        p = sx32_to(p, d);
    }
    return p;
}

/* Operand of a one-operand mul/div: the PVM register, or its parked copy if
 * it lives in rdx (which the instruction overwrites). */
static JIT_CURSOR uint8_t *grp3_operand(uint8_t *p, bool w64, enum x86_grp3 op, unsigned reg)
{
    if (reg == X86_RDX)
        return emit_grp3_m(p, w64, op, CTXB, CTX(spill_rdx));
    return emit_grp3_r(p, w64, op, reg);
}

/*
 * Division and remainder (SPEC §9.13), guarding the two cases where x86
 * traps and the PVM does not:
 *   if (B == 0)                 D = rem ? A : ~0
 *   else if (signed && B == -1) D = rem ? 0 : -A      (also MIN / -1)
 *   else                        D = A / B or A % B    (div/idiv, rdx parked)
 * 32-bit forms work on lo32 and sign-extend the result.
 */
static JIT_CURSOR uint8_t *divrem(uint8_t *p, bool w64, bool is_signed, bool rem, unsigned d,
                                  unsigned a, unsigned bb)
{
    p = emit_test_rr(p, w64, bb, bb);
    p = emit_jcc32(p, X86_CC_NE);
    uint8_t *nonzero = p - 4;
    if (rem) {
        if (w64)
            p = mov64(p, d, a);
        else
            p = emit_movsxd_rr(p, d, a);
    } else {
        p = emit_mov_ri(p, d, UINT64_MAX);
    }
    p = emit_jmp32(p);
    uint8_t *done1 = p - 4, *done2 = NULL;
    jit_link32_at(nonzero, p);
    if (is_signed) {
        p = emit_alu_ri(p, w64, X86_ALU_CMP, bb, -1);
        p = emit_jcc32(p, X86_CC_NE);
        uint8_t *general = p - 4;
        if (rem) {
            p = emit_mov_ri(p, d, 0);
        } else {
            p = emit_mov_rr(p, w64, SCRATCH, a);
            p = emit_grp3_r(p, w64, X86_G3_NEG, SCRATCH);
            if (w64)
                p = emit_mov_rr(p, true, d, SCRATCH);
            else
                p = sx32_to(p, d);
        }
        p = emit_jmp32(p);
        done2 = p - 4;
        jit_link32_at(general, p);
    }
    p = emit_store_disp(p, X86_RDX, CTXB, CTX(spill_rdx)); /* park rdx */
    p = emit_mov_rr(p, w64, SCRATCH, a);
    if (is_signed) {
        if (w64)
            p = emit_cqo(p);
        else
            p = emit_cdq(p);
    } else {
        p = emit_alu_rr(p, false, X86_ALU_XOR, X86_RDX, X86_RDX); /* xor edx, edx */
    }
    p = grp3_operand(p, w64, is_signed ? X86_G3_IDIV : X86_G3_DIV, bb);
    if (rem)
        p = emit_mov_rr(p, true, SCRATCH, X86_RDX);
    p = emit_load_disp(p, X86_RDX, CTXB, CTX(spill_rdx)); /* unpark rdx */
    if (w64)
        p = emit_mov_rr(p, true, d, SCRATCH);
    else
        p = sx32_to(p, d);
    jit_link32_at(done1, p);
    if (done2 != NULL)
        jit_link32_at(done2, p);
    return p;
}

/*
 * High 64 bits of the 128-bit product (mul / imul, rdx parked):
 *   s_s: imul; u_u: mul; s_u: mul, then subtract B if A < 0.
 * s_s and u_u move the high half straight to D (D = r12 lives in rdx,
 * which then needs no unparking).
 */
static JIT_CURSOR uint8_t *mul_upper(uint8_t *p, int kind, unsigned d, unsigned a, unsigned bb)
{
    p = emit_store_disp(p, X86_RDX, CTXB, CTX(spill_rdx));
    p = emit_mov_rr(p, true, SCRATCH, a);
    p = grp3_operand(p, true, kind == 0 ? X86_G3_IMUL : X86_G3_MUL, bb);
    if (kind != 2) {
        if (d != X86_RDX) {
            p = emit_mov_rr(p, true, d, X86_RDX);
            p = emit_load_disp(p, X86_RDX, CTXB, CTX(spill_rdx));
        }
        return p;
    }
    p = emit_mov_rr(p, true, SCRATCH, X86_RDX);
    p = emit_load_disp(p, X86_RDX, CTXB, CTX(spill_rdx));
    if (kind == 2) {
        p = emit_test_rr(p, true, a, a);
        p = emit_jcc8(p, X86_CC_NS);
        uint8_t *skip = p - 1;
        p = emit_alu_rr(p, true, X86_ALU_SUB, SCRATCH, bb);
        jit_link8_at(skip, p);
    }
    p = emit_mov_rr(p, true, d, SCRATCH);
    return p;
}

/* The instruction next_pc (a pc of the walk) may be, by its opcode byte
 * alone (PVM_OPCODE_INVALID at or past the end). The peepholes test this
 * before they decode the instruction (which also checks that next_pc
 * starts one). */
JIT_INLINE uint8_t next_op(const struct compiler *c, uint64_t next_pc)
{
    const struct pvm_program *p = c->p;
    return next_pc < p->code_len ? p->isa->opcode_of[p->code[next_pc]] : PVM_OPCODE_INVALID;
}

/* `add_64 D, A, B` as `add D, Y'` (after `mov D, A` when D is neither
 * operand, in place of the lea): the carry flag is then the carry out. */
JIT_EMITTER uint8_t *add_setting_carry(uint8_t *p, unsigned d, unsigned a, unsigned bb)
{
    if (d == a)
        return emit_alu_rr(p, true, X86_ALU_ADD, d, bb);
    if (d == bb)
        return emit_alu_rr(p, true, X86_ALU_ADD, d, a);
    p = emit_mov_rr(p, true, d, a);
    return emit_alu_rr(p, true, X86_ALU_ADD, d, bb);
}

/* The carry register C of `set_lt_u C, D, Y` at pc when it fuses with an
 * `add_64 D, A, B` before it (x86 numbers): Y is the operand D does not
 * overwrite (either one when D is neither). -1: it does not. */
JIT_INLINE int carry_of(const struct compiler *c, uint64_t pc, unsigned d, unsigned a, unsigned bb,
                        struct pvm_insn *in)
{
    if (next_op(c, pc) != PVM_OP_set_lt_u)
        return -1;
    jit_decode_insn(c->p, (uint32_t)pc, in);
    unsigned x = (unsigned)R(in->ra), y = (unsigned)R(in->rb);
    bool y_kept = y != d && (y == a || y == bb);
    if (in->opcode != PVM_OP_set_lt_u || x != d || !y_kept)
        return -1;
    return R(in->rd);
}

/* An `add_64 E, P, Q` at pc with exactly one of P, Q the register k (x86
 * numbers): E = O + k, O the other operand. */
JIT_INLINE bool carry_use(const struct compiler *c, uint64_t pc, unsigned k, struct pvm_insn *in,
                          unsigned *e, unsigned *o)
{
    if (next_op(c, pc) != PVM_OP_add_64)
        return false;
    jit_decode_insn(c->p, (uint32_t)pc, in);
    unsigned ra = (unsigned)R(in->ra), rb = (unsigned)R(in->rb);
    if (in->opcode != PVM_OP_add_64 || (ra == k) == (rb == k))
        return false;
    *e = (unsigned)R(in->rd);
    *o = ra == k ? rb : ra;
    return true;
}

/* E = O + CF, the flag being the value of the carry register: `mov E, O`
 * (none when E is O; a mov leaves the flags alone), `adc E, 0`. */
JIT_EMITTER uint8_t *add_carry_flag(uint8_t *p, unsigned e, unsigned o)
{
    if (e != o)
        p = emit_mov_rr(p, true, e, o);
    return emit_alu_ri(p, true, X86_ALU_ADC, e, 0);
}

/* The most instructions of a carry group (carry_chain). */
#define JIT_CARRY_GROUP_MAX 7

/*
 * Peephole: `add_64 D, A, B` followed by `set_lt_u C, D, Y` with Y the
 * operand D does not overwrite (either one when D is neither): C is the
 * carry out of the add ((A + B) mod 2^64 < Y exactly when the sum wrapped),
 * so the add's own carry flag gives it, with no compare (the carry chains
 * of multi-word arithmetic compiled for a machine without a carry flag):
 * the add (add_setting_carry), then set_cc_after. Two extensions take the
 * carry from the flag into the add that consumes it (carry_use), as adc,
 * which takes the set_cc_after's latency off the chain:
 *  - the pair, at most one store_ind (a mov, which leaves the flags alone)
 *    and an add of C: `add; mov C32, 0; setb C8; [store]; mov E, O; adc E, 0`;
 *  - the pair, a second such pair, then an add of the first C (bignum's
 *    inner loop, `t = a*b + r + carry`, adds the two carries to the high
 *    half): the third add reads neither what the second pair writes, nor
 *    does it write what that pair reads or writes, so it moves up, before
 *    the second pair, as adc on the first carry. The second pair's carry
 *    then takes the first extension.
 * Every PVM register gets its value, each at the end of the group; within
 * it, nothing is observable: no instruction of it but the store can fault,
 * and everything before the store is done by then. The later instructions
 * are not block starts; a run entered at one of them (an arbitrary entry,
 * the re-run after the store's page fault) goes through a stub that does
 * the rest of the group unfused (STUB_FUSED_RUN). next_pc: the
 * set_lt_u's. Returns the cursor after the group, or NULL (nothing
 * emitted) when the pair does not match.
 */
static JIT_CURSOR uint8_t *add_and_carry(struct compiler *c, uint8_t *p, uint64_t next_pc,
                                         unsigned d, unsigned a, unsigned bb)
{
    struct pvm_insn in, in3, in4, in5;
    int k1 = carry_of(c, next_pc, d, a, bb, &in);
    if (k1 < 0)
        return NULL;
    uint32_t pcs[JIT_CARRY_GROUP_MAX];
    unsigned n = 0;
    pcs[n++] = (uint32_t)in.pc;
    uint64_t at = in.next_pc;
    unsigned k = (unsigned)k1;
    p = add_setting_carry(p, d, a, bb);
    /* the second pair and the add of the first carry */
    bool hoist = false;
    unsigned e5 = 0, o5 = 0, d2 = 0, a2 = 0, b2 = 0;
    int k2 = -1;
    if (next_op(c, at) == PVM_OP_add_64) {
        jit_decode_insn(c->p, (uint32_t)at, &in3);
        d2 = (unsigned)R(in3.rd), a2 = (unsigned)R(in3.ra), b2 = (unsigned)R(in3.rb);
        if (in3.opcode == PVM_OP_add_64)
            k2 = carry_of(c, in3.next_pc, d2, a2, b2, &in4);
        if (k2 >= 0 && carry_use(c, in4.next_pc, k, &in5, &e5, &o5)) {
            unsigned c2 = (unsigned)k2;
            hoist = k != d2 && k != (unsigned)c2 && o5 != d2 && o5 != c2 && e5 != a2 && e5 != b2 &&
                    e5 != d2 && e5 != c2;
        }
    }
    if (hoist) {
        if (e5 != k)
            p = set_cc_after(p, X86_CC_B, k);
        p = add_carry_flag(p, e5, o5);
        p = add_setting_carry(p, d2, a2, b2);
        p = set_cc_after(p, X86_CC_B, (unsigned)k2);
        pcs[n++] = (uint32_t)in3.pc;
        pcs[n++] = (uint32_t)in4.pc;
        pcs[n++] = (uint32_t)in5.pc;
        at = in5.next_pc;
        k = (unsigned)k2;
    } else {
        p = set_cc_after(p, X86_CC_B, k);
    }
    /* [store_ind] add of the carry in the flag */
    struct pvm_insn st, use;
    bool store = false;
    uint64_t use_pc = at;
    if (is_store_ind(next_op(c, at))) {
        jit_decode_insn(c->p, (uint32_t)at, &st);
        store = is_store_ind(st.opcode);
        if (store)
            use_pc = st.next_pc;
    }
    unsigned e, o;
    if (carry_use(c, use_pc, k, &use, &e, &o)) {
        if (store) {
            p = plain_store_ind(c, p, &st);
            pcs[n++] = (uint32_t)st.pc;
        }
        p = add_carry_flag(p, e, o);
        pcs[n++] = (uint32_t)use.pc;
        at = use.next_pc;
    }
    c->carry_end = (uint32_t)at;
    for (unsigned i = 0; i < n; i++)
        add_stub_arg(c, pcs[i], STUB_FUSED_RUN, (uint32_t)at);
    return p;
}

/* D = lo64(A * B) */
JIT_EMITTER uint8_t *mul3_64(uint8_t *p, unsigned d, unsigned a, unsigned bb)
{
    if (d == a)
        return emit_imul_rr(p, true, d, bb);
    if (d == bb)
        return emit_imul_rr(p, true, d, a);
    p = emit_mov_rr(p, true, d, a);
    return emit_imul_rr(p, true, d, bb);
}

/*
 * Peephole: `mul_upper_u_u H, A, B` (or s_s: kind 1 or 0 of mul_upper)
 * followed by `mul_64 L, A, B` (or B, A) is the 128-bit product a
 * multi-word multiplication takes apart (bignum's inner loop). One
 * one-operand mul/imul gives both halves (the low 64 bits of a signed and
 * of an unsigned product are the same), so the mul_64 is `mov L, rax`
 * instead of a second multiply. H must be neither operand, so that the
 * mul_64 reads what the mul_upper did. Where L is neither H nor in rdx, H
 * also parks rdx for the multiply, in place of the context block, and the
 * high half goes to H through rax once L has the low half. The mul_64 is
 * not a block start (it follows a non-terminator); a run entered at its pc
 * goes through a stub that does it alone (STUB_FUSED_ENTRY). next_pc: the
 * mul_64's. Returns the cursor after the pair, or NULL (nothing emitted)
 * when the pair does not match.
 */
static JIT_CURSOR uint8_t *mul_upper_and_low(struct compiler *c, uint8_t *p, uint64_t next_pc,
                                             int kind, unsigned h, unsigned a, unsigned bb)
{
    if (h == a || h == bb || next_op(c, next_pc) != PVM_OP_mul_64)
        return NULL;
    struct pvm_insn next;
    jit_decode_insn(c->p, (uint32_t)next_pc, &next);
    unsigned na = (unsigned)R(next.ra), nb = (unsigned)R(next.rb), l = (unsigned)R(next.rd);
    if (next.opcode != PVM_OP_mul_64 || !((na == a && nb == bb) || (na == bb && nb == a)))
        return NULL;
    c->fused_pc = (uint32_t)next.pc;
    add_stub(c, 0, c->fused_pc, STUB_FUSED_ENTRY);
    if (h == X86_RDX || l == h || l == X86_RDX) {
        p = mul_upper(p, kind, h, a, bb);
        return emit_mov_rr(p, true, l, SCRATCH); /* mov L, rax */
    }
    p = emit_mov_rr(p, true, h, X86_RDX); /* park rdx in H */
    p = emit_mov_rr(p, true, SCRATCH, a);
    p = emit_grp3_r(p, true, kind == 0 ? X86_G3_IMUL : X86_G3_MUL, bb); /* rdx intact */
    p = emit_mov_rr(p, true, l, SCRATCH);
    p = emit_mov_rr(p, true, SCRATCH, X86_RDX);
    p = emit_mov_rr(p, true, X86_RDX, h);
    return emit_mov_rr(p, true, h, SCRATCH);
}

/* D = (cond on A vs B) ? B : A  — min/max; through rax unless D is
 * neither operand */
static JIT_CURSOR uint8_t *minmax(uint8_t *p, enum x86_cc take_b, unsigned d, unsigned a,
                                  unsigned bb)
{
    if (d != a && d != bb) {
        p = emit_mov_rr(p, true, d, a);
        p = emit_alu_rr(p, true, X86_ALU_CMP, a, bb);
        p = emit_cmovcc_rr(p, take_b, d, bb);
        return p;
    }
    p = emit_mov_rr(p, true, SCRATCH, a);
    p = emit_alu_rr(p, true, X86_ALU_CMP, a, bb);
    p = emit_cmovcc_rr(p, take_b, SCRATCH, bb);
    p = emit_mov_rr(p, true, d, SCRATCH);
    return p;
}

/* bit counts with bsr/bsf (no lzcnt/tzcnt requirement) */
static JIT_CURSOR uint8_t *bitscan(uint8_t *p, bool w64, bool leading, unsigned d, unsigned a)
{
    unsigned bits = w64 ? 64 : 32;
    if (leading) {
        p = emit_bsr_rr(p, w64, SCRATCH, a); /* index of the top set bit */
        p = emit_jcc8(p, X86_CC_NE);
        uint8_t *nz = p - 1;
        p = emit_mov_ri(p, SCRATCH, 2 * bits - 1); /* zero input: (2*bits-1) ^ (bits-1) = bits */
        jit_link8_at(nz, p);
        p = emit_alu_ri(p, false, X86_ALU_XOR, SCRATCH,
                        (int32_t)(bits - 1)); /* clz = idx ^ (bits-1) */
    } else {
        p = emit_bsf_rr(p, w64, SCRATCH, a);
        p = emit_jcc8(p, X86_CC_NE);
        uint8_t *nz = p - 1;
        p = emit_mov_ri(p, SCRATCH, bits);
        jit_link8_at(nz, p);
    }
    p = emit_mov_rr(p, true, d, SCRATCH);
    return p;
}

/* sbrk without leaving the code (guest platform; SPEC §9.9 as pvm.h says):
 * D = the break, which grows by A, or 0 (and no change) when there is no
 * heap (heap_top 0), A >= 2^32, or the new break passes ctx.heap_limit.
 * The new pages need no mapping here: the platform backs them on first
 * touch. rax is the only scratch; D is written last, so D == A is fine. */
static JIT_CURSOR uint8_t *sbrk_inline(uint8_t *p, unsigned d, unsigned a)
{
    p = emit_alu64_mi32(p, X86_ALU_CMP, CTXB, CTX(heap_top), 0);
    p = emit_jcc8(p, X86_CC_E);
    uint8_t *no_heap = p - 1;
    p = emit_mov_rr(p, true, SCRATCH, a);
    p = emit_shift_ri(p, true, X86_SH_SHR, SCRATCH, 32);
    p = emit_jcc8(p, X86_CC_NE);
    uint8_t *too_big = p - 1;
    p = emit_mov_rr(p, false, SCRATCH, a); /* eax = A, zero-extended */
    p = emit_alu_rm(p, X86_ALU_ADD, SCRATCH, CTXB, CTX(heap_top));
    p = emit_alu_rm(p, X86_ALU_CMP, SCRATCH, CTXB, CTX(heap_limit));
    p = emit_jcc8(p, X86_CC_A);
    uint8_t *past_limit = p - 1;
    p = emit_load_disp(p, d, CTXB, CTX(heap_top));
    p = emit_store_disp(p, SCRATCH, CTXB, CTX(heap_top));
    p = emit_jmp8(p);
    uint8_t *done = p - 1;
    jit_link8_at(no_heap, p);
    jit_link8_at(too_big, p);
    jit_link8_at(past_limit, p);
    p = emit_alu_rr(p, false, X86_ALU_XOR, d, d);
    jit_link8_at(done, p);
    return p;
}

/* The load_ind opcodes are in the order of the direct loads: one table of
 * x86 forms (load_forms) serves both. */
_Static_assert(PVM_OP_load_ind_u64 - PVM_OP_load_ind_u8 == PVM_OP_load_u64 - PVM_OP_load_u8 &&
                   PVM_OP_load_ind_i8 - PVM_OP_load_ind_u8 == PVM_OP_load_i8 - PVM_OP_load_u8 &&
                   PVM_OP_load_ind_u16 - PVM_OP_load_ind_u8 == PVM_OP_load_u16 - PVM_OP_load_u8 &&
                   PVM_OP_load_ind_i16 - PVM_OP_load_ind_u8 == PVM_OP_load_i16 - PVM_OP_load_u8 &&
                   PVM_OP_load_ind_u32 - PVM_OP_load_ind_u8 == PVM_OP_load_u32 - PVM_OP_load_u8 &&
                   PVM_OP_load_ind_i32 - PVM_OP_load_ind_u8 == PVM_OP_load_i32 - PVM_OP_load_u8,
               "load_ind_* and load_* in the same order");

JIT_INLINE bool is_load_ind(uint8_t op)
{
    return op >= PVM_OP_load_ind_u8 && op <= PVM_OP_load_ind_u64;
}

/* `load_ind_* D, B, X` on its own: D = mem[lo32(B + X)]. */
JIT_EMITTER uint8_t *plain_load_ind(struct compiler *c, uint8_t *p, const struct pvm_insn *in)
{
    return load(c, p, in->pc, load_forms[in->opcode - PVM_OP_load_ind_u8], (unsigned)R(in->ra),
                at_indirect((unsigned)R(in->rb), in->imm_x));
}

/* Records an indexed site at p, with the stub that will be its resume. */
JIT_INLINE void add_indexed_site(struct compiler *c, const uint8_t *p, uint32_t pc)
{
    size_t index = c->indexed_sites.count;
    struct jit_indexed_site *s = VEC_PUSH(c, &c->indexed_sites, struct jit_indexed_site);
    if (s == NULL)
        return;
    *s = (struct jit_indexed_site){.native_offset = (uint32_t)code_off(c, p), .pc = pc};
    add_stub_arg(c, pc, STUB_INDEXED_RESUME, (uint32_t)index);
}

/*
 * The load of `shlo_l_imm_64 T, S, k; add_64 T, T, O; load_ind_* D, T, X`
 * with the pair's arithmetic in its memory operand, gs:[O32 + S32*2^k + X]:
 * the same address modulo 2^32 as lo32(T + X), without waiting for T (an
 * indexed table look-up, as in crc32, is a chain of such loads). T still
 * gets its 64-bit PVM value beside the load:
 *  - S is not T: `lea T, [O + S*2^k]` first, as for the pair alone; the
 *    load reads O and S, which it leaves unchanged, and is an ordinary
 *    fault site (T holds its value there).
 *  - S is T, so the lea would overwrite the index: `lea rax, [O + T*2^k]`,
 *    the load, then `mov T, rax` unless the load wrote T. At a fault, T's
 *    PVM value is in rax: an indexed site, whose resume stub moves it.
 */
static JIT_CURSOR uint8_t *indexed_load(struct compiler *c, uint8_t *p, const struct pvm_insn *in,
                                        unsigned t, unsigned o, unsigned s, unsigned k)
{
    unsigned form = load_forms[in->opcode - PVM_OP_load_ind_u8] | XF_GS | XF_A32;
    unsigned d = (unsigned)R(in->ra);
    int32_t disp = (int32_t)(uint32_t)in->imm_x;
    c->fused_load_pc = in->pc;
    if (s != t) {
        p = x86_rm(p, XF_W | 0x8D, t, o, s, k, 0); /* lea T, [O + S*2^k] */
        add_fault_site(c, p, in->pc);
        return x86_rm(p, form, d, o, s, k, disp); /* mov D, gs:[a32 O + S*2^k + X] */
    }
    p = x86_rm(p, XF_W | 0x8D, SCRATCH, o, s, k, 0); /* lea rax, [O + T*2^k] */
    add_indexed_site(c, p, in->pc);
    p = x86_rm(p, form, d, o, s, k, disp);
    return d != t ? emit_mov_rr(p, true, t, SCRATCH) : p;
}

/*
 * Peephole: `shlo_l_imm_64 T, S, k` (k = 1..3) followed by `add_64 T, T, O`
 * (or O + T) is T = O + (S << k): one `lea T, [O + S*2^k]`, the address
 * arithmetic of an indexed access. Both values are computed in 64 bits as
 * the PVM does; the shifted T is overwritten by the add, so nothing else
 * can see it. When a load_ind through T follows, it is emitted with the
 * pair (indexed_load). Neither the add nor the load is a block start (each
 * follows a non-terminator), so no jump lands inside; each keeps its own pc
 * and gas. A run entered at the add's pc (an arbitrary entry) goes through
 * a stub that does the add alone (and the load, if fused) and jumps back
 * (STUB_FUSED_ENTRY, STUB_FUSED_ADD_LOAD); one entered at a fused load's pc
 * (an arbitrary entry, or the re-run after its page fault) through one that
 * does the load alone (STUB_FUSED_LOAD). The shift's operands: t, s (x86
 * registers), x = k; next_pc the add's. Returns the cursor after the fused
 * code, or NULL (nothing emitted) when the pair does not match.
 */
static JIT_CURSOR uint8_t *shl_add_lea(struct compiler *c, uint8_t *p, uint64_t next_pc, unsigned t,
                                       unsigned s, uint64_t x)
{
    unsigned k = (unsigned)(x & 63);
    if (k < 1 || k > 3 || next_op(c, next_pc) != PVM_OP_add_64)
        return NULL;
    struct pvm_insn next;
    jit_decode_insn(c->p, (uint32_t)next_pc, &next);
    unsigned rd = (unsigned)R(next.rd), ra = (unsigned)R(next.ra), rb = (unsigned)R(next.rb);
    if (next.opcode != PVM_OP_add_64 || rd != t || (ra == t) == (rb == t))
        return NULL;
    unsigned other = ra == t ? rb : ra;
    c->fused_pc = (uint32_t)next.pc;
    if (is_load_ind(next_op(c, next.next_pc))) {
        struct pvm_insn after;
        jit_decode_insn(c->p, (uint32_t)next.next_pc, &after);
        if (is_load_ind(after.opcode) && (unsigned)R(after.rb) == t) {
            add_stub(c, 0, c->fused_pc, STUB_FUSED_ADD_LOAD);
            add_stub(c, 0, (uint32_t)after.pc, STUB_FUSED_LOAD);
            return indexed_load(c, p, &after, t, other, s, k);
        }
    }
    p = x86_rm(p, XF_W | 0x8D, t, other, s, k, 0); /* lea T, [O + S*2^k] */
    add_stub(c, 0, c->fused_pc, STUB_FUSED_ENTRY);
    return p;
}

#endif /* NUB_JIT_LOWER_H */
