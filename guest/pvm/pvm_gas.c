/*
 * pvm_gas.c — block costs (see pvm_gas.h): GP 0.7.2's instruction counts and
 * GP 0.8.0's pipeline model (SPEC-0.8.md §3).
 */
#include "pvm_gas.h"

#include "pvm_util.h"

#if defined(__SSE2__) /* (not in the guest kernel or nub-cc builds: they use no SIMD) */
#include <emmintrin.h>
#endif
/* The lanes-at-once batch pass (pvm_gas_batch_costs): AVX2, compiled for
 * it by function attribute and run only where the CPU reports it. */
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__)
#define GAS_BATCH_VECTOR 1
#include <immintrin.h>
#endif

/* ---- Per-instruction table (SPEC-0.8.md §3.3) --------------------------- */

static const uint8_t unit_start[5] = {4, 4, 4, 1, 1}; /* A, L, S, M, D */

#define U_A1 PVM_GAS_UNIT_A1
#define U_A2 PVM_GAS_UNIT_A2
#define U_L  PVM_GAS_UNIT_L
#define U_S  PVM_GAS_UNIT_S
#define U_M  PVM_GAS_UNIT_M
#define U_D  PVM_GAS_UNIT_D

#define LAT_MEM    25u /* memory latency */
#define LAT_BRANCH PVM_GAS_LAT_BRANCH

#define DEC_FIXED PVM_GAS_SEL_FIXED
#define DEC_P     PVM_GAS_SEL_P
#define DEC_PS    PVM_GAS_SEL_PS

/* Which register fields an instruction reads and writes (§3.1), as the
 * masks of struct pvm_gas_row (fields lo, hi, third of the code; the
 * comments name the decoded roles): */
#define ALL 0xFFFF
/* Each role also names its register kind (the shape's bits 0-3; see
 * words_sched_cost), and takes the selector to put the match mask beside
 * it (bits 4-5: bit 4 = source lo is the destination counts, bit 5 =
 * source hi; P counts both, PS (lo == third) the first). */
#define MATCHES(s) ((s) == DEC_P ? 0x30 : (s) == DEC_PS ? 0x10 : 0)
enum reg_kind { K_NONE, K_W_LO, K_R_LO, K_R_LO_HI, K_R_HI_W_LO, K_R_LO_HI_W_THIRD, K_COUNT };
#define ROLE_NONE(s) .src_lo = 0, .src_hi = 0, .dst_lo = 0, .dst_third = 0, .shape = K_NONE
/* dst {ra} */
#define ROLE_W_A(s)                                                                                \
    .src_lo = 0, .src_hi = 0, .dst_lo = ALL, .dst_third = 0, .shape = K_W_LO | MATCHES(s)
/* src {ra} */
#define ROLE_R_A(s)                                                                                \
    .src_lo = ALL, .src_hi = 0, .dst_lo = 0, .dst_third = 0, .shape = K_R_LO | MATCHES(s)
/* src {ra, rb} */
#define ROLE_R_AB(s)                                                                               \
    .src_lo = ALL, .src_hi = ALL, .dst_lo = 0, .dst_third = 0, .shape = K_R_LO_HI | MATCHES(s)
/* src {ra} (high nibble), dst {rd} (low nibble) */
#define ROLE_F8(s)                                                                                 \
    .src_lo = 0, .src_hi = ALL, .dst_lo = ALL, .dst_third = 0, .shape = K_R_HI_W_LO | MATCHES(s)
/* src {rb} (high nibble), dst {ra} (low nibble): F9 arithmetic and loads, F11 */
#define ROLE_B_A(s) ROLE_F8(s)
/* src {ra, rb}, dst {rd} (byte 2) */
#define ROLE_F12(s)                                                                                \
    .src_lo = ALL, .src_hi = ALL, .dst_lo = 0, .dst_third = ALL,                                   \
    .shape = K_R_LO_HI_W_THIRD | MATCHES(s)

/* (role: one of the ROLE_* names) */
#define ROW(l, a, b, s, u, role)                                                                   \
    {                                                                                              \
        .lat = l, .dec_other = b, .units = u, .dec_match = a, .sel = s, role(s), .known = 1        \
    }
#define FIXED(l, d, u, role) ROW(l, d, d, DEC_FIXED, u, role)
#define OP(name)             [PVM_OP_##name]
#define OPS(first, last)     [PVM_OP_##first... PVM_OP_##last]

const struct pvm_gas_row pvm_gas_rows[256] = {
    OP(move_reg) =
        {.lat = 0, .dec_match = 1, .dec_other = 1, ROLE_F8(DEC_FIXED), .is_move = 1, .known = 1},
    OP(and) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_F12),
    OP(xor) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_F12),
    OP(or) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_F12),
    OP(add_64) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_F12),
    OP(sub_64) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_F12),
    OP(and_imm) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_B_A),
    OP(xor_imm) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_B_A),
    OP(or_imm) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_B_A),
    OP(add_imm_64) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_B_A),
    OP(shlo_l_imm_64) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_B_A),
    OP(shlo_r_imm_64) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_B_A),
    OP(shar_r_imm_64) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_B_A),
    OP(rot_r_64_imm) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_B_A),
    OP(reverse_bytes) = ROW(1, 1, 2, DEC_P, U_A1, ROLE_F8),
    OP(add_32) = ROW(2, 2, 3, DEC_P, U_A1, ROLE_F12),
    OP(sub_32) = ROW(2, 2, 3, DEC_P, U_A1, ROLE_F12),
    OP(add_imm_32) = ROW(2, 2, 3, DEC_P, U_A1, ROLE_B_A),
    OP(shlo_l_imm_32) = ROW(2, 2, 3, DEC_P, U_A1, ROLE_B_A),
    OP(shlo_r_imm_32) = ROW(2, 2, 3, DEC_P, U_A1, ROLE_B_A),
    OP(shar_r_imm_32) = ROW(2, 2, 3, DEC_P, U_A1, ROLE_B_A),
    OP(rot_r_32_imm) = ROW(2, 2, 3, DEC_P, U_A1, ROLE_B_A),
    OP(count_set_bits_64) = FIXED(1, 1, U_A1, ROLE_F8),
    OP(count_set_bits_32) = FIXED(1, 1, U_A1, ROLE_F8),
    OP(leading_zero_bits_64) = FIXED(1, 1, U_A1, ROLE_F8),
    OP(leading_zero_bits_32) = FIXED(1, 1, U_A1, ROLE_F8),
    OP(sign_extend_8) = FIXED(1, 1, U_A1, ROLE_F8),
    OP(sign_extend_16) = FIXED(1, 1, U_A1, ROLE_F8),
    OP(zero_extend_16) = FIXED(1, 1, U_A1, ROLE_F8),
    OP(trailing_zero_bits_64) = FIXED(2, 1, U_A2, ROLE_F8),
    OP(trailing_zero_bits_32) = FIXED(2, 1, U_A2, ROLE_F8),
    OP(shlo_l_64) = ROW(1, 2, 3, DEC_PS, U_A1, ROLE_F12),
    OP(shlo_r_64) = ROW(1, 2, 3, DEC_PS, U_A1, ROLE_F12),
    OP(shar_r_64) = ROW(1, 2, 3, DEC_PS, U_A1, ROLE_F12),
    OP(rot_l_64) = ROW(1, 2, 3, DEC_PS, U_A1, ROLE_F12),
    OP(rot_r_64) = ROW(1, 2, 3, DEC_PS, U_A1, ROLE_F12),
    OP(shlo_l_32) = ROW(2, 3, 4, DEC_PS, U_A1, ROLE_F12),
    OP(shlo_r_32) = ROW(2, 3, 4, DEC_PS, U_A1, ROLE_F12),
    OP(shar_r_32) = ROW(2, 3, 4, DEC_PS, U_A1, ROLE_F12),
    OP(rot_l_32) = ROW(2, 3, 4, DEC_PS, U_A1, ROLE_F12),
    OP(rot_r_32) = ROW(2, 3, 4, DEC_PS, U_A1, ROLE_F12),
    OP(shlo_l_imm_alt_64) = FIXED(1, 3, U_A1, ROLE_B_A),
    OP(shlo_r_imm_alt_64) = FIXED(1, 3, U_A1, ROLE_B_A),
    OP(shar_r_imm_alt_64) = FIXED(1, 3, U_A1, ROLE_B_A),
    OP(rot_r_64_imm_alt) = FIXED(1, 3, U_A1, ROLE_B_A),
    OP(shlo_l_imm_alt_32) = FIXED(2, 4, U_A1, ROLE_B_A),
    OP(shlo_r_imm_alt_32) = FIXED(2, 4, U_A1, ROLE_B_A),
    OP(shar_r_imm_alt_32) = FIXED(2, 4, U_A1, ROLE_B_A),
    OP(rot_r_32_imm_alt) = FIXED(2, 4, U_A1, ROLE_B_A),
    OP(set_lt_u) = FIXED(3, 3, U_A1, ROLE_F12),
    OP(set_lt_s) = FIXED(3, 3, U_A1, ROLE_F12),
    OP(set_lt_u_imm) = FIXED(3, 3, U_A1, ROLE_B_A),
    OP(set_lt_s_imm) = FIXED(3, 3, U_A1, ROLE_B_A),
    OP(set_gt_u_imm) = FIXED(3, 3, U_A1, ROLE_B_A),
    OP(set_gt_s_imm) = FIXED(3, 3, U_A1, ROLE_B_A),
    /* cmov*: the destination is NOT a source (SPEC-0.8.md §3.1, §8 item 4) */
    OP(cmov_iz) = FIXED(2, 2, U_A1, ROLE_F12),
    OP(cmov_nz) = FIXED(2, 2, U_A1, ROLE_F12),
    OP(cmov_iz_imm) = FIXED(2, 3, U_A1, ROLE_B_A),
    OP(cmov_nz_imm) = FIXED(2, 3, U_A1, ROLE_B_A),
    OP(max) = ROW(3, 2, 3, DEC_P, U_A1, ROLE_F12),
    OP(max_u) = ROW(3, 2, 3, DEC_P, U_A1, ROLE_F12),
    OP(min) = ROW(3, 2, 3, DEC_P, U_A1, ROLE_F12),
    OP(min_u) = ROW(3, 2, 3, DEC_P, U_A1, ROLE_F12),
    OP(and_inv) = FIXED(2, 3, U_A1, ROLE_F12),
    OP(or_inv) = FIXED(2, 3, U_A1, ROLE_F12),
    OP(xnor) = ROW(2, 2, 3, DEC_P, U_A1, ROLE_F12),
    OP(neg_add_imm_64) = FIXED(2, 3, U_A1, ROLE_B_A),
    OP(neg_add_imm_32) = FIXED(3, 4, U_A1, ROLE_B_A),
    OP(load_imm) = FIXED(1, 1, 0, ROLE_W_A),
    OP(load_imm_64) = FIXED(1, 2, 0, ROLE_W_A),
    OPS(load_u8, load_u64) = FIXED(LAT_MEM, 1, U_A1 | U_L, ROLE_W_A),
    OPS(load_ind_u8, load_ind_u64) = FIXED(LAT_MEM, 1, U_A1 | U_L, ROLE_B_A),
    OPS(store_imm_u8, store_imm_u64) = FIXED(25, 1, U_A1 | U_S, ROLE_NONE),
    OPS(store_u8, store_u64) = FIXED(25, 1, U_A1 | U_S, ROLE_R_A),
    OPS(store_imm_ind_u8, store_imm_ind_u64) = FIXED(25, 1, U_A1 | U_S, ROLE_R_A),
    OPS(store_ind_u8, store_ind_u64) = FIXED(25, 1, U_A1 | U_S, ROLE_R_AB),
    OPS(branch_eq_imm, branch_gt_s_imm) = FIXED(LAT_BRANCH, 1, U_A1, ROLE_R_A),
    OPS(branch_eq, branch_ge_s) = FIXED(LAT_BRANCH, 1, U_A1, ROLE_R_AB),
    OP(mul_64) = ROW(3, 1, 2, DEC_P, U_A1 | U_M, ROLE_F12),
    OP(mul_imm_64) = ROW(3, 1, 2, DEC_P, U_A1 | U_M, ROLE_B_A),
    OP(mul_32) = ROW(4, 2, 3, DEC_P, U_A1 | U_M, ROLE_F12),
    OP(mul_imm_32) = ROW(4, 2, 3, DEC_P, U_A1 | U_M, ROLE_B_A),
    OP(mul_upper_s_s) = FIXED(4, 4, U_A1 | U_M, ROLE_F12),
    OP(mul_upper_u_u) = FIXED(4, 4, U_A1 | U_M, ROLE_F12),
    OP(mul_upper_s_u) = FIXED(6, 4, U_A1 | U_M, ROLE_F12),
    OPS(div_u_32, rem_s_32) = FIXED(60, 4, U_A1 | U_D, ROLE_F12),
    OPS(div_u_64, rem_s_64) = FIXED(60, 4, U_A1 | U_D, ROLE_F12),
    OP(trap) = FIXED(2, 1, 0, ROLE_NONE),
    OP(fallthrough) = FIXED(2, 1, 0, ROLE_NONE),
    OP(unlikely) = FIXED(40, 1, 0, ROLE_NONE),
    OP(jump) = FIXED(15, 1, 0, ROLE_NONE),
    OP(load_imm_jump) = FIXED(15, 1, 0, ROLE_W_A),
    OP(jump_ind) = FIXED(22, 1, 0, ROLE_R_A),
    OP(load_imm_jump_ind) = FIXED(22, 1, 0, ROLE_B_A),
    /* ecalli reads and writes nothing (the paper says so explicitly) */
    OP(ecalli) = FIXED(100, 4, U_A1, ROLE_NONE),
    /* sbrk exists only in GP 0.7.2, which does not use this model; priced
     * as the draft did */
    OP(sbrk) = FIXED(100, 4, U_A1, ROLE_F8),
    /* Not an instruction (known = 0), but priced as the trap it executes
     * as, so that the JIT can build its item without testing known (the
     * ISA tables map every other code byte to a known row). */
    [PVM_OPCODE_INVALID] =
        {.lat = 2, .dec_match = 1, .dec_other = 1, .units = 0, ROLE_NONE(DEC_FIXED)},
};

uint8_t pvm_gas_branch_latency(const struct pvm_program *p, const struct pvm_insn *in)
{
    return pvm_gas_branch_latency_at(p, in->next_pc, in->target);
}

/* ---- The pipeline (SPEC-0.8.md §3.2) ------------------------------------ */
/*
 * The cycle loop of §3.2, evaluated only at the cycles where something can
 * change. What the loop implies, and what this code uses:
 *  - an entry decoded in cycle t may start from cycle t + 1;
 *  - started in cycle x with latency L it holds its units in cycles
 *    x .. x + L - 1, its dependants may start from x + L, it is FIN from the
 *    end of cycle x + L, and it retires (in order) at the end of cycle
 *    R(e) = max(R(e - 1), x + L + 1);
 *  - starting prefers the oldest ready entry, at most 5 per cycle; decoding
 *    needs a free reorder-buffer slot (live < 32) and decode slots (4 per
 *    cycle);
 *  - the loop ends in cycle R(last) + 1, so cycles = max(x + L) + 2 over all
 *    entries and cost = max(cycles - 3, 1).
 * Between events (a decode, a dependency completing, units coming free, a
 * retirement freeing the buffer) no state changes, so those cycles are
 * skipped.
 */

#define ROB_SIZE       32u
#define DECODE_SLOTS   4
#define STARTS_PER_CYC 5
#define NO_WRITER      UINT64_MAX
#define NOT_STARTED    UINT64_MAX

/* Per-entry state lives in a ring of SIM_WINDOW slots indexed by sequence
 * number. Live entries span at most ROB_SIZE sequence numbers, so with twice
 * that many slots an entry's slot is not reused while a younger entry that
 * was decoded while it was live still waits. */
#define SIM_WINDOW 64u

/* Where the simulation takes its instructions from. */
struct item_source {
    const struct pvm_gas_item *items; /* array source */
    const uint32_t *words;            /* words source (pvm_gas_word) */
    size_t count, at;
    const struct pvm_program *p; /* program source */
    uint64_t pc;
    bool done;
};

/* Free units as one word, a byte per kind (A, L, S, M, D in bytes 0-4):
 * checking, taking and giving back are a subtraction or addition. */
#define UNITS_GUARD 0x8080808080ull

#define UNITS_WORD(u)                                                                              \
    ((uint64_t)((u)&3u) | (uint64_t)(((u) >> 2) & 1u) << 8 | (uint64_t)(((u) >> 3) & 1u) << 16 |   \
     (uint64_t)(((u) >> 4) & 1u) << 24 | (uint64_t)(((u) >> 5) & 1u) << 32)
#define UNITS_WORD4(u) UNITS_WORD(u), UNITS_WORD((u) + 1), UNITS_WORD((u) + 2), UNITS_WORD((u) + 3)
#define UNITS_WORD16(u)                                                                            \
    UNITS_WORD4(u), UNITS_WORD4((u) + 4), UNITS_WORD4((u) + 8), UNITS_WORD4((u) + 12)
/* Per units value (bits 0-5; higher bits mean nothing): one load instead of
 * the shifts, on every entry of every block. */
static const uint64_t units_words[64] = {UNITS_WORD16(0), UNITS_WORD16(16), UNITS_WORD16(32),
                                         UNITS_WORD16(48)};

static uint64_t units_word(uint8_t u)
{
    return units_words[u & 63u];
}

/* need <= free in every byte: no byte borrows from its guard bit */
static bool units_fit(uint64_t free, uint64_t need)
{
    return (((free | UNITS_GUARD) - need) & UNITS_GUARD) == UNITS_GUARD;
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* cost = max(cycles - 3, 1) */
static uint32_t cost_of_cycles(uint64_t cycles)
{
    return cycles > 4 ? (uint32_t)(cycles - 3 > UINT32_MAX ? UINT32_MAX : cycles - 3) : 1;
}

static bool next_from_array(struct item_source *s, struct pvm_gas_item *out);
static bool next_from_program(struct item_source *s, struct pvm_gas_item *out);
static bool next_from_words(struct item_source *s, struct pvm_gas_item *out);

/*
 * Inlined into one copy per source kind, so the next() call is direct.
 *
 * Decoding runs ahead of the cycle being evaluated: an item's decode cycle
 * depends only on the decode slots and on the reorder buffer having room,
 * and room is certain as soon as enough older entries are known to retire
 * (their retirement cycle is fixed once they have started). So items are
 * decoded, each with its cycle, until the buffer is full with an entry that
 * has not started at its head; evaluation then only visits the cycles where
 * an entry may start (it became ready, units came free, or the 5 starts
 * were used up) and the cycle decoding resumes. Each visited cycle looks
 * only at the waiting entries whose producers have all started ("known"),
 * oldest first: their first possible start cycle is then fixed.
 * Retirement is worked out only when decoding needs room: head may lag
 * behind the entries that have really retired, which changes nothing else
 * (a retired producer has long finished).
 */
static inline __attribute__((always_inline)) uint32_t
simulate(struct item_source *src, bool (*next_item)(struct item_source *, struct pvm_gas_item *))
{
    uint64_t done[SIM_WINDOW];       /* start + latency, or NOT_STARTED */
    uint64_t ready[SIM_WINDOW];      /* first possible start, as far as started producers tell */
    uint64_t need[SIM_WINDOW];       /* units, as a units word */
    uint64_t dependants[SIM_WINDOW]; /* slots of entries waiting for this one to start */
    uint32_t lat[SIM_WINDOW];
    uint8_t pending[SIM_WINDOW];   /* producers not started yet */
    uint64_t writer[PVM_NUM_REGS]; /* sequence number, or NO_WRITER */
    for (unsigned r = 0; r < PVM_NUM_REGS; r++)
        writer[r] = NO_WRITER;
    uint64_t head = 0, tail = 0; /* entries not known to be retired: [head, tail) */
    uint64_t last_retire = 0;    /* R of the entry before head */
    uint64_t max_done = 0;       /* max(x + L) over started entries */
    uint64_t known = 0;          /* waiting entries whose producers have all started */
    unsigned unstarted = 0;
    /* entries holding units: release cycle and units */
    uint64_t busy_until[ROB_SIZE];
    uint64_t busy_units[ROB_SIZE];
    unsigned busy_count = 0;
    uint64_t next_release = UINT64_MAX;
    uint64_t avail = 0;
    for (unsigned i = 0; i < 5; i++)
        avail |= (uint64_t)unit_start[i] << (8 * i);
    struct pvm_gas_item cur;
    bool have = next_item(src, &cur);
    uint64_t dcycle = 0;  /* the cycle the next item decodes in, at the earliest */
    int d = DECODE_SLOTS; /* decode slots left in dcycle */
    bool blocked = false; /* decoding waits for the head entry to start */

    for (uint64_t c = 0;;) {
        /* 1. decode, ahead of c as far as is certain */
        while (have) {
            if (cur.dec > d) {
                dcycle++;
                d = DECODE_SLOTS;
            }
            if (tail - head >= ROB_SIZE) {
                /* entries retired by the end of dcycle - 1 free slots */
                while (head < tail && done[head % SIM_WINDOW] != NOT_STARTED) {
                    uint64_t r = max_u64(last_retire, done[head % SIM_WINDOW] + 1);
                    if (r >= dcycle)
                        break;
                    last_retire = r;
                    head++;
                }
                if (tail - head >= ROB_SIZE) {
                    if (done[head % SIM_WINDOW] == NOT_STARTED) {
                        blocked = true;
                        break;
                    }
                    /* the head retires at the end of R: decode resumes at R + 1 */
                    dcycle = max_u64(last_retire, done[head % SIM_WINDOW] + 1) + 1;
                    d = DECODE_SLOTS;
                    continue;
                }
            }
            blocked = false;
            if (cur.is_move) {
                writer[cur.move_to] = writer[cur.move_from];
                d -= 1;
                have = next_item(src, &cur);
                continue;
            }
            unsigned s = (unsigned)(tail % SIM_WINDOW);
            uint64_t r = dcycle + 1;
            unsigned waits = 0;
            uint64_t first = NO_WRITER;
            for (uint16_t srcs = cur.src; srcs != 0; srcs &= (uint16_t)(srcs - 1)) {
                uint64_t w = writer[__builtin_ctz(srcs)];
                if (w == NO_WRITER || w < head || w == first)
                    continue; /* none, retired (done), or counted */
                first = w;
                unsigned ws = (unsigned)(w % SIM_WINDOW);
                if (done[ws] == NOT_STARTED) {
                    dependants[ws] |= 1ull << s;
                    waits++;
                } else {
                    r = max_u64(r, done[ws]);
                }
            }
            done[s] = NOT_STARTED;
            ready[s] = r;
            lat[s] = cur.lat;
            need[s] = units_word(cur.units);
            dependants[s] = 0;
            pending[s] = (uint8_t)waits;
            if (waits == 0)
                known |= 1ull << s;
            unstarted++;
            for (uint16_t dsts = cur.dst; dsts != 0; dsts &= (uint16_t)(dsts - 1))
                writer[__builtin_ctz(dsts)] = tail;
            tail++;
            d -= cur.dec;
            have = cur.ends_block ? false : next_item(src, &cur);
        }
        if (!have && unstarted == 0)
            break;
        /* units whose latency has passed */
        if (c >= next_release) {
            next_release = UINT64_MAX;
            for (unsigned i = 0; i < busy_count;) {
                if (busy_until[i] <= c) {
                    avail += busy_units[i];
                    busy_count--;
                    busy_until[i] = busy_until[busy_count];
                    busy_units[i] = busy_units[busy_count];
                } else {
                    next_release = min_u64(next_release, busy_until[i]);
                    i++;
                }
            }
        }
        /* 2. starts, oldest ready first */
        uint64_t next = UINT64_MAX;
        int e = STARTS_PER_CYC;
        unsigned rot = (unsigned)(head % SIM_WINDOW);
        uint64_t m = rot == 0 ? known : (known >> rot) | (known << (SIM_WINDOW - rot));
        for (; m != 0; m &= m - 1) {
            unsigned s = ((unsigned)__builtin_ctzll(m) + rot) % SIM_WINDOW;
            if (ready[s] > c) {
                next = min_u64(next, ready[s]);
                continue;
            }
            if (e == 0) {
                next = min_u64(next, c + 1);
                break;
            }
            if (!units_fit(avail, need[s])) {
                next = min_u64(next, next_release); /* waits for units */
                continue;
            }
            uint64_t x_done = c + lat[s];
            done[s] = x_done;
            known &= ~(1ull << s);
            unstarted--;
            e--;
            max_done = max_u64(max_done, x_done);
            if (need[s] != 0) {
                avail -= need[s];
                busy_until[busy_count] = x_done;
                busy_units[busy_count++] = need[s];
                next_release = min_u64(next_release, x_done);
            }
            /* dependants whose last producer this was become known (they
             * are younger, so this cycle's look has not reached them) */
            for (uint64_t dm = dependants[s]; dm != 0; dm &= dm - 1) {
                unsigned ds = (unsigned)__builtin_ctzll(dm);
                ready[ds] = max_u64(ready[ds], x_done);
                if (--pending[ds] == 0) {
                    known |= 1ull << ds;
                    next = min_u64(next, ready[ds]);
                }
            }
        }
        if (blocked && done[head % SIM_WINDOW] != NOT_STARTED) {
            /* decoding resumes the cycle after the head retires */
            next = min_u64(next, max_u64(last_retire, done[head % SIM_WINDOW] + 1) + 1);
        }
        c = next;
    }
    return cost_of_cycles(max_done + 2);
}

static bool next_from_array(struct item_source *s, struct pvm_gas_item *out)
{
    if (s->at >= s->count)
        return false;
    *out = s->items[s->at++];
    return true;
}

static __attribute__((noinline)) uint32_t simulate_array(const struct pvm_gas_item *items, size_t n)
{
    struct item_source s = {.items = items, .count = n};
    return simulate(&s, next_from_array);
}

static bool next_from_words(struct item_source *s, struct pvm_gas_item *out)
{
    if (s->at >= s->count)
        return false;
    s->at++;
    pvm_gas_item_of_word(s->words[s->at - 1], s->at == s->count, out);
    return true;
}

static bool next_from_program(struct item_source *s, struct pvm_gas_item *out)
{
    if (s->done)
        return false;
    if (s->pc >= s->p->code_len) {
        pvm_gas_item_trap(out); /* the implicit trap at code_len ends every walk */
        s->done = true;
        return true;
    }
    struct pvm_insn in;
    pvm_decode_insn(s->p, (uint32_t)s->pc, &in);
    pvm_gas_item_of(s->p, &in, out);
    s->pc = in.next_pc;
    return true;
}

/*
 * Shorter still: with at most 5 entries that together need no more units
 * than there are, nothing ever waits for a unit, a start slot or a buffer
 * slot, so every entry starts as soon as it is decoded and its producers are
 * done: start = max(decode + 1, producers' start + latency). Returns false
 * when the block is not of that kind (it gives up as soon as it can tell).
 */
#define FEW_ITEMS   8u
#define FEW_ENTRIES 5u

static bool few_block_cost(const struct pvm_gas_item *items, size_t n, uint32_t *cost)
{
    uint64_t done[FEW_ENTRIES]; /* start + latency per entry */
    int8_t writer[16];
    for (unsigned r = 0; r < 16; r++)
        writer[r] = -1;
    unsigned entries = 0;
    uint64_t cycle = 0, max_done = 0, total_need = 0;
    int d = DECODE_SLOTS;
    for (size_t i = 0; i < n; i++) {
        const struct pvm_gas_item *it = &items[i];
        if (it->dec > d) {
            cycle++;
            d = DECODE_SLOTS;
        }
        if (it->is_move) {
            writer[it->move_to] = writer[it->move_from];
            d -= 1;
            continue;
        }
        if (entries == FEW_ENTRIES)
            return false;
        d -= it->dec;
        uint64_t start = cycle + 1;
        for (uint16_t srcs = it->src; srcs != 0; srcs &= (uint16_t)(srcs - 1)) {
            int w = writer[__builtin_ctz(srcs)];
            if (w >= 0)
                start = max_u64(start, done[w]);
        }
        done[entries] = start + it->lat;
        max_done = max_u64(max_done, done[entries]);
        for (uint16_t dsts = it->dst; dsts != 0; dsts &= (uint16_t)(dsts - 1))
            writer[__builtin_ctz(dsts)] = (int8_t)entries;
        entries++;
        total_need += units_word(it->units);
        if (it->ends_block)
            break;
    }
    uint64_t avail = 0;
    for (unsigned i = 0; i < 5; i++)
        avail |= (uint64_t)unit_start[i] << (8 * i);
    if (!units_fit(avail, total_need))
        return false;
    *cost = cost_of_cycles(max_done + 2);
    return true;
}

/*
 * A block of at most 32 entries never fills the reorder buffer (an entry is
 * decoded with at most 31 older ones live), so every item's decode cycle
 * follows from the decode slots alone and only the starts need simulating:
 * the same cycle loop as simulate(), over entry numbers instead of ring
 * slots. Most blocks are that short (in the nub-cc kernels over 80% of the
 * instructions are in such blocks). Returns false for a longer block.
 */
#define FLAT_ENTRIES 32u

/* (not inlined: its frame would slow down the short blocks' path) */
static __attribute__((noinline)) bool flat_block_cost(const struct pvm_gas_item *items, size_t n,
                                                      uint32_t *cost)
{
    uint64_t ready[FLAT_ENTRIES]; /* first possible start, as far as started producers tell */
    uint64_t need[FLAT_ENTRIES];  /* units, as a units word */
    uint32_t lat[FLAT_ENTRIES];
    uint32_t dependants[FLAT_ENTRIES]; /* entries waiting for this one to start */
    uint8_t pending[FLAT_ENTRIES];     /* producers not started yet */
    int8_t writer[16];
    for (unsigned r = 0; r < 16; r++)
        writer[r] = -1;
    uint32_t known = 0; /* entries whose producers have all started */
    unsigned count = 0;
    uint64_t cycle = 0;
    int d = DECODE_SLOTS;
    for (size_t i = 0; i < n; i++) {
        const struct pvm_gas_item *it = &items[i];
        if (it->dec > d) {
            cycle++;
            d = DECODE_SLOTS;
        }
        if (it->is_move) {
            writer[it->move_to] = writer[it->move_from];
            d -= 1;
            continue;
        }
        if (count == FLAT_ENTRIES)
            return false;
        d -= it->dec;
        unsigned waits = 0;
        int first = -1;
        for (uint16_t srcs = it->src; srcs != 0; srcs &= (uint16_t)(srcs - 1)) {
            int w = writer[__builtin_ctz(srcs)];
            if (w < 0 || w == first)
                continue; /* none, or counted */
            first = w;
            dependants[w] |= 1u << count;
            waits++;
        }
        ready[count] = cycle + 1;
        pending[count] = (uint8_t)waits;
        dependants[count] = 0;
        lat[count] = it->lat;
        need[count] = units_word(it->units);
        if (waits == 0)
            known |= 1u << count;
        for (uint16_t dsts = it->dst; dsts != 0; dsts &= (uint16_t)(dsts - 1))
            writer[__builtin_ctz(dsts)] = (int8_t)count;
        count++;
        if (it->ends_block)
            break;
    }
    uint64_t avail = 0;
    for (unsigned i = 0; i < 5; i++)
        avail |= (uint64_t)unit_start[i] << (8 * i);
    /* entries holding units: release cycle and units */
    uint64_t busy_until[FLAT_ENTRIES];
    uint64_t busy_units[FLAT_ENTRIES];
    unsigned busy_count = 0;
    uint64_t next_release = UINT64_MAX;
    uint64_t max_done = 0;
    uint32_t unstarted = count == 32 ? UINT32_MAX : (1u << count) - 1;
    /* nothing starts before cycle 1; every visited cycle names the next one
     * where a start may happen */
    for (uint64_t c = 1; unstarted != 0;) {
        if (c >= next_release) {
            next_release = UINT64_MAX;
            for (unsigned i = 0; i < busy_count;) {
                if (busy_until[i] <= c) {
                    avail += busy_units[i];
                    busy_count--;
                    busy_until[i] = busy_until[busy_count];
                    busy_units[i] = busy_units[busy_count];
                } else {
                    next_release = min_u64(next_release, busy_until[i]);
                    i++;
                }
            }
        }
        uint64_t next = UINT64_MAX;
        int e = STARTS_PER_CYC;
        /* oldest first; entries made known below are younger and cannot
         * start before c + 1 */
        for (uint32_t k = known; k != 0; k &= k - 1) {
            unsigned s = (unsigned)__builtin_ctz(k);
            if (ready[s] > c) {
                next = min_u64(next, ready[s]);
                continue;
            }
            if (e == 0) {
                next = min_u64(next, c + 1);
                break;
            }
            if (!units_fit(avail, need[s])) {
                next = min_u64(next, next_release); /* waits for units */
                continue;
            }
            uint64_t x_done = c + lat[s];
            known &= ~(1u << s);
            unstarted &= ~(1u << s);
            e--;
            max_done = max_u64(max_done, x_done);
            if (need[s] != 0) {
                avail -= need[s];
                busy_until[busy_count] = x_done;
                busy_units[busy_count++] = need[s];
                next_release = min_u64(next_release, x_done);
            }
            for (uint32_t dm = dependants[s]; dm != 0; dm &= dm - 1) {
                unsigned ds = (unsigned)__builtin_ctz(dm);
                ready[ds] = max_u64(ready[ds], x_done);
                if (--pending[ds] == 0) {
                    known |= 1u << ds;
                    next = min_u64(next, ready[ds]);
                }
            }
        }
        c = next;
    }
    *cost = cost_of_cycles(max_done + 2);
    return true;
}

/*
 * The usual case, in one pass. When no unit, start slot or buffer slot is
 * ever short, every entry starts at x = max(decode cycle + 1, the x + lat
 * of its producers), and that is exactly the loop's schedule: by induction
 * over cycles, if every entry started before cycle c started at its x, the
 * entries ready in c are those with x = c, and they all start in c when
 * the units held in c (by the entries whose [x, x + lat) contains c) fit
 * and at most 5 entries have x = c; oldest-first order does not matter
 * then. So: work out every x (a register's value is ready at its writer's
 * x + lat; move_reg copies that time), then check those two conditions.
 *  - A units: the count held only rises at some entry's x, so checking at
 *    every x covers every cycle. Held at x_j = the A units of the entries
 *    with x_k <= x_j minus those with x_k + lat_k <= x_j (lat >= 1).
 *  - M and D (one each): pairwise between the few entries that take them.
 *  - L and S: an entry taking either also takes an A here (blocks where one
 *    does not go to the loop), so their counts never exceed A's.
 *  - Starts: the entries starting in c that take an A are at most the A
 *    units held in c (<= 4), so with at most one entry taking no A the
 *    limit of 5 holds; otherwise counted as for A, over [x, x + 1).
 * Returns false, leaving the block to the loop, when a check fails. Only
 * for blocks of at most 16 items (pvm_gas_simulate: 9 to 16; the JIT's
 * words_sched_cost: any up to 16): the reorder buffer never fills and every
 * time fits the 16 bits the check counts in (x + lat <= 16 + 1 + 16 * 255).
 */
#define SCHED_ITEMS 16u

/* Per entry, in 16-bit halves: x - 1 and x + lat - 1, the times x_j must
 * pass for the entry to count as started, resp. released. */
static uint32_t sched_bounds(uint32_t lo, uint32_t hi)
{
    return (lo & 0xFFFFu) | hi << 16;
}

/* The thresholds of the start count: [x, x + 1) instead of [x, x + lat). */
static uint32_t sched_start_bounds(uint32_t bounds)
{
    return (bounds & 0xFFFFu) * 0x10001u + 0x10000u;
}

#if defined(__SSE2__)
/* sum over k of w_k * ([x_j > lo_k] - [x_j > hi_k]) <= limit for every
 * entry j (x_j = lo_j + 1; `starts`: hi_k = lo_k + 1, w_k = 1); four
 * entries j per vector, x_j in both lanes 2j and 2j + 1 so that one compare
 * tests lo_k and hi_k. Entries past `count` in the vectors have lo = -1
 * (x = 0: sums 0). */
static inline __attribute__((always_inline)) bool sched_within_lanes(const uint32_t *bounds,
                                                                     const uint32_t *w2,
                                                                     unsigned count, int limit,
                                                                     bool starts, unsigned nv)
{
    __m128i xv[SCHED_ITEMS / 4], sum[SCHED_ITEMS / 4];
    for (unsigned v = 0; v < nv; v++) {
        __m128i lo = _mm_and_si128(_mm_loadu_si128((const __m128i *)(const void *)&bounds[4 * v]),
                                   _mm_set1_epi32(0xFFFF));
        xv[v] = _mm_add_epi16(_mm_or_si128(lo, _mm_slli_epi32(lo, 16)), _mm_set1_epi16(1));
        sum[v] = _mm_setzero_si128();
    }
    for (unsigned k = 0; k < count; k++) {
        uint32_t bk = starts ? sched_start_bounds(bounds[k]) : bounds[k];
        __m128i b = _mm_set1_epi32((int)bk);
        if (w2 != NULL) {
            __m128i w = _mm_set1_epi32((int)w2[k]);
            for (unsigned v = 0; v < nv; v++)
                sum[v] = _mm_add_epi16(sum[v], _mm_and_si128(_mm_cmpgt_epi16(xv[v], b), w));
        } else {
            for (unsigned v = 0; v < nv; v++)
                sum[v] = _mm_sub_epi16(sum[v], _mm_cmpgt_epi16(xv[v], b));
        }
    }
    __m128i over = _mm_setzero_si128(), lim = _mm_set1_epi32(limit);
    for (unsigned v = 0; v < nv; v++) {
        __m128i held = _mm_sub_epi32(_mm_srai_epi32(_mm_slli_epi32(sum[v], 16), 16),
                                     _mm_srai_epi32(sum[v], 16));
        over = _mm_or_si128(over, _mm_cmpgt_epi32(held, lim));
    }
    return _mm_movemask_epi8(over) == 0;
}

static inline __attribute__((always_inline)) bool
sched_within_n(const uint32_t *bounds, const uint32_t *w2, unsigned count, int limit, bool starts)
{
    switch ((count + 3) / 4) {
    case 0:
        return true;
#define SCHED_CASE(nv)                                                                             \
    case nv:                                                                                       \
        return sched_within_lanes(bounds, w2, count, limit, starts, nv);
        SCHED_CASE(1)
        SCHED_CASE(2)
        SCHED_CASE(3)
#undef SCHED_CASE
    default:
        return sched_within_lanes(bounds, w2, count, limit, starts, 4);
    }
}

/* bounds[count..] up to a multiple of 4 may be overwritten. */
static bool sched_within(uint32_t *bounds, const uint32_t *w2, unsigned count, int limit,
                         bool starts)
{
    for (unsigned i = count; i % 4 != 0; i++)
        bounds[i] = 0xFFFF;
    if (starts)
        return sched_within_n(bounds, NULL, count, limit, true);
    return w2 != NULL ? sched_within_n(bounds, w2, count, limit, false)
                      : sched_within_n(bounds, NULL, count, limit, false);
}
#else
/* The same sums one entry at a time (no SSE2: the guest kernel, nub-cc). */
static bool sched_within(uint32_t *bounds, const uint32_t *w2, unsigned count, int limit,
                         bool starts)
{
    for (unsigned j = 0; j < count; j++) {
        int x = (int16_t)(bounds[j] & 0xFFFFu) + 1, held = 0;
        for (unsigned k = 0; k < count; k++) {
            uint32_t bk = starts ? sched_start_bounds(bounds[k]) : bounds[k];
            int w = w2 != NULL ? (int16_t)(w2[k] & 0xFFFFu) : 1;
            held += w * ((x > (int16_t)(bk & 0xFFFFu)) - (x > (int16_t)(bk >> 16)));
        }
        if (held > limit)
            return false;
    }
    return true;
}
#endif

/* What the checks need to know about a block's units, summed over its
 * entries: how many have an A count other than 1 (bits 0-7), none (8-15),
 * take M (16-23), take D (24-31), take L or S without an A (32-39: the
 * checks do not cover those), and their A counts (40-47). */
#define TALLY_A_NOT_1(u) ((uint64_t)(((u)&3u) != 1u))
#define TALLY_NO_A(u)    ((uint64_t)(((u)&3u) == 0u) << 8)
#define TALLY_M(u)       ((uint64_t)(((u) >> 4) & 1u) << 16)
#define TALLY_D(u)       ((uint64_t)(((u) >> 5) & 1u) << 24)
#define TALLY_ODD(u)     ((uint64_t)(((u)&12u) != 0 && ((u)&3u) == 0) << 32)
#define TALLY_A(u)       ((uint64_t)((u)&3u) << 40)
#define TALLY(u)                                                                                   \
    (TALLY_A_NOT_1(u) | TALLY_NO_A(u) | TALLY_M(u) | TALLY_D(u) | TALLY_ODD(u) | TALLY_A(u))
#define TALLY4(u)  TALLY(u), TALLY((u) + 1), TALLY((u) + 2), TALLY((u) + 3)
#define TALLY16(u) TALLY4(u), TALLY4((u) + 4), TALLY4((u) + 8), TALLY4((u) + 12)
static const uint64_t sched_tally[64] = {TALLY16(0), TALLY16(16), TALLY16(32), TALLY16(48)};

/* No two of the entries taking `unit` hold it in the same cycle. */
static bool sched_exclusive(const uint32_t *bounds, const uint8_t *units, unsigned count,
                            unsigned unit)
{
    for (unsigned k = 0; k < count; k++) {
        if ((units[k] & unit) == 0)
            continue;
        int32_t xk = (int32_t)(bounds[k] & 0xFFFFu) + 1, ek = (int32_t)(bounds[k] >> 16) + 1;
        for (unsigned l = k + 1; l < count; l++) {
            int32_t xl = (int32_t)(bounds[l] & 0xFFFFu) + 1, el = (int32_t)(bounds[l] >> 16) + 1;
            if ((units[l] & unit) != 0 && xk < el && xl < ek)
                return false;
        }
    }
    return true;
}

/* The checks of sched_check that need the schedule itself (the two-user
 * M/D exclusions and the A-unit sums), out of line. */
static __attribute__((noinline)) bool sched_check_more(uint32_t *bounds, const uint8_t *units,
                                                       unsigned count, uint64_t tally)
{
    bool few = (tally >> 40) <= 4 && count <= STARTS_PER_CYC;
    if (((tally >> 16) & 0xFF) >= 2 && !sched_exclusive(bounds, units, count, PVM_GAS_UNIT_M))
        return false;
    if (((tally >> 24) & 0xFF) >= 2 && !sched_exclusive(bounds, units, count, PVM_GAS_UNIT_D))
        return false;
    if (!few && (tally & 0xFF) == 0) {
        /* every entry takes one A unit (the common case) */
        if (!sched_within(bounds, NULL, count, 4, false))
            return false;
    } else if (!few) {
        uint32_t a2[SCHED_ITEMS];
        for (unsigned k = 0; k < count; k++)
            a2[k] = (units[k] & 3u) * 0x10001u;
        if (!sched_within(bounds, a2, count, 4, false))
            return false;
        if (((tally >> 8) & 0xFF) >= 2 && !sched_within(bounds, NULL, count, STARTS_PER_CYC, true))
            return false;
    }
    return true;
}

/* The checks of sched_block_cost on the unconstrained schedule of count
 * entries: bounds (sched_bounds) and units per entry, tally the sum of
 * their sched_tally. bounds[count..] up to a multiple of 4 may be
 * overwritten. */
static inline __attribute__((always_inline)) bool
sched_check(uint32_t *bounds, const uint8_t *units, unsigned count, uint64_t tally)
{
    if (((tally >> 32) & 0xFF) != 0)
        return false;
    /* with at most 4 A units in all and at most 5 entries, nothing can be
     * short but M or D, and they cannot with one user each (short blocks:
     * decided here, without the call) */
    if ((tally >> 40) <= 4 && count <= STARTS_PER_CYC && ((tally >> 16) & 0xFF) < 2 &&
        ((tally >> 24) & 0xFF) < 2)
        return true;
    return sched_check_more(bounds, units, count, tally);
}

static bool sched_block_cost(const struct pvm_gas_item *items, size_t n, uint32_t *cost)
{
    if (n > SCHED_ITEMS)
        return false;
    uint32_t bounds[SCHED_ITEMS];
    uint8_t units[SCHED_ITEMS];
    /* per register: when its value is ready (0: before the block); [16]
     * stays 0 (read for no source), [17] takes the writes of no destination */
    uint32_t ready[18] = {0};
    uint64_t tally = 0;
    unsigned count = 0;
    uint32_t cycle = 0, max_done = 0, lat_less_1 = 0, more_regs = 0;
    int d = DECODE_SLOTS;
    for (size_t i = 0; i < n; i++) {
        const struct pvm_gas_item *it = &items[i];
        if (it->dec > d) {
            cycle++;
            d = DECODE_SLOTS;
        }
        if (it->is_move) {
            ready[it->move_to & 15u] = ready[it->move_from & 15u];
            d -= 1;
            continue;
        }
        d -= it->dec;
        uint32_t src = it->src, dst = it->dst;
        uint32_t src1 = src & (src - 1);
        uint32_t r0 = ready[__builtin_ctz(src | 0x10000u)];
        uint32_t r1 = ready[__builtin_ctz(src1 | 0x10000u)];
        uint32_t x = cycle + 1;
        x = r0 > x ? r0 : x;
        x = r1 > x ? r1 : x;
        /* a third source or a second destination (not in the table):
         * the block is refused after the loop, for the caller's exact paths */
        more_regs |= (src1 & (src1 - 1)) | (dst & (dst - 1));
        uint32_t done = x + it->lat;
        ready[__builtin_ctz(dst | 0x20000u)] = done;
        max_done = done > max_done ? done : max_done;
        lat_less_1 |= (uint32_t)it->lat - 1;
        tally += sched_tally[it->units & 63u];
        bounds[count] = sched_bounds(x - 1, done - 1);
        units[count] = it->units;
        count++;
        if (it->ends_block)
            break;
    }
    /* latency 0 (never in the table) is left to the loop */
    if (lat_less_1 > 0xFF || more_regs != 0 || !sched_check(bounds, units, count, tally))
        return false;
    *cost = cost_of_cycles(max_done + 2);
    return true;
}

uint32_t pvm_gas_simulate(const struct pvm_gas_item *items, size_t n)
{
    /* Which path, by length (instruction counts over the nub-cc kernels and
     * the generated benchmark program): few_block_cost is cheapest for the
     * shortest blocks; sched_block_cost's check nearly always fails for
     * kernel blocks longer than 16 items (their memory accesses, each
     * holding an A unit for 25 cycles, overlap), so those go to the loop
     * directly; flat_block_cost gives up on more than 32 entries. */
    uint32_t cost;
    if (n <= FEW_ITEMS) {
        if (few_block_cost(items, n, &cost))
            return cost;
    } else if (n <= SCHED_ITEMS) {
        if (sched_block_cost(items, n, &cost))
            return cost;
    } else if (n > FLAT_ENTRIES + 8) {
        return simulate_array(items, n); /* (few move_reg: over 32 entries) */
    }
    if (flat_block_cost(items, n, &cost))
        return cost;
    return simulate_array(items, n);
}

/* ---- Words (the JIT) ------------------------------------------------------ */

/*
 * The forward pass of sched_block_cost reads register numbers instead of
 * masks: ready[] by index, 0-15 the registers, 16 read for a field that is
 * no source (always 0), 32 written for no destination. Per register kind
 * and code byte 1, reg_index gives the two source indices (bits 0-7: field
 * lo or 16; 8-15: hi or 16), the destination (16-23: lo or 32, or 0 where
 * it is the third field) and 0xF in 24-27 where it is the third field (its
 * index is ORed in: min(byte 2, 12) <= 12).
 */
#define CLAMP_REG(v) ((v) < PVM_NUM_REGS - 1 ? (v) : PVM_NUM_REGS - 1)
#define RI(a, b, d, t)                                                                             \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(d) << 16 | (uint32_t)(t) << 24)
#define REG_INDEX(k, b)                                                                            \
    ((k) == K_W_LO              ? RI(16, 16, CLAMP_REG((b)&15), 0)                                 \
     : (k) == K_R_LO            ? RI(CLAMP_REG((b)&15), 16, 32, 0)                                 \
     : (k) == K_R_LO_HI         ? RI(CLAMP_REG((b)&15), CLAMP_REG((b) >> 4), 32, 0)                \
     : (k) == K_R_HI_W_LO       ? RI(16, CLAMP_REG((b) >> 4), CLAMP_REG((b)&15), 0)                \
     : (k) == K_R_LO_HI_W_THIRD ? RI(CLAMP_REG((b)&15), CLAMP_REG((b) >> 4), 0, 0xF)               \
                                : RI(16, 16, 32, 0))
#define REG_INDEX4(k, b)                                                                           \
    REG_INDEX(k, b), REG_INDEX(k, (b) + 1), REG_INDEX(k, (b) + 2), REG_INDEX(k, (b) + 3)
#define REG_INDEX16(k, b)                                                                          \
    REG_INDEX4(k, b), REG_INDEX4(k, (b) + 4), REG_INDEX4(k, (b) + 8), REG_INDEX4(k, (b) + 12)
#define REG_INDEX64(k, b)                                                                          \
    REG_INDEX16(k, b), REG_INDEX16(k, (b) + 16), REG_INDEX16(k, (b) + 32), REG_INDEX16(k, (b) + 48)
#define REG_INDEX256(k)                                                                            \
    {                                                                                              \
        REG_INDEX64(k, 0), REG_INDEX64(k, 64), REG_INDEX64(k, 128), REG_INDEX64(k, 192)            \
    }
static const uint32_t reg_index[K_COUNT][256] = {
    REG_INDEX256(K_NONE),    REG_INDEX256(K_W_LO),      REG_INDEX256(K_R_LO),
    REG_INDEX256(K_R_LO_HI), REG_INDEX256(K_R_HI_W_LO), REG_INDEX256(K_R_LO_HI_W_THIRD),
};
_Static_assert(K_COUNT <= 16, "the register kind is the shape's low nibble");

/* reg_index[kind][byte 1] of a word: its bits 8-19. A word from
 * pvm_gas_word has a kind below K_COUNT; any other word reads the table's
 * last entry, never past it. */
#define REG_INDEX_LAST (K_COUNT * 256u - 1u)
static inline uint32_t reg_index_of_word(uint32_t w)
{
    uint32_t at = (w >> 8) & 0xFFFu;
    return (&reg_index[0][0])[at < REG_INDEX_LAST ? at : REG_INDEX_LAST];
}

/* sched_block_cost on the items of words[0..n) without building them
 * (the same schedule and checks; a move's fields are its lo and hi). Every
 * row but move_reg's has a latency of at least 1 (test_isa). */
static inline __attribute__((always_inline)) bool words_sched_cost(const uint32_t *words, size_t n,
                                                                   uint32_t *cost)
{
    uint32_t bounds[SCHED_ITEMS];
    uint8_t units[SCHED_ITEMS];
    uint32_t ready[33];
    for (unsigned r = 0; r < 17; r++)
        ready[r] = 0;
    uint64_t tally = 0;
    unsigned count = 0;
    uint32_t cycle = 0, max_done = 0;
    int d = DECODE_SLOTS;
    for (const uint32_t *wp = words, *end = words + n; wp != end; wp++) {
        uint32_t w = *wp;
        const struct pvm_gas_row *row = &pvm_gas_rows[w & 0xFFu];
        uint32_t shape = row->shape;
        uint32_t ri = reg_index_of_word(w);
        uint32_t ia = ri & 0xFFu, ib = (ri >> 8) & 0xFFu;
        uint32_t id = ((ri >> 16) & 0xFFu) | ((w >> 20) & (ri >> 24));
        int dec = row->dec_other;
        if (((shape & 0x10) != 0 && ia == id) || ((shape & 0x20) != 0 && ib == id))
            dec = row->dec_match;
        if (dec > d) {
            cycle++;
            d = DECODE_SLOTS;
        }
        if (row->is_move) {
            ready[id] = ready[ib]; /* (move_reg: K_R_HI_W_LO) */
            d -= 1;
            continue;
        }
        d -= dec;
        uint32_t x = cycle + 1, ra = ready[ia], rb = ready[ib];
        x = ra > x ? ra : x;
        x = rb > x ? rb : x;
        uint32_t done = x + (row->lat & (w >> 24));
        ready[id] = done;
        max_done = done > max_done ? done : max_done;
        tally += sched_tally[row->units & 63u];
        bounds[count] = sched_bounds(x - 1, done - 1);
        units[count] = row->units;
        count++;
    }
    if (!sched_check(bounds, units, count, tally))
        return false;
    *cost = cost_of_cycles(max_done + 2);
    return true;
}

/* The blocks words_sched_cost leaves, as items, by pvm_gas_simulate's
 * paths for longer blocks. */
static __attribute__((noinline)) uint32_t words_cost_by_items(const uint32_t *words, size_t n)
{
    uint32_t cost;
    if (n <= FLAT_ENTRIES + 8) {
        struct pvm_gas_item items[FLAT_ENTRIES + 8];
        for (size_t i = 0; i < n; i++)
            pvm_gas_item_of_word(words[i], i + 1 == n, &items[i]);
        if (flat_block_cost(items, n, &cost))
            return cost;
        return simulate_array(items, n);
    }
    struct item_source s = {.words = words, .count = n};
    return simulate(&s, next_from_words);
}

uint32_t pvm_gas_words_cost(const uint32_t *words, size_t n)
{
    /* One instruction (it ends the block, so it is no move): decoded in
     * cycle 0, started in 1 with nothing to wait for and units to spare,
     * cycles = 1 + lat + 2, cost = max(lat, 1). */
    if (n == 1) {
        uint32_t lat = pvm_gas_rows[words[0] & 0xFFu].lat & (words[0] >> 24);
        return lat > 1 ? lat : 1;
    }
    /* The one pass prices blocks of up to SCHED_ITEMS instructions whose
     * unconstrained schedule is the loop's (it accepts every block
     * few_block_cost does). */
    uint32_t cost;
    if (n <= SCHED_ITEMS && words_sched_cost(words, n, &cost))
        return cost;
    return words_cost_by_items(words, n);
}

/* ---- Batches (the JIT's short blocks, eight at a time) --------------------- */

/*
 * What an entry adds to its lane's tally in the batch pass, one count per
 * field: entries (bits 0-4), A units (5-10), entries whose A count is not 1
 * (11-15), M users (16-20), D users (21-25), L or S users without an A
 * (26-30). A step adds them all at once.
 */
_Static_assert(PVM_GAS_BATCH_WORDS <= 16, "the tally's counts have 5 bits (6 for A)");
static uint32_t batch_tally_of(uint8_t units)
{
    uint32_t a = units & 3u;
    bool odd = (units & 12u) != 0 && a == 0;
    return 1u | a << 5 | (uint32_t)(a != 1u) << 11 | ((units >> 4) & 1u) << 16 |
           ((units >> 5) & 1u) << 21 | (uint32_t)odd << 26;
}

/* op_info per opcode: the row's lat (bits 0-7), dec_other (8-10) and
 * dec_match (12-14; every row decodes in at most DECODE_SLOTS), whether
 * source hi (29) and source lo (30) meeting the destination select
 * dec_match (the shape's bits 5 and 4), and is_move (31). */
void pvm_gas_batch_init(struct pvm_gas_batch *b)
{
    pvm_memset(b, 0, sizeof(*b));
    if (!pvm_gas_batch_has_vector())
        return; /* only the lanes-at-once pass reads the tables */
    for (unsigned op = 0; op < 256; op++) {
        const struct pvm_gas_row *row = &pvm_gas_rows[op];
        b->op_info[op] = row->lat | (uint32_t)(row->dec_other & 7u) << 8 |
                         (uint32_t)(row->dec_match & 7u) << 12 |
                         (uint32_t)((row->shape >> 5) & 1u) << 29 |
                         (uint32_t)((row->shape >> 4) & 1u) << 30 | (uint32_t)row->is_move << 31;
        b->op_tally[op] = batch_tally_of(row->units);
    }
    b->has_tables = true;
}

/* Lane l's block as a run of words, priced alone. */
static uint32_t batch_lane_cost(const struct pvm_gas_batch *b, unsigned l)
{
    uint32_t words[PVM_GAS_BATCH_WORDS];
    uint32_t n = b->count[l] < PVM_GAS_BATCH_WORDS ? b->count[l] : PVM_GAS_BATCH_WORDS;
    for (uint32_t s = 0; s < n; s++)
        words[s] = b->words[s][l];
    return pvm_gas_words_cost(words, n);
}

#if defined(GAS_BATCH_VECTOR)
/*
 * words_sched_cost for eight blocks at once, one block per 32-bit lane of
 * a 256-bit vector, in two passes over the steps (step s: word s of every
 * block). A lane past its block's end goes on with the words in its slots
 * (initialised, not its block's): their times stay in the lane's own
 * column of ready[], and nothing taken from them is used, as the tally,
 * the finish times and the bounds take entries (is_entry) only.
 *  - batch_decode reads the tables by gathers (the batch's op_info and
 *    op_tally by opcode, reg_index by the word's kind and byte 1) and
 *    works out each step's decode cycle, register rows and latency.
 *    Nothing in it waits for an earlier step but the decode slots, so the
 *    CPU overlaps the steps' gathers.
 *  - batch_times then runs the one chain of the model: an entry starts at
 *    x = max(cycle + 1, ready[a], ready[b]) and is done at x + lat. The
 *    ready times are kept per register and lane (ready[r * 8 + l]), read by
 *    gathers and written back with one scalar store per lane (AVX2 has no
 *    scatter; each lane writes its own row). A move reads the zero row and
 *    its source and starts at 0 with latency 0, so its time is its
 *    source's, as in words_sched_cost.
 *
 * A lane is accepted on sched_check's common answers: no L or S without an
 * A, at most one M and one D user, and either at most 4 A units and 5
 * entries in all, or every entry taking exactly one A and no cycle where
 * more than 4 are held (the sums of sched_within, with the entries of
 * eight lanes compared at once). Any other lane is priced alone
 * (pvm_gas_words_cost), which gives the same cost by every path.
 */
_Static_assert(PVM_GAS_BATCH_LANES == 8, "one lane per 32-bit element of a 256-bit vector");

#define BATCH_READY_ROWS 33u /* reg_index: sources 0-16, destinations 0-12 and 32 */
#define AVX2             __attribute__((target("avx2")))
#define AVX2_INLINE      static inline __attribute__((always_inline, target("avx2")))

struct batch_lanes {
    __m256i n, cycle, d, tally, max_done;
    _Alignas(32) uint32_t ready[BATCH_READY_ROWS * 8];
    /* per step and lane, from batch_decode: */
    _Alignas(32) uint32_t src_a[PVM_GAS_BATCH_WORDS][8]; /* ready[] index of each source */
    _Alignas(32) uint32_t src_b[PVM_GAS_BATCH_WORDS][8];
    _Alignas(32) uint32_t dst[PVM_GAS_BATCH_WORDS][8];   /* and of the destination */
    _Alignas(32) uint32_t first[PVM_GAS_BATCH_WORDS][8]; /* earliest start: cycle + 1 (move: 0) */
    _Alignas(32) uint32_t lat[PVM_GAS_BATCH_WORDS][8];
    _Alignas(32) uint32_t entry[PVM_GAS_BATCH_WORDS][8]; /* all ones: an entry */
    /* from batch_times: sched_bounds (lo = hi = 0 holds nothing) */
    _Alignas(32) uint32_t bounds[PVM_GAS_BATCH_WORDS][8];
};

#define LOAD(p)      _mm256_load_si256((const __m256i *)(const void *)(p))
#define STORE(p, v)  _mm256_store_si256((__m256i *)(void *)(p), (v))
#define SPLAT(v)     _mm256_set1_epi32((int)(v))
#define LANE_INDEX() _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)

AVX2_INLINE void batch_start(struct batch_lanes *h, const uint32_t *count)
{
    const __m256i zero = _mm256_setzero_si256();
    for (unsigned r = 0; r < 17; r++)
        STORE(&h->ready[r * 8], zero);
    h->n = _mm256_loadu_si256((const __m256i *)(const void *)count);
    h->cycle = h->tally = h->max_done = zero;
    h->d = SPLAT(DECODE_SLOTS);
}

/* Step s of the batch: what batch_times needs, and the tally. */
AVX2_INLINE void batch_decode(struct batch_lanes *h, const struct pvm_gas_batch *b, unsigned s)
{
    const __m256i one = SPLAT(1), ff = SPLAT(0xFF), lane = LANE_INDEX();
    __m256i active = _mm256_cmpgt_epi32(h->n, SPLAT(s));
    __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)b->words[s]);
    __m256i op = _mm256_and_si256(w, ff);
    __m256i info = _mm256_i32gather_epi32((const int *)(const void *)b->op_info, op, 4);
    __m256i t = _mm256_i32gather_epi32((const int *)(const void *)b->op_tally, op, 4);
    /* reg_index_of_word: the word's bits 8-19 (kind and byte 1) */
    __m256i at = _mm256_min_epu32(_mm256_and_si256(_mm256_srli_epi32(w, 8), SPLAT(0xFFF)),
                                  SPLAT(REG_INDEX_LAST));
    __m256i ri = _mm256_i32gather_epi32((const int *)(const void *)reg_index, at, 4);
    __m256i ia = _mm256_and_si256(ri, ff), ib = _mm256_and_si256(_mm256_srli_epi32(ri, 8), ff);
    /* the third field (bits 20-23) where ri's top byte is 0xF */
    __m256i id =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(ri, 16), ff),
                        _mm256_and_si256(_mm256_srli_epi32(w, 20), _mm256_srli_epi32(ri, 24)));
    /* which sources meeting the destination select dec_match (op_info
     * bits 30, 29) as lane masks */
    __m256i lo_counts = _mm256_srai_epi32(_mm256_slli_epi32(info, 1), 31);
    __m256i hi_counts = _mm256_srai_epi32(_mm256_slli_epi32(info, 2), 31);
    __m256i match = _mm256_or_si256(_mm256_and_si256(_mm256_cmpeq_epi32(ia, id), lo_counts),
                                    _mm256_and_si256(_mm256_cmpeq_epi32(ib, id), hi_counts));
    /* dec_other (bits 8-10), or dec_match (12-14) where the match holds */
    __m256i dec = _mm256_and_si256(
        _mm256_srlv_epi32(info, _mm256_add_epi32(_mm256_and_si256(match, SPLAT(4)), SPLAT(8))),
        SPLAT(7));
    /* decode: a lane whose slots run out starts the next cycle */
    __m256i over = _mm256_cmpgt_epi32(dec, h->d);
    h->cycle = _mm256_sub_epi32(h->cycle, over);
    h->d = _mm256_sub_epi32(_mm256_blendv_epi8(h->d, SPLAT(DECODE_SLOTS), over), dec);
    __m256i is_move = _mm256_srai_epi32(info, 31);
    __m256i is_entry = _mm256_andnot_si256(is_move, active);
    STORE(h->src_a[s], _mm256_add_epi32(_mm256_slli_epi32(ia, 3), lane));
    STORE(h->src_b[s], _mm256_add_epi32(_mm256_slli_epi32(ib, 3), lane));
    STORE(h->dst[s], _mm256_add_epi32(_mm256_slli_epi32(id, 3), lane));
    STORE(h->first[s], _mm256_andnot_si256(is_move, _mm256_add_epi32(h->cycle, one)));
    /* the row's latency (bits 0-7) ANDed with the word's byte 3 */
    STORE(h->lat[s], _mm256_and_si256(info, _mm256_srli_epi32(w, 24)));
    STORE(h->entry[s], is_entry);
    h->tally = _mm256_add_epi32(h->tally, _mm256_and_si256(t, is_entry));
}

/* The chain: every step's start and finish times, in order. */
AVX2_INLINE void batch_times(struct batch_lanes *h, unsigned steps)
{
    const __m256i one = SPLAT(1);
    __m256i max_done = h->max_done;
    for (unsigned s = 0; s < steps; s++) {
        const int *ready = (const int *)(const void *)h->ready;
        __m256i ra = _mm256_i32gather_epi32(ready, LOAD(h->src_a[s]), 4);
        __m256i rb = _mm256_i32gather_epi32(ready, LOAD(h->src_b[s]), 4);
        __m256i x = _mm256_max_epi32(LOAD(h->first[s]), _mm256_max_epi32(ra, rb));
        __m256i done = _mm256_add_epi32(x, LOAD(h->lat[s]));
        _Alignas(32) uint32_t value[8];
        STORE(value, done);
        for (unsigned l = 0; l < 8; l++)
            h->ready[h->dst[s][l]] = value[l];
        __m256i e = LOAD(h->entry[s]);
        max_done = _mm256_max_epi32(max_done, _mm256_and_si256(done, e));
        /* an entry holds its units over [x, done): sched_bounds(x - 1,
         * done - 1) (16-bit halves: every time is below 16 + 1 + 16 * 255) */
        __m256i lo_hi = _mm256_or_si256(_mm256_sub_epi32(x, one),
                                        _mm256_slli_epi32(_mm256_sub_epi32(done, one), 16));
        STORE(h->bounds[s], _mm256_and_si256(lo_hi, e));
    }
    h->max_done = max_done;
}

/* A tally field (bits at..at+width) of every lane. */
AVX2_INLINE __m256i tally_field(__m256i tally, int at, unsigned width)
{
    return _mm256_and_si256(_mm256_srl_epi32(tally, _mm_cvtsi32_si128(at)),
                            SPLAT((1u << width) - 1));
}

/*
 * The lanes where some entry starts (x_j = lo_j + 1) while more than 4
 * entries hold their A unit: held_j = #{k : lo_k < x_j} - #{k : hi_k <
 * x_j}. Entries only (others have lo = hi = 0 and count for nothing).
 * held_over4_halves compares x_j with lo_k and hi_k at once, as 16-bit
 * halves; held_over4_bytes, for times below 128, compares with two
 * entries' lo and hi at once, as bytes.
 */
AVX2_INLINE __m256i held_over4_halves(const struct batch_lanes *h, unsigned steps)
{
    const __m256i zero = _mm256_setzero_si256(), four = SPLAT(4), low = SPLAT(0xFFFF);
    __m256i over4 = zero;
    for (unsigned j = 0; j < steps; j++) {
        __m256i lo_j = _mm256_and_si256(LOAD(h->bounds[j]), low);
        __m256i xj = _mm256_add_epi16(_mm256_or_si256(lo_j, _mm256_slli_epi32(lo_j, 16)),
                                      _mm256_set1_epi16(1));
        __m256i sum = zero;
        for (unsigned k = 0; k < steps; k++)
            sum = _mm256_sub_epi16(sum, _mm256_cmpgt_epi16(xj, LOAD(h->bounds[k])));
        __m256i held = _mm256_sub_epi32(_mm256_srai_epi32(_mm256_slli_epi32(sum, 16), 16),
                                        _mm256_srai_epi32(sum, 16));
        over4 = _mm256_or_si256(
            over4, _mm256_and_si256(_mm256_cmpgt_epi32(held, four), LOAD(h->entry[j])));
    }
    return over4;
}

AVX2_INLINE __m256i held_over4_bytes(const struct batch_lanes *h, unsigned steps)
{
    const __m256i zero = _mm256_setzero_si256(), four = SPLAT(4);
    /* pairs[q]: bytes lo, hi of entry 2q, then of entry 2q + 1 (a missing
     * last one: 0, 0) */
    __m256i pairs[PVM_GAS_BATCH_WORDS / 2];
    unsigned n_pairs = (steps + 1) / 2;
    for (unsigned q = 0; q < n_pairs; q++) {
        __m256i even = LOAD(h->bounds[2 * q]);
        __m256i odd = 2 * q + 1 < steps ? LOAD(h->bounds[2 * q + 1]) : zero;
        /* lo | hi << 16 -> lo | hi << 8 (both below 128) */
        even = _mm256_and_si256(_mm256_or_si256(even, _mm256_srli_epi32(even, 8)), SPLAT(0xFFFF));
        odd = _mm256_slli_epi32(_mm256_or_si256(odd, _mm256_srli_epi32(odd, 8)), 16);
        pairs[q] = _mm256_or_si256(even, odd);
    }
    /* byte 0 of each lane into all four */
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12, 0,
                                            0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12);
    /* held = b0 - b1 + b2 - b3 of the counts */
    const __m256i signs = _mm256_set1_epi16((short)0xFF01), ones = _mm256_set1_epi16(1);
    __m256i over4 = zero;
    for (unsigned j = 0; j < steps; j++) {
        __m256i xj =
            _mm256_add_epi8(_mm256_shuffle_epi8(LOAD(h->bounds[j]), spread), _mm256_set1_epi8(1));
        __m256i sum = zero;
        for (unsigned q = 0; q < n_pairs; q++)
            sum = _mm256_sub_epi8(sum, _mm256_cmpgt_epi8(xj, pairs[q]));
        __m256i held = _mm256_madd_epi16(_mm256_maddubs_epi16(sum, signs), ones);
        over4 = _mm256_or_si256(
            over4, _mm256_and_si256(_mm256_cmpgt_epi32(held, four), LOAD(h->entry[j])));
    }
    return over4;
}

/* The eight lanes' costs (count: their lengths); returns the lanes it
 * refuses, as a bit mask. */
AVX2_INLINE unsigned batch_finish(const struct batch_lanes *h, const uint32_t *count,
                                  unsigned steps, uint32_t *costs)
{
    const __m256i zero = _mm256_setzero_si256(), one = SPLAT(1), two = SPLAT(2);
    __m256i entries = tally_field(h->tally, 0, 5), a_sum = tally_field(h->tally, 5, 6);
    __m256i a_not_1 = tally_field(h->tally, 11, 5), m_users = tally_field(h->tally, 16, 5);
    __m256i d_users = tally_field(h->tally, 21, 5), odd = tally_field(h->tally, 26, 5);
    __m256i common = _mm256_and_si256(
        _mm256_cmpeq_epi32(odd, zero),
        _mm256_and_si256(_mm256_cmpgt_epi32(two, m_users), _mm256_cmpgt_epi32(two, d_users)));
    __m256i few = _mm256_and_si256(_mm256_cmpgt_epi32(SPLAT(5), a_sum),
                                   _mm256_cmpgt_epi32(SPLAT(6), entries));
    __m256i accept = _mm256_and_si256(common, few);
    __m256i need =
        _mm256_and_si256(_mm256_cmpeq_epi32(a_not_1, zero), _mm256_andnot_si256(few, common));
    if (!_mm256_testz_si256(need, need)) {
        /* the byte pass where every lane that needs the check keeps its
         * times below 128 (signed bytes) */
        __m256i wide = _mm256_and_si256(need, _mm256_cmpgt_epi32(h->max_done, SPLAT(127)));
        __m256i over4 = _mm256_testz_si256(wide, wide) ? held_over4_bytes(h, steps)
                                                       : held_over4_halves(h, steps);
        accept = _mm256_or_si256(accept, _mm256_andnot_si256(over4, need));
    }
    /* cost = max(cycles - 3, 1) with cycles = max_done + 2 */
    _Alignas(32) uint32_t out[8];
    STORE(out, _mm256_max_epi32(_mm256_sub_epi32(h->max_done, one), one));
    unsigned accepted = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(accept)), refused = 0;
    for (unsigned l = 0; l < 8; l++) {
        if (count[l] == 0)
            costs[l] = 0;
        else if ((accepted >> l) & 1u)
            costs[l] = out[l];
        else
            refused |= 1u << l;
    }
    return refused;
}

/* Returns the lanes refused, as a bit mask. */
AVX2 static unsigned batch_vector(const struct pvm_gas_batch *b, uint32_t *costs)
{
    struct batch_lanes h;
    unsigned steps = 0;
    for (unsigned l = 0; l < PVM_GAS_BATCH_LANES; l++)
        steps = b->count[l] > steps ? b->count[l] : steps;
    if (steps > PVM_GAS_BATCH_WORDS)
        steps = PVM_GAS_BATCH_WORDS;
    batch_start(&h, b->count);
    for (unsigned s = 0; s < steps; s++)
        batch_decode(&h, b, s);
    batch_times(&h, steps);
    return batch_finish(&h, b->count, steps, costs);
}

bool pvm_gas_batch_has_vector(void)
{
    /* (the init is for calls from constructors, which may run before
     * libgcc's own; after the first call it only tests a field) */
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}
#else
bool pvm_gas_batch_has_vector(void)
{
    return false;
}
#endif

void pvm_gas_batch_costs(const struct pvm_gas_batch *b, bool vector,
                         uint32_t costs[PVM_GAS_BATCH_LANES])
{
    unsigned alone = (1u << PVM_GAS_BATCH_LANES) - 1;
#if defined(GAS_BATCH_VECTOR)
    if (vector && b->has_tables)
        alone = batch_vector(b, costs);
#else
    (void)vector;
#endif
    for (unsigned l = 0; l < PVM_GAS_BATCH_LANES; l++) {
        if ((alone >> l) & 1u)
            costs[l] = b->count[l] != 0 ? batch_lane_cost(b, l) : 0;
    }
}

/* ---- Models --------------------------------------------------------------- */

/* GP 0.7.2: table gas from pc up to and including the first terminator, plus
 * the implicit trap if the walk reaches code_len. */
static uint32_t per_instruction_cost(const struct pvm_program *p, uint32_t pc)
{
    uint64_t cost = 0;
    for (;;) {
        if (pc >= p->code_len) {
            cost += pvm_opcode_table[PVM_OP_trap].gas;
            break;
        }
        uint8_t op = pvm_program_opcode(p, pc);
        cost += pvm_opcode_table[op].gas;
        if (pvm_opcode_table[op].is_terminator)
            break;
        pc = pc + 1 + pvm_program_skip(p, pc);
    }
    return cost > UINT32_MAX ? UINT32_MAX : (uint32_t)cost;
}

/* Items kept on the stack for flat_block_cost (a few more than its entries:
 * move_reg items take none). */
#define BLOCK_ITEMS_KEPT 40u

uint32_t pvm_gas_block_cost(const struct pvm_program *p, uint32_t start)
{
    if (start >= p->code_len)
        return p->isa->end_block_cost;
    if (p->isa->gas_model == PVM_GAS_PER_INSTRUCTION)
        return per_instruction_cost(p, start);
    /* a short block: its items in a small array, for the fast path */
    struct pvm_gas_item items[BLOCK_ITEMS_KEPT];
    struct item_source s = {.p = p, .pc = start};
    size_t n = 0;
    while (n < BLOCK_ITEMS_KEPT && next_from_program(&s, &items[n]))
        if (items[n++].ends_block)
            return pvm_gas_simulate(items, n);
    s = (struct item_source){.p = p, .pc = start};
    return simulate(&s, next_from_program);
}

uint32_t pvm_gas_entry_cost(const struct pvm_program *p, uint32_t pc)
{
    if (pc >= p->code_len)
        return p->isa->end_block_cost;
    if (p->isa->gas_model == PVM_GAS_PER_INSTRUCTION)
        return per_instruction_cost(p, pc);
    uint32_t start = pc;
    while (start > 0 && !pvm_program_is_block_start(p, start))
        start--;
    return pvm_gas_block_cost(p, start);
}

static void put_cost(void *base, size_t stride, uint32_t pc, uint32_t cost)
{
    pvm_memcpy((uint8_t *)base + (size_t)pc * stride, &cost, sizeof(cost));
}

void pvm_gas_fill_entry_costs(const struct pvm_program *p, void *base, size_t stride)
{
    uint32_t c = p->code_len;
    put_cost(base, stride, c, p->isa->end_block_cost);
    if (p->isa->gas_model == PVM_GAS_PER_INSTRUCTION) {
        /* Backwards: a terminator (or trap) ends its block, anything else
         * adds its gas to what follows it. */
        for (uint32_t pc = c; pc-- > 0;) {
            uint8_t op = pvm_program_opcode(p, pc);
            uint32_t cost = pvm_opcode_table[op].gas;
            if (!pvm_opcode_table[op].is_terminator) {
                uint32_t next = pc + 1 + pvm_program_skip(p, pc);
                uint32_t rest;
                pvm_memcpy(&rest, (uint8_t *)base + (size_t)(next < c ? next : c) * stride,
                           sizeof(rest));
                cost = rest > UINT32_MAX - cost ? UINT32_MAX : rest + cost;
            }
            put_cost(base, stride, pc, cost);
        }
        return;
    }
    uint32_t cost = p->isa->end_block_cost;
    for (uint32_t pc = 0; pc < c; pc++) {
        if (pvm_program_is_block_start(p, pc))
            cost = pvm_gas_block_cost(p, pc);
        put_cost(base, stride, pc, cost);
    }
}
