/*
 * jit_decode.h — the JIT's fast path of pvm_decode_insn.
 *
 * Compile speed matters (the goal is <= 10 ns per PVM instruction), and the
 * shared decoder checks every byte against the end of the code. Away from
 * the end (pc + JIT_DECODE_MARGIN < code_len) no byte an instruction can
 * read or skip over is missing, so this decoder reads code and bitmask
 * words directly and produces the same struct pvm_insn fields the compiler
 * uses (pc, next_pc, opcode, format, ra, rb, rd, imm_x, imm_y, target).
 * Near the end it defers to pvm_decode_insn. The differential tests compare
 * the JIT with the interpreter, which uses pvm_decode_insn throughout.
 */
#ifndef NUB_JIT_DECODE_H
#define NUB_JIT_DECODE_H

#include "pvm_program.h"
#include "pvm_util.h"

/* The fast path needs pc + margin < code_len: it reads up to 12 code bytes
 * and the 8 bitmask bytes from pc's byte on (64 bits = 64 code bytes). */
#define JIT_DECODE_MARGIN 72u

/* Per internal opcode (pvm_opcodes.h; the program's ISA table maps code
 * bytes to them): its format (enum pvm_format), or JIT_OP_UNDEFINED; and
 * whether it ends a gas block. Compact copies of pvm_opcode_table's fields
 * (256 bytes each instead of 4 KiB), generated from PVM_OPCODE_LIST. */
#define JIT_OP_UNDEFINED 0xFF
extern const uint8_t jit_op_format[256];
extern const uint8_t jit_op_ends_block[256];
/* Gas cost per opcode byte (undefined opcodes cost what trap costs). */
extern const uint8_t jit_op_gas[256];

static inline unsigned jit_min4(unsigned v)
{
    return v < 4 ? v : 4;
}

static inline uint8_t jit_reg_of(unsigned field)
{
    return (uint8_t)(field < PVM_NUM_REGS ? field : PVM_NUM_REGS - 1);
}

/* imm(at, n): n (0..4) bytes little-endian, sign-extended (0 for n = 0),
 * from one 4-byte load and two table masks. */
static inline __attribute__((always_inline)) uint64_t jit_imm_at(const uint8_t *at, unsigned n)
{
    static const uint64_t low[5] = {0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF};
    static const uint64_t sign[5] = {0, 0x80, 0x8000, 0x800000, 0x80000000};
    uint64_t v = pvm_load_le(at, 4) & low[n];
    return (v ^ sign[n]) - sign[n];
}

/* The fast path alone: only for pc + JIT_DECODE_MARGIN < code_len. Inline
 * so the compiler keeps the fields it uses in registers. */
static inline __attribute__((always_inline)) void
jit_decode_insn_fast(const struct pvm_program *p, uint32_t pc, struct pvm_insn *out)
{
    const uint8_t *c = p->code + pc;
    /* One bitmask word from pc's byte on: bit 0 says whether pc starts an
     * instruction, the next set bit (at most 24 on; >= 57 bits are left
     * after the shift) ends it. */
    uint64_t word = pvm_load_le(p->bitmask + (pc >> 3), 8) >> (pc & 7);
    unsigned l = (unsigned)__builtin_ctzll((word >> 1) | (1ull << PVM_MAX_SKIP));
    bool start = word & 1;
    uint8_t op = p->isa->opcode_of[c[0]];
    unsigned format = jit_op_format[op]; /* undefined for PVM_OPCODE_INVALID too */
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
        lx = jit_min4(l);
        out->imm_x = jit_imm_at(c + 1, lx);
        break;
    case PVM_FMT_REG_IMM64:
        out->ra = jit_reg_of(b1 & 15);
        out->imm_x = pvm_load_le(c + 2, 8);
        break;
    case PVM_FMT_IMM_IMM:
        lx = jit_min4(b1 & 7);
        ly = l > lx + 1 ? jit_min4(l - lx - 1) : 0;
        out->imm_x = jit_imm_at(c + 2, lx);
        out->imm_y = jit_imm_at(c + 2 + lx, ly);
        break;
    case PVM_FMT_OFFSET:
        lx = jit_min4(l);
        out->target = (int64_t)pc + (int64_t)jit_imm_at(c + 1, lx);
        break;
    case PVM_FMT_REG_IMM:
        out->ra = jit_reg_of(b1 & 15);
        lx = l > 1 ? jit_min4(l - 1) : 0;
        out->imm_x = jit_imm_at(c + 2, lx);
        break;
    case PVM_FMT_REG_IMM_IMM:
    case PVM_FMT_REG_IMM_OFFSET:
        out->ra = jit_reg_of(b1 & 15);
        lx = jit_min4((b1 >> 4) & 7);
        ly = l > lx + 1 ? jit_min4(l - lx - 1) : 0;
        out->imm_x = jit_imm_at(c + 2, lx);
        out->imm_y = jit_imm_at(c + 2 + lx, ly);
        if (out->format == PVM_FMT_REG_IMM_OFFSET)
            out->target = (int64_t)pc + (int64_t)out->imm_y;
        break;
    case PVM_FMT_REG_REG:
        out->rd = jit_reg_of(b1 & 15);
        out->ra = jit_reg_of(b1 >> 4);
        break;
    case PVM_FMT_REG_REG_IMM:
    case PVM_FMT_REG_REG_OFFSET:
        out->ra = jit_reg_of(b1 & 15);
        out->rb = jit_reg_of(b1 >> 4);
        lx = l > 1 ? jit_min4(l - 1) : 0;
        out->imm_x = jit_imm_at(c + 2, lx);
        if (out->format == PVM_FMT_REG_REG_OFFSET)
            out->target = (int64_t)pc + (int64_t)out->imm_x;
        break;
    case PVM_FMT_REG_REG_IMM_IMM:
        out->ra = jit_reg_of(b1 & 15);
        out->rb = jit_reg_of(b1 >> 4);
        lx = jit_min4(b2 & 7);
        ly = l > lx + 2 ? jit_min4(l - lx - 2) : 0;
        out->imm_x = jit_imm_at(c + 3, lx);
        out->imm_y = jit_imm_at(c + 3 + lx, ly);
        break;
    default: /* PVM_FMT_REG_REG_REG */
        out->ra = jit_reg_of(b1 & 15);
        out->rb = jit_reg_of(b1 >> 4);
        out->rd = jit_reg_of(b2);
        break;
    }
}

static inline __attribute__((always_inline)) void jit_decode_insn(const struct pvm_program *p,
                                                                  uint32_t pc, struct pvm_insn *out)
{
    if ((uint64_t)pc + JIT_DECODE_MARGIN < p->code_len)
        jit_decode_insn_fast(p, pc, out);
    else
        pvm_decode_insn(p, pc, out);
}

#endif /* NUB_JIT_DECODE_H */
