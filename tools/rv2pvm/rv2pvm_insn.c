/*
 * rv2pvm_insn.c — one RISC-V instruction (with the facts gathered about it)
 * to PVM instructions.
 *
 * PVM has exactly the 13 registers RV64E code uses, so there is no scratch
 * register: every instruction maps to PVM instructions that only touch its
 * own operands. Operands that are x0 are replaced by immediate forms (the
 * "_imm" and "_alt" opcodes) or by first zeroing rd when rd is not the other
 * source. The few read-modify-write atomics spill two registers to 16 bytes
 * the translator reserves after .bss (ctx->amo_scratch).
 */
#include "rv2pvm_int.h"

#define ZERO_REG (-2) /* x0 */
#define BAD_REG  (-1)

/* x1 ra, x2 sp, x5..x7 t0..t2, x8,x9 s0,s1, x10..x15 a0..a5 -> r0..r12. */
static const int8_t rv_to_pvm_reg[32] = {
    ZERO_REG, 0,       1,       BAD_REG, BAD_REG, 2,       3,       4,
    5,        6,       7,       8,       9,       10,      11,      12,
    BAD_REG,  BAD_REG, BAD_REG, BAD_REG, BAD_REG, BAD_REG, BAD_REG, BAD_REG,
    BAD_REG,  BAD_REG, BAD_REG, BAD_REG, BAD_REG, BAD_REG, BAD_REG, BAD_REG,
};

struct operands {
    int rd, rs1, rs2; /* PVM register, or ZERO_REG */
};

static int map_regs(struct rv2pvm_ctx *ctx, const struct rv_item *it, struct operands *o)
{
    const unsigned fields[3] = {it->in.rd, it->in.rs1, it->in.rs2};
    int *out[3] = {&o->rd, &o->rs1, &o->rs2};
    for (unsigned k = 0; k < 3; k++) {
        int r = rv_to_pvm_reg[fields[k] & 31];
        if (r == BAD_REG)
            return rv2pvm_fail(ctx,
                               "0x%llx: %s uses register x%u, which has no PVM register "
                               "(compile with -march=rv64emac_zbb -mabi=lp64e)",
                               (unsigned long long)it->addr, rv_op_name(it->in.op), fields[k]);
        *out[k] = r;
    }
    return 0;
}

static int fail_insn(struct rv2pvm_ctx *ctx, const struct rv_item *it, const char *why)
{
    return rv2pvm_fail(ctx, "0x%llx: cannot translate %s (raw 0x%0*x): %s",
                       (unsigned long long)it->addr, rv_op_name(it->in.op), it->in.len * 2,
                       it->in.raw, why);
}

static void load_const(struct rv2pvm_ctx *ctx, int rd, uint64_t value)
{
    if (pvm_imm_len((int64_t)value) <= 4)
        pvm_emit_reg_imm(&ctx->em, PVM_OP_load_imm, (unsigned)rd, (int64_t)value);
    else
        pvm_emit_load_imm_64(&ctx->em, (unsigned)rd, value);
}

static void move(struct rv2pvm_ctx *ctx, int rd, int rs)
{
    if (rd == rs)
        return;
    if (rs == ZERO_REG)
        load_const(ctx, rd, 0);
    else
        pvm_emit_reg_reg(&ctx->em, PVM_OP_move_reg, (unsigned)rd, (unsigned)rs);
}

/* ---- register-register ALU --------------------------------------------- */

#define NONE (-1)
struct rrr_rule {
    enum rv_op rv;
    enum pvm_opcode op;
    int imm_op; /* rs2 = x0: imm_op rd, rs1, 0 */
    int alt_op; /* rs1 = x0: alt_op rd, rs2, 0 (an op computing X op B) */
    bool commutative;
};

static const struct rrr_rule rrr_rules[] = {
    {RV_ADD, PVM_OP_add_64, PVM_OP_add_imm_64, NONE, true},
    {RV_SUB, PVM_OP_sub_64, PVM_OP_add_imm_64, PVM_OP_neg_add_imm_64, false},
    {RV_SLL, PVM_OP_shlo_l_64, PVM_OP_shlo_l_imm_64, PVM_OP_shlo_l_imm_alt_64, false},
    {RV_SLT, PVM_OP_set_lt_s, PVM_OP_set_lt_s_imm, PVM_OP_set_gt_s_imm, false},
    {RV_SLTU, PVM_OP_set_lt_u, PVM_OP_set_lt_u_imm, PVM_OP_set_gt_u_imm, false},
    {RV_XOR, PVM_OP_xor, PVM_OP_xor_imm, NONE, true},
    {RV_SRL, PVM_OP_shlo_r_64, PVM_OP_shlo_r_imm_64, PVM_OP_shlo_r_imm_alt_64, false},
    {RV_SRA, PVM_OP_shar_r_64, PVM_OP_shar_r_imm_64, PVM_OP_shar_r_imm_alt_64, false},
    {RV_OR, PVM_OP_or, PVM_OP_or_imm, NONE, true},
    {RV_AND, PVM_OP_and, PVM_OP_and_imm, NONE, true},
    {RV_ADDW, PVM_OP_add_32, PVM_OP_add_imm_32, NONE, true},
    {RV_SUBW, PVM_OP_sub_32, PVM_OP_add_imm_32, PVM_OP_neg_add_imm_32, false},
    {RV_SLLW, PVM_OP_shlo_l_32, PVM_OP_shlo_l_imm_32, PVM_OP_shlo_l_imm_alt_32, false},
    {RV_SRLW, PVM_OP_shlo_r_32, PVM_OP_shlo_r_imm_32, PVM_OP_shlo_r_imm_alt_32, false},
    {RV_SRAW, PVM_OP_shar_r_32, PVM_OP_shar_r_imm_32, PVM_OP_shar_r_imm_alt_32, false},
    {RV_MUL, PVM_OP_mul_64, PVM_OP_mul_imm_64, NONE, true},
    {RV_MULH, PVM_OP_mul_upper_s_s, NONE, NONE, true},
    {RV_MULHSU, PVM_OP_mul_upper_s_u, NONE, NONE, false},
    {RV_MULHU, PVM_OP_mul_upper_u_u, NONE, NONE, true},
    {RV_DIV, PVM_OP_div_s_64, NONE, NONE, false},
    {RV_DIVU, PVM_OP_div_u_64, NONE, NONE, false},
    {RV_REM, PVM_OP_rem_s_64, NONE, NONE, false},
    {RV_REMU, PVM_OP_rem_u_64, NONE, NONE, false},
    {RV_MULW, PVM_OP_mul_32, PVM_OP_mul_imm_32, NONE, true},
    {RV_DIVW, PVM_OP_div_s_32, NONE, NONE, false},
    {RV_DIVUW, PVM_OP_div_u_32, NONE, NONE, false},
    {RV_REMW, PVM_OP_rem_s_32, NONE, NONE, false},
    {RV_REMUW, PVM_OP_rem_u_32, NONE, NONE, false},
    {RV_ANDN, PVM_OP_and_inv, NONE, NONE, false},
    {RV_ORN, PVM_OP_or_inv, NONE, NONE, false},
    {RV_XNOR, PVM_OP_xnor, NONE, NONE, true},
    {RV_MIN, PVM_OP_min, NONE, NONE, true},
    {RV_MAX, PVM_OP_max, NONE, NONE, true},
    {RV_MINU, PVM_OP_min_u, NONE, NONE, true},
    {RV_MAXU, PVM_OP_max_u, NONE, NONE, true},
    {RV_ROL, PVM_OP_rot_l_64, NONE, NONE, false},
    {RV_ROR, PVM_OP_rot_r_64, PVM_OP_rot_r_64_imm, PVM_OP_rot_r_64_imm_alt, false},
    {RV_ROLW, PVM_OP_rot_l_32, NONE, NONE, false},
    {RV_RORW, PVM_OP_rot_r_32, PVM_OP_rot_r_32_imm, PVM_OP_rot_r_32_imm_alt, false},
};

static const struct rrr_rule *find_rrr(enum rv_op op)
{
    for (size_t i = 0; i < sizeof rrr_rules / sizeof rrr_rules[0]; i++)
        if (rrr_rules[i].rv == op)
            return &rrr_rules[i];
    return NULL;
}

static int translate_rrr(struct rv2pvm_ctx *ctx, const struct rv_item *it, const struct rrr_rule *r,
                         const struct operands *o)
{
    if (o->rd == ZERO_REG)
        return 0; /* no side effects: a hint / nop */
    if (o->rs1 != ZERO_REG && o->rs2 != ZERO_REG) {
        pvm_emit_reg_reg_reg(&ctx->em, r->op, (unsigned)o->rs1, (unsigned)o->rs2, (unsigned)o->rd);
        return 0;
    }
    if (o->rs1 != ZERO_REG && r->imm_op != NONE) {
        pvm_emit_reg_reg_imm(&ctx->em, (enum pvm_opcode)r->imm_op, (unsigned)o->rd,
                             (unsigned)o->rs1, 0);
        return 0;
    }
    if (o->rs2 != ZERO_REG && o->rs1 == ZERO_REG) {
        if (r->commutative && r->imm_op != NONE) {
            pvm_emit_reg_reg_imm(&ctx->em, (enum pvm_opcode)r->imm_op, (unsigned)o->rd,
                                 (unsigned)o->rs2, 0);
            return 0;
        }
        if (r->alt_op != NONE) {
            pvm_emit_reg_reg_imm(&ctx->em, (enum pvm_opcode)r->alt_op, (unsigned)o->rd,
                                 (unsigned)o->rs2, 0);
            return 0;
        }
    }
    /* Zero rd and use it for the x0 operand(s); only sound if rd is not the
     * other, live source. */
    int other = o->rs1 == ZERO_REG ? o->rs2 : o->rs1;
    if (other != ZERO_REG && other == o->rd)
        return fail_insn(ctx, it, "an x0 operand with rd equal to the other source");
    load_const(ctx, o->rd, 0);
    unsigned a = o->rs1 == ZERO_REG ? (unsigned)o->rd : (unsigned)o->rs1;
    unsigned b = o->rs2 == ZERO_REG ? (unsigned)o->rd : (unsigned)o->rs2;
    pvm_emit_reg_reg_reg(&ctx->em, r->op, a, b, (unsigned)o->rd);
    return 0;
}

/* ---- register-immediate ALU -------------------------------------------- */

static int imm_op_for(enum rv_op op)
{
    switch (op) {
    case RV_ADDI:
        return PVM_OP_add_imm_64;
    case RV_SLTI:
        return PVM_OP_set_lt_s_imm;
    case RV_SLTIU:
        return PVM_OP_set_lt_u_imm;
    case RV_XORI:
        return PVM_OP_xor_imm;
    case RV_ORI:
        return PVM_OP_or_imm;
    case RV_ANDI:
        return PVM_OP_and_imm;
    case RV_SLLI:
        return PVM_OP_shlo_l_imm_64;
    case RV_SRLI:
        return PVM_OP_shlo_r_imm_64;
    case RV_SRAI:
        return PVM_OP_shar_r_imm_64;
    case RV_ADDIW:
        return PVM_OP_add_imm_32;
    case RV_SLLIW:
        return PVM_OP_shlo_l_imm_32;
    case RV_SRLIW:
        return PVM_OP_shlo_r_imm_32;
    case RV_SRAIW:
        return PVM_OP_shar_r_imm_32;
    case RV_RORI:
        return PVM_OP_rot_r_64_imm;
    case RV_RORIW:
        return PVM_OP_rot_r_32_imm;
    default:
        return NONE;
    }
}

/* The value of `op rd, x0, imm`. */
static uint64_t imm_op_on_zero(enum rv_op op, int64_t imm)
{
    switch (op) {
    case RV_ADDI:
    case RV_XORI:
    case RV_ORI:
        return (uint64_t)imm;
    case RV_ADDIW:
        return (uint64_t)(int64_t)(int32_t)(uint32_t)imm;
    case RV_SLTI:
        return 0 < imm;
    case RV_SLTIU:
        return 0 < (uint64_t)imm;
    default:
        return 0; /* and, shifts and rotates of zero */
    }
}

static void translate_imm_alu(struct rv2pvm_ctx *ctx, const struct rv_item *it, int pvm_op,
                              const struct operands *o)
{
    if (o->rd == ZERO_REG)
        return;
    if (o->rs1 == ZERO_REG) {
        load_const(ctx, o->rd, imm_op_on_zero(it->in.op, it->in.imm));
        return;
    }
    if (it->in.op == RV_ADDI && it->in.imm == 0) {
        move(ctx, o->rd, o->rs1);
        return;
    }
    pvm_emit_reg_reg_imm(&ctx->em, (enum pvm_opcode)pvm_op, (unsigned)o->rd, (unsigned)o->rs1,
                         it->in.imm);
}

/* ---- Zbb unary --------------------------------------------------------- */

static int unary_op_for(enum rv_op op, uint64_t *of_zero)
{
    switch (op) {
    case RV_CLZ:
        *of_zero = 64;
        return PVM_OP_leading_zero_bits_64;
    case RV_CLZW:
        *of_zero = 32;
        return PVM_OP_leading_zero_bits_32;
    case RV_CTZ:
        *of_zero = 64;
        return PVM_OP_trailing_zero_bits_64;
    case RV_CTZW:
        *of_zero = 32;
        return PVM_OP_trailing_zero_bits_32;
    case RV_CPOP:
        *of_zero = 0;
        return PVM_OP_count_set_bits_64;
    case RV_CPOPW:
        *of_zero = 0;
        return PVM_OP_count_set_bits_32;
    case RV_SEXT_B:
        *of_zero = 0;
        return PVM_OP_sign_extend_8;
    case RV_SEXT_H:
        *of_zero = 0;
        return PVM_OP_sign_extend_16;
    case RV_ZEXT_H:
        *of_zero = 0;
        return PVM_OP_zero_extend_16;
    case RV_REV8:
        *of_zero = 0;
        return PVM_OP_reverse_bytes;
    default:
        return NONE;
    }
}

/* ---- loads and stores -------------------------------------------------- */

struct mem_rule {
    enum rv_op rv;
    enum pvm_opcode ind, abs, imm_ind, imm_abs; /* store_imm forms only for stores */
    bool is_store;
};

static const struct mem_rule mem_rules[] = {
    {RV_LB, PVM_OP_load_ind_i8, PVM_OP_load_i8, 0, 0, false},
    {RV_LBU, PVM_OP_load_ind_u8, PVM_OP_load_u8, 0, 0, false},
    {RV_LH, PVM_OP_load_ind_i16, PVM_OP_load_i16, 0, 0, false},
    {RV_LHU, PVM_OP_load_ind_u16, PVM_OP_load_u16, 0, 0, false},
    {RV_LW, PVM_OP_load_ind_i32, PVM_OP_load_i32, 0, 0, false},
    {RV_LWU, PVM_OP_load_ind_u32, PVM_OP_load_u32, 0, 0, false},
    {RV_LD, PVM_OP_load_ind_u64, PVM_OP_load_u64, 0, 0, false},
    {RV_SB, PVM_OP_store_ind_u8, PVM_OP_store_u8, PVM_OP_store_imm_ind_u8, PVM_OP_store_imm_u8,
     true},
    {RV_SH, PVM_OP_store_ind_u16, PVM_OP_store_u16, PVM_OP_store_imm_ind_u16, PVM_OP_store_imm_u16,
     true},
    {RV_SW, PVM_OP_store_ind_u32, PVM_OP_store_u32, PVM_OP_store_imm_ind_u32, PVM_OP_store_imm_u32,
     true},
    {RV_SD, PVM_OP_store_ind_u64, PVM_OP_store_u64, PVM_OP_store_imm_ind_u64, PVM_OP_store_imm_u64,
     true},
};

static const struct mem_rule *find_mem(enum rv_op op)
{
    for (size_t i = 0; i < sizeof mem_rules / sizeof mem_rules[0]; i++)
        if (mem_rules[i].rv == op)
            return &mem_rules[i];
    return NULL;
}

/* Absolute addresses are reduced modulo 2^32 by the PVM; encode as i32. */
static int64_t abs_address(uint64_t addr)
{
    return (int64_t)(int32_t)(uint32_t)addr;
}

static int translate_mem(struct rv2pvm_ctx *ctx, const struct rv_item *it, const struct mem_rule *m,
                         const struct operands *o)
{
    if (it->flags & ITEM_CODE_LO)
        return fail_insn(ctx, it, "loads or stores at a code address (code is not in PVM memory)");
    int64_t off = it->in.imm;
    if (!m->is_store) {
        if (o->rd == ZERO_REG)
            return fail_insn(ctx, it, "a load into x0 (PVM has no zero register to discard it)");
        if (o->rs1 == ZERO_REG)
            pvm_emit_reg_imm(&ctx->em, m->abs, (unsigned)o->rd, abs_address((uint64_t)off));
        else
            pvm_emit_reg_reg_imm(&ctx->em, m->ind, (unsigned)o->rd, (unsigned)o->rs1, off);
        return 0;
    }
    if (o->rs1 == ZERO_REG && o->rs2 == ZERO_REG)
        pvm_emit_imm_imm(&ctx->em, m->imm_abs, abs_address((uint64_t)off), 0);
    else if (o->rs1 == ZERO_REG)
        pvm_emit_reg_imm(&ctx->em, m->abs, (unsigned)o->rs2, abs_address((uint64_t)off));
    else if (o->rs2 == ZERO_REG)
        pvm_emit_reg_imm_imm(&ctx->em, m->imm_ind, (unsigned)o->rs1, off, 0);
    else
        pvm_emit_reg_reg_imm(&ctx->em, m->ind, (unsigned)o->rs2, (unsigned)o->rs1, off);
    return 0;
}

/* ---- atomics (single-threaded: plain loads and stores) ----------------- */

static bool is_word_amo(enum rv_op op)
{
    return op >= RV_LR_W && op <= RV_AMOMAXU_W;
}

static int amo_combine_op(enum rv_op op, bool word)
{
    switch (op) {
    case RV_AMOADD_W:
    case RV_AMOADD_D:
        return word ? PVM_OP_add_32 : PVM_OP_add_64;
    case RV_AMOXOR_W:
    case RV_AMOXOR_D:
        return PVM_OP_xor;
    case RV_AMOAND_W:
    case RV_AMOAND_D:
        return PVM_OP_and;
    case RV_AMOOR_W:
    case RV_AMOOR_D:
        return PVM_OP_or;
    case RV_AMOMIN_W:
    case RV_AMOMIN_D:
        return PVM_OP_min;
    case RV_AMOMAX_W:
    case RV_AMOMAX_D:
        return PVM_OP_max;
    /* Word values are compared sign-extended: that keeps the unsigned order
     * of their low 32 bits. */
    case RV_AMOMINU_W:
    case RV_AMOMINU_D:
        return PVM_OP_min_u;
    case RV_AMOMAXU_W:
    case RV_AMOMAXU_D:
        return PVM_OP_max_u;
    default:
        return NONE; /* swap */
    }
}

static int translate_amo(struct rv2pvm_ctx *ctx, const struct rv_item *it, const struct operands *o)
{
    enum rv_op op = it->in.op;
    bool word = is_word_amo(op);
    enum pvm_opcode load = word ? PVM_OP_load_ind_i32 : PVM_OP_load_ind_u64;
    enum pvm_opcode store = word ? PVM_OP_store_ind_u32 : PVM_OP_store_ind_u64;
    if (o->rs1 == ZERO_REG)
        return fail_insn(ctx, it, "an atomic on an absolute address");
    if (op == RV_LR_W || op == RV_LR_D) {
        if (o->rd == ZERO_REG)
            return fail_insn(ctx, it, "a load-reserved into x0");
        pvm_emit_reg_reg_imm(&ctx->em, load, (unsigned)o->rd, (unsigned)o->rs1, 0);
        return 0;
    }
    if (op == RV_SC_W || op == RV_SC_D) {
        /* Single-threaded: the reservation always holds, so it succeeds. */
        if (o->rs2 == ZERO_REG)
            pvm_emit_reg_imm_imm(&ctx->em,
                                 word ? PVM_OP_store_imm_ind_u32 : PVM_OP_store_imm_ind_u64,
                                 (unsigned)o->rs1, 0, 0);
        else
            pvm_emit_reg_reg_imm(&ctx->em, store, (unsigned)o->rs2, (unsigned)o->rs1, 0);
        if (o->rd != ZERO_REG)
            load_const(ctx, o->rd, 0);
        return 0;
    }
    /* Two temporaries t1 (old value) and t2 (new value), neither an operand
     * nor sp, saved to the scratch words and restored afterwards. */
    int temps[2], n = 0;
    for (int r = 2; r <= 12 && n < 2; r++)
        if (r != o->rd && r != o->rs1 && r != o->rs2)
            temps[n++] = r;
    unsigned t1 = (unsigned)temps[0], t2 = (unsigned)temps[1];
    int64_t slot1 = abs_address(ctx->amo_scratch), slot2 = abs_address(ctx->amo_scratch + 8u);
    if (ctx->amo_scratch == 0)
        return fail_insn(ctx, it, "internal error: no scratch memory for atomics");
    pvm_emit_reg_imm(&ctx->em, PVM_OP_store_u64, t1, slot1);
    pvm_emit_reg_imm(&ctx->em, PVM_OP_store_u64, t2, slot2);
    pvm_emit_reg_reg_imm(&ctx->em, load, t1, (unsigned)o->rs1, 0);
    int combine = amo_combine_op(op, word);
    if (o->rs2 == ZERO_REG)
        load_const(ctx, (int)t2, 0);
    else if (word)
        pvm_emit_reg_reg_imm(&ctx->em, PVM_OP_add_imm_32, t2, (unsigned)o->rs2, 0);
    else
        move(ctx, (int)t2, o->rs2);
    if (combine != NONE)
        pvm_emit_reg_reg_reg(&ctx->em, (enum pvm_opcode)combine, t1, t2, t2);
    pvm_emit_reg_reg_imm(&ctx->em, store, t2, (unsigned)o->rs1, 0);
    if (o->rd != ZERO_REG)
        move(ctx, o->rd, (int)t1);
    pvm_emit_reg_imm(&ctx->em, PVM_OP_load_u64, t1, slot1);
    pvm_emit_reg_imm(&ctx->em, PVM_OP_load_u64, t2, slot2);
    return 0;
}

/* ---- control flow ------------------------------------------------------ */

struct branch_rule {
    enum rv_op rv;
    enum pvm_opcode rr;
    int a_vs_zero; /* rs2 = x0: branch_*_imm rs1, 0; NONE = never; ALWAYS */
    int zero_vs_b; /* rs1 = x0: branch_*_imm rs2, 0 */
    bool both_zero_taken;
};
#define ALWAYS (-3)

static const struct branch_rule branch_rules[] = {
    {RV_BEQ, PVM_OP_branch_eq, PVM_OP_branch_eq_imm, PVM_OP_branch_eq_imm, true},
    {RV_BNE, PVM_OP_branch_ne, PVM_OP_branch_ne_imm, PVM_OP_branch_ne_imm, false},
    {RV_BLT, PVM_OP_branch_lt_s, PVM_OP_branch_lt_s_imm, PVM_OP_branch_gt_s_imm, false},
    {RV_BGE, PVM_OP_branch_ge_s, PVM_OP_branch_ge_s_imm, PVM_OP_branch_le_s_imm, true},
    {RV_BLTU, PVM_OP_branch_lt_u, NONE, PVM_OP_branch_gt_u_imm, false},
    {RV_BGEU, PVM_OP_branch_ge_u, ALWAYS, PVM_OP_branch_le_u_imm, true},
};

static int emit_jump_to(struct rv2pvm_ctx *ctx, uint64_t target)
{
    size_t at;
    uint32_t pc = pvm_emit_jump(&ctx->em, &at);
    return rv2pvm_add_fixup(ctx, at, pc, target);
}

static int translate_branch(struct rv2pvm_ctx *ctx, const struct rv_item *it,
                            const struct branch_rule *b, const struct operands *o)
{
    uint64_t target = it->addr + (uint64_t)it->in.imm;
    size_t at;
    uint32_t pc;
    int kind;
    int reg;
    if (o->rs1 != ZERO_REG && o->rs2 != ZERO_REG) {
        pc = pvm_emit_reg_reg_offset(&ctx->em, b->rr, (unsigned)o->rs1, (unsigned)o->rs2, &at);
        return rv2pvm_add_fixup(ctx, at, pc, target);
    }
    if (o->rs1 == ZERO_REG && o->rs2 == ZERO_REG) {
        kind = b->both_zero_taken ? ALWAYS : NONE;
        reg = 0;
    } else if (o->rs2 == ZERO_REG) {
        kind = b->a_vs_zero;
        reg = o->rs1;
    } else {
        kind = b->zero_vs_b;
        reg = o->rs2;
    }
    if (kind == NONE)
        return 0; /* never taken */
    if (kind == ALWAYS)
        return emit_jump_to(ctx, target);
    pc = pvm_emit_reg_imm_offset(&ctx->em, (enum pvm_opcode)kind, (unsigned)reg, 0, &at);
    return rv2pvm_add_fixup(ctx, at, pc, target);
}

static int return_address(struct rv2pvm_ctx *ctx, const struct rv_item *it, uint64_t *jump_addr)
{
    *jump_addr = rv2pvm_jump_address(ctx, it->addr + it->in.len);
    if (*jump_addr == 0)
        return fail_insn(ctx, it, "internal error: return site has no jump-table entry");
    return 0;
}

/* jal, or the jalr of an auipc+jalr pair: a direct jump or call. */
static int translate_direct_call(struct rv2pvm_ctx *ctx, const struct rv_item *it, int rd,
                                 uint64_t target)
{
    if (!rv2pvm_in_text(ctx, target) || rv2pvm_find_item(ctx, target) < 0)
        return rv2pvm_fail(ctx, "0x%llx: %s target 0x%llx is not an instruction",
                           (unsigned long long)it->addr, rv_op_name(it->in.op),
                           (unsigned long long)target);
    if (rd == ZERO_REG)
        return emit_jump_to(ctx, target);
    uint64_t ret;
    if (return_address(ctx, it, &ret) != 0)
        return -1;
    size_t at;
    uint32_t pc =
        pvm_emit_reg_imm_offset(&ctx->em, PVM_OP_load_imm_jump, (unsigned)rd, (int64_t)ret, &at);
    return rv2pvm_add_fixup(ctx, at, pc, target);
}

static int translate_jalr(struct rv2pvm_ctx *ctx, const struct rv_item *it,
                          const struct operands *o)
{
    if (it->flags & ITEM_CALL_LO) {
        const struct rv_item *hi = it - 1;
        uint64_t target = hi->addr + (uint64_t)hi->in.imm + (uint64_t)it->in.imm;
        return translate_direct_call(ctx, it, o->rd, target);
    }
    /* A jump-table address plus an offset is meaningless; %lo of a code
     * address was folded into the register already. */
    int64_t off = (it->flags & ITEM_CODE_LO) ? 0 : it->in.imm;
    if (off != 0)
        return fail_insn(ctx, it, "an indirect jump with a nonzero offset");
    if (o->rs1 == ZERO_REG)
        return fail_insn(ctx, it, "an indirect jump to an absolute address");
    if (o->rd == ZERO_REG) {
        pvm_emit_reg_imm(&ctx->em, PVM_OP_jump_ind, (unsigned)o->rs1, 0);
        return 0;
    }
    uint64_t ret;
    if (return_address(ctx, it, &ret) != 0)
        return -1;
    pvm_emit_reg_reg_imm_imm(&ctx->em, PVM_OP_load_imm_jump_ind, (unsigned)o->rd, (unsigned)o->rs1,
                             (int64_t)ret, 0);
    return 0;
}

/* lui/auipc + addi/addiw/load into the same register: one instruction. */
static bool fold_next(struct rv2pvm_ctx *ctx, size_t i, const struct operands *o, uint64_t value)
{
    if (i + 1 >= ctx->item_count)
        return false;
    struct rv_item *next = &ctx->items[i + 1];
    if (next->flags & (ITEM_BLOCK_START | ITEM_CODE_LO | ITEM_CODE_HI | ITEM_CALL_HI))
        return false;
    if (next->in.rs1 != ctx->items[i].in.rd || next->in.rd != ctx->items[i].in.rd)
        return false;
    uint64_t v = value + (uint64_t)next->in.imm;
    const struct mem_rule *m = find_mem(next->in.op);
    if (next->in.op == RV_ADDI) {
        load_const(ctx, o->rd, v);
    } else if (next->in.op == RV_ADDIW) {
        load_const(ctx, o->rd, (uint64_t)(int64_t)(int32_t)(uint32_t)v);
    } else if (m != NULL && !m->is_store) {
        pvm_emit_reg_imm(&ctx->em, m->abs, (unsigned)o->rd, abs_address(v));
    } else {
        return false;
    }
    next->flags |= ITEM_FOLDED;
    return true;
}

/*
 * RISC-V has no compare-with-immediate branches, so compilers write
 * `li rX, imm; bltu rY, rX, L`. PVM has branch_*_imm: when rX is dead after
 * the branch, the pair becomes one instruction. Dead is decided locally:
 * the first instruction on both paths out of the branch writes rX without
 * reading it.
 */
static bool kills_without_reading(const struct rv_item *s, unsigned r)
{
    const struct rv_insn *in = &s->in;
    uint64_t unused;
    if ((s->flags & ~(uint32_t)(ITEM_BLOCK_START | ITEM_DATA_HI)) != 0 || in->rd != r)
        return false;
    if (in->op == RV_LUI || in->op == RV_AUIPC)
        return true;
    if (find_rrr(in->op) != NULL)
        return in->rs1 != r && in->rs2 != r;
    const struct mem_rule *m = find_mem(in->op);
    if (imm_op_for(in->op) != NONE || unary_op_for(in->op, &unused) != NONE ||
        (m != NULL && !m->is_store))
        return in->rs1 != r;
    return false;
}

struct imm_branch_rule {
    enum rv_op rv;
    enum pvm_opcode reg_vs_imm; /* rs2 is the constant: rs1 op imm */
    enum pvm_opcode imm_vs_reg; /* rs1 is the constant: imm op rs2 == rs2 op' imm */
};

static const struct imm_branch_rule imm_branch_rules[] = {
    {RV_BEQ, PVM_OP_branch_eq_imm, PVM_OP_branch_eq_imm},
    {RV_BNE, PVM_OP_branch_ne_imm, PVM_OP_branch_ne_imm},
    {RV_BLT, PVM_OP_branch_lt_s_imm, PVM_OP_branch_gt_s_imm},
    {RV_BGE, PVM_OP_branch_ge_s_imm, PVM_OP_branch_le_s_imm},
    {RV_BLTU, PVM_OP_branch_lt_u_imm, PVM_OP_branch_gt_u_imm},
    {RV_BGEU, PVM_OP_branch_ge_u_imm, PVM_OP_branch_le_u_imm},
};

/* Item i sets rX to value; fuses it with the branch after it if possible. */
static bool fuse_constant_branch(struct rv2pvm_ctx *ctx, size_t i, uint64_t value)
{
    const struct rv_item *it = &ctx->items[i];
    unsigned rx = it->in.rd;
    if (i + 2 >= ctx->item_count || pvm_imm_len((int64_t)value) > 4)
        return false;
    struct rv_item *br = &ctx->items[i + 1];
    const struct rv_item *fall = &ctx->items[i + 2];
    if (br->flags != 0 || br->addr != it->addr + it->in.len || fall->addr != br->addr + br->in.len)
        return false;
    const struct imm_branch_rule *rule = NULL;
    for (size_t k = 0; k < sizeof imm_branch_rules / sizeof imm_branch_rules[0]; k++)
        if (imm_branch_rules[k].rv == br->in.op)
            rule = &imm_branch_rules[k];
    if (rule == NULL || (br->in.rs1 == rx) == (br->in.rs2 == rx))
        return false; /* not a branch, or rX on neither / both sides */
    unsigned other = br->in.rs1 == rx ? br->in.rs2 : br->in.rs1;
    int reg = rv_to_pvm_reg[other & 31];
    if (reg < 0)
        return false; /* x0 or a bad register: left to the normal path */
    uint64_t target = br->addr + (uint64_t)br->in.imm;
    long t = rv2pvm_find_item(ctx, target);
    if (t < 0 || !kills_without_reading(fall, rx) || !kills_without_reading(&ctx->items[t], rx))
        return false;
    enum pvm_opcode op = br->in.rs2 == rx ? rule->reg_vs_imm : rule->imm_vs_reg;
    size_t at;
    uint32_t pc = pvm_emit_reg_imm_offset(&ctx->em, op, (unsigned)reg, (int64_t)value, &at);
    if (rv2pvm_add_fixup(ctx, at, pc, target) != 0)
        ctx->em.failed = true; /* out of memory: reported once emission ends */
    br->flags |= ITEM_FOLDED;
    ctx->fused_branches++;
    return true;
}

static int translate_upper(struct rv2pvm_ctx *ctx, size_t i, const struct operands *o)
{
    const struct rv_item *it = &ctx->items[i];
    if (o->rd == ZERO_REG)
        return 0;
    if (it->flags & ITEM_CODE_HI) {
        load_const(ctx, o->rd, rv2pvm_jump_address(ctx, it->ref));
        return 0;
    }
    uint64_t value = it->in.op == RV_LUI ? (uint64_t)it->in.imm : it->addr + (uint64_t)it->in.imm;
    if (fold_next(ctx, i, o, value))
        return 0;
    if (it->in.op == RV_LUI && fuse_constant_branch(ctx, i, value))
        return 0;
    load_const(ctx, o->rd, value);
    return 0;
}

int rv2pvm_translate_item(struct rv2pvm_ctx *ctx, size_t i)
{
    struct rv_item *it = &ctx->items[i];
    struct operands o;
    const struct rrr_rule *rrr;
    const struct mem_rule *mem;
    uint64_t of_zero;
    int op;

    if (it->flags & (ITEM_FOLDED | ITEM_CALL_HI))
        return 0;
    if (map_regs(ctx, it, &o) != 0)
        return -1;
    if ((it->flags & ITEM_CODE_HI) && it->in.op == RV_ADDI) {
        /* The addi of a bare auipc+addi pair (rv2pvm_reloc.c). */
        if (o.rd != ZERO_REG)
            load_const(ctx, o.rd, rv2pvm_jump_address(ctx, it->ref));
        return 0;
    }
    if (it->flags & ITEM_CODE_LO) {
        if (it->in.op == RV_ADDI || it->in.op == RV_ADDIW) {
            if (o.rd != ZERO_REG)
                move(ctx, o.rd, o.rs1);
            return 0;
        }
        if (it->in.op != RV_JALR && find_mem(it->in.op) == NULL)
            return fail_insn(ctx, it, "%lo of a code address used by this instruction");
    }
    switch (it->in.op) {
    case RV_LUI:
    case RV_AUIPC:
        return translate_upper(ctx, i, &o);
    case RV_JAL:
        return translate_direct_call(ctx, it, o.rd, it->addr + (uint64_t)it->in.imm);
    case RV_JALR:
        return translate_jalr(ctx, it, &o);
    case RV_FENCE:
    case RV_FENCE_I:
        return 0; /* one hart, no caches to sync */
    case RV_EBREAK:
    case RV_UNIMP:
        pvm_emit_none(&ctx->em, PVM_OP_trap);
        return 0;
    case RV_ECALL:
        return fail_insn(ctx, it, "ecall has no PVM meaning; use NUB_ECALLI from nub_pvm.h");
    case RV_NUB_ECALLI:
        pvm_emit_imm(&ctx->em, PVM_OP_ecalli, it->in.imm);
        return 0;
    case RV_ORC_B:
        return fail_insn(ctx, it, "orc.b has no PVM instruction");
    default:
        break;
    }
    for (size_t k = 0; k < sizeof branch_rules / sizeof branch_rules[0]; k++)
        if (branch_rules[k].rv == it->in.op)
            return translate_branch(ctx, it, &branch_rules[k], &o);
    if ((rrr = find_rrr(it->in.op)) != NULL)
        return translate_rrr(ctx, it, rrr, &o);
    if ((op = imm_op_for(it->in.op)) != NONE) {
        if (it->in.op == RV_ADDI && o.rs1 == ZERO_REG && o.rd != ZERO_REG &&
            fuse_constant_branch(ctx, i, (uint64_t)it->in.imm))
            return 0;
        translate_imm_alu(ctx, it, op, &o);
        return 0;
    }
    if ((op = unary_op_for(it->in.op, &of_zero)) != NONE) {
        if (o.rd == ZERO_REG)
            return 0;
        if (o.rs1 == ZERO_REG)
            load_const(ctx, o.rd, of_zero);
        else
            pvm_emit_reg_reg(&ctx->em, (enum pvm_opcode)op, (unsigned)o.rd, (unsigned)o.rs1);
        return 0;
    }
    if ((mem = find_mem(it->in.op)) != NULL)
        return translate_mem(ctx, it, mem, &o);
    if (it->in.op >= RV_LR_W && it->in.op <= RV_AMOMAXU_D)
        return translate_amo(ctx, it, &o);
    return fail_insn(ctx, it, "unsupported instruction");
}
