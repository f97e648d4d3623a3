/*
 * jit_decode.c — fast operand decoding for the compiler (see jit_decode.h;
 * the formats are SPEC §8's, field for field as in pvm_decode_insn).
 */
#include "jit_decode.h"

#include "pvm_util.h"

#define FORMAT_ENTRY(num, name, fmt, term, gas) [num] = fmt,
#define UNDEFINED_16                                                                               \
    JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED,      \
        JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED,  \
        JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED,  \
        JIT_OP_UNDEFINED

/* All entries default to undefined, then the defined opcodes override them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const uint8_t jit_op_format[256] = {UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    PVM_OPCODE_LIST(FORMAT_ENTRY)};
#pragma GCC diagnostic pop

/* Undefined opcodes execute as trap, which ends a block. */
#define ENDS_ENTRY(num, name, fmt, term, gas) [num] = term,
#define ONES_16                               1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const uint8_t jit_op_ends_block[256] = {ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        PVM_OPCODE_LIST(ENDS_ENTRY)};
#pragma GCC diagnostic pop

#define GAS_ENTRY(num, name, fmt, term, gas) [num] = gas,
#define TRAP_GAS_16                                                                                \
    PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS,            \
        PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS,        \
        PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS
#define PVM_TRAP_GAS_OF(num, name, fmt, term, gas) +(num == 0 ? gas : 0)
#define PVM_TRAP_GAS                               (0 PVM_OPCODE_LIST(PVM_TRAP_GAS_OF))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const uint8_t jit_op_gas[256] = {TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 PVM_OPCODE_LIST(GAS_ENTRY)};
#pragma GCC diagnostic pop

static inline unsigned min4(unsigned v)
{
    return v < 4 ? v : 4;
}

static inline uint8_t reg_of(unsigned field)
{
    return (uint8_t)(field < PVM_NUM_REGS ? field : PVM_NUM_REGS - 1);
}

/* imm(at, n): n (0..4) bytes little-endian, sign-extended. */
static inline uint64_t imm_at(const uint8_t *at, unsigned n)
{
    return pvm_sign_extend_bytes(pvm_load_le(at, n), n);
}

void jit_decode_insn(const struct pvm_program *p, uint32_t pc, struct pvm_insn *out)
{
    if ((uint64_t)pc + JIT_DECODE_MARGIN >= p->code_len) {
        pvm_decode_insn(p, pc, out);
        return;
    }
    const uint8_t *c = p->code + pc;
    /* skip: first set bitmask bit after pc, at most 24 bytes on */
    uint32_t first = pc + 1;
    uint64_t word = pvm_load_le(p->bitmask + (first >> 3), 8) >> (first & 7);
    unsigned l = (unsigned)__builtin_ctzll(word | (1ull << PVM_MAX_SKIP));
    bool start = (p->bitmask[pc >> 3] >> (pc & 7)) & 1;
    unsigned format = jit_op_format[c[0]];
    uint8_t op = c[0];
    if (!start || format == JIT_OP_UNDEFINED) {
        op = PVM_OP_trap;
        format = PVM_FMT_NONE;
    }

    out->pc = pc;
    out->skip = l;
    out->next_pc = (uint64_t)pc + 1 + l;
    out->opcode = op;
    out->raw_opcode = c[0];
    out->format = (uint8_t)format;
    out->ra = out->rb = out->rd = 0;
    out->len_x = out->len_y = 0;
    out->imm_x = out->imm_y = 0;
    out->target = 0;
    unsigned b1 = c[1], b2 = c[2], lx, ly;
    switch (format) {
    case PVM_FMT_NONE:
        break;
    case PVM_FMT_IMM:
        lx = min4(l);
        out->imm_x = imm_at(c + 1, lx);
        break;
    case PVM_FMT_REG_IMM64:
        out->ra = reg_of(b1 & 15);
        out->imm_x = pvm_load_le(c + 2, 8);
        break;
    case PVM_FMT_IMM_IMM:
        lx = min4(b1 & 7);
        ly = l > lx + 1 ? min4(l - lx - 1) : 0;
        out->imm_x = imm_at(c + 2, lx);
        out->imm_y = imm_at(c + 2 + lx, ly);
        break;
    case PVM_FMT_OFFSET:
        lx = min4(l);
        out->target = (int64_t)pc + (int64_t)imm_at(c + 1, lx);
        break;
    case PVM_FMT_REG_IMM:
        out->ra = reg_of(b1 & 15);
        lx = l > 1 ? min4(l - 1) : 0;
        out->imm_x = imm_at(c + 2, lx);
        break;
    case PVM_FMT_REG_IMM_IMM:
    case PVM_FMT_REG_IMM_OFFSET:
        out->ra = reg_of(b1 & 15);
        lx = min4((b1 >> 4) & 7);
        ly = l > lx + 1 ? min4(l - lx - 1) : 0;
        out->imm_x = imm_at(c + 2, lx);
        out->imm_y = imm_at(c + 2 + lx, ly);
        if (out->format == PVM_FMT_REG_IMM_OFFSET)
            out->target = (int64_t)pc + (int64_t)out->imm_y;
        break;
    case PVM_FMT_REG_REG:
        out->rd = reg_of(b1 & 15);
        out->ra = reg_of(b1 >> 4);
        break;
    case PVM_FMT_REG_REG_IMM:
    case PVM_FMT_REG_REG_OFFSET:
        out->ra = reg_of(b1 & 15);
        out->rb = reg_of(b1 >> 4);
        lx = l > 1 ? min4(l - 1) : 0;
        out->imm_x = imm_at(c + 2, lx);
        if (out->format == PVM_FMT_REG_REG_OFFSET)
            out->target = (int64_t)pc + (int64_t)out->imm_x;
        break;
    case PVM_FMT_REG_REG_IMM_IMM:
        out->ra = reg_of(b1 & 15);
        out->rb = reg_of(b1 >> 4);
        lx = min4(b2 & 7);
        ly = l > lx + 2 ? min4(l - lx - 2) : 0;
        out->imm_x = imm_at(c + 3, lx);
        out->imm_y = imm_at(c + 3 + lx, ly);
        break;
    default: /* PVM_FMT_REG_REG_REG */
        out->ra = reg_of(b1 & 15);
        out->rb = reg_of(b1 >> 4);
        out->rd = reg_of(b2);
        break;
    }
}
