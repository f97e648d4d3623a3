/*
 * pvm_interp.c — the reference interpreter (SPEC §6-§10).
 *
 * Structure: create() pre-decodes the program into `insns` (one entry per
 * code byte plus one for the implicit trap at pc = C) and fills, for each
 * position, the gas a run pays entering a block there (pvm_gas.h: per the
 * program's ISA version). run() is one switch: non-terminators continue at
 * `next` inside the current gas block; terminators and taken jumps go to
 * `new_block`, which charges the whole next block before any of its
 * instructions runs (SPEC §7.2, SPEC-0.8.md §2). A run that starts with
 * state.gas_charged set enters without charging.
 */
#include "pvm_interp.h"

#include "pvm_alu.h"
#include "pvm_gas.h"
#include "pvm_memory.h"
#include "pvm_util.h"

/* A static target that is not a block start: taking it panics. Never a
 * valid pc because valid targets are < C <= 2^32 - 1. */
#define BAD_TARGET UINT32_MAX

struct interp_insn {
    uint8_t op;          /* effective opcode */
    uint8_t a, b, d;     /* ra, rb, rd of struct pvm_insn */
    uint32_t next;       /* pc + 1 + skip */
    uint32_t target;     /* checked static target, or BAD_TARGET */
    uint32_t block_cost; /* gas of a block starting here */
    uint64_t x, y;       /* immediates */
};

struct pvm_interp {
    const struct pvm_program *program;
    struct interp_insn *insns; /* code_len + 1 entries */
    struct pvm_state state;
    bool resume_after_host_call; /* last exit was ecalli at state.pc */
    bool finished;               /* halt/panic happened: runs repeat it */
    struct pvm_exit final_exit;
    struct pvm_allocator allocator;
    struct pvm_memory memory;
};

/* ---- pre-decoding ------------------------------------------------------ */

static uint32_t checked_target(const struct pvm_program *p, int64_t target)
{
    if (target < 0 || !pvm_program_is_block_start(p, (uint64_t)target))
        return BAD_TARGET;
    return (uint32_t)target;
}

static void predecode(struct pvm_interp *it)
{
    const struct pvm_program *p = it->program;
    uint32_t c = p->code_len;
    for (uint32_t pc = 0; pc < c; pc++) {
        struct pvm_insn in;
        pvm_decode_insn(p, pc, &in);
        struct interp_insn *e = &it->insns[pc];
        e->op = in.opcode;
        e->a = in.ra;
        e->b = in.rb;
        e->d = in.rd;
        e->next = (uint32_t)in.next_pc; /* <= C for pc < C */
        e->x = in.imm_x;
        e->y = in.imm_y;
        e->target = BAD_TARGET;
        if (in.format == PVM_FMT_OFFSET || in.format == PVM_FMT_REG_IMM_OFFSET ||
            in.format == PVM_FMT_REG_REG_OFFSET)
            e->target = checked_target(p, in.target);
    }
    struct interp_insn *end = &it->insns[c];
    pvm_memset(end, 0, sizeof(*end));
    end->op = PVM_OP_trap;
    end->next = c;
    end->target = BAD_TARGET;

    /* What entering a gas block at each position costs (the version's gas
     * model, pvm_gas.h). */
    pvm_gas_fill_entry_costs(p, &it->insns[0].block_cost, sizeof(struct interp_insn));
}

/* ---- create / destroy -------------------------------------------------- */

int pvm_interp_create(const struct pvm_program *program, const struct pvm_segment *segments,
                      size_t segment_count, const struct pvm_state *initial,
                      const struct pvm_allocator *allocator, struct pvm_interp **out)
{
    if (out == NULL)
        return PVM_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (program == NULL || initial == NULL || allocator == NULL || allocator->alloc == NULL ||
        allocator->free == NULL)
        return PVM_ERR_INVALID_ARGUMENT;
    int err = pvm_segments_validate(segments, segment_count);
    if (err != PVM_OK)
        return err;

    struct pvm_interp *it = allocator->alloc(allocator->ctx, sizeof(*it));
    if (it == NULL)
        return PVM_ERR_NOMEM;
    pvm_memset(it, 0, sizeof(*it));
    it->program = program;
    it->allocator = *allocator;
    pvm_memcpy(&it->state, initial, sizeof it->state); /* no libc memcpy when freestanding */
    pvm_memory_init(&it->memory, allocator);

    size_t count = (size_t)program->code_len + 1;
    it->insns = allocator->alloc(allocator->ctx, count * sizeof(struct interp_insn));
    if (it->insns == NULL) {
        pvm_interp_destroy(it);
        return PVM_ERR_NOMEM;
    }
    predecode(it);

    for (size_t i = 0; i < segment_count; i++) {
        const struct pvm_segment *s = &segments[i];
        if (s->access == PVM_ACCESS_NONE || s->length == 0)
            continue;
        err = pvm_memory_set_access(&it->memory, s->address, s->length, s->access);
        if (err == PVM_OK && s->data_len > 0)
            err = pvm_memory_write(&it->memory, s->address, s->data, s->data_len);
        if (err != PVM_OK) {
            pvm_interp_destroy(it);
            return err;
        }
    }
    *out = it;
    return PVM_OK;
}

void pvm_interp_destroy(struct pvm_interp *it)
{
    if (it == NULL)
        return;
    struct pvm_allocator a = it->allocator;
    pvm_memory_release(&it->memory);
    a.free(a.ctx, it->insns);
    a.free(a.ctx, it);
}

/* ---- sbrk (SPEC §9.9, project decision documented in pvm.h) ------------ */

/* Moves the break to new_top (checked by the caller), making the pages it
 * now covers writable; false only when pages could not be allocated. */
static bool move_break(struct pvm_interp *it, uint64_t new_top)
{
    uint64_t first = (uint64_t)it->state.heap_top & ~(uint64_t)(PVM_PAGE_SIZE - 1);
    for (uint64_t page = first; page < new_top; page += PVM_PAGE_SIZE) {
        if (pvm_memory_access(&it->memory, (uint32_t)page) == PVM_ACCESS_WRITE)
            continue;
        if (pvm_memory_set_access(&it->memory, (uint32_t)page, PVM_PAGE_SIZE, PVM_ACCESS_WRITE) !=
            PVM_OK)
            return false;
    }
    it->state.heap_top = (uint32_t)new_top;
    return true;
}

/* Returns false only when pages could not be allocated. */
static bool do_sbrk(struct pvm_interp *it, uint64_t size, uint64_t *result)
{
    uint32_t top = it->state.heap_top;
    *result = 0;
    if (top == 0)
        return true;
    uint64_t new_top = (uint64_t)top + size;
    if (size >= ((uint64_t)1 << 32) || new_top > pvm_heap_limit(it->state.heap_limit))
        return true; /* does not fit: refuse, change nothing */
    if (!move_break(it, new_top))
        return false;
    *result = top;
    return true;
}

int pvm_interp_grow_heap(struct pvm_interp *it, uint32_t new_top)
{
    if (!pvm_heap_grow_valid(&it->state, new_top))
        return PVM_ERR_INVALID_ARGUMENT;
    return move_break(it, new_top) ? PVM_OK : PVM_ERR_NOMEM;
}

/* ---- run --------------------------------------------------------------- */

static void finish(struct pvm_interp *it, struct pvm_exit *e, uint32_t reason, uint32_t pc,
                   uint64_t arg)
{
    e->reason = reason;
    e->pc = pc;
    e->arg = arg;
    if (reason == PVM_EXIT_HALT || reason == PVM_EXIT_PANIC) {
        it->finished = true;
        it->final_exit = *e;
    }
}

void pvm_interp_run(struct pvm_interp *it, struct pvm_exit *exit_out)
{
    if (it->finished) {
        *exit_out = it->final_exit;
        return;
    }
    const struct pvm_program *prog = it->program;
    const struct interp_insn *insns = it->insns;
    const uint32_t code_len = prog->code_len;
    struct pvm_memory *mem = &it->memory;
    uint64_t *regs = it->state.regs;
    int64_t gas = it->state.gas;
    uint32_t pc = it->state.pc;
    const struct interp_insn *in;
    uint32_t reason = PVM_EXIT_PANIC;
    uint64_t exit_arg = 0;
    uint32_t fault = 0;
    enum pvm_mem_result mr;
    uint64_t value;

    if (it->resume_after_host_call) {
        it->resume_after_host_call = false;
        /* Same gas block: continue after the ecalli without charging. */
        pc = pc < code_len ? insns[pc].next : code_len;
        goto dispatch;
    }
    if (!pvm_program_can_enter(prog, pc))
        goto panic; /* GP 0.8.0 §4: nothing runs, nothing is charged */
    if (it->state.gas_charged && pc <= code_len)
        goto dispatch; /* the block was paid before the last exit */

new_block:
    if (pc > code_len) {
        /* Only reachable from an initial/set pc: an implicit trap. */
        if (gas < 1) {
            reason = PVM_EXIT_OUT_OF_GAS;
            goto out;
        }
        gas -= 1;
        goto panic;
    }
    if (gas < (int64_t)insns[pc].block_cost) {
        reason = PVM_EXIT_OUT_OF_GAS;
        goto out;
    }
    gas -= insns[pc].block_cost;

dispatch:
    in = &insns[pc];

#define A regs[in->a]
#define B regs[in->b]
#define D regs[in->d]
#define X in->x
#define Y in->y
#define CONTINUE()                                                                                 \
    do {                                                                                           \
        pc = in->next;                                                                             \
        goto dispatch;                                                                             \
    } while (0)
#define BRANCH(cond)                                                                               \
    do {                                                                                           \
        if (cond) {                                                                                \
            if (in->target == BAD_TARGET)                                                          \
                goto panic;                                                                        \
            pc = in->target;                                                                       \
        } else {                                                                                   \
            pc = in->next;                                                                         \
        }                                                                                          \
        goto new_block;                                                                            \
    } while (0)
#define LOAD(dst, address, width, convert)                                                         \
    do {                                                                                           \
        mr = pvm_memory_load(mem, (uint32_t)(address), width, &value, &fault);                     \
        if (mr != PVM_MEM_OK)                                                                      \
            goto memory_exit;                                                                      \
        dst = convert(value);                                                                      \
        CONTINUE();                                                                                \
    } while (0)
#define STORE(address, width, val)                                                                 \
    do {                                                                                           \
        mr = pvm_memory_store(mem, (uint32_t)(address), width, val, &fault);                       \
        if (mr != PVM_MEM_OK)                                                                      \
            goto memory_exit;                                                                      \
        CONTINUE();                                                                                \
    } while (0)
#define ALU(dst, expr)                                                                             \
    do {                                                                                           \
        dst = (expr);                                                                              \
        CONTINUE();                                                                                \
    } while (0)
#define SAME(v) (v)
#define S64(v)  ((int64_t)(v))

    switch (in->op) {
    /* F0 */
    case PVM_OP_trap:
        goto panic;
    case PVM_OP_unlikely: /* a gas-model hint only */
        CONTINUE();
    case PVM_OP_fallthrough:
        pc = in->next;
        goto new_block;
    /* F1 */
    case PVM_OP_ecalli:
        reason = PVM_EXIT_HOST_CALL;
        exit_arg = X;
        it->resume_after_host_call = true;
        it->state.gas_charged = true;
        goto out_charged;
    /* F2 */
    case PVM_OP_load_imm_64:
        ALU(A, X);
    /* F3 */
    case PVM_OP_store_imm_u8:
        STORE(X, 1, Y);
    case PVM_OP_store_imm_u16:
        STORE(X, 2, Y);
    case PVM_OP_store_imm_u32:
        STORE(X, 4, Y);
    case PVM_OP_store_imm_u64:
        STORE(X, 8, Y);
    /* F4 */
    case PVM_OP_jump:
        BRANCH(1);
    /* F5 */
    case PVM_OP_jump_ind:
        value = (uint32_t)(A + X);
        goto dynamic_jump;
    case PVM_OP_load_imm:
        ALU(A, X);
    case PVM_OP_load_u8:
        LOAD(A, X, 1, SAME);
    case PVM_OP_load_i8:
        LOAD(A, X, 1, pvm_sx8);
    case PVM_OP_load_u16:
        LOAD(A, X, 2, SAME);
    case PVM_OP_load_i16:
        LOAD(A, X, 2, pvm_sx16);
    case PVM_OP_load_u32:
        LOAD(A, X, 4, SAME);
    case PVM_OP_load_i32:
        LOAD(A, X, 4, pvm_sx32);
    case PVM_OP_load_u64:
        LOAD(A, X, 8, SAME);
    case PVM_OP_store_u8:
        STORE(X, 1, A);
    case PVM_OP_store_u16:
        STORE(X, 2, A);
    case PVM_OP_store_u32:
        STORE(X, 4, A);
    case PVM_OP_store_u64:
        STORE(X, 8, A);
    /* F6 */
    case PVM_OP_store_imm_ind_u8:
        STORE(A + X, 1, Y);
    case PVM_OP_store_imm_ind_u16:
        STORE(A + X, 2, Y);
    case PVM_OP_store_imm_ind_u32:
        STORE(A + X, 4, Y);
    case PVM_OP_store_imm_ind_u64:
        STORE(A + X, 8, Y);
    /* F7 */
    case PVM_OP_load_imm_jump:
        A = X;
        BRANCH(1);
    case PVM_OP_branch_eq_imm:
        BRANCH(A == X);
    case PVM_OP_branch_ne_imm:
        BRANCH(A != X);
    case PVM_OP_branch_lt_u_imm:
        BRANCH(A < X);
    case PVM_OP_branch_le_u_imm:
        BRANCH(A <= X);
    case PVM_OP_branch_ge_u_imm:
        BRANCH(A >= X);
    case PVM_OP_branch_gt_u_imm:
        BRANCH(A > X);
    case PVM_OP_branch_lt_s_imm:
        BRANCH(S64(A) < S64(X));
    case PVM_OP_branch_le_s_imm:
        BRANCH(S64(A) <= S64(X));
    case PVM_OP_branch_ge_s_imm:
        BRANCH(S64(A) >= S64(X));
    case PVM_OP_branch_gt_s_imm:
        BRANCH(S64(A) > S64(X));
    /* F8: rd = destination, A = source */
    case PVM_OP_move_reg:
        ALU(D, A);
    case PVM_OP_sbrk:
        if (!do_sbrk(it, A, &value))
            goto nomem;
        ALU(D, value);
    case PVM_OP_count_set_bits_64:
        ALU(D, pvm_popcount64(A));
    case PVM_OP_count_set_bits_32:
        ALU(D, pvm_popcount64((uint32_t)A));
    case PVM_OP_leading_zero_bits_64:
        ALU(D, pvm_clz64(A));
    case PVM_OP_leading_zero_bits_32:
        ALU(D, pvm_clz32((uint32_t)A));
    case PVM_OP_trailing_zero_bits_64:
        ALU(D, pvm_ctz64(A));
    case PVM_OP_trailing_zero_bits_32:
        ALU(D, pvm_ctz32((uint32_t)A));
    case PVM_OP_sign_extend_8:
        ALU(D, pvm_sx8(A));
    case PVM_OP_sign_extend_16:
        ALU(D, pvm_sx16(A));
    case PVM_OP_zero_extend_16:
        ALU(D, A & 0xFFFF);
    case PVM_OP_reverse_bytes:
        ALU(D, pvm_bswap64(A));
    /* F9: memory at B + X, results to rA */
    case PVM_OP_store_ind_u8:
        STORE(B + X, 1, A);
    case PVM_OP_store_ind_u16:
        STORE(B + X, 2, A);
    case PVM_OP_store_ind_u32:
        STORE(B + X, 4, A);
    case PVM_OP_store_ind_u64:
        STORE(B + X, 8, A);
    case PVM_OP_load_ind_u8:
        LOAD(A, B + X, 1, SAME);
    case PVM_OP_load_ind_i8:
        LOAD(A, B + X, 1, pvm_sx8);
    case PVM_OP_load_ind_u16:
        LOAD(A, B + X, 2, SAME);
    case PVM_OP_load_ind_i16:
        LOAD(A, B + X, 2, pvm_sx16);
    case PVM_OP_load_ind_u32:
        LOAD(A, B + X, 4, SAME);
    case PVM_OP_load_ind_i32:
        LOAD(A, B + X, 4, pvm_sx32);
    case PVM_OP_load_ind_u64:
        LOAD(A, B + X, 8, SAME);
    case PVM_OP_add_imm_32:
        ALU(A, pvm_sx32(B + X));
    case PVM_OP_and_imm:
        ALU(A, B & X);
    case PVM_OP_xor_imm:
        ALU(A, B ^ X);
    case PVM_OP_or_imm:
        ALU(A, B | X);
    case PVM_OP_mul_imm_32:
        ALU(A, pvm_sx32(B * X));
    case PVM_OP_set_lt_u_imm:
        ALU(A, B < X);
    case PVM_OP_set_lt_s_imm:
        ALU(A, S64(B) < S64(X));
    case PVM_OP_shlo_l_imm_32:
        ALU(A, pvm_sx32((uint32_t)B << (X & 31)));
    case PVM_OP_shlo_r_imm_32:
        ALU(A, pvm_sx32((uint32_t)B >> (X & 31)));
    case PVM_OP_shar_r_imm_32:
        ALU(A, pvm_shar32(B, X & 31));
    case PVM_OP_neg_add_imm_32:
        ALU(A, pvm_sx32(X - B));
    case PVM_OP_set_gt_u_imm:
        ALU(A, B > X);
    case PVM_OP_set_gt_s_imm:
        ALU(A, S64(B) > S64(X));
    case PVM_OP_shlo_l_imm_alt_32:
        ALU(A, pvm_sx32((uint32_t)X << (B & 31)));
    case PVM_OP_shlo_r_imm_alt_32:
        ALU(A, pvm_sx32((uint32_t)X >> (B & 31)));
    case PVM_OP_shar_r_imm_alt_32:
        ALU(A, pvm_shar32(X, B & 31));
    case PVM_OP_cmov_iz_imm:
        ALU(A, B == 0 ? X : A);
    case PVM_OP_cmov_nz_imm:
        ALU(A, B != 0 ? X : A);
    case PVM_OP_add_imm_64:
        ALU(A, B + X);
    case PVM_OP_mul_imm_64:
        ALU(A, B * X);
    case PVM_OP_shlo_l_imm_64:
        ALU(A, B << (X & 63));
    case PVM_OP_shlo_r_imm_64:
        ALU(A, B >> (X & 63));
    case PVM_OP_shar_r_imm_64:
        ALU(A, pvm_shar64(B, X & 63));
    case PVM_OP_neg_add_imm_64:
        ALU(A, X - B);
    case PVM_OP_shlo_l_imm_alt_64:
        ALU(A, X << (B & 63));
    case PVM_OP_shlo_r_imm_alt_64:
        ALU(A, X >> (B & 63));
    case PVM_OP_shar_r_imm_alt_64:
        ALU(A, pvm_shar64(X, B & 63));
    case PVM_OP_rot_r_64_imm:
        ALU(A, pvm_rotr64(B, X & 63));
    case PVM_OP_rot_r_64_imm_alt:
        ALU(A, pvm_rotr64(X, B & 63));
    case PVM_OP_rot_r_32_imm:
        ALU(A, pvm_sx32(pvm_rotr32((uint32_t)B, X & 31)));
    case PVM_OP_rot_r_32_imm_alt:
        ALU(A, pvm_sx32(pvm_rotr32((uint32_t)X, B & 31)));
    /* F10 */
    case PVM_OP_branch_eq:
        BRANCH(A == B);
    case PVM_OP_branch_ne:
        BRANCH(A != B);
    case PVM_OP_branch_lt_u:
        BRANCH(A < B);
    case PVM_OP_branch_lt_s:
        BRANCH(S64(A) < S64(B));
    case PVM_OP_branch_ge_u:
        BRANCH(A >= B);
    case PVM_OP_branch_ge_s:
        BRANCH(S64(A) >= S64(B));
    /* F11: the jump address uses rB before rA is written */
    case PVM_OP_load_imm_jump_ind:
        value = (uint32_t)(B + Y);
        A = X;
        goto dynamic_jump;
    /* F12: result to rD */
    case PVM_OP_add_32:
        ALU(D, pvm_sx32(A + B));
    case PVM_OP_sub_32:
        ALU(D, pvm_sx32(A - B));
    case PVM_OP_mul_32:
        ALU(D, pvm_sx32(A * B));
    case PVM_OP_div_u_32:
        ALU(D, pvm_div_u32(A, B));
    case PVM_OP_div_s_32:
        ALU(D, pvm_div_s32(A, B));
    case PVM_OP_rem_u_32:
        ALU(D, pvm_rem_u32(A, B));
    case PVM_OP_rem_s_32:
        ALU(D, pvm_rem_s32(A, B));
    case PVM_OP_shlo_l_32:
        ALU(D, pvm_sx32((uint32_t)A << (B & 31)));
    case PVM_OP_shlo_r_32:
        ALU(D, pvm_sx32((uint32_t)A >> (B & 31)));
    case PVM_OP_shar_r_32:
        ALU(D, pvm_shar32(A, B & 31));
    case PVM_OP_add_64:
        ALU(D, A + B);
    case PVM_OP_sub_64:
        ALU(D, A - B);
    case PVM_OP_mul_64:
        ALU(D, A * B);
    case PVM_OP_div_u_64:
        ALU(D, pvm_div_u64(A, B));
    case PVM_OP_div_s_64:
        ALU(D, pvm_div_s64(A, B));
    case PVM_OP_rem_u_64:
        ALU(D, pvm_rem_u64(A, B));
    case PVM_OP_rem_s_64:
        ALU(D, pvm_rem_s64(A, B));
    case PVM_OP_shlo_l_64:
        ALU(D, A << (B & 63));
    case PVM_OP_shlo_r_64:
        ALU(D, A >> (B & 63));
    case PVM_OP_shar_r_64:
        ALU(D, pvm_shar64(A, B & 63));
    case PVM_OP_and:
        ALU(D, A & B);
    case PVM_OP_xor:
        ALU(D, A ^ B);
    case PVM_OP_or:
        ALU(D, A | B);
    case PVM_OP_mul_upper_s_s:
        ALU(D, pvm_mulh_ss(A, B));
    case PVM_OP_mul_upper_u_u:
        ALU(D, pvm_mulh_uu(A, B));
    case PVM_OP_mul_upper_s_u:
        ALU(D, pvm_mulh_su(A, B));
    case PVM_OP_set_lt_u:
        ALU(D, A < B);
    case PVM_OP_set_lt_s:
        ALU(D, S64(A) < S64(B));
    case PVM_OP_cmov_iz:
        ALU(D, B == 0 ? A : D);
    case PVM_OP_cmov_nz:
        ALU(D, B != 0 ? A : D);
    case PVM_OP_rot_l_64:
        ALU(D, pvm_rotl64(A, B & 63));
    case PVM_OP_rot_l_32:
        ALU(D, pvm_sx32(pvm_rotl32((uint32_t)A, B & 31)));
    case PVM_OP_rot_r_64:
        ALU(D, pvm_rotr64(A, B & 63));
    case PVM_OP_rot_r_32:
        ALU(D, pvm_sx32(pvm_rotr32((uint32_t)A, B & 31)));
    case PVM_OP_and_inv:
        ALU(D, A & ~B);
    case PVM_OP_or_inv:
        ALU(D, A | ~B);
    case PVM_OP_xnor:
        ALU(D, ~(A ^ B));
    case PVM_OP_max:
        ALU(D, S64(A) > S64(B) ? A : B);
    case PVM_OP_max_u:
        ALU(D, A > B ? A : B);
    case PVM_OP_min:
        ALU(D, S64(A) < S64(B) ? A : B);
    case PVM_OP_min_u:
        ALU(D, A < B ? A : B);
    default:
        goto panic; /* unreachable: pre-decoding maps undefined opcodes to trap */
    }

#undef A
#undef B
#undef D
#undef X
#undef Y

dynamic_jump : {
    uint32_t target;
    switch (pvm_program_dynamic_jump(prog, (uint32_t)value, &target)) {
    case PVM_DJUMP_HALT:
        reason = PVM_EXIT_HALT;
        goto out;
    case PVM_DJUMP_PANIC:
        goto panic;
    case PVM_DJUMP_TARGET:
        pc = target;
        goto new_block;
    }
    goto panic;
}

memory_exit:
    if (mr == PVM_MEM_NOMEM)
        goto nomem;
    if (fault < PVM_LOW_GUARD_END)
        goto panic;
    reason = PVM_EXIT_PAGE_FAULT;
    exit_arg = fault & ~(uint32_t)(PVM_PAGE_SIZE - 1);
    it->state.gas_charged = prog->isa->fault_keeps_block_paid;
    goto out_charged;

nomem:
    reason = PVM_EXIT_ERROR;
    exit_arg = NUB_ERR_NOMEM;
    goto out;

panic:
    reason = PVM_EXIT_PANIC;

out:
    it->state.gas_charged = false;
out_charged:
    it->state.pc = pc;
    it->state.gas = gas;
    finish(it, exit_out, reason, pc, exit_arg);
}

/* ---- state and memory access ------------------------------------------- */

void pvm_interp_get_state(const struct pvm_interp *it, struct pvm_state *out)
{
    pvm_memcpy(out, &it->state, sizeof *out);
}

void pvm_interp_set_state(struct pvm_interp *it, const struct pvm_state *state)
{
    bool moved = state->pc != it->state.pc;
    pvm_memcpy(&it->state, state, sizeof it->state);
    if (moved) {
        it->resume_after_host_call = false;
        it->state.gas_charged = false; /* a new pc starts a new block */
    }
}

int pvm_interp_read_memory(const struct pvm_interp *it, uint32_t address, void *buffer,
                           uint32_t length)
{
    if (buffer == NULL && length > 0)
        return PVM_ERR_INVALID_ARGUMENT;
    return pvm_memory_read(&it->memory, address, buffer, length);
}

int pvm_interp_write_memory(struct pvm_interp *it, uint32_t address, const void *buffer,
                            uint32_t length)
{
    if (buffer == NULL && length > 0)
        return PVM_ERR_INVALID_ARGUMENT;
    return pvm_memory_write(&it->memory, address, buffer, length);
}

uint32_t pvm_interp_page_access(const struct pvm_interp *it, uint32_t address)
{
    return pvm_memory_access(&it->memory, address);
}

uint32_t pvm_interp_entry_cost(const struct pvm_interp *it, uint32_t pc)
{
    return pc <= it->program->code_len ? it->insns[pc].block_cost : 0;
}

int pvm_interp_set_access(struct pvm_interp *it, uint32_t address, uint32_t length, uint32_t access)
{
    struct pvm_segment s = {.address = address, .length = length, .access = access};
    int err = pvm_segments_validate(&s, 1);
    if (err != PVM_OK)
        return err;
    return pvm_memory_set_access(&it->memory, address, length, access);
}

/* ---- the engine vtable -------------------------------------------------- */

static int engine_create(const struct pvm_program *program, const struct pvm_segment *segments,
                         size_t segment_count, const struct pvm_state *initial,
                         const struct pvm_allocator *allocator, void **instance_out)
{
    struct pvm_interp *it = NULL;
    int err = pvm_interp_create(program, segments, segment_count, initial, allocator, &it);
    *instance_out = it;
    return err;
}
static void engine_destroy(void *instance)
{
    pvm_interp_destroy(instance);
}
static void engine_run(void *instance, struct pvm_exit *exit_out)
{
    pvm_interp_run(instance, exit_out);
}
static void engine_get_state(const void *instance, struct pvm_state *state_out)
{
    pvm_interp_get_state(instance, state_out);
}
static void engine_set_state(void *instance, const struct pvm_state *state)
{
    pvm_interp_set_state(instance, state);
}
static int engine_read_memory(const void *instance, uint32_t address, void *buffer, uint32_t length)
{
    return pvm_interp_read_memory(instance, address, buffer, length);
}
static int engine_write_memory(void *instance, uint32_t address, const void *buffer,
                               uint32_t length)
{
    return pvm_interp_write_memory(instance, address, buffer, length);
}
static uint32_t engine_page_access(const void *instance, uint32_t address)
{
    return pvm_interp_page_access(instance, address);
}

static int engine_grow_heap(void *instance, uint32_t new_top)
{
    return pvm_interp_grow_heap(instance, new_top);
}

const struct pvm_engine pvm_interp_engine = {
    .name = "interp",
    .create = engine_create,
    .destroy = engine_destroy,
    .run = engine_run,
    .get_state = engine_get_state,
    .set_state = engine_set_state,
    .read_memory = engine_read_memory,
    .write_memory = engine_write_memory,
    .page_access = engine_page_access,
    .grow_heap = engine_grow_heap,
};
