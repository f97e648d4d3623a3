/*
 * jit_decode.h — the JIT's fast path of pvm_decode_insn.
 *
 * Compile speed matters (the goal is <= 10 ns per PVM instruction), and the
 * shared decoder checks every byte against the end of the code. Away from
 * the end (pc + JIT_DECODE_MARGIN < code_len) no byte an instruction can
 * read or skip over is missing, so this decoder reads code and bitmask
 * words directly. It comes in pieces: jit_head_fast (skip and opcode, what
 * the compiler's walk needs), jit_ops_* (one format's operands, decoded in
 * the compiler's opcode cases), jit_gas_word_of_head (the 0.8.0 gas
 * model's record, from the register fields alone) and jit_insn_of_head /
 * jit_decode_insn (the whole struct pvm_insn, for the rare look-ahead).
 * Near the end jit_decode_insn defers to pvm_decode_insn. The differential
 * tests compare the JIT with the interpreter, which uses pvm_decode_insn
 * throughout.
 */
#ifndef NUB_JIT_DECODE_H
#define NUB_JIT_DECODE_H

#include "pvm_gas.h"
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

/* min(field, PVM_NUM_REGS - 1) for a register field (a nibble or, rD of
 * three-register instructions, a whole byte): one load instead of a
 * compare and a conditional move, 2-3 times per instruction. */
extern const uint8_t jit_reg_clamp[256];

/* imm(at, n): n (0..4) bytes little-endian, sign-extended (0 for n = 0),
 * from one 4-byte load and two table masks. */
static inline __attribute__((always_inline)) uint64_t jit_imm_at(const uint8_t *at, unsigned n)
{
    static const uint64_t low[5] = {0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF};
    static const uint64_t sign[5] = {0, 0x80, 0x8000, 0x800000, 0x80000000};
    uint64_t v = pvm_load_le(at, 4) & low[n];
    return (v ^ sign[n]) - sign[n];
}

/*
 * jit_imm_rest(at, l, k): the immediate that fills the rest of an
 * instruction of skip l (<= PVM_MAX_SKIP) after k (<= 6) other operand
 * bytes, i.e. clamp(l - k, 0, 4) bytes, as jit_imm_at; the masks come from
 * tables indexed by l + 6 - k, without computing the length.
 */
#define JIT_IMM_LOW_4   0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu
#define JIT_IMM_SIGN_4  0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u
#define JIT_IMM_LOW_16  JIT_IMM_LOW_4, JIT_IMM_LOW_4, JIT_IMM_LOW_4, JIT_IMM_LOW_4
#define JIT_IMM_SIGN_16 JIT_IMM_SIGN_4, JIT_IMM_SIGN_4, JIT_IMM_SIGN_4, JIT_IMM_SIGN_4
_Static_assert(PVM_MAX_SKIP == 24, "the tables of jit_imm_rest cover l + 6 - k in 0..30");
static inline __attribute__((always_inline)) uint64_t jit_imm_rest(const uint8_t *at, unsigned l,
                                                                   unsigned k)
{
    /* i = l + 6 - k: 0..6 no bytes, 7..9 one to three, 10..30 four */
    static const uint64_t low[PVM_MAX_SKIP + 7] = {
        0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFFFF, 0xFFFFFF, JIT_IMM_LOW_16, JIT_IMM_LOW_4, 0xFFFFFFFFu};
    static const uint64_t sign[PVM_MAX_SKIP + 7] = {
        0, 0, 0, 0, 0, 0, 0, 0x80, 0x8000, 0x800000, JIT_IMM_SIGN_16, JIT_IMM_SIGN_4, 0x80000000u};
    unsigned i = l + 6 - k;
    uint64_t v = pvm_load_le(at, 4) & low[i];
    return (v ^ sign[i]) - sign[i];
}

/*
 * Operands of one instruction, per format (SPEC §8, field for field as in
 * pvm_decode_insn). The compiler decodes inside its opcode cases, so an
 * instruction costs one dispatch and its operands stay in registers; each
 * function reads only what its format uses. c points at the opcode byte,
 * with at least 12 readable bytes (the code, or a zero-padded copy of its
 * end); l is the skip. A register field goes through regs, a 256-entry
 * table indexed by the field: jit_reg_clamp gives the PVM register
 * (min(field, PVM_NUM_REGS - 1)); the compiler passes its own table, which
 * gives the x86 register of the clamped PVM register in one load.
 */
struct jit_ops {
    uint8_t a, b, d; /* ra, rb, rd */
    uint64_t x, y;   /* imm_x, imm_y */
    int64_t target;  /* offset formats: pc + offset */
};

#define JIT_DECODE_INLINE static inline __attribute__((always_inline))

JIT_DECODE_INLINE struct jit_ops jit_ops_imm(const uint8_t *c, unsigned l)
{
    return (struct jit_ops){.x = jit_imm_rest(c + 1, l, 0)};
}

JIT_DECODE_INLINE struct jit_ops jit_ops_reg_imm64(const uint8_t *c, const uint8_t *regs)
{
    return (struct jit_ops){.a = regs[c[1] & 15], .x = pvm_load_le(c + 2, 8)};
}

JIT_DECODE_INLINE struct jit_ops jit_ops_imm_imm(const uint8_t *c, unsigned l)
{
    unsigned lx = jit_min4(c[1] & 7);
    return (struct jit_ops){.x = jit_imm_at(c + 2, lx), .y = jit_imm_rest(c + 2 + lx, l, lx + 1)};
}

JIT_DECODE_INLINE struct jit_ops jit_ops_offset(const uint8_t *c, unsigned l, uint32_t pc)
{
    return (struct jit_ops){.target = (int64_t)pc + (int64_t)jit_imm_rest(c + 1, l, 0)};
}

JIT_DECODE_INLINE struct jit_ops jit_ops_reg_imm(const uint8_t *c, unsigned l, const uint8_t *regs)
{
    return (struct jit_ops){.a = regs[c[1] & 15], .x = jit_imm_rest(c + 2, l, 1)};
}

/* also PVM_FMT_REG_IMM_OFFSET, whose target is pc + y */
JIT_DECODE_INLINE struct jit_ops jit_ops_reg_imm_imm(const uint8_t *c, unsigned l, uint32_t pc,
                                                     const uint8_t *regs)
{
    unsigned lx = jit_min4((c[1] >> 4) & 7);
    uint64_t y = jit_imm_rest(c + 2 + lx, l, lx + 1);
    return (struct jit_ops){.a = regs[c[1] & 15],
                            .x = jit_imm_at(c + 2, lx),
                            .y = y,
                            .target = (int64_t)pc + (int64_t)y};
}

JIT_DECODE_INLINE struct jit_ops jit_ops_reg_reg(const uint8_t *c, const uint8_t *regs)
{
    return (struct jit_ops){.d = regs[c[1] & 15], .a = regs[c[1] >> 4]};
}

/* also PVM_FMT_REG_REG_OFFSET, whose target is pc + x */
JIT_DECODE_INLINE struct jit_ops jit_ops_reg_reg_imm(const uint8_t *c, unsigned l, uint32_t pc,
                                                     const uint8_t *regs)
{
    uint64_t x = jit_imm_rest(c + 2, l, 1);
    return (struct jit_ops){
        .a = regs[c[1] & 15], .b = regs[c[1] >> 4], .x = x, .target = (int64_t)pc + (int64_t)x};
}

JIT_DECODE_INLINE struct jit_ops jit_ops_reg_reg_imm_imm(const uint8_t *c, unsigned l,
                                                         const uint8_t *regs)
{
    unsigned lx = jit_min4(c[2] & 7);
    return (struct jit_ops){.a = regs[c[1] & 15],
                            .b = regs[c[1] >> 4],
                            .x = jit_imm_at(c + 3, lx),
                            .y = jit_imm_rest(c + 3 + lx, l, lx + 2)};
}

JIT_DECODE_INLINE struct jit_ops jit_ops_reg_reg_reg(const uint8_t *c, const uint8_t *regs)
{
    return (struct jit_ops){.a = regs[c[1] & 15], .b = regs[c[1] >> 4], .d = regs[c[2]]};
}

/* The skip and effective opcode of the instruction at pc, with 8 bitmask
 * bytes readable from pc's byte on: one bitmask word, whose bit 0 says
 * whether pc starts an instruction and whose next set bit (at most 24 on;
 * >= 57 bits are left after the shift) ends it. The opcode is the ISA's
 * (opcode_of) for the code byte, trap where pc is not a start; a code byte
 * the ISA does not define stays PVM_OPCODE_INVALID (executes as trap). */
JIT_DECODE_INLINE unsigned jit_head(const uint8_t *bitmask, const uint8_t *code,
                                    const uint8_t *opcode_of, uint32_t pc, uint8_t *op)
{
    uint64_t word = pvm_load_le(bitmask + (pc >> 3), 8) >> (pc & 7);
    uint8_t o = opcode_of[code[pc]];
    *op = (word & 1) ? o : (uint8_t)PVM_OP_trap;
    return (unsigned)__builtin_ctzll((word >> 1) | (1ull << PVM_MAX_SKIP));
}

/* jit_head on the program itself: only for pc + JIT_DECODE_MARGIN < code_len. */
JIT_DECODE_INLINE unsigned jit_head_fast(const struct pvm_program *p, uint32_t pc, uint8_t *op)
{
    return jit_head(p->bitmask, p->code, p->isa->opcode_of, pc, op);
}

/*
 * The end of the code (from base, a multiple of 8, to code_len) copied
 * and padded as SPEC §5 reads past the end: code bytes 0, bitmask bits 1.
 * jit_head and the jit_ops_* read it like the code itself (pc - base)
 * for pc in base..code_len - 1, so the last instructions decode the same
 * way as the others, without the checks of pvm_decode_insn.
 */
#define JIT_TAIL_CODE (JIT_DECODE_MARGIN + 8u + 16u)
struct jit_tail {
    uint32_t base;
    uint8_t code[JIT_TAIL_CODE];
    uint8_t bitmask[JIT_TAIL_CODE / 8 + 8];
};

/* base = the largest multiple of 8 <= code_len - JIT_DECODE_MARGIN (0 when
 * the code is shorter): every pc that is not + JIT_DECODE_MARGIN <
 * code_len is in the copy. */
JIT_DECODE_INLINE void jit_tail_init(struct jit_tail *t, const struct pvm_program *p)
{
    uint32_t n = p->code_len;
    uint32_t base = n > JIT_DECODE_MARGIN ? (n - JIT_DECODE_MARGIN) & ~7u : 0;
    uint32_t len = n - base; /* < JIT_DECODE_MARGIN + 8 */
    t->base = base;
    pvm_memset(t->code, 0, sizeof(t->code));
    pvm_memset(t->bitmask, 0xFF, sizeof(t->bitmask));
    if (len == 0) /* no code (whose pointers may then be NULL) */
        return;
    pvm_memcpy(t->code, p->code + base, len);
    pvm_memcpy(t->bitmask, p->bitmask + base / 8, (len + 7) / 8);
    if (len % 8 != 0)
        t->bitmask[len / 8] |= (uint8_t)(0xFFu << (len % 8));
}

/* The struct pvm_insn of the instruction at pc from its head (op and l
 * from jit_head_fast, code = p->code + pc): the fields the compiler's
 * look-ahead uses (pc, skip, next_pc, opcode, raw_opcode, format, ra, rb,
 * rd, imm_x, imm_y, target), as pvm_decode_insn sets them. */
JIT_DECODE_INLINE void jit_insn_of_head(uint32_t pc, uint8_t op, unsigned l, const uint8_t *c,
                                        struct pvm_insn *out)
{
    unsigned format = jit_op_format[op]; /* undefined for PVM_OPCODE_INVALID too */
    if (format == JIT_OP_UNDEFINED) {
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
    struct jit_ops o;
    switch (format) {
    case PVM_FMT_NONE:
        break;
    case PVM_FMT_IMM:
        out->imm_x = jit_ops_imm(c, l).x;
        break;
    case PVM_FMT_REG_IMM64:
        o = jit_ops_reg_imm64(c, jit_reg_clamp);
        out->ra = o.a;
        out->imm_x = o.x;
        break;
    case PVM_FMT_IMM_IMM:
        o = jit_ops_imm_imm(c, l);
        out->imm_x = o.x;
        out->imm_y = o.y;
        break;
    case PVM_FMT_OFFSET:
        out->target = jit_ops_offset(c, l, pc).target;
        break;
    case PVM_FMT_REG_IMM:
        o = jit_ops_reg_imm(c, l, jit_reg_clamp);
        out->ra = o.a;
        out->imm_x = o.x;
        break;
    case PVM_FMT_REG_IMM_IMM:
    case PVM_FMT_REG_IMM_OFFSET:
        o = jit_ops_reg_imm_imm(c, l, pc, jit_reg_clamp);
        out->ra = o.a;
        out->imm_x = o.x;
        out->imm_y = o.y;
        if (format == PVM_FMT_REG_IMM_OFFSET)
            out->target = o.target;
        break;
    case PVM_FMT_REG_REG:
        o = jit_ops_reg_reg(c, jit_reg_clamp);
        out->rd = o.d;
        out->ra = o.a;
        break;
    case PVM_FMT_REG_REG_IMM:
    case PVM_FMT_REG_REG_OFFSET:
        o = jit_ops_reg_reg_imm(c, l, pc, jit_reg_clamp);
        out->ra = o.a;
        out->rb = o.b;
        out->imm_x = o.x;
        if (format == PVM_FMT_REG_REG_OFFSET)
            out->target = o.target;
        break;
    case PVM_FMT_REG_REG_IMM_IMM:
        o = jit_ops_reg_reg_imm_imm(c, l, jit_reg_clamp);
        out->ra = o.a;
        out->rb = o.b;
        out->imm_x = o.x;
        out->imm_y = o.y;
        break;
    default: /* PVM_FMT_REG_REG_REG */
        o = jit_ops_reg_reg_reg(c, jit_reg_clamp);
        out->ra = o.a;
        out->rb = o.b;
        out->rd = o.d;
        break;
    }
}

/* pvm_gas_branch_latency of the conditional branch with this head (as
 * jit_insn_of_head; op is one of the 16). Inline: a call here, in the
 * middle of the JIT's walk, costs more than the work (the walk's live
 * registers are saved around it). */
JIT_DECODE_INLINE uint8_t jit_gas_branch_latency(const struct pvm_program *p, uint32_t pc,
                                                 uint8_t op, unsigned l, const uint8_t *c)
{
    /* the target as jit_insn_of_head sets it: the two offset formats */
    int64_t target = jit_op_format[op] == PVM_FMT_REG_IMM_OFFSET
                         ? jit_ops_reg_imm_imm(c, l, pc, jit_reg_clamp).target
                         : jit_ops_reg_reg_imm(c, l, pc, jit_reg_clamp).target;
    return pvm_gas_branch_latency_at(p, (uint64_t)pc + 1 + l, target);
}

/* What an instruction's gas word (pvm_gas_word) takes from its opcode
 * alone: the opcode, its register kind and the latency byte, 0xFF for any
 * instruction but a conditional branch, whose byte is 0 here (its word
 * takes it from jit_gas_branch_latency). The JIT keeps these in a table. */
static inline uint32_t jit_gas_word_head(uint8_t op)
{
    bool branch = pvm_gas_rows[op].lat == PVM_GAS_LAT_BRANCH;
    return pvm_gas_word(op, 0, 0, branch ? 0 : 0xFF);
}

/* The gas word of the instruction with this head (as jit_insn_of_head),
 * from head = jit_gas_word_head(op): its item (pvm_gas_item_of_word) equals
 * pvm_gas_item_of on the whole decoded instruction, because the row's
 * masks are per register field and c[1], c[2] are readable whatever the
 * format (struct jit_ops); a format without a field has zero masks for
 * it. op is known for the program's ISA, or PVM_OPCODE_INVALID, whose row
 * prices it as trap. */
JIT_DECODE_INLINE uint32_t jit_gas_word_of(const struct pvm_program *p, uint32_t head, uint32_t pc,
                                           uint8_t op, unsigned l, const uint8_t *c)
{
    /* (the clamped field is at most 12: pvm_gas_word's bits 20-23) */
    uint32_t word = head | (uint32_t)c[1] << 8 | (uint32_t)jit_reg_clamp[c[2]] << 20;
    if (head < 1u << 24)
        word |= (uint32_t)jit_gas_branch_latency(p, pc, op, l, c) << 24;
    return word;
}

JIT_DECODE_INLINE uint32_t jit_gas_word_of_head(const struct pvm_program *p, uint32_t pc,
                                                uint8_t op, unsigned l, const uint8_t *c)
{
    return jit_gas_word_of(p, jit_gas_word_head(op), pc, op, l, c);
}

/* The fast path of jit_decode_insn: only for pc + JIT_DECODE_MARGIN < code_len. */
JIT_DECODE_INLINE void jit_decode_insn_fast(const struct pvm_program *p, uint32_t pc,
                                            struct pvm_insn *out)
{
    uint8_t op;
    unsigned l = jit_head_fast(p, pc, &op);
    jit_insn_of_head(pc, op, l, p->code + pc, out);
}

JIT_DECODE_INLINE void jit_decode_insn(const struct pvm_program *p, uint32_t pc,
                                       struct pvm_insn *out)
{
    if ((uint64_t)pc + JIT_DECODE_MARGIN < p->code_len)
        jit_decode_insn_fast(p, pc, out);
    else
        pvm_decode_insn(p, pc, out);
}

#endif /* NUB_JIT_DECODE_H */
