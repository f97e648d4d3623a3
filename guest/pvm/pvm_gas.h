/*
 * pvm_gas.h — what a block of PVM code costs, for every ISA version.
 *
 * The gas model is a property of the version (pvm_isa.h, gas_model):
 *  - PVM_GAS_PER_INSTRUCTION (GP 0.7.2): each instruction costs its table
 *    gas; entering at pc pays from pc to the end of the block.
 *  - PVM_GAS_PIPELINE (GP 0.8.0, SPEC-0.8.md §3): a block costs the cycles
 *    an idealised out-of-order pipeline needs to retire it, minus 3 (at least
 *    1); entering anywhere in a block pays the whole block.
 * Costs depend only on code bytes and bitmask, so engines compute them once
 * (interpreter: at create; JIT: at compile time) through this file only.
 *
 * Freestanding; allocates nothing.
 */
#ifndef NUB_PVM_GAS_H
#define NUB_PVM_GAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvm_program.h"

/* Execution units an instruction needs: the A (ALU) count in bits 0-1, then
 * one bit each for L (load), S (store), M (multiply), D (divide). */
#define PVM_GAS_UNIT_A1 1u
#define PVM_GAS_UNIT_A2 2u
#define PVM_GAS_UNIT_L  4u
#define PVM_GAS_UNIT_S  8u
#define PVM_GAS_UNIT_M  16u
#define PVM_GAS_UNIT_D  32u

/* One instruction as the pipeline model sees it (SPEC-0.8.md §3.1, §3.3). */
struct pvm_gas_item {
    uint16_t src, dst; /* register sets (bit r = register r) */
    uint8_t lat;       /* cycles until dependants may start */
    uint8_t dec;       /* decode slots */
    uint8_t units;     /* PVM_GAS_UNIT_* counts */
    bool is_move;      /* move_reg: renamed away, never enters the reorder buffer */
    bool ends_block;   /* a terminator (decoding stops after it) */
    uint8_t move_to, move_from;
};

/* The model's static data per internal opcode (SPEC-0.8.md §3.1, §3.3),
 * for building items without a call: */
#define PVM_GAS_SEL_FIXED  0    /* dec_match == dec_other */
#define PVM_GAS_SEL_P      1    /* P(a, b): src and dst share a register */
#define PVM_GAS_SEL_PS     2    /* PS(a, b): rA == rD */
#define PVM_GAS_LAT_BRANCH 0xFF /* 1 or 20: pvm_gas_branch_latency */
struct pvm_gas_row {
    /* register sets as masks over the bits of the register fields of the
     * code (SPEC §8): lo = byte 1's low nibble, hi = its high nibble,
     * third = byte 2, each clamped (min(12, field)); src = (bit(lo) &
     * src_lo) | (bit(hi) & src_hi), dst = (bit(lo) & dst_lo) | (bit(third)
     * & dst_third). By field, not by decoded role (rA, rB, rD), so that an
     * item can be built from the code bytes without decoding the
     * instruction: a format puts a role at the same field for every
     * instruction (rD = lo and rA = hi in two-register instructions; else
     * rA = lo, rB = hi, rD = third). */
    uint16_t src_lo, src_hi, dst_lo, dst_third;
    /* lat .. is_move in pvm_gas_item's order: the item copies them at once */
    uint8_t lat;
    uint8_t dec_other; /* decode slots when the selector does not hold */
    uint8_t units;     /* PVM_GAS_UNIT_* counts, as pvm_gas_item.units */
    bool is_move;
    uint8_t dec_match; /* decode slots when it holds */
    uint8_t sel;       /* PVM_GAS_SEL_* (PS: rA == rD, i.e. lo == third) */
    bool known;        /* false: not an instruction; priced as trap */
    /* the masks and the selector again, in the form pvm_gas_words_cost
     * reads them (pvm_gas.c: the register kind in bits 0-3, which of the
     * two sources meeting the destination selects dec_match in 4-5) */
    uint8_t shape;
};
extern const struct pvm_gas_row pvm_gas_rows[256];
_Static_assert(offsetof(struct pvm_gas_row, dec_other) == offsetof(struct pvm_gas_row, lat) + 1 &&
                   offsetof(struct pvm_gas_row, units) == offsetof(struct pvm_gas_row, lat) + 2 &&
                   offsetof(struct pvm_gas_row, is_move) == offsetof(struct pvm_gas_row, lat) + 3,
               "row bytes lat .. is_move");
_Static_assert(offsetof(struct pvm_gas_item, dst) == 2 &&
                   offsetof(struct pvm_gas_item, dec) == offsetof(struct pvm_gas_item, lat) + 1 &&
                   offsetof(struct pvm_gas_item, units) == offsetof(struct pvm_gas_item, lat) + 2 &&
                   offsetof(struct pvm_gas_item, is_move) == offsetof(struct pvm_gas_item, lat) + 3,
               "item bytes lat .. is_move");

/* The latency of the conditional branch `in`: 1 when the byte at either
 * successor is trap or unlikely, else 20. */
uint8_t pvm_gas_branch_latency(const struct pvm_program *p, const struct pvm_insn *in);

/* The code byte at `at` of the zero-extended code is trap or unlikely
 * (past the code it reads 0 = trap: SPEC-0.8.md §3.1, §8 item 6). */
static inline bool pvm_gas_cheap_successor(const struct pvm_program *p, int64_t at)
{
    if (at < 0 || at >= (int64_t)p->code_len)
        return true;
    uint8_t op = p->isa->opcode_of[p->code[at]];
    return op == PVM_OP_trap || op == PVM_OP_unlikely;
}

/* pvm_gas_branch_latency from the branch's next pc and target (pc +
 * offset); inline, for the JIT's walk, which asks once per branch. */
static inline uint8_t pvm_gas_branch_latency_at(const struct pvm_program *p, uint64_t next_pc,
                                                int64_t target)
{
    bool cheap = pvm_gas_cheap_successor(p, (int64_t)next_pc) || pvm_gas_cheap_successor(p, target);
    return cheap ? 1 : 20;
}

/* The implicit trap at pc = code_len. */
static inline void pvm_gas_item_trap(struct pvm_gas_item *out)
{
    *out = (struct pvm_gas_item){.lat = 2, .dec = 1, .ends_block = true};
}

/* A row's four masks as one word (src_lo in bits 0-15, src_hi 16-31, dst_lo
 * 32-47, dst_third 48-63) meet the register fields lined up the same way:
 * bit(lo) | bit(hi) << 16 | bit(lo) << 32 | bit(third) << 48. The words
 * read from rows and written to items are little-endian views of them. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "pvm_gas_item_of_fields reads rows and writes items as little-endian words");
_Static_assert(offsetof(struct pvm_gas_row, src_hi) == 2 &&
                   offsetof(struct pvm_gas_row, dst_lo) == 4 &&
                   offsetof(struct pvm_gas_row, dst_third) == 6,
               "row masks in field order");
static inline uint64_t pvm_gas_fields(unsigned lo, unsigned hi, unsigned third)
{
    return (1ull << lo) | (1ull << (hi + 16)) | (1ull << (lo + 32)) | (1ull << (third + 48));
}

/* The item of a known row from its register fields (pvm_gas_fields of the
 * clamped lo, hi, third), for every instruction but the conditional
 * branches, whose latency the caller then sets (pvm_gas_branch_latency).
 * move_to and move_from are the caller's (read only where is_move). */
static inline __attribute__((always_inline)) void
pvm_gas_item_of_fields(const struct pvm_gas_row *row, uint64_t fields, bool ends_block,
                       struct pvm_gas_item *out)
{
    uint64_t masks;
    __builtin_memcpy(&masks, &row->src_lo, 8);
    uint64_t t = fields & masks;
    t |= t >> 16; /* src in bits 0-15, dst in 32-47 */
    uint32_t src = (uint32_t)t & 0xFFFFu, dst = (uint32_t)(t >> 32) & 0xFFFFu;
    /* P: src and dst share a register; PS: lo == third (bit(lo) & bit(third));
     * without branches: the selector's bits weigh the two tests */
    uint32_t match = ((src & dst) * (row->sel & PVM_GAS_SEL_P)) |
                     ((uint32_t)(fields & (fields >> 48) & 0xFFFFu) * (row->sel & PVM_GAS_SEL_PS));
    uint32_t src_dst = src | dst << 16;
    __builtin_memcpy(&out->src, &src_dst, 4);
    /* lat, dec, units, is_move as one word, dec lowered to dec_match */
    uint32_t word;
    __builtin_memcpy(&word, &row->lat, 4);
    if (match != 0)
        word -= (uint32_t)(row->dec_other - row->dec_match) << 8;
    __builtin_memcpy(&out->lat, &word, 4);
    out->ends_block = ends_block;
}

/* Static data of the instruction `in` of program p. Inline: the walk over
 * a program's code (pvm_gas_block_cost) builds one item per instruction;
 * the JIT builds gas words instead (pvm_gas_word). */
static inline void pvm_gas_item_of(const struct pvm_program *p, const struct pvm_insn *in,
                                   struct pvm_gas_item *out)
{
    const struct pvm_gas_row *row = &pvm_gas_rows[in->opcode];
    if (!row->known) {
        pvm_gas_item_trap(out);
        return;
    }
    /* lo, hi: rD, rA in two-register instructions, else rA, rB */
    bool two_regs = in->format == PVM_FMT_REG_REG;
    unsigned lo = two_regs ? in->rd : in->ra, hi = two_regs ? in->ra : in->rb;
    pvm_gas_item_of_fields(row, pvm_gas_fields(lo, hi, in->rd),
                           pvm_opcode_table[in->opcode].is_terminator, out);
    out->move_to = (uint8_t)lo;
    out->move_from = (uint8_t)hi;
    if (row->lat == PVM_GAS_LAT_BRANCH)
        out->lat = pvm_gas_branch_latency(p, in);
}

/* The JIT's record of one instruction for the pipeline model, a word
 * instead of an item (the item is worked out where it is needed): the
 * internal opcode in bits 0-7, code byte 1 as it is in bits 8-15 (the
 * register fields lo and hi, not clamped yet; c[1] and c[2] are readable
 * for every format), the opcode's register kind (its row's shape, bits
 * 0-3) in bits 16-19, so that bits 8-19 index the table of register
 * numbers by kind and byte 1 without the row, the third register field
 * (code byte 2) clamped, min(12, byte 2), in bits 20-23, and in bits 24-31
 * the latency of a conditional branch (pvm_gas_branch_latency), 0xFF for
 * any other instruction (the item's latency is the row's ANDed with it). */
static inline uint32_t pvm_gas_word(uint8_t op, uint8_t byte1, uint8_t third, uint8_t branch_lat)
{
    return op | (uint32_t)byte1 << 8 | (uint32_t)(pvm_gas_rows[op].shape & 15u) << 16 |
           (uint32_t)(third & 15u) << 20 | (uint32_t)branch_lat << 24;
}
/* The implicit trap at pc = code_len (its item is pvm_gas_item_trap's). */
#define PVM_GAS_WORD_TRAP (PVM_OP_trap | 0xFF000000u)

static inline unsigned pvm_gas_clamp_reg(unsigned field)
{
    return field < PVM_NUM_REGS - 1 ? field : PVM_NUM_REGS - 1;
}

/* The item of a word (as pvm_gas_item_of on the decoded instruction; the
 * word's row is known or PVM_OPCODE_INVALID's, priced as trap). */
static inline void pvm_gas_item_of_word(uint32_t word, bool ends_block, struct pvm_gas_item *out)
{
    const struct pvm_gas_row *row = &pvm_gas_rows[word & 0xFFu];
    unsigned lo = pvm_gas_clamp_reg((word >> 8) & 15u), hi = pvm_gas_clamp_reg((word >> 12) & 15u);
    unsigned third = pvm_gas_clamp_reg((word >> 20) & 15u);
    pvm_gas_item_of_fields(row, pvm_gas_fields(lo, hi, third), ends_block, out);
    out->lat &= (uint8_t)(word >> 24);
    out->move_to = (uint8_t)lo;
    out->move_from = (uint8_t)hi;
}

/* pvm_gas_simulate of the items of words[0..n) (the last one ends the
 * block; n >= 1), the same cost, most blocks priced from the words in one
 * pass. */
uint32_t pvm_gas_words_cost(const uint32_t *words, size_t n);

/* Up to PVM_GAS_BATCH_LANES blocks of at most PVM_GAS_BATCH_WORDS words
 * each, priced together: the JIT collects its short blocks here so that
 * one pass walks eight blocks at once (a lane per block) where the CPU has
 * the vector instructions for it (AVX2, hosted builds), and one block at a
 * time elsewhere. Word s of lane l's block is words[s][l]; count[l] is the
 * block's length (0: the lane is unused). The slots past a lane's block
 * are read and their values ignored, so they must hold initialised words
 * (any; zero is fine). */
#define PVM_GAS_BATCH_LANES 8u
#define PVM_GAS_BATCH_WORDS 16u
struct pvm_gas_batch {
    uint32_t words[PVM_GAS_BATCH_WORDS][PVM_GAS_BATCH_LANES];
    uint32_t count[PVM_GAS_BATCH_LANES];
    /* per opcode, what the lanes-at-once pass reads of its row, packed
     * (pvm_gas_batch_init; pvm_gas.c says how) */
    uint32_t op_info[256];
    uint32_t op_tally[256];
    bool has_tables; /* pvm_gas_batch_init filled them (this CPU runs the pass) */
};

/* An empty batch (every lane unused, every word 0), with the tables of the
 * lanes-at-once pass where it runs (pvm_gas_batch_has_vector). */
void pvm_gas_batch_init(struct pvm_gas_batch *b);

/* costs[l] = pvm_gas_words_cost of lane l's block, for every used lane
 * (unused lanes: 0). vector: use the lanes-at-once pass when this CPU can
 * run it (pvm_gas_batch_has_vector, asked once by pvm_gas_batch_init);
 * false: one block at a time. */
void pvm_gas_batch_costs(const struct pvm_gas_batch *b, bool vector,
                         uint32_t costs[PVM_GAS_BATCH_LANES]);

/* This build and CPU run the lanes-at-once pass. */
bool pvm_gas_batch_has_vector(void);

/* Cycle-exact simulation of SPEC-0.8.md §3.2 over items[0..n) (the last one
 * ends the block); returns max(cycles - 3, 1). */
uint32_t pvm_gas_simulate(const struct pvm_gas_item *items, size_t n);

/* cost(start): the cost of the gas block that starts at `start` under the
 * program's gas model (for PVM_GAS_PER_INSTRUCTION: from start to the end
 * of the block). start <= code_len. */
uint32_t pvm_gas_block_cost(const struct pvm_program *p, uint32_t start);

/* The gas a run pays when it enters a gas block at pc with the block unpaid:
 * per instruction, the rest of the block from pc; pipeline, the whole block
 * containing pc (cost(L(pc))); at pc >= code_len the version's end cost. */
uint32_t pvm_gas_entry_cost(const struct pvm_program *p, uint32_t pc);

/* pvm_gas_entry_cost for every pc in 0..code_len, written as uint32_t at
 * base + pc * stride (base suitably aligned). Positions that are not
 * instruction starts get a value no run uses. */
void pvm_gas_fill_entry_costs(const struct pvm_program *p, void *base, size_t stride);

#endif /* NUB_PVM_GAS_H */
