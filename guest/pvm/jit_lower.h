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
JIT_INLINE void branch(struct compiler *c, int cc, int64_t target, uint32_t pc)
{
    size_t site = cc < 0 ? emit_jmp32(&c->b) : emit_jcc32(&c->b, (enum x86_cc)cc);
    if (target >= 0 && pvm_program_is_block_start(c->p, (uint64_t)target))
        add_fixup(c, site, (uint32_t)target);
    else
        add_stub(c, site, pc, STUB_PANIC);
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
JIT_INLINE void dispatch(struct compiler *c)
{
    struct jit_buf *b = &c->b;
    const struct pvm_program *p = c->p;
    if (p->jump_entry_size == 0 || p->jump_table_len == 0 ||
        p->jump_table_len > JIT_DJUMP_INLINE_MAX) {
        jmp_back(c, c->djump_label);
        return;
    }
    emit_alu_ri(b, false, X86_ALU_CMP, SCRATCH, (int32_t)PVM_HALT_ADDRESS);
    jcc_back(c, X86_CC_E, c->halt_label);
    emit_shift_ri(b, false, X86_SH_ROR, SCRATCH, 1);                         /* ror eax, 1 */
    emit_alu_ri(b, false, X86_ALU_SUB, SCRATCH, 1);                          /* sub eax, 1 */
    emit_alu_ri(b, false, X86_ALU_CMP, SCRATCH, (int32_t)p->jump_table_len); /* cmp eax, J */
    jcc_back(c, X86_CC_AE, c->panic_label);
    jit_table_jump(c, 2, 0); /* eax = i: entry i at [table + rax*4] */
}

JIT_INLINE void dynamic_jump(struct compiler *c, uint32_t pc)
{
    emit_store32_imm_disp(&c->b, CTXB, CTX(pc), pc);
    dispatch(c);
}

/*
 * Where a `ret` comes back to, right after the `call` of a call that wrote
 * ret_addr to ra. eax = the address the return jumped to, ctx.pc = the
 * return: if it is ret_addr, go on at its block, else dispatch in general.
 * next_pc: the block the code after the pad opens (UINT32_MAX: none), which
 * the pad falls through to.
 */
static void return_pad(struct compiler *c, uint64_t ret_addr, uint32_t next_pc)
{
    struct jit_buf *b = &c->b;
    uint32_t target;
    if (pvm_program_dynamic_jump(c->p, (uint32_t)ret_addr, &target) != PVM_DJUMP_TARGET) {
        jmp_back(c, c->djump_label);
        return;
    }
    emit_alu_ri(b, false, X86_ALU_CMP, SCRATCH, (int32_t)(uint32_t)ret_addr); /* cmp eax, R */
    jcc_back(c, X86_CC_NE, c->djump_label);
    if (target != next_pc)
        add_fixup(c, emit_jmp32(b), target);
}

/* A call to the block at target (a block start) writing ret_addr to ra
 * (already written): push a return frame if there is room. The call ends
 * its block: the code of next_pc, a new block, follows. */
static void call_direct(struct compiler *c, uint32_t target, uint64_t ret_addr, uint32_t next_pc)
{
    struct jit_buf *b = &c->b;
    emit_alu_rm(b, X86_ALU_CMP, X86_RSP, CTXB, CTX(return_limit)); /* cmp rsp, [limit] */
    add_fixup(c, emit_jcc32(b, X86_CC_BE), target);                /* full: plain jump */
    add_fixup(c, emit_call32(b), target);
    return_pad(c, ret_addr, next_pc);
}

/* A call through eax (computed before ra was written with ret_addr). */
static void call_indirect(struct compiler *c, uint32_t pc, uint64_t ret_addr)
{
    struct jit_buf *b = &c->b;
    emit_store32_imm_disp(b, CTXB, CTX(pc), pc);
    emit_alu_rm(b, X86_ALU_CMP, X86_RSP, CTXB, CTX(return_limit)); /* cmp rsp, [limit] */
    size_t full = emit_jcc32(b, X86_CC_BE);
    size_t call = emit_call32(b);
    return_pad(c, ret_addr, UINT32_MAX);
    jit_link32(b, full, b->off);
    jit_link32(b, call, b->off);
    dispatch(c);
}

/* A return through ra (eax = the address): always a `ret`. With no call
 * frame left it lands in emit_empty_return, which dispatches. */
static void return_jump(struct compiler *c, uint32_t pc)
{
    emit_store32_imm_disp(&c->b, CTXB, CTX(pc), pc);
    emit_ret(&c->b);
}

/* ---- Memory ------------------------------------------------------------ */
JIT_INLINE void addr_indirect(struct compiler *c, unsigned reg, uint64_t x)
{
    emit_lea(&c->b, false, SCRATCH, reg, (int32_t)x); /* lea eax, [reg+X] (wraps mod 2^32) */
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

JIT_INLINE void load(struct compiler *c, uint32_t pc, unsigned form, unsigned dst, struct maddr m)
{
    add_fault_site(c, pc);
    emit_load_m(&c->b, form, dst, m.base, m.disp);
}

JIT_INLINE void store(struct compiler *c, uint32_t pc, unsigned form, unsigned src, struct maddr m)
{
    add_fault_site(c, pc);
    emit_store_m(&c->b, form, src, m.base, m.disp);
}

JIT_INLINE void store_imm(struct compiler *c, uint32_t pc, unsigned width, uint64_t value,
                          struct maddr m)
{
    static const unsigned forms[9] = {[1] = X86_STORE_IMM_8,
                                      [2] = X86_STORE_IMM_16,
                                      [4] = X86_STORE_IMM_32,
                                      [8] = X86_STORE_IMM_64};
    add_fault_site(c, pc);
    emit_store_imm_m(&c->b, forms[width], m.base, m.disp, (int32_t)value, width < 4 ? width : 4);
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

/* ---- Arithmetic helpers ------------------------------------------------ */
/* D = sx32(eax) */
JIT_INLINE void sx32_to(struct compiler *c, unsigned d)
{
    emit_movsxd_rr(&c->b, d, SCRATCH); /* movsxd D, eax */
}

/* D = A op B, 64-bit, op in {add, sub, and, or, xor}. */
JIT_INLINE void alu3_64(struct compiler *c, enum x86_alu op, bool commutative, unsigned d,
                        unsigned a, unsigned bb)
{
    struct jit_buf *b = &c->b;
    if (d == a) {
        emit_alu_rr(b, true, op, d, bb);
    } else if (d == bb) {
        if (commutative) {
            emit_alu_rr(b, true, op, d, a);
        } else {
            emit_mov_rr(b, true, SCRATCH, a);
            emit_alu_rr(b, true, op, SCRATCH, bb);
            emit_mov_rr(b, true, d, SCRATCH);
        }
    } else if (op == X86_ALU_ADD) {
        x86_rm(b, XF_W | 0x8D, d, a, bb, 0, 0); /* lea D, [A+B] */
    } else {
        emit_mov_rr(b, true, d, a);
        emit_alu_rr(b, true, op, d, bb);
    }
}

/* D = sx32(lo32(A) op lo32(B)) */
JIT_INLINE void alu3_32(struct compiler *c, enum x86_alu op, unsigned d, unsigned a, unsigned bb)
{
    if (d == a) { /* in place: op D32, B32; movsxd D, D32 */
        emit_alu_rr(&c->b, false, op, d, bb);
        emit_movsxd_rr(&c->b, d, d);
        return;
    }
    emit_mov_rr(&c->b, false, SCRATCH, a); /* mov eax, A32 */
    emit_alu_rr(&c->b, false, op, SCRATCH, bb);
    sx32_to(c, d);
}

/* D = src op imm (64-bit, imm sign-extended). */
JIT_INLINE void alu_imm_64(struct compiler *c, enum x86_alu op, unsigned d, unsigned src,
                           uint64_t x)
{
    if (op == X86_ALU_AND && (x == 0xFF || x == 0xFFFF)) { /* the zero-extending moves */
        if (x == 0xFF)
            emit_movzx8_rr(&c->b, d, src);
        else
            emit_movzx16_rr(&c->b, d, src);
        return;
    }
    mov64(c, d, src);
    emit_alu_ri(&c->b, true, op, d, (int32_t)x);
}

/* D = (A cmp B/imm) ? 1 : 0. A D distinct from the operands is cleared
 * and set in place; otherwise the flag goes through rax. */
JIT_INLINE void set_cc_rr(struct compiler *c, enum x86_cc cc, unsigned d, unsigned a, unsigned bb)
{
    if (d != a && d != bb) {
        emit_alu_rr(&c->b, false, X86_ALU_XOR, d, d); /* xor D32, D32 (before cmp) */
        emit_alu_rr(&c->b, true, X86_ALU_CMP, a, bb);
        emit_setcc(&c->b, cc, d);
        return;
    }
    emit_alu_rr(&c->b, false, X86_ALU_XOR, SCRATCH, SCRATCH); /* xor eax, eax (before cmp) */
    emit_alu_rr(&c->b, true, X86_ALU_CMP, a, bb);
    emit_setcc(&c->b, cc, SCRATCH);
    emit_mov_rr(&c->b, true, d, SCRATCH);
}

JIT_INLINE void set_cc_ri(struct compiler *c, enum x86_cc cc, unsigned d, unsigned a, uint64_t x)
{
    if (d != a) {
        emit_alu_rr(&c->b, false, X86_ALU_XOR, d, d);
        emit_alu_ri(&c->b, true, X86_ALU_CMP, a, (int32_t)x);
        emit_setcc(&c->b, cc, d);
        return;
    }
    emit_alu_rr(&c->b, false, X86_ALU_XOR, SCRATCH, SCRATCH);
    emit_alu_ri(&c->b, true, X86_ALU_CMP, a, (int32_t)x);
    emit_setcc(&c->b, cc, SCRATCH);
    emit_mov_rr(&c->b, true, d, SCRATCH);
}

/*
 * D = value shifted/rotated by count (x86 masks cl to 5 or 6 bits, exactly
 * the PVM's "& 31" / "& 63"). The count must be in cl, whose PVM register
 * is parked in ctx.spill_rcx meanwhile:
 *   rax = value; [spill] = rcx; rcx = count; op rax, cl; rcx = [spill]; D = rax
 */
static void shift_var(struct compiler *c, bool w64, enum x86_shift op, bool value_is_imm,
                      unsigned value_reg, uint64_t value_imm, unsigned count_reg, unsigned d)
{
    struct jit_buf *b = &c->b;
    if (value_is_imm)
        emit_mov_ri(b, SCRATCH, w64 ? value_imm : (uint32_t)value_imm);
    else
        emit_mov_rr(b, w64, SCRATCH, value_reg);
    bool park = count_reg != X86_RCX;
    if (park) {
        emit_store_disp(b, X86_RCX, CTXB, CTX(spill_rcx));
        emit_mov_rr(b, false, X86_RCX, count_reg); /* mov ecx, count32 */
    }
    emit_shift_cl(b, w64, op, SCRATCH);
    if (park)
        emit_load_disp(b, X86_RCX, CTXB, CTX(spill_rcx));
    if (w64)
        emit_mov_rr(b, true, d, SCRATCH);
    else
        sx32_to(c, d);
}

/* D = shift(lo32/64 of src, constant count) */
JIT_INLINE void shift_imm(struct compiler *c, bool w64, enum x86_shift op, unsigned d, unsigned src,
                          uint64_t count)
{
    if (w64) {
        mov64(c, d, src);
        emit_shift_ri(&c->b, true, op, d, (uint8_t)(count & 63));
    } else if (op == X86_SH_SHR && (count & 31) != 0) {
        /* bit 31 of the result is 0: sign- and zero-extension agree */
        if (d != src)
            emit_mov_rr(&c->b, false, d, src);
        emit_shift_ri(&c->b, false, op, d, (uint8_t)(count & 31));
    } else if (d == src) {
        emit_shift_ri(&c->b, false, op, d, (uint8_t)(count & 31));
        emit_movsxd_rr(&c->b, d, d);
    } else {
        emit_mov_rr(&c->b, false, SCRATCH, src);
        emit_shift_ri(&c->b, false, op, SCRATCH, (uint8_t)(count & 31));
        sx32_to(c, d);
    }
}

/* Operand of a one-operand mul/div: the PVM register, or its parked copy if
 * it lives in rdx (which the instruction overwrites). */
static void grp3_operand(struct compiler *c, bool w64, enum x86_grp3 op, unsigned reg)
{
    if (reg == X86_RDX)
        emit_grp3_m(&c->b, w64, op, CTXB, CTX(spill_rdx));
    else
        emit_grp3_r(&c->b, w64, op, reg);
}

/*
 * Division and remainder (SPEC §9.13), guarding the two cases where x86
 * traps and the PVM does not:
 *   if (B == 0)                 D = rem ? A : ~0
 *   else if (signed && B == -1) D = rem ? 0 : -A      (also MIN / -1)
 *   else                        D = A / B or A % B    (div/idiv, rdx parked)
 * 32-bit forms work on lo32 and sign-extend the result.
 */
static void divrem(struct compiler *c, bool w64, bool is_signed, bool rem, unsigned d, unsigned a,
                   unsigned bb)
{
    struct jit_buf *b = &c->b;
    emit_test_rr(b, w64, bb, bb);
    size_t nonzero = emit_jcc32(b, X86_CC_NE);
    if (rem) {
        if (w64)
            mov64(c, d, a);
        else
            emit_movsxd_rr(b, d, a);
    } else {
        emit_mov_ri(b, d, UINT64_MAX);
    }
    size_t done1 = emit_jmp32(b);
    size_t done2 = SIZE_MAX;
    jit_link32(b, nonzero, b->off);
    if (is_signed) {
        emit_alu_ri(b, w64, X86_ALU_CMP, bb, -1);
        size_t general = emit_jcc32(b, X86_CC_NE);
        if (rem) {
            emit_mov_ri(b, d, 0);
        } else {
            emit_mov_rr(b, w64, SCRATCH, a);
            emit_grp3_r(b, w64, X86_G3_NEG, SCRATCH);
            if (w64)
                emit_mov_rr(b, true, d, SCRATCH);
            else
                sx32_to(c, d);
        }
        done2 = emit_jmp32(b);
        jit_link32(b, general, b->off);
    }
    emit_store_disp(b, X86_RDX, CTXB, CTX(spill_rdx)); /* park rdx */
    emit_mov_rr(b, w64, SCRATCH, a);
    if (is_signed) {
        if (w64)
            emit_cqo(b);
        else
            emit_cdq(b);
    } else {
        emit_alu_rr(b, false, X86_ALU_XOR, X86_RDX, X86_RDX); /* xor edx, edx */
    }
    grp3_operand(c, w64, is_signed ? X86_G3_IDIV : X86_G3_DIV, bb);
    if (rem)
        emit_mov_rr(b, true, SCRATCH, X86_RDX);
    emit_load_disp(b, X86_RDX, CTXB, CTX(spill_rdx)); /* unpark rdx */
    if (w64)
        emit_mov_rr(b, true, d, SCRATCH);
    else
        sx32_to(c, d);
    jit_link32(b, done1, b->off);
    if (done2 != SIZE_MAX)
        jit_link32(b, done2, b->off);
}

/*
 * High 64 bits of the 128-bit product (mul / imul, rdx parked):
 *   s_s: imul; u_u: mul; s_u: mul, then subtract B if A < 0.
 * s_s and u_u move the high half straight to D (D = r12 lives in rdx,
 * which then needs no unparking).
 */
static void mul_upper(struct compiler *c, int kind, unsigned d, unsigned a, unsigned bb)
{
    struct jit_buf *b = &c->b;
    emit_store_disp(b, X86_RDX, CTXB, CTX(spill_rdx));
    emit_mov_rr(b, true, SCRATCH, a);
    grp3_operand(c, true, kind == 0 ? X86_G3_IMUL : X86_G3_MUL, bb);
    if (kind != 2) {
        if (d != X86_RDX) {
            emit_mov_rr(b, true, d, X86_RDX);
            emit_load_disp(b, X86_RDX, CTXB, CTX(spill_rdx));
        }
        return;
    }
    emit_mov_rr(b, true, SCRATCH, X86_RDX);
    emit_load_disp(b, X86_RDX, CTXB, CTX(spill_rdx));
    if (kind == 2) {
        emit_test_rr(b, true, a, a);
        size_t skip = emit_jcc8(b, X86_CC_NS);
        emit_alu_rr(b, true, X86_ALU_SUB, SCRATCH, bb);
        jit_link8_here(b, skip);
    }
    emit_mov_rr(b, true, d, SCRATCH);
}

/* D = (cond on A vs B) ? B : A  — min/max; through rax unless D is
 * neither operand */
static void minmax(struct compiler *c, enum x86_cc take_b, unsigned d, unsigned a, unsigned bb)
{
    if (d != a && d != bb) {
        emit_mov_rr(&c->b, true, d, a);
        emit_alu_rr(&c->b, true, X86_ALU_CMP, a, bb);
        emit_cmovcc_rr(&c->b, take_b, d, bb);
        return;
    }
    emit_mov_rr(&c->b, true, SCRATCH, a);
    emit_alu_rr(&c->b, true, X86_ALU_CMP, a, bb);
    emit_cmovcc_rr(&c->b, take_b, SCRATCH, bb);
    emit_mov_rr(&c->b, true, d, SCRATCH);
}

/* bit counts with bsr/bsf (no lzcnt/tzcnt requirement) */
static void bitscan(struct compiler *c, bool w64, bool leading, unsigned d, unsigned a)
{
    struct jit_buf *b = &c->b;
    unsigned bits = w64 ? 64 : 32;
    if (leading) {
        emit_bsr_rr(b, w64, SCRATCH, a); /* index of the top set bit */
        size_t nz = emit_jcc8(b, X86_CC_NE);
        emit_mov_ri(b, SCRATCH, 2 * bits - 1); /* zero input: (2*bits-1) ^ (bits-1) = bits */
        jit_link8_here(b, nz);
        emit_alu_ri(b, false, X86_ALU_XOR, SCRATCH, (int32_t)(bits - 1)); /* clz = idx ^ (bits-1) */
    } else {
        emit_bsf_rr(b, w64, SCRATCH, a);
        size_t nz = emit_jcc8(b, X86_CC_NE);
        emit_mov_ri(b, SCRATCH, bits);
        jit_link8_here(b, nz);
    }
    emit_mov_rr(b, true, d, SCRATCH);
}

/* sbrk without leaving the code (guest platform; SPEC §9.9 as pvm.h says):
 * D = the break, which grows by A, or 0 (and no change) when there is no
 * heap (heap_top 0), A >= 2^32, or the new break passes ctx.heap_limit.
 * The new pages need no mapping here: the platform backs them on first
 * touch. rax is the only scratch; D is written last, so D == A is fine. */
static void sbrk_inline(struct compiler *c, unsigned d, unsigned a)
{
    struct jit_buf *b = &c->b;
    emit_alu64_mi32(b, X86_ALU_CMP, CTXB, CTX(heap_top), 0);
    size_t no_heap = emit_jcc8(b, X86_CC_E);
    emit_mov_rr(b, true, SCRATCH, a);
    emit_shift_ri(b, true, X86_SH_SHR, SCRATCH, 32);
    size_t too_big = emit_jcc8(b, X86_CC_NE);
    emit_mov_rr(b, false, SCRATCH, a); /* eax = A, zero-extended */
    emit_alu_rm(b, X86_ALU_ADD, SCRATCH, CTXB, CTX(heap_top));
    emit_alu_rm(b, X86_ALU_CMP, SCRATCH, CTXB, CTX(heap_limit));
    size_t past_limit = emit_jcc8(b, X86_CC_A);
    emit_load_disp(b, d, CTXB, CTX(heap_top));
    emit_store_disp(b, SCRATCH, CTXB, CTX(heap_top));
    size_t done = emit_jmp8(b);
    jit_link8_here(b, no_heap);
    jit_link8_here(b, too_big);
    jit_link8_here(b, past_limit);
    emit_alu_rr(b, false, X86_ALU_XOR, d, d);
    jit_link8_here(b, done);
}

/*
 * Peephole: `shlo_l_imm_64 T, S, k` (k = 1..3) followed by `add_64 T, T, O`
 * (or O + T) is T = O + (S << k): one `lea T, [O + S*2^k]`, the address
 * arithmetic of an indexed access (crc32's table look-up). Both values
 * are computed in 64 bits as the PVM does; the shifted T is overwritten
 * by the add, so nothing else can see it. The add is not a block start
 * (it follows a non-terminator), so no jump lands between the two; it
 * keeps its own pc and gas. A run entered at the add's pc (an arbitrary
 * entry) goes through a stub that does the add alone and jumps back
 * (STUB_FUSED_ENTRY). The shift's operands: t, s (x86 registers), x = k; next_pc the
 * add's. Returns false (nothing emitted) when the pair does not match.
 */
static bool shl_add_lea(struct compiler *c, uint64_t next_pc, unsigned t, unsigned s, uint64_t x)
{
    unsigned k = (unsigned)(x & 63);
    if (k < 1 || k > 3 || next_pc >= c->p->code_len)
        return false;
    struct pvm_insn next;
    jit_decode_insn(c->p, (uint32_t)next_pc, &next);
    unsigned rd = (unsigned)R(next.rd), ra = (unsigned)R(next.ra), rb = (unsigned)R(next.rb);
    if (next.opcode != PVM_OP_add_64 || rd != t || (ra == t) == (rb == t))
        return false;
    unsigned other = ra == t ? rb : ra;
    x86_rm(&c->b, XF_W | 0x8D, t, other, s, k, 0); /* lea T, [O + S*2^k] */
    c->fused_pc = (uint32_t)next.pc;
    add_stub(c, 0, c->fused_pc, STUB_FUSED_ENTRY);
    return true;
}

#endif /* NUB_JIT_LOWER_H */
