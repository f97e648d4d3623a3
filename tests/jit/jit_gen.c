/*
 * jit_gen.c — random valid PVM programs (see jit_gen.h).
 *
 * Three phases: pick instructions with their operand byte lengths (jump
 * offsets always 4 bytes), lay them out to learn every pc and the block
 * starts, then encode with the jump targets resolved.
 */
#include "jit_gen.h"

#include <string.h>

#include "pvm_program.h"

#define MAX_INSNS 256

struct gen_insn {
    uint8_t op;
    uint8_t fmt;
    uint8_t r1, r2, r3; /* raw register fields (may exceed 12: clamped by the decoder) */
    uint8_t lx, ly;     /* immediate byte lengths */
    uint32_t x, y;      /* immediate bytes (low lx / ly bytes used) */
    uint64_t imm64;
    int target;      /* instruction index of the jump target, -1 none */
    int target_skew; /* added to the target pc (mid-instruction targets) */
    uint8_t junk;    /* extra operand bytes after the encoding (skip grows) */
    uint32_t pc, len;
};

static const uint32_t interesting_addresses[] = {
    0x20000, 0x20008,    0x20ffc,    0x20fff,    0x21ff8,    0x21ffd, 0x21fff, 0x2fffe,
    0x30000, 0x30ffc,    0x30fff,    0x40000,    0x40ff9,    0x0ffff, 0x0fffe, 0x10000,
    0x1fffc, 0xfffffffc, 0xffffffff, 0x00000000, 0x80000000, 0x22000, 0x20100, 0x20200,
};

static const uint64_t interesting_values[] = {
    0,
    1,
    2,
    3,
    7,
    31,
    32,
    33,
    63,
    64,
    65,
    0xff,
    0x100,
    0xffff,
    0x7fffffff,
    0x80000000,
    0xffffffff,
    0x100000000ull,
    0x7fffffffffffffffull,
    0x8000000000000000ull,
    0xffffffffffffffffull,
    0xfffffffffffffffeull,
    0xffffffff80000000ull,
    0x123456789abcdef0ull,
};

static uint64_t pick_value(struct jit_rng *r)
{
    switch (jit_rng_below(r, 4)) {
    case 0:
        return interesting_values[jit_rng_below(r, sizeof(interesting_values) / 8)];
    case 1:
        return interesting_addresses[jit_rng_below(r, sizeof(interesting_addresses) / 4)] +
               jit_rng_below(r, 16);
    case 2:
        return jit_rng_next(r);
    default:
        return jit_rng_below(r, 64) - 16;
    }
}

/* An immediate of random byte length whose bytes are "interesting". */
static void pick_imm(struct jit_rng *r, uint8_t *len, uint32_t *bytes)
{
    uint64_t v = jit_rng_below(r, 3) == 0 ? pick_value(r) : (uint64_t)jit_rng_below(r, 80) - 8;
    *bytes = (uint32_t)v;
    if (jit_rng_below(r, 4) == 0) {
        *len = (uint8_t)jit_rng_below(r, 5);
        return;
    }
    /* shortest length that sign-extends back to the 32-bit value */
    int32_t s = (int32_t)(uint32_t)v;
    *len = s == 0                               ? 0
           : (s >= -128 && s <= 127)            ? 1
           : (s >= -32768 && s <= 32767)        ? 2
           : (s >= -(1 << 23) && s < (1 << 23)) ? 3
                                                : 4;
}

static uint8_t pick_reg(struct jit_rng *r)
{
    return (uint8_t)(jit_rng_below(r, 16) == 0 ? 13 + jit_rng_below(r, 3) : jit_rng_below(r, 13));
}

static bool is_terminator(uint8_t op)
{
    return pvm_opcode_table[op].is_terminator;
}

static void put_le(uint8_t *at, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        at[i] = (uint8_t)(v >> (8 * i));
}

/* The version's instructions (internal opcodes), gathered once per call. */
static unsigned defined_opcodes(const struct pvm_isa *isa, uint8_t *ops)
{
    unsigned n = 0;
    for (unsigned op = 0; op < 256; op++)
        if (isa->byte_of[op] != PVM_OPCODE_INVALID)
            ops[n++] = (uint8_t)op;
    return n;
}

static void pick_insn(struct jit_rng *r, const uint8_t *ops, unsigned nops, struct gen_insn *g)
{
    memset(g, 0, sizeof(*g));
    g->target = -1;
    uint8_t op = ops[jit_rng_below(r, nops)];
    /* thin out the instructions that end a run at once */
    if ((op == PVM_OP_trap || op == PVM_OP_sbrk || op == PVM_OP_ecalli) && jit_rng_below(r, 3))
        op = PVM_OP_add_64;
    g->op = op;
    g->fmt = pvm_opcode_table[op].format;
    g->r1 = pick_reg(r);
    g->r2 = pick_reg(r);
    g->r3 = (uint8_t)(jit_rng_below(r, 20) == 0 ? jit_rng_below(r, 256) : jit_rng_below(r, 13));
    pick_imm(r, &g->lx, &g->x);
    pick_imm(r, &g->ly, &g->y);
    g->imm64 = pick_value(r);
    switch (g->fmt) {
    case PVM_FMT_NONE:
        g->len = 1;
        break;
    case PVM_FMT_IMM:
        g->len = 1 + g->lx;
        break;
    case PVM_FMT_REG_IMM64:
        g->len = 10;
        break;
    case PVM_FMT_IMM_IMM:
    case PVM_FMT_REG_IMM_IMM:
        g->len = 2 + g->lx + g->ly;
        break;
    case PVM_FMT_OFFSET:
        g->len = 5;
        break;
    case PVM_FMT_REG_IMM:
        g->len = 2 + g->lx;
        break;
    case PVM_FMT_REG_IMM_OFFSET:
        g->len = 2 + g->lx + 4;
        break;
    case PVM_FMT_REG_REG:
        g->len = 2;
        break;
    case PVM_FMT_REG_REG_IMM:
        g->len = 2 + g->lx;
        break;
    case PVM_FMT_REG_REG_OFFSET:
        g->len = 6;
        break;
    case PVM_FMT_REG_REG_IMM_IMM:
        g->len = 3 + g->lx + g->ly;
        break;
    default:
        g->len = 3;
        break;
    }
    /* memory instructions: aim at interesting addresses most of the time */
    bool direct = g->fmt == PVM_FMT_IMM_IMM || (op >= PVM_OP_load_u8 && op <= PVM_OP_store_u64);
    if (direct && jit_rng_below(r, 4)) {
        g->x = interesting_addresses[jit_rng_below(r, sizeof(interesting_addresses) / 4)];
        g->lx = 4;
        g->len = (g->fmt == PVM_FMT_IMM_IMM) ? 2 + 4 + g->ly : 2 + 4;
    }
    if (jit_rng_below(r, 12) == 0)
        g->junk = (uint8_t)(1 + jit_rng_below(r, 3));
    else if (jit_rng_below(r, 150) == 0)
        g->junk = (uint8_t)(22 + jit_rng_below(r, 30)); /* skip capped at 24: trap positions */
    g->len += g->junk;
}

/* An indexed access, as compilers emit a table look-up:
 * `shlo_l_imm_64 T, S, k; add_64 T, T, O (or O, T); load_ind_* D, T, X`,
 * which the JIT compiles fused (jit_lower.h, shl_add_lea): S = T or not,
 * D = T or not, k mostly 1..3 (the fused range), now and then a variant
 * that must not fuse. Fills g[0..3). */
static void pick_indexed_access(struct jit_rng *r, struct gen_insn *g)
{
    memset(g, 0, 3 * sizeof(*g));
    uint8_t t = (uint8_t)jit_rng_below(r, 13);
    uint8_t s = jit_rng_below(r, 2) ? t : (uint8_t)jit_rng_below(r, 13);
    uint8_t o = (uint8_t)jit_rng_below(r, 13);
    uint8_t d = jit_rng_below(r, 3) ? t : (uint8_t)jit_rng_below(r, 13);
    g[0] = (struct gen_insn){.op = PVM_OP_shlo_l_imm_64, .r1 = t, .r2 = s, .lx = 1, .len = 3};
    g[0].x = jit_rng_below(r, 8) ? 1 + jit_rng_below(r, 3) : jit_rng_below(r, 2) * 4;
    g[1] = (struct gen_insn){.op = PVM_OP_add_64, .r3 = t, .len = 3};
    g[1].r1 = jit_rng_below(r, 2) ? t : o;
    g[1].r2 = g[1].r1 == t ? o : t;
    uint8_t load = (uint8_t)(PVM_OP_load_ind_u8 + jit_rng_below(r, 7));
    g[2] = (struct gen_insn){.op = load, .r1 = d, .r2 = jit_rng_below(r, 8) ? t : o};
    pick_imm(r, &g[2].lx, &g[2].x);
    g[2].len = 2 + g[2].lx;
    for (int i = 0; i < 3; i++) {
        g[i].fmt = pvm_opcode_table[g[i].op].format;
        g[i].target = -1;
    }
}

/* A register out of `regs` (a few, so that operands often coincide). */
static uint8_t pick_of(struct jit_rng *r, const uint8_t regs[3])
{
    return regs[jit_rng_below(r, 3)];
}

/* A pair the JIT compiles fused (jit_lower.h), with operands drawn from
 * three registers so that the overlaps that must not fuse come up too:
 * `add_64 D, A, B; set_lt_u C, X, Y` (a carry), or `mul_upper_* H, A, B;
 * mul_64 L, A, B` (a 128-bit product, operands sometimes swapped).
 * Fills g[0..2). */
static void pick_fused_pair(struct jit_rng *r, struct gen_insn *g)
{
    memset(g, 0, 2 * sizeof(*g));
    const uint8_t regs[3] = {(uint8_t)jit_rng_below(r, 13), (uint8_t)jit_rng_below(r, 13),
                             (uint8_t)jit_rng_below(r, 13)};
    uint8_t a = pick_of(r, regs), b = pick_of(r, regs), d = pick_of(r, regs);
    if (jit_rng_below(r, 2)) {
        g[0] = (struct gen_insn){.op = PVM_OP_add_64, .r1 = a, .r2 = b, .r3 = d};
        g[1] = (struct gen_insn){.op = PVM_OP_set_lt_u, .r3 = pick_of(r, regs)};
        g[1].r1 = jit_rng_below(r, 4) ? d : pick_of(r, regs);
        g[1].r2 = jit_rng_below(r, 2) ? a : jit_rng_below(r, 2) ? b : pick_of(r, regs);
    } else {
        static const uint8_t upper[3] = {PVM_OP_mul_upper_u_u, PVM_OP_mul_upper_s_s,
                                         PVM_OP_mul_upper_s_u};
        g[0] = (struct gen_insn){.op = upper[jit_rng_below(r, 3)], .r1 = a, .r2 = b, .r3 = d};
        bool swap = jit_rng_below(r, 2);
        g[1] = (struct gen_insn){.op = PVM_OP_mul_64, .r3 = pick_of(r, regs)};
        g[1].r1 = swap ? b : a;
        g[1].r2 = jit_rng_below(r, 6) ? (swap ? a : b) : pick_of(r, regs);
    }
    for (int i = 0; i < 2; i++) {
        g[i].fmt = pvm_opcode_table[g[i].op].format;
        g[i].target = -1;
        g[i].len = 3;
    }
}

/* A register field of a carry group: mostly the canonical one, sometimes
 * another register of the group, so that the overlaps that must not fuse
 * come up too. */
static uint8_t carry_reg(struct jit_rng *r, uint8_t canonical, const uint8_t regs[4])
{
    return jit_rng_below(r, 7) ? canonical : regs[jit_rng_below(r, 4)];
}

/* `add_64 D, A, B` with the operands of the canonical form, sometimes
 * swapped. */
static struct gen_insn carry_add(struct jit_rng *r, uint8_t d, uint8_t a, uint8_t b,
                                 const uint8_t regs[4])
{
    bool swap = jit_rng_below(r, 2);
    return (struct gen_insn){.op = PVM_OP_add_64,
                             .r1 = carry_reg(r, swap ? b : a, regs),
                             .r2 = carry_reg(r, swap ? a : b, regs),
                             .r3 = carry_reg(r, d, regs)};
}

/* A carry group the JIT compiles fused (jit_lower.h, add_and_carry), from
 * four registers v0..v3: bignum's limb step
 *   add_64 v0, v0, v1; set_lt_u v1, v0, v1; add_64 v2, v2, v0;
 *   set_lt_u v0, v2, v0; add_64 v1, v1, v3; store_ind v2; add_64 v1, v1, v0
 * or its short form `add_64; set_lt_u; [store_ind]; add_64 of the carry`,
 * with fields sometimes replaced (overlaps that must not fuse) and the
 * adds' operands swapped. Fills g[0..n) and returns n (at most room, 7). */
static unsigned pick_carry_group(struct jit_rng *r, struct gen_insn *g, unsigned room)
{
    uint8_t v[4];
    for (int i = 0; i < 4; i++)
        v[i] = (uint8_t)jit_rng_below(r, 13);
    bool two = room >= 6 && jit_rng_below(r, 3) != 0;
    bool store = room >= (two ? 7u : 4u) && jit_rng_below(r, 3) != 0;
    unsigned n = 0;
    g[n++] = carry_add(r, v[0], v[0], v[1], v);
    g[n++] = (struct gen_insn){.op = PVM_OP_set_lt_u,
                               .r1 = carry_reg(r, v[0], v),
                               .r2 = carry_reg(r, v[1], v),
                               .r3 = carry_reg(r, v[1], v)};
    uint8_t carry = v[1];
    if (two) {
        g[n++] = carry_add(r, v[2], v[2], v[0], v);
        g[n++] = (struct gen_insn){.op = PVM_OP_set_lt_u,
                                   .r1 = carry_reg(r, v[2], v),
                                   .r2 = carry_reg(r, v[0], v),
                                   .r3 = carry_reg(r, v[0], v)};
        g[n++] = carry_add(r, v[1], v[1], v[3], v);
        carry = v[0];
    }
    if (store) {
        uint8_t op = (uint8_t)(PVM_OP_store_ind_u8 + jit_rng_below(r, 4));
        g[n] = (struct gen_insn){
            .op = op, .r1 = carry_reg(r, v[2], v), .r2 = (uint8_t)jit_rng_below(r, 13)};
        pick_imm(r, &g[n].lx, &g[n].x);
        n++;
    }
    g[n++] = carry_add(r, v[1], v[1], carry, v);
    for (unsigned i = 0; i < n; i++) {
        g[i].fmt = pvm_opcode_table[g[i].op].format;
        g[i].target = -1;
        g[i].len = g[i].fmt == PVM_FMT_REG_REG_IMM ? 2u + g[i].lx : 3u;
    }
    return n;
}

void jit_gen_case(uint64_t seed, unsigned max_insns, struct jit_gen_case *out)
{
    jit_gen_case_isa(seed, max_insns, NUB_ISA_GP_0_7_2, out);
}

void jit_gen_case_isa(uint64_t seed, unsigned max_insns, uint32_t isa_id, struct jit_gen_case *out)
{
    const struct pvm_isa *isa = pvm_isa_get(isa_id);
    struct jit_rng rng = {seed * 0x9E3779B97F4A7C15ull + 0x1234567};
    struct jit_rng *r = &rng;
    memset(out, 0, sizeof(*out));
    if (max_insns > MAX_INSNS - 2)
        max_insns = MAX_INSNS - 2;
    if (max_insns < 1)
        max_insns = 1;

    uint8_t ops[256];
    unsigned nops = defined_opcodes(isa, ops);
    struct gen_insn insns[MAX_INSNS];
    unsigned n = 1 + jit_rng_below(r, max_insns);

    /* phase 1: instructions; dynamic jumps get a load_imm of the address first */
    unsigned count = 0;
    while (count < n) {
        struct gen_insn *g = &insns[count];
        pick_insn(r, ops, nops, g);
        if ((g->op == PVM_OP_jump_ind || g->op == PVM_OP_load_imm_jump_ind) && count + 1 < n &&
            jit_rng_below(r, 4)) {
            /* load_imm base, address-offset ; jump through base */
            struct gen_insn *li = g;
            struct gen_insn *j = &insns[count + 1];
            *j = *g;
            memset(li, 0, sizeof(*li));
            li->op = PVM_OP_load_imm;
            li->fmt = PVM_FMT_REG_IMM;
            li->target = -1;
            li->r1 = (j->op == PVM_OP_jump_ind) ? j->r1 : j->r2;
            li->lx = 4;
            li->len = 6;
            li->target_skew = 1; /* marker: address filled in phase 3 */
            count += 2;
            continue;
        }
        if (count + 3 <= n && jit_rng_below(r, 12) == 0) {
            pick_indexed_access(r, g);
            count += 3;
            continue;
        }
        if (count + 3 <= n && jit_rng_below(r, 12) == 0) {
            count += pick_carry_group(r, g, n - count);
            continue;
        }
        if (count + 2 <= n && jit_rng_below(r, 10) == 0) {
            pick_fused_pair(r, g);
            count += 2;
            continue;
        }
        if (g->fmt == PVM_FMT_OFFSET || g->fmt == PVM_FMT_REG_IMM_OFFSET ||
            g->fmt == PVM_FMT_REG_REG_OFFSET)
            g->target = (int)jit_rng_below(r, n + 1); /* n = the end (implicit trap) */
        count++;
    }

    /* phase 2: layout and block starts */
    uint32_t pc = 0;
    bool block_start[MAX_INSNS + 1];
    for (unsigned i = 0; i < count; i++) {
        if (pc + insns[i].len > JIT_GEN_MAX_BLOB - 512) {
            count = i; /* keep the blob within its buffer */
            break;
        }
        insns[i].pc = pc;
        pc += insns[i].len;
        block_start[i] = i == 0 || is_terminator(insns[i - 1].op);
    }
    uint32_t code_len = pc;
    unsigned starts[MAX_INSNS];
    unsigned nstarts = 0;
    for (unsigned i = 0; i < count; i++)
        if (block_start[i] && insns[i].op != PVM_OP_trap)
            starts[nstarts++] = i;

    /* jump table */
    uint32_t jt_len = jit_rng_below(r, 5);
    uint32_t jt_z = jit_rng_below(r, 8) == 0 ? 0 : 1 + jit_rng_below(r, 4);
    if (jit_rng_below(r, 20) == 0)
        jt_len = jt_z == 0 ? 100000 + jit_rng_below(r, 3) : 5 + jit_rng_below(r, 3);
    if (code_len > 255 && jt_z == 1)
        jt_z = 2;
    uint32_t jt[8];
    for (uint32_t i = 0; i < jt_len && jt_z != 0; i++) {
        if (nstarts > 0 && jit_rng_below(r, 5))
            jt[i] = insns[starts[jit_rng_below(r, nstarts)]].pc;
        else
            jt[i] = jit_rng_below(r, code_len + 2);
    }

    /* phase 3: encode */
    uint8_t code[JIT_GEN_MAX_BLOB];
    uint8_t mask[JIT_GEN_MAX_BLOB / 8 + 1];
    memset(code, 0, sizeof(code));
    memset(mask, 0, sizeof(mask));
    for (unsigned i = 0; i < count; i++) {
        struct gen_insn *g = &insns[i];
        uint8_t *at = code + g->pc;
        mask[g->pc / 8] |= (uint8_t)(1u << (g->pc % 8));
        if (g->target_skew == 1 && g->op == PVM_OP_load_imm && i + 1 < count) {
            /* address for the following dynamic jump */
            uint32_t choice = jit_rng_below(r, 6);
            uint32_t a = choice == 0   ? PVM_HALT_ADDRESS
                         : choice == 1 ? 2 * (jt_len + 1)
                         : choice == 2 ? 2 * jit_rng_below(r, jt_len + 1) + 1
                                       : 2 * (1 + jit_rng_below(r, jt_len > 0 ? jt_len : 1));
            const struct gen_insn *j = &insns[i + 1];
            /* the jump adds its immediate: jump_ind adds X, load_imm_jump_ind Y */
            uint32_t add = j->op == PVM_OP_jump_ind ? j->x : j->y;
            uint32_t addlen = j->op == PVM_OP_jump_ind ? j->lx : j->ly;
            uint64_t add64 = 0;
            if (addlen > 0) {
                uint32_t shift = 32 - 8 * addlen;
                add64 = (uint64_t)(int64_t)((int32_t)(add << shift) >> shift);
            }
            g->x = a - (uint32_t)add64;
        }
        uint32_t target_pc = 0;
        if (g->target >= 0) {
            unsigned t = (unsigned)g->target;
            if (nstarts > 0 && jit_rng_below(r, 6))
                t = starts[jit_rng_below(r, nstarts)];
            target_pc = t < count ? insns[t].pc : code_len;
            if (jit_rng_below(r, 16) == 0)
                target_pc += 1; /* into the middle of an instruction */
        }
        int32_t off = (int32_t)(target_pc - g->pc);
        at[0] = isa->byte_of[g->op];
        switch (g->fmt) {
        case PVM_FMT_NONE:
            break;
        case PVM_FMT_IMM:
            put_le(at + 1, g->x, g->lx);
            break;
        case PVM_FMT_REG_IMM64:
            at[1] = g->r1;
            put_le(at + 2, g->imm64, 8);
            break;
        case PVM_FMT_IMM_IMM:
            at[1] = g->lx;
            put_le(at + 2, g->x, g->lx);
            put_le(at + 2 + g->lx, g->y, g->ly);
            break;
        case PVM_FMT_OFFSET:
            put_le(at + 1, (uint32_t)off, 4);
            break;
        case PVM_FMT_REG_IMM:
            at[1] = g->r1;
            put_le(at + 2, g->x, g->lx);
            break;
        case PVM_FMT_REG_IMM_IMM:
            at[1] = (uint8_t)((g->r1 & 15) | (g->lx << 4));
            put_le(at + 2, g->x, g->lx);
            put_le(at + 2 + g->lx, g->y, g->ly);
            break;
        case PVM_FMT_REG_IMM_OFFSET:
            at[1] = (uint8_t)((g->r1 & 15) | (g->lx << 4));
            put_le(at + 2, g->x, g->lx);
            put_le(at + 2 + g->lx, (uint32_t)off, 4);
            break;
        case PVM_FMT_REG_REG:
            at[1] = (uint8_t)((g->r1 & 15) | (g->r2 << 4));
            break;
        case PVM_FMT_REG_REG_IMM:
            at[1] = (uint8_t)((g->r1 & 15) | (g->r2 << 4));
            put_le(at + 2, g->x, g->lx);
            break;
        case PVM_FMT_REG_REG_OFFSET:
            at[1] = (uint8_t)((g->r1 & 15) | (g->r2 << 4));
            put_le(at + 2, (uint32_t)off, 4);
            break;
        case PVM_FMT_REG_REG_IMM_IMM:
            at[1] = (uint8_t)((g->r1 & 15) | (g->r2 << 4));
            at[2] = g->lx;
            put_le(at + 3, g->x, g->lx);
            put_le(at + 3 + g->lx, g->y, g->ly);
            break;
        default:
            at[1] = (uint8_t)((g->r1 & 15) | (g->r2 << 4));
            at[2] = g->r3;
            break;
        }
        for (unsigned k = 0; k < g->junk; k++)
            at[g->len - g->junk + k] = (uint8_t)jit_rng_next(r);
    }
    /* now and then an undefined opcode byte */
    if (count > 2 && jit_rng_below(r, 10) == 0)
        code[insns[1 + jit_rng_below(r, count - 1)].pc] = (uint8_t)(2 + jit_rng_below(r, 8));

    /* blob: varint J, z, varint C, table, code, bitmask */
    uint8_t *b = out->blob;
    size_t len = 0;
    uint8_t tmp[9];
    int k = pvm_varint_encode(jt_len, tmp);
    memcpy(b + len, tmp, (size_t)k);
    len += (size_t)k;
    b[len++] = (uint8_t)jt_z;
    k = pvm_varint_encode(code_len, tmp);
    memcpy(b + len, tmp, (size_t)k);
    len += (size_t)k;
    for (uint32_t i = 0; i < jt_len && jt_z != 0; i++) {
        put_le(b + len, jt[i], jt_z);
        len += jt_z;
    }
    memcpy(b + len, code, code_len);
    len += code_len;
    memcpy(b + len, mask, (code_len + 7) / 8);
    len += (code_len + 7) / 8;
    out->blob_len = len;

    /* memory: two RW pages, one RO page, one RW page up high */
    static const struct {
        uint32_t address, length, access;
    } layout[] = {
        {0x20000, 0x2000, PVM_ACCESS_WRITE},
        {0x30000, 0x1000, PVM_ACCESS_READ},
        {0x40000, 0x1000, PVM_ACCESS_WRITE},
        {0x50000, 0x1000, PVM_ACCESS_READ},
    };
    out->segment_count = 2 + jit_rng_below(r, 3);
    for (size_t i = 0; i < out->segment_count; i++) {
        for (size_t j = 0; j < sizeof(out->data[i]); j++)
            out->data[i][j] = (uint8_t)jit_rng_next(r);
        out->segments[i] = (struct pvm_segment){.address = layout[i].address,
                                                .length = layout[i].length,
                                                .access = layout[i].access,
                                                .data = out->data[i],
                                                .data_len = (uint32_t)jit_rng_below(r, 65)};
    }
    for (unsigned i = 0; i < PVM_NUM_REGS; i++)
        out->initial.regs[i] = pick_value(r);
    out->initial.pc =
        jit_rng_below(r, 10) == 0 && count > 0 ? insns[jit_rng_below(r, count)].pc : 0;
    if (jit_rng_below(r, 30) == 0)
        out->initial.pc = jit_rng_below(r, code_len + 3);
    uint32_t g = jit_rng_below(r, 10);
    out->initial.gas = g == 0   ? (int64_t)jit_rng_below(r, 4)
                       : g == 1 ? -(int64_t)jit_rng_below(r, 3)
                                : 20 + jit_rng_below(r, 3000);
    out->initial.heap_top = jit_rng_below(r, 3) == 0 ? 0 : 0x44000 + jit_rng_below(r, 3) * 0x801;
}
