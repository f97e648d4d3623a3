/*
 * jit_compile.c — single-pass PVM -> x86-64 compiler (see jit.h).
 *
 * Layout of the generated code:
 *
 *   entry          hosted: C-callable prologue; guest: ring-3 entry stub
 *   exit_common    store the 13 registers into the context block, leave
 *   halt_exit      reason = halt,  -> exit_common   (ctx.pc already set)
 *   panic_exit     reason = panic, -> exit_common   (ctx.pc already set)
 *   host_call      an ecalli: served inside the run (ctx.host_call) or exit
 *   djump          dynamic-jump dispatcher (eax = address, ctx.pc set)
 *   body           one gas check per block, then the instructions, in pc order,
 *                  ending with the implicit trap at pc = code_len
 *   stubs          out-of-gas stubs (one per block), bad-static-target panics
 *   jump table     int32 offsets (relative to the table) of each dynamic target
 *
 * Shared exits come first so every jump to them is backward and final; jumps
 * to blocks and stubs are rel32 placeholders patched at the end.
 *
 * The compile state and its small sequences are in jit_compiler.h, the
 * entry and shared exits in jit_exits.c, the lowering helpers in
 * jit_lower.h; this file walks the program and lowers each instruction.
 */
#include "jit_compiler.h"
#include "jit_lower.h"

int jit_native_reg(unsigned pvm_reg)
{
    return R(pvm_reg < PVM_NUM_REGS ? pvm_reg : PVM_NUM_REGS - 1);
}

/* ---- Gas blocks -------------------------------------------------------- */
JIT_EMITTER uint8_t *open_block(struct compiler *c, uint8_t *p, uint32_t pc)
{
    const uint8_t *start = p;
    c->block_head[pc >> 3] |= (uint8_t)(1u << (pc & 7));
    p = emit_alu_ri32(p, X86_ALU_SUB, GAS, 0); /* sub r15, cost */
    c->block_imm_site = code_off(c, p) - 4;
    p = emit_jcc32(p, X86_CC_L); /* jl out_of_gas(pc) */
    c->block_stub = c->stubs.count;
    add_stub(c, code_off(c, p) - 4, pc, STUB_OUT_OF_GAS);
    c->block_cost = 0;
    c->block_pc = pc;
    c->words_dropped = false;
    if (p - start != JIT_GAS_CHECK_SIZE)
        c->nomem = true; /* cannot happen: the encoding above is fixed-size */
    return p;
}

/* Word number `at` (>= PVM_GAS_BATCH_WORDS) of the open block: the block's
 * words move to c->gas_words, which keeps them until the block closes, or
 * are dropped once the block is too long to keep (or memory ran out). */
static __attribute__((noinline)) void put_long_gas_word(struct compiler *c, unsigned at,
                                                        uint32_t word)
{
    struct vec *v = &c->gas_words;
    if (at == PVM_GAS_BATCH_WORDS) {
        v->count = 0;
        for (unsigned s = 0; s < PVM_GAS_BATCH_WORDS; s++) {
            uint32_t *w = VEC_PUSH(c, v, uint32_t);
            if (w == NULL)
                return;
            *w = c->gas_batch.words[s][c->batch_lanes];
        }
    }
    if (v->count >= JIT_GAS_WORDS_MAX) {
        c->words_dropped = true;
        return;
    }
    uint32_t *w = VEC_PUSH(c, v, uint32_t);
    if (w != NULL)
        *w = word;
}

/* The next gas word of the open block (c->open_words of them so far): in
 * the batch's free lane while the block is short (lane: that lane's first
 * slot), else put_long_gas_word's. */
JIT_INLINE void put_gas_word(struct compiler *c, uint32_t *lane, uint32_t word)
{
    unsigned at = c->open_words++;
    if (at < PVM_GAS_BATCH_WORDS)
        lane[at * PVM_GAS_BATCH_LANES] = word;
    else
        put_long_gas_word(c, at, word);
}

/* The first slot of the batch's free lane. */
JIT_INLINE uint32_t *free_lane(struct compiler *c)
{
    return &c->gas_batch.words[0][c->batch_lanes];
}

/* A closed block's cost, into its gas check and its out-of-gas stub. */
static void set_block_cost(struct compiler *c, size_t imm_site, size_t stub, uint32_t cost)
{
    if (cost > (uint32_t)INT32_MAX) /* the imm32 is sign-extended */
        c->too_large = true;
    jit_patch4(&c->b, imm_site, cost);
    if (!c->nomem)
        ((struct stub *)c->stubs.data)[stub].cost = cost;
}

/* Prices the blocks waiting in c->gas_batch. */
static __attribute__((noinline)) void price_batch(struct compiler *c)
{
    uint32_t costs[PVM_GAS_BATCH_LANES];
    pvm_gas_batch_costs(&c->gas_batch, true, costs);
    for (unsigned l = 0; l < c->batch_lanes; l++) {
        set_block_cost(c, c->batch_imm_site[l], c->batch_stub[l], costs[l]);
        c->gas_batch.count[l] = 0;
    }
    c->batch_lanes = 0;
}

/* pipeline: c->pipeline, passed as the walk's constant. A short block
 * (2 to PVM_GAS_BATCH_WORDS instructions, its words already in the batch's
 * free lane) waits there until eight are; the others are priced at once. */
JIT_INLINE void close_block(struct compiler *c, bool pipeline)
{
    unsigned n = c->open_words, l = c->batch_lanes;
    c->open_words = 0;
    if (pipeline && n >= 2 && n <= PVM_GAS_BATCH_WORDS) {
        c->gas_batch.count[l] = n;
        c->batch_imm_site[l] = c->block_imm_site;
        c->batch_stub[l] = c->block_stub;
        if (++c->batch_lanes == PVM_GAS_BATCH_LANES)
            price_batch(c);
        return;
    }
    if (pipeline && c->words_dropped)
        c->block_cost = pvm_gas_block_cost(c->p, c->block_pc);
    else if (pipeline && n == 1)
        c->block_cost = pvm_gas_words_cost(&c->gas_batch.words[0][l], 1);
    else if (pipeline && n > 0)
        c->block_cost = pvm_gas_words_cost(c->gas_words.data, c->gas_words.count);
    set_block_cost(c, c->block_imm_site, c->block_stub, c->block_cost);
}

/* ---- One instruction --------------------------------------------------- */
static const int8_t branch_imm_cc[] = {
    [PVM_OP_branch_eq_imm - PVM_OP_branch_eq_imm] = X86_CC_E,
    [PVM_OP_branch_ne_imm - PVM_OP_branch_eq_imm] = X86_CC_NE,
    [PVM_OP_branch_lt_u_imm - PVM_OP_branch_eq_imm] = X86_CC_B,
    [PVM_OP_branch_le_u_imm - PVM_OP_branch_eq_imm] = X86_CC_BE,
    [PVM_OP_branch_ge_u_imm - PVM_OP_branch_eq_imm] = X86_CC_AE,
    [PVM_OP_branch_gt_u_imm - PVM_OP_branch_eq_imm] = X86_CC_A,
    [PVM_OP_branch_lt_s_imm - PVM_OP_branch_eq_imm] = X86_CC_L,
    [PVM_OP_branch_le_s_imm - PVM_OP_branch_eq_imm] = X86_CC_LE,
    [PVM_OP_branch_ge_s_imm - PVM_OP_branch_eq_imm] = X86_CC_GE,
    [PVM_OP_branch_gt_s_imm - PVM_OP_branch_eq_imm] = X86_CC_G,
};

static const int8_t branch_reg_cc[] = {
    [PVM_OP_branch_eq - PVM_OP_branch_eq] = X86_CC_E,
    [PVM_OP_branch_ne - PVM_OP_branch_eq] = X86_CC_NE,
    [PVM_OP_branch_lt_u - PVM_OP_branch_eq] = X86_CC_B,
    [PVM_OP_branch_lt_s - PVM_OP_branch_eq] = X86_CC_L,
    [PVM_OP_branch_ge_u - PVM_OP_branch_eq] = X86_CC_AE,
    [PVM_OP_branch_ge_s - PVM_OP_branch_eq] = X86_CC_GE,
};

/*
 * The code of the instruction at pc: opcode op (effective: trap where pc
 * is not an instruction start; PVM_OPCODE_INVALID, which executes as trap,
 * for a code byte the ISA does not define), skip l, code bytes at code
 * (see struct jit_ops). One switch on the opcode; each case decodes the
 * operands of its format itself, into registers.
 */
JIT_EMITTER uint8_t *compile_insn(struct compiler *c, uint8_t *p, uint32_t pc, uint8_t op,
                                  unsigned l, const uint8_t *code)
{
    switch (op) {
    /* F0 */
    case PVM_OP_trap:
        p = exit_inline(c, p, pc, PVM_EXIT_PANIC);
        break;
    case PVM_OP_fallthrough:
    case PVM_OP_unlikely: /* a gas-model hint only */
        break;
    /* F1 */
    case PVM_OP_ecalli: {
        const struct jit_ops o = jit_ops_imm(code, l);
        p = emit_store64_imm_disp(p, CTXB, CTX(arg), (int32_t)o.x); /* mov qword [ctx.arg], id */
        p = emit_store32_imm_disp(p, CTXB, CTX(pc), pc);            /* mov dword [ctx.pc], pc */
        p = emit_lea_rip(p, SCRATCH);                               /* lea rax, [rip+after] */
        uint8_t *after = p - 4;
        p = emit_store_disp(p, SCRATCH, CTXB, CTX(entry_target)); /* mov [ctx.entry_target], rax */
        p = jmp_back(c, p, c->host_call_label);
        jit_link32_at(after, p);
        break;
    }
    /* F2 */
    case PVM_OP_load_imm_64: {
        const struct jit_ops o = jit_ops_reg_imm64(code, jit_reg_map);
        p = emit_mov_ri(p, o.a, o.x);
        break;
    }
    /* F3: mem[X] = Y */
    case PVM_OP_store_imm_u8:
    case PVM_OP_store_imm_u16:
    case PVM_OP_store_imm_u32:
    case PVM_OP_store_imm_u64: {
        const struct jit_ops o = jit_ops_imm_imm(code, l);
        p = store_imm(c, p, pc, store_widths[op - PVM_OP_store_imm_u8], o.y, at_direct(o.x));
        break;
    }
    /* F4 */
    case PVM_OP_jump: {
        const struct jit_ops o = jit_ops_offset(code, l, pc);
        p = branch(c, p, -1, o.target, pc);
        break;
    }
    /* F5 */
    case PVM_OP_jump_ind: {
        const struct jit_ops o = jit_ops_reg_imm(code, l, jit_reg_map);
        p = addr_indirect(p, o.a, o.x);
        if (o.a == R(PVM_REG_RA))
            p = return_jump(p, pc);
        else
            p = dynamic_jump(c, p, pc);
        break;
    }
    case PVM_OP_load_imm: {
        const struct jit_ops o = jit_ops_reg_imm(code, l, jit_reg_map);
        if (o.x == 0) /* the zeroing idiom: shorter, and no dependency */
            p = emit_alu_rr(p, false, X86_ALU_XOR, o.a, o.a);
        else
            p = emit_mov_ri(p, o.a, o.x);
        break;
    }
    case PVM_OP_load_u8:
    case PVM_OP_load_i8:
    case PVM_OP_load_u16:
    case PVM_OP_load_i16:
    case PVM_OP_load_u32:
    case PVM_OP_load_i32:
    case PVM_OP_load_u64: {
        const struct jit_ops o = jit_ops_reg_imm(code, l, jit_reg_map);
        p = load(c, p, pc, load_forms[op - PVM_OP_load_u8], o.a, at_direct(o.x));
        break;
    }
    case PVM_OP_store_u8:
    case PVM_OP_store_u16:
    case PVM_OP_store_u32:
    case PVM_OP_store_u64: {
        const struct jit_ops o = jit_ops_reg_imm(code, l, jit_reg_map);
        p = store(c, p, pc, store_forms[op - PVM_OP_store_u8], o.a, at_direct(o.x));
        break;
    }
    /* F6: mem[A + X] = Y */
    case PVM_OP_store_imm_ind_u8:
    case PVM_OP_store_imm_ind_u16:
    case PVM_OP_store_imm_ind_u32:
    case PVM_OP_store_imm_ind_u64: {
        const struct jit_ops o = jit_ops_reg_imm_imm(code, l, pc, jit_reg_map);
        p = store_imm(c, p, pc, store_widths[op - PVM_OP_store_imm_ind_u8], o.y,
                      at_indirect(o.a, o.x));
        break;
    }
    /* F7 */
    case PVM_OP_load_imm_jump: {
        const struct jit_ops o = jit_ops_reg_imm_imm(code, l, pc, jit_reg_map);
        p = emit_mov_ri(p, o.a, o.x);
        if (o.a == R(PVM_REG_RA) && o.target >= 0 &&
            pvm_program_is_block_start(c->p, (uint64_t)o.target))
            p = call_direct(c, p, (uint32_t)o.target, o.x, pc + 1 + l);
        else
            p = branch(c, p, -1, o.target, pc);
        break;
    }
    case PVM_OP_branch_eq_imm:
    case PVM_OP_branch_ne_imm:
    case PVM_OP_branch_lt_u_imm:
    case PVM_OP_branch_le_u_imm:
    case PVM_OP_branch_ge_u_imm:
    case PVM_OP_branch_gt_u_imm:
    case PVM_OP_branch_lt_s_imm:
    case PVM_OP_branch_le_s_imm:
    case PVM_OP_branch_ge_s_imm:
    case PVM_OP_branch_gt_s_imm: {
        const struct jit_ops o = jit_ops_reg_imm_imm(code, l, pc, jit_reg_map);
        if (o.x == 0) /* the same flags as cmp A, 0 (CF = OF = 0) */
            p = emit_test_rr(p, true, o.a, o.a);
        else
            p = emit_alu_ri(p, true, X86_ALU_CMP, o.a, (int32_t)o.x); /* cmp A, simm32 */
        p = branch(c, p, branch_imm_cc[op - PVM_OP_branch_eq_imm], o.target, pc);
        break;
    }
    /* F8: D = f(A) */
    case PVM_OP_move_reg: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        p = mov64(p, o.d, o.a);
        break;
    }
    case PVM_OP_sbrk: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        if (c->opt->platform == JIT_PLATFORM_GUEST)
            p = sbrk_inline(p, o.d, o.a);
        else
            p = exit_inline(c, p, pc, JIT_EXIT_SBRK);
        break;
    }
    case PVM_OP_count_set_bits_64: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        p = emit_popcnt_rr(p, true, o.d, o.a);
        break;
    }
    case PVM_OP_count_set_bits_32: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        p = emit_popcnt_rr(p, false, o.d, o.a);
        break;
    }
    case PVM_OP_leading_zero_bits_64: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        p = bitscan(p, true, true, o.d, o.a);
        break;
    }
    case PVM_OP_leading_zero_bits_32: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        p = bitscan(p, false, true, o.d, o.a);
        break;
    }
    case PVM_OP_trailing_zero_bits_64: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        p = bitscan(p, true, false, o.d, o.a);
        break;
    }
    case PVM_OP_trailing_zero_bits_32: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        p = bitscan(p, false, false, o.d, o.a);
        break;
    }
    case PVM_OP_sign_extend_8: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        p = emit_movsx8_rr(p, o.d, o.a);
        break;
    }
    case PVM_OP_sign_extend_16: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        p = emit_movsx16_rr(p, o.d, o.a);
        break;
    }
    case PVM_OP_zero_extend_16: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        p = emit_movzx16_rr(p, o.d, o.a);
        break;
    }
    case PVM_OP_reverse_bytes: {
        const struct jit_ops o = jit_ops_reg_reg(code, jit_reg_map);
        p = mov64(p, o.d, o.a);
        p = emit_bswap(p, o.d);
        break;
    }
    /* F9: memory at B + X */
    /* One case per width, so that the x86 form is a constant in each: the
     * prefixes, REX.W and the opcode bytes then fold away (the accesses
     * through a register are the kernels' most frequent instructions; the
     * other accesses share a case and take their form from a table). */
#define STORE_IND(form)                                                                            \
    {                                                                                              \
        if (pc < c->carry_end) /* emitted with the carry group before (add_and_carry) */           \
            break;                                                                                 \
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);                    \
        p = store(c, p, pc, form, o.a, at_indirect(o.b, o.x));                                     \
        break;                                                                                     \
    }
#define LOAD_IND(form)                                                                             \
    {                                                                                              \
        if (pc == c->fused_load_pc) /* emitted with the shift and add before (indexed_load) */     \
            break;                                                                                 \
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);                    \
        p = load(c, p, pc, form, o.a, at_indirect(o.b, o.x));                                      \
        break;                                                                                     \
    }
    case PVM_OP_store_ind_u8:
        STORE_IND(X86_STORE_8)
    case PVM_OP_store_ind_u16:
        STORE_IND(X86_STORE_16)
    case PVM_OP_store_ind_u32:
        STORE_IND(X86_STORE_32)
    case PVM_OP_store_ind_u64:
        STORE_IND(X86_STORE_64)
    case PVM_OP_load_ind_u8:
        LOAD_IND(X86_LOAD_U8)
    case PVM_OP_load_ind_i8:
        LOAD_IND(X86_LOAD_I8)
    case PVM_OP_load_ind_u16:
        LOAD_IND(X86_LOAD_U16)
    case PVM_OP_load_ind_i16:
        LOAD_IND(X86_LOAD_I16)
    case PVM_OP_load_ind_u32:
        LOAD_IND(X86_LOAD_U32)
    case PVM_OP_load_ind_i32:
        LOAD_IND(X86_LOAD_I32)
    case PVM_OP_load_ind_u64:
        LOAD_IND(X86_LOAD_U64)
#undef STORE_IND
#undef LOAD_IND
    /* F9: A = f(B, X) */
    case PVM_OP_add_imm_32: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = emit_lea(p, false, SCRATCH, o.b, (int32_t)o.x);
        p = sx32_to(p, o.a);
        break;
    }
    case PVM_OP_and_imm: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = alu_imm_64(p, X86_ALU_AND, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_xor_imm: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = alu_imm_64(p, X86_ALU_XOR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_or_imm: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = alu_imm_64(p, X86_ALU_OR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_mul_imm_32: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = emit_imul_rri(p, false, SCRATCH, o.b, (int32_t)o.x);
        p = sx32_to(p, o.a);
        break;
    }
    case PVM_OP_set_lt_u_imm: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = set_cc_ri(p, X86_CC_B, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_set_lt_s_imm: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = set_cc_ri(p, X86_CC_L, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shlo_l_imm_32: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_imm(p, false, X86_SH_SHL, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shlo_r_imm_32: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_imm(p, false, X86_SH_SHR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shar_r_imm_32: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_imm(p, false, X86_SH_SAR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_neg_add_imm_32: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = emit_mov_ri(p, SCRATCH, (uint32_t)o.x);
        p = emit_alu_rr(p, false, X86_ALU_SUB, SCRATCH, o.b);
        p = sx32_to(p, o.a);
        break;
    }
    case PVM_OP_set_gt_u_imm: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = set_cc_ri(p, X86_CC_A, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_set_gt_s_imm: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = set_cc_ri(p, X86_CC_G, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shlo_l_imm_alt_32: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_var(p, false, X86_SH_SHL, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_shlo_r_imm_alt_32: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_var(p, false, X86_SH_SHR, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_shar_r_imm_alt_32: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_var(p, false, X86_SH_SAR, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_cmov_iz_imm:
    case PVM_OP_cmov_nz_imm: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = emit_mov_ri(p, SCRATCH, o.x);
        p = emit_test_rr(p, true, o.b, o.b);
        p = emit_cmovcc_rr(p, op == PVM_OP_cmov_iz_imm ? X86_CC_E : X86_CC_NE, o.a, SCRATCH);
        break;
    }
    case PVM_OP_add_imm_64: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        if (o.x == 0) /* a register move: mov is eliminated at rename, lea is not */
            p = mov64(p, o.a, o.b);
        else
            p = emit_lea(p, true, o.a, o.b, (int32_t)o.x);
        break;
    }
    case PVM_OP_mul_imm_64: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = emit_imul_rri(p, true, o.a, o.b, (int32_t)o.x);
        break;
    }
    case PVM_OP_shlo_l_imm_64: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        uint8_t *fused = shl_add_lea(c, p, pc + 1 + l, o.a, o.b, o.x);
        p = fused != NULL ? fused : shift_imm(p, true, X86_SH_SHL, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shlo_r_imm_64: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_imm(p, true, X86_SH_SHR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shar_r_imm_64: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_imm(p, true, X86_SH_SAR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_neg_add_imm_64: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        if (o.x == 0 && o.a == o.b) {
            p = emit_grp3_r(p, true, X86_G3_NEG, o.a); /* neg A */
        } else if (o.a != o.b) {
            p = emit_mov_ri(p, o.a, o.x); /* mov A, X; sub A, B */
            p = emit_alu_rr(p, true, X86_ALU_SUB, o.a, o.b);
        } else {
            p = emit_mov_ri(p, SCRATCH, o.x);
            p = emit_alu_rr(p, true, X86_ALU_SUB, SCRATCH, o.b);
            p = emit_mov_rr(p, true, o.a, SCRATCH);
        }
        break;
    }
    case PVM_OP_shlo_l_imm_alt_64: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_var(p, true, X86_SH_SHL, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_shlo_r_imm_alt_64: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_var(p, true, X86_SH_SHR, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_shar_r_imm_alt_64: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_var(p, true, X86_SH_SAR, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_rot_r_64_imm: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_imm(p, true, X86_SH_ROR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_rot_r_64_imm_alt: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_var(p, true, X86_SH_ROR, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_rot_r_32_imm: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_imm(p, false, X86_SH_ROR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_rot_r_32_imm_alt: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = shift_var(p, false, X86_SH_ROR, true, 0, o.x, o.b, o.a);
        break;
    }
    /* F10 */
    case PVM_OP_branch_eq:
    case PVM_OP_branch_ne:
    case PVM_OP_branch_lt_u:
    case PVM_OP_branch_lt_s:
    case PVM_OP_branch_ge_u:
    case PVM_OP_branch_ge_s: {
        const struct jit_ops o = jit_ops_reg_reg_imm(code, l, pc, jit_reg_map);
        p = emit_alu_rr(p, true, X86_ALU_CMP, o.a, o.b); /* cmp A, B */
        p = branch(c, p, branch_reg_cc[op - PVM_OP_branch_eq], o.target, pc);
        break;
    }
    /* F11: a = lo32(B + Y) before A is written */
    case PVM_OP_load_imm_jump_ind: {
        const struct jit_ops o = jit_ops_reg_reg_imm_imm(code, l, jit_reg_map);
        p = addr_indirect(p, o.b, o.y);
        p = emit_mov_ri(p, o.a, o.x);
        if (o.a == R(PVM_REG_RA))
            p = call_indirect(c, p, pc, o.x);
        else
            p = dynamic_jump(c, p, pc);
        break;
    }
    /* F12: D = f(A, B) */
    case PVM_OP_add_32: { /* lea D32, [A+B] is lo32(A + B); then sign-extend */
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = x86_rm(p, 0x8D, o.d, o.a, o.b, 0, 0);
        p = emit_movsxd_rr(p, o.d, o.d);
        break;
    }
    case PVM_OP_sub_32: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = alu3_32(p, X86_ALU_SUB, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_mul_32: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = emit_mov_rr(p, false, SCRATCH, o.a);
        p = emit_imul_rr(p, false, SCRATCH, o.b);
        p = sx32_to(p, o.d);
        break;
    }
    case PVM_OP_div_u_32: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = divrem(p, false, false, false, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_div_s_32: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = divrem(p, false, true, false, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_rem_u_32: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = divrem(p, false, false, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_rem_s_32: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = divrem(p, false, true, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_shlo_l_32: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = shift_var(p, false, X86_SH_SHL, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_shlo_r_32: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = shift_var(p, false, X86_SH_SHR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_shar_r_32: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = shift_var(p, false, X86_SH_SAR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_add_64: {
        /* emitted with the shift before (shl_add_lea) or in a carry group
         * (add_and_carry) */
        if (pc == c->fused_pc || pc < c->carry_end)
            break;
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        uint8_t *fused = add_and_carry(c, p, pc + 1 + l, o.d, o.a, o.b);
        p = fused != NULL ? fused : alu3_64(p, X86_ALU_ADD, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_sub_64: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = alu3_64(p, X86_ALU_SUB, false, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_mul_64: {
        if (pc == c->fused_pc) /* emitted with the mul_upper before (mul_upper_and_low) */
            break;
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = mul3_64(p, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_div_u_64: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = divrem(p, true, false, false, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_div_s_64: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = divrem(p, true, true, false, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_rem_u_64: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = divrem(p, true, false, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_rem_s_64: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = divrem(p, true, true, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_shlo_l_64: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = shift_var(p, true, X86_SH_SHL, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_shlo_r_64: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = shift_var(p, true, X86_SH_SHR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_shar_r_64: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = shift_var(p, true, X86_SH_SAR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_and: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = alu3_64(p, X86_ALU_AND, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_xor: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = alu3_64(p, X86_ALU_XOR, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_or: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = alu3_64(p, X86_ALU_OR, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_mul_upper_s_s: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        uint8_t *fused = mul_upper_and_low(c, p, pc + 1 + l, 0, o.d, o.a, o.b);
        p = fused != NULL ? fused : mul_upper(p, 0, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_mul_upper_u_u: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        uint8_t *fused = mul_upper_and_low(c, p, pc + 1 + l, 1, o.d, o.a, o.b);
        p = fused != NULL ? fused : mul_upper(p, 1, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_mul_upper_s_u: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = mul_upper(p, 2, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_set_lt_u: {
        if (pc < c->carry_end) /* emitted with the add before (add_and_carry) */
            break;
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = set_cc_rr(p, X86_CC_B, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_set_lt_s: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = set_cc_rr(p, X86_CC_L, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_cmov_iz:
    case PVM_OP_cmov_nz: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = emit_test_rr(p, true, o.b, o.b);
        p = emit_cmovcc_rr(p, op == PVM_OP_cmov_iz ? X86_CC_E : X86_CC_NE, o.d, o.a);
        break;
    }
    case PVM_OP_rot_l_64: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = shift_var(p, true, X86_SH_ROL, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_rot_l_32: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = shift_var(p, false, X86_SH_ROL, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_rot_r_64: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = shift_var(p, true, X86_SH_ROR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_rot_r_32: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = shift_var(p, false, X86_SH_ROR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_and_inv:
    case PVM_OP_or_inv: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        /* D = A op ~B, in D itself when D is not A */
        int t = o.d != o.a ? o.d : SCRATCH;
        p = mov64(p, t, o.b);
        p = emit_grp3_r(p, true, X86_G3_NOT, t);
        p = emit_alu_rr(p, true, op == PVM_OP_and_inv ? X86_ALU_AND : X86_ALU_OR, t, o.a);
        p = mov64(p, o.d, t);
        break;
    }
    case PVM_OP_xnor: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        int t = o.d != o.b ? o.d : SCRATCH;
        p = mov64(p, t, o.a);
        p = emit_alu_rr(p, true, X86_ALU_XOR, t, o.b);
        p = emit_grp3_r(p, true, X86_G3_NOT, t);
        p = mov64(p, o.d, t);
        break;
    }
    case PVM_OP_max: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = minmax(p, X86_CC_L, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_max_u: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = minmax(p, X86_CC_B, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_min: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = minmax(p, X86_CC_G, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_min_u: {
        const struct jit_ops o = jit_ops_reg_reg_reg(code, jit_reg_map);
        p = minmax(p, X86_CC_A, o.d, o.a, o.b);
        break;
    }
    default:
        /* pvm_decode_insn maps every undefined opcode to trap; anything else
         * here is a table mismatch: trap rather than miscompile. */
        p = exit_inline(c, p, pc, PVM_EXIT_PANIC);
        break;
    }
    return p;
}

/* ---- Driver ------------------------------------------------------------ */
size_t jit_code_size_bound(const struct pvm_program *p)
{
    /* Longest lowering (an indirect call through ra, with its pad and
     * dispatch; 3 code bytes at least) is < 140 bytes; a gas check 13; an
     * out-of-gas or panic stub 34. Entry/exit/dispatch/host call < 1024. */
    size_t insns = (size_t)p->code_len + 1;
    size_t table = p->jump_entry_size != 0 ? (size_t)p->jump_table_len * 4 + 4 : 0;
    return 1536 + insns * 160 + table;
}

static void compiler_free(struct compiler *c)
{
    c->alloc.free(c->alloc.ctx, c->insn_offset);
    c->alloc.free(c->alloc.ctx, c->block_head);
    c->alloc.free(c->alloc.ctx, c->stubs.data);
    c->alloc.free(c->alloc.ctx, c->fixups.data);
    c->alloc.free(c->alloc.ctx, c->sites.data);
    c->alloc.free(c->alloc.ctx, c->indexed_sites.data);
    c->alloc.free(c->alloc.ctx, c->gas_words.data);
    c->alloc.free(c->alloc.ctx, c->table_refs.data);
}

static bool is_gas_terminator(uint8_t op)
{
    return jit_op_ends_block[op];
}

/*
 * The walk over the code, one PVM instruction at a time, in pc order.
 * pipeline (c->pipeline, a constant in each of the two copies below):
 * each instruction also gives the gas model its word, taken from the
 * instruction's head and register fields (jit_gas_word_of_head); the
 * lowerings decode their operands from the code either way.
 */
/* The implicit trap at pc = C (always reached exactly, SPEC §5): its own
 * block costs the version's end cost; at the end of a longer block it is
 * that block's last instruction. Closes the last block. */
static JIT_CURSOR uint8_t *implicit_trap(struct compiler *c, uint8_t *p, bool new_block,
                                         bool pipeline)
{
    const struct pvm_program *prog = c->p;
    if (new_block) {
        p = open_block(c, p, prog->code_len);
        c->block_cost = prog->isa->end_block_cost;
    } else if (pipeline) {
        put_gas_word(c, free_lane(c), PVM_GAS_WORD_TRAP);
    } else {
        c->block_cost += jit_op_gas[PVM_OP_trap];
    }
    c->insn_offset[prog->code_len] = (uint32_t)code_off(c, p);
    p = exit_inline(c, p, prog->code_len, PVM_EXIT_PANIC);
    close_block(c, pipeline);
    return p;
}

JIT_INLINE void walk(struct compiler *c, bool pipeline)
{
    const struct pvm_program *p = c->p;
    uint32_t pc = 0;
    bool new_block = true;
    if (!room(c, JIT_INSN_ROOM))
        return;
    /* The cursor, in a register for the whole walk (written back when the
     * walk ends); room(c, JIT_INSN_ROOM) as one compare: cur <= last. */
    uint8_t *const base = c->b.code;
    uint8_t *cur = cursor(c);
    const uint8_t *const last = base + c->b.size - JIT_INSN_ROOM;
    struct jit_tail tail;
    jit_tail_init(&tail, p);
    uint32_t *lane = free_lane(c); /* (pipeline) the open block's lane */
    const uint32_t *const gas_word_head = c->gas_word_head;
    /* In locals: the compiler cannot tell that the stores of the walk
     * (code bytes as 32-bit words, uint32_t tables) leave them alone. */
    const uint32_t code_len = p->code_len;
    const uint8_t *const code_bytes = p->code, *const bitmask = p->bitmask;
    const uint8_t *const opcode_of = p->isa->opcode_of;
    uint32_t *const insn_offset = c->insn_offset;
    /* pc + JIT_DECODE_MARGIN >= code_len as one compare: pc >= near_end */
    const uint32_t near_end = code_len > JIT_DECODE_MARGIN ? code_len - JIT_DECODE_MARGIN : 0;
    for (;;) {
        if (cur > last) {
            c->no_room = true;
            break;
        }
        /* where the instruction's code and bitmask bits are read: the
         * program itself, or the padded copy of its end (at pc - base) */
        const uint8_t *read_code = code_bytes, *read_bitmask = bitmask;
        uint32_t at = pc;
        /* one test on the common path: away from the end of the code */
        if (pc >= near_end) {
            if (pc >= code_len) {
                cur = implicit_trap(c, cur, new_block, pipeline);
                break;
            }
            read_code = tail.code;
            read_bitmask = tail.bitmask;
            at = pc - tail.base;
        }
        uint8_t op;
        unsigned l = jit_head(read_bitmask, read_code, opcode_of, at, &op);
        const uint8_t *code = read_code + at;
        if (new_block)
            cur = open_block(c, cur, pc);
        insn_offset[pc] = (uint32_t)(cur - base);
        if (pipeline) {
            put_gas_word(c, lane, jit_gas_word_of(p, gas_word_head[op], pc, op, l, code));
        } else {
            c->block_cost += jit_op_gas[op];
        }
        cur = compile_insn(c, cur, pc, op, l, code);
        new_block = is_gas_terminator(op);
        if (new_block) {
            close_block(c, pipeline);
            lane = free_lane(c);
            /* Checked once per block: until then a failed push only drops
             * its entry, and offsets past INT32_MAX only fail the compile. */
            if (c->nomem || (size_t)(cur - base) > (size_t)INT32_MAX)
                break;
        }
        pc += 1 + l;
    }
    set_cursor(c, cur);
}

static __attribute__((noinline)) void walk_per_insn_gas(struct compiler *c)
{
    walk(c, false);
}

static __attribute__((noinline)) void walk_pipeline_gas(struct compiler *c)
{
    walk(c, true);
}

static void emit_body(struct compiler *c)
{
    if (c->pipeline) {
        walk_pipeline_gas(c);
        if (c->batch_lanes > 0)
            price_batch(c);
    } else {
        walk_per_insn_gas(c);
    }
}

/*
 * The stubs of fused instructions (jit_lower.h, shl_add_lea, add_and_carry):
 * an entry at a later instruction of a fused group does the rest of the group unfused and
 * jumps to the code after it (the walk left that offset as the entry's
 * insn_offset, and the stub takes the entry's place); a fault at an indexed
 * site resumes at a stub that puts the address register's PVM value, held
 * in rax, in place and leaves through the exit.
 */
static JIT_CURSOR uint8_t *fused_stub(struct compiler *c, uint8_t *p, const struct stub *s)
{
    struct pvm_insn in;
    jit_decode_insn(c->p, s->pc, &in);
    if (s->kind == STUB_INDEXED_RESUME) {
        struct jit_indexed_site *sites = c->indexed_sites.data;
        sites[s->cost].resume_offset = (uint32_t)code_off(c, p);
        p = emit_mov_rr(p, true, R(in.rb), SCRATCH);
        return jmp_back(c, p, c->exit_label);
    }
    size_t after = c->insn_offset[s->pc];
    c->insn_offset[s->pc] = (uint32_t)code_off(c, p);
    if (s->kind == STUB_FUSED_RUN) {
        for (;;) {
            if (in.opcode == PVM_OP_set_lt_u)
                p = set_cc_rr(p, X86_CC_B, (unsigned)R(in.rd), (unsigned)R(in.ra),
                              (unsigned)R(in.rb));
            else if (in.opcode == PVM_OP_add_64)
                p = alu3_64(p, X86_ALU_ADD, true, (unsigned)R(in.rd), (unsigned)R(in.ra),
                            (unsigned)R(in.rb));
            else
                p = plain_store_ind(c, p, &in);
            if (in.next_pc >= s->cost)
                break;
            jit_decode_insn(c->p, (uint32_t)in.next_pc, &in);
        }
        return jmp_back(c, p, after);
    }
    if (s->kind == STUB_FUSED_LOAD) {
        p = plain_load_ind(c, p, &in);
    } else if (in.opcode == PVM_OP_mul_64) {
        p = mul3_64(p, (unsigned)R(in.rd), (unsigned)R(in.ra), (unsigned)R(in.rb));
    } else {
        p = alu3_64(p, X86_ALU_ADD, true, (unsigned)R(in.rd), (unsigned)R(in.ra),
                    (unsigned)R(in.rb));
        if (s->kind == STUB_FUSED_ADD_LOAD) {
            struct pvm_insn load;
            jit_decode_insn(c->p, (uint32_t)in.next_pc, &load);
            p = plain_load_ind(c, p, &load);
        }
    }
    return jmp_back(c, p, after);
}

static void emit_stubs(struct compiler *c)
{
    struct stub *stubs = c->stubs.data;
    if (!room(c, JIT_STUB_ROOM))
        return;
    uint8_t *p = cursor(c);
    /* room(c, JIT_STUB_ROOM) as one compare: p <= last */
    const uint8_t *const last = c->b.code + c->b.size - JIT_STUB_ROOM;
    for (size_t i = 0; i < c->stubs.count; i++) {
        if (p > last) {
            c->no_room = true;
            break;
        }
        struct stub *s = &stubs[i];
        if (s->kind != STUB_OUT_OF_GAS && s->kind != STUB_PANIC) {
            p = fused_stub(c, p, s);
            continue;
        }
        jit_link32_at(c->b.code + s->site, p);
        if (s->kind == STUB_OUT_OF_GAS) {
            /* mov rax, cost << 32 | pc; then the shared exit refunds cost */
            p = x86_prefix_rex_imm(p, XF_W | (0xB8 + SCRATCH), 0, -1, SCRATCH,
                                   (uint64_t)s->cost << 32 | s->pc, 8); /* movabs */
            p = jmp_back(c, p, c->out_of_gas_label);
        } else {
            p = emit_store32_imm_disp(p, CTXB, CTX(pc), s->pc);
            p = jmp_back(c, p, c->panic_label);
        }
    }
    set_cursor(c, p);
}

static bool block_entry(const struct compiler *c, uint32_t pc, size_t *off_out)
{
    /* block heads are walk positions, whose insn_offset entries are set */
    if (pc > c->p->code_len || !((c->block_head[pc >> 3] >> (pc & 7)) & 1))
        return false;
    *off_out = c->insn_offset[pc] - JIT_GAS_CHECK_SIZE;
    return true;
}

static bool resolve_fixups(struct compiler *c)
{
    struct fixup *f = c->fixups.data;
    for (size_t i = 0; i < c->fixups.count; i++) {
        size_t target;
        if (!block_entry(c, f[i].target_pc, &target))
            return false;
        jit_link32(&c->b, f[i].site, target);
    }
    return true;
}

/* The native dynamic-jump table: entry i = (native target of address 2(i+1)) - table. */
static bool emit_jump_table(struct compiler *c)
{
    const struct pvm_program *prog = c->p;
    if (c->table_refs.count == 0)
        return true;
    if (!room(c, 3 + (size_t)prog->jump_table_len * 4 + JIT_EMIT_SLACK))
        return false;
    uint8_t *p = cursor(c);
    while (code_off(c, p) & 3)
        p = emit_int3(p);
    size_t table = code_off(c, p);
    for (size_t i = 0; i < c->table_refs.count; i++)
        jit_link32(&c->b, ((uint32_t *)c->table_refs.data)[i], table);
    bool ok = true;
    for (uint64_t i = 0; i < prog->jump_table_len; i++) {
        uint32_t target;
        size_t native = c->panic_label;
        if (pvm_program_dynamic_jump(prog, (uint32_t)(2 * (i + 1)), &target) == PVM_DJUMP_TARGET &&
            !block_entry(c, target, &native)) {
            ok = false;
            break;
        }
        p = emit4(p, (uint32_t)((int64_t)native - (int64_t)table));
        if (code_off(c, p) > (size_t)INT32_MAX)
            break; /* reported as too large by the caller */
    }
    set_cursor(c, p);
    return ok;
}

int jit_compile(const struct pvm_program *program, const struct jit_options *options,
                const struct pvm_allocator *allocator, uint8_t *buf, size_t buf_size,
                struct jit_code *out, size_t *needed_out)
{
    if (program == NULL || options == NULL || allocator == NULL || allocator->alloc == NULL ||
        allocator->free == NULL || out == NULL || (buf == NULL && buf_size != 0))
        return PVM_ERR_INVALID_ARGUMENT;
    pvm_memset(out, 0, sizeof(*out));
    struct compiler c;
    pvm_memset(&c, 0, sizeof(c));
    c.b = (struct jit_buf){.code = buf, .size = buf_size, .off = 0};
    c.p = program;
    c.opt = options;
    c.alloc = *allocator;
    c.table_refs.elem = sizeof(uint32_t);
    c.stubs.elem = sizeof(struct stub);
    c.fixups.elem = sizeof(struct fixup);
    c.sites.elem = sizeof(struct jit_fault_site);
    c.indexed_sites.elem = sizeof(struct jit_indexed_site);
    c.indexed_sites.first_cap = 16;
    c.gas_words.elem = sizeof(uint32_t);
    /* Stubs (about one per block), fixups and fault sites each come to
     * fewer than one per 8 code bytes in the kernels and real programs
     * (3-4 bytes an instruction): sized so, they rarely grow (each growth
     * is an allocation and a copy). */
    size_t per_code = 64 + program->code_len / 8;
    c.stubs.first_cap = c.fixups.first_cap = c.sites.first_cap = per_code;
    c.table_refs.first_cap = c.gas_words.first_cap = 64;
    c.pipeline = program->isa->gas_model == PVM_GAS_PIPELINE;
    if (c.pipeline) {
        for (unsigned op = 0; op < 256; op++)
            c.gas_word_head[op] = jit_gas_word_head((uint8_t)op);
        pvm_gas_batch_init(&c.gas_batch);
    }
    c.fused_pc = c.fused_load_pc = UINT32_MAX;
    c.carry_end = 0;

    size_t n = (size_t)program->code_len + 1;
    c.insn_offset = allocator->alloc(allocator->ctx, n * sizeof(uint32_t));
    c.block_head = allocator->alloc(allocator->ctx, n / 8 + 1);
    if (c.insn_offset == NULL || c.block_head == NULL) {
        compiler_free(&c);
        return PVM_ERR_NOMEM;
    }
    /* insn_offset is not initialised: the walk writes every entry anyone
     * reads (see jit.h), and clearing it would cost ~10% of the compile. */
    pvm_memset(c.block_head, 0, n / 8 + 1);

    /* The emitters store without bounds tests (JIT_EMIT_ROOM_CHECKED), so
     * the compile needs a buffer of jit_code_size_bound bytes. A smaller
     * one (a caller asking how much it needs) gets the code compiled into
     * a scratch buffer of that size, then copied if it fits. */
    size_t bound = jit_code_size_bound(program);
    uint8_t *scratch = NULL;
    if (buf_size < bound) {
        scratch = allocator->alloc(allocator->ctx, bound);
        if (scratch == NULL) {
            compiler_free(&c);
            return PVM_ERR_NOMEM;
        }
        c.b = (struct jit_buf){.code = scratch, .size = bound, .off = 0};
    }

    size_t entry = 0;
    if (room(&c, JIT_HEAD_ROOM)) {
        /* int3 padding before the entry: callers' CFI/UBSan function-type
         * checks read the bytes just before a function pointer's target. */
        uint8_t *p = cursor(&c);
        for (int i = 0; i < 16; i++)
            p = emit_int3(p);
        set_cursor(&c, p);
        entry = c.b.off;
        jit_emit_entry(&c);
        jit_emit_shared_exits(&c);
        emit_body(&c);
        emit_stubs(&c);
    }
    bool ok = !c.nomem && !c.no_room && resolve_fixups(&c) && emit_jump_table(&c);
    if (needed_out != NULL)
        *needed_out = c.b.off;
    int err = PVM_OK;
    if (c.nomem)
        err = PVM_ERR_NOMEM;
    else if (c.b.off > (size_t)INT32_MAX || c.too_large)
        err = JIT_ERR_TOO_LARGE;
    else if (!ok)
        err = JIT_ERR_INTERNAL;
    else if (c.b.off > buf_size)
        err = JIT_ERR_BUFFER_TOO_SMALL;
    else if (scratch != NULL)
        pvm_memcpy(buf, scratch, c.b.off);
    c.alloc.free(c.alloc.ctx, scratch);
    if (err != PVM_OK) {
        compiler_free(&c);
        return err;
    }
    out->program = program;
    out->code_size = c.b.off;
    out->entry_offset = (uint32_t)entry;
    out->exit_offset = (uint32_t)c.exit_label;
    out->exit_trap_offset = (uint32_t)c.exit_trap_label;
    out->insn_offset = c.insn_offset;
    out->fault_sites = c.sites.data;
    out->fault_site_count = (uint32_t)c.sites.count;
    out->indexed_sites = c.indexed_sites.data;
    out->indexed_site_count = (uint32_t)c.indexed_sites.count;
    out->allocator = *allocator;
    c.alloc.free(c.alloc.ctx, c.block_head);
    c.alloc.free(c.alloc.ctx, c.stubs.data);
    c.alloc.free(c.alloc.ctx, c.fixups.data);
    c.alloc.free(c.alloc.ctx, c.gas_words.data);
    c.alloc.free(c.alloc.ctx, c.table_refs.data);
    return PVM_OK;
}

void jit_code_release(struct jit_code *code)
{
    if (code == NULL || code->allocator.free == NULL)
        return;
    code->allocator.free(code->allocator.ctx, code->insn_offset);
    code->allocator.free(code->allocator.ctx, code->fault_sites);
    code->allocator.free(code->allocator.ctx, code->indexed_sites);
    code->insn_offset = NULL;
    code->fault_sites = NULL;
    code->indexed_sites = NULL;
}

const char *jit_error_name(int error)
{
    switch (error) {
    case JIT_ERR_BUFFER_TOO_SMALL:
        return "JIT code buffer too small";
    case JIT_ERR_TOO_LARGE:
        return "program too large for the JIT";
    case JIT_ERR_INTERNAL:
        return "JIT internal error";
    default:
        return pvm_error_name(error);
    }
}

bool jit_block_charge(const struct jit_code *code, const uint8_t *code_bytes, uint32_t pc,
                      uint32_t *cost_out)
{
    const struct pvm_program *p = code->program;
    /* Block starts and pc 0 are walk positions where a block opens. */
    if (pc != 0 && !pvm_program_is_block_start(p, pc))
        return false;
    uint32_t at = code->insn_offset[pc];
    if (at < JIT_GAS_CHECK_SIZE)
        return false;
    const uint8_t *check = code_bytes + at - JIT_GAS_CHECK_SIZE;
    /* REX.W+B 81 /5 imm32 (sub r15, imm32); 0F 8C rel32 */
    if (check[0] != 0x49 || check[1] != 0x81 || check[2] != 0xEF || check[7] != 0x0F ||
        check[8] != 0x8C)
        return false;
    *cost_out = (uint32_t)pvm_load_le(check + 3, 4);
    return true;
}
