/*
 * pvm_gas.c — block costs (see pvm_gas.h): GP 0.7.2's instruction counts and
 * GP 0.8.0's pipeline model (SPEC-0.8.md §3).
 */
#include "pvm_gas.h"

#include "pvm_util.h"

/* ---- Per-instruction table (SPEC-0.8.md §3.3) --------------------------- */

/* units: A count in bits 0-1, then one bit each for L, S, M, D */
#define U_A1 1u
#define U_A2 2u
#define U_L  4u
#define U_S  8u
#define U_M  16u
#define U_D  32u
static const uint8_t unit_start[5] = {4, 4, 4, 1, 1}; /* A, L, S, M, D */

#define LAT_MEM      0xFE /* memory latency (25) */
#define LAT_BRANCH   0xFF /* 1 or 20, from the bytes at both successors */
#define MEM_LATENCY  25u
#define BRANCH_CHEAP 1u
#define BRANCH_DEAR  20u

enum dec_sel { DEC_FIXED = 0, DEC_P = 1, DEC_PS = 2 };

/* Which decoded register fields an instruction reads and writes (§3.1). */
enum role {
    ROLE_NONE = 0,
    ROLE_W_A,  /* dst {ra} */
    ROLE_R_A,  /* src {ra} */
    ROLE_R_AB, /* src {ra, rb} */
    ROLE_F8,   /* src {ra} (high nibble), dst {rd} (low nibble) */
    ROLE_B_A,  /* src {rb}, dst {ra}: F9 arithmetic and loads, F11 */
    ROLE_F12,  /* src {ra, rb}, dst {rd} */
};

struct cost_row {
    uint8_t lat;
    uint8_t dec_a, dec_b; /* DEC_P/PS: a when the selector holds, else b */
    uint8_t sel;          /* enum dec_sel */
    uint8_t units;
    uint8_t role;  /* enum role */
    uint8_t known; /* 0: not an instruction; priced as trap */
};

#define ROW(l, a, b, s, u, r)                                                                      \
    {                                                                                              \
        .lat = l, .dec_a = a, .dec_b = b, .sel = s, .units = u, .role = r, .known = 1              \
    }
#define FIXED(l, d, u, r) ROW(l, d, d, DEC_FIXED, u, r)
#define OP(name)          [PVM_OP_##name]
#define OPS(first, last)  [PVM_OP_##first... PVM_OP_##last]

static const struct cost_row cost_table[256] = {
    OP(move_reg) = FIXED(0, 1, 0, ROLE_F8),
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
};

static uint16_t bit(unsigned r)
{
    return (uint16_t)(1u << r);
}

/* The byte at `at` of the zero-extended code is trap or unlikely. */
static bool cheap_successor(const struct pvm_program *p, int64_t at)
{
    if (at < 0 || at >= (int64_t)p->code_len)
        return true; /* reads 0 = trap (SPEC-0.8.md §3.1, §8 item 6) */
    uint8_t op = p->isa->opcode_of[p->code[at]];
    return op == PVM_OP_trap || op == PVM_OP_unlikely;
}

void pvm_gas_item_trap(struct pvm_gas_item *out)
{
    *out = (struct pvm_gas_item){.lat = 2, .dec = 1, .ends_block = true};
}

void pvm_gas_item_of(const struct pvm_program *p, const struct pvm_insn *in,
                     struct pvm_gas_item *out)
{
    const struct cost_row *row = &cost_table[in->opcode];
    if (!row->known) {
        pvm_gas_item_trap(out);
        return;
    }
    uint16_t src = 0, dst = 0;
    switch (row->role) {
    case ROLE_W_A:
        dst = bit(in->ra);
        break;
    case ROLE_R_A:
        src = bit(in->ra);
        break;
    case ROLE_R_AB:
        src = bit(in->ra) | bit(in->rb);
        break;
    case ROLE_F8:
        src = bit(in->ra);
        dst = bit(in->rd);
        break;
    case ROLE_B_A:
        src = bit(in->rb);
        dst = bit(in->ra);
        break;
    case ROLE_F12:
        src = bit(in->ra) | bit(in->rb);
        dst = bit(in->rd);
        break;
    default:
        break;
    }
    uint8_t dec = row->dec_b;
    if ((row->sel == DEC_P && (src & dst) != 0) || (row->sel == DEC_PS && in->ra == in->rd))
        dec = row->dec_a;
    unsigned lat = row->lat;
    if (lat == LAT_MEM) {
        lat = MEM_LATENCY;
    } else if (lat == LAT_BRANCH) {
        bool cheap = cheap_successor(p, (int64_t)in->next_pc) || cheap_successor(p, in->target);
        lat = cheap ? BRANCH_CHEAP : BRANCH_DEAR;
    }
    *out = (struct pvm_gas_item){
        .src = src,
        .dst = dst,
        .lat = (uint8_t)lat,
        .dec = dec,
        .units = row->units,
        .is_move = in->opcode == PVM_OP_move_reg,
        .ends_block = pvm_opcode_table[in->opcode].is_terminator,
        .move_to = in->rd,
        .move_from = in->ra,
    };
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

struct rob_entry {
    uint64_t start; /* cycle, or NOT_STARTED */
    uint64_t ready; /* first cycle it may start, as far as started producers tell */
    uint32_t lat;
    uint32_t dependants; /* ring slots of live entries waiting for this one */
    uint8_t units;
    uint8_t pending; /* producers not started yet */
};

/* Where the simulation takes its instructions from. */
struct item_source {
    const struct pvm_gas_item *items; /* array source */
    size_t count, at;
    const struct pvm_program *p; /* program source */
    uint64_t pc;
    bool done;
};

/* Free units as one word, a byte per kind (A, L, S, M, D in bytes 0-4):
 * checking, taking and giving back are a subtraction or addition. */
#define UNITS_GUARD 0x8080808080ull

static uint64_t units_word(uint8_t u)
{
    return (uint64_t)(u & 3u) | (uint64_t)((u >> 2) & 1u) << 8 | (uint64_t)((u >> 3) & 1u) << 16 |
           (uint64_t)((u >> 4) & 1u) << 24 | (uint64_t)((u >> 5) & 1u) << 32;
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

/* cost = max(cycles - 3, 1) */
static uint32_t cost_of_cycles(uint64_t cycles)
{
    return cycles > 4 ? (uint32_t)(cycles - 3 > UINT32_MAX ? UINT32_MAX : cycles - 3) : 1;
}

static bool next_from_array(struct item_source *s, struct pvm_gas_item *out);
static bool next_from_program(struct item_source *s, struct pvm_gas_item *out);

/* Inlined into one copy per source kind, so the next() call is direct. */
static inline __attribute__((always_inline)) uint32_t
simulate(struct item_source *src, bool (*next_item)(struct item_source *, struct pvm_gas_item *))
{
    struct rob_entry rob[ROB_SIZE];
    uint64_t writer[PVM_NUM_REGS];
    for (unsigned r = 0; r < PVM_NUM_REGS; r++)
        writer[r] = NO_WRITER;
    uint64_t head = 0, tail = 0; /* live entries: sequence numbers [head, tail) */
    uint64_t last_retire = 0;    /* R of the last retired entry */
    uint64_t max_done = 0;       /* max(x + L) over started entries */
    /* entries holding units: release cycle and units */
    uint64_t busy_until[ROB_SIZE];
    uint64_t busy_units[ROB_SIZE];
    unsigned busy_count = 0;
    /* unstarted entries: those whose producers have all started (ring-slot
     * bits), and how many there are in all */
    uint32_t known = 0;
    unsigned unstarted = 0;
    uint64_t avail = 0;
    for (unsigned i = 0; i < 5; i++)
        avail |= (uint64_t)unit_start[i] << (8 * i);
    struct pvm_gas_item cur;
    bool have = next_item(src, &cur);

    for (uint64_t c = 0;;) {
        /* retirements at the end of earlier cycles free buffer slots */
        while (head < tail && c > 0 && rob[head % ROB_SIZE].start != NOT_STARTED) {
            const struct rob_entry *h = &rob[head % ROB_SIZE];
            uint64_t r = max_u64(last_retire, h->start + h->lat + 1);
            if (r > c - 1)
                break;
            last_retire = r;
            head++;
        }
        /* units whose latency has passed */
        uint64_t next_release = UINT64_MAX;
        for (unsigned i = 0; i < busy_count;) {
            if (busy_until[i] <= c) {
                avail += busy_units[i];
                busy_count--;
                busy_until[i] = busy_until[busy_count];
                busy_units[i] = busy_units[busy_count];
            } else {
                if (busy_until[i] < next_release)
                    next_release = busy_until[i];
                i++;
            }
        }
        /* 1. decode */
        int d = DECODE_SLOTS;
        while (have && cur.dec <= d && tail - head < ROB_SIZE) {
            if (cur.is_move) {
                writer[cur.move_to] = writer[cur.move_from];
                d -= 1;
                have = next_item(src, &cur);
                continue;
            }
            struct rob_entry *n = &rob[tail % ROB_SIZE];
            n->start = NOT_STARTED;
            n->ready = c + 1;
            n->lat = cur.lat;
            n->units = cur.units;
            n->pending = 0;
            n->dependants = 0;
            uint16_t srcs = cur.src;
            uint64_t producers[2];
            unsigned nprod = 0;
            while (srcs != 0) {
                unsigned r = (unsigned)__builtin_ctz(srcs);
                srcs &= (uint16_t)(srcs - 1);
                uint64_t w = writer[r];
                if (w == NO_WRITER || w < head || (nprod > 0 && producers[0] == w) || nprod == 2)
                    continue; /* none, retired (done), or already counted */
                producers[nprod++] = w;
                struct rob_entry *y = &rob[w % ROB_SIZE];
                if (y->start == NOT_STARTED) {
                    y->dependants |= 1u << (tail % ROB_SIZE);
                    n->pending++;
                } else {
                    n->ready = max_u64(n->ready, y->start + y->lat);
                }
            }
            uint16_t dsts = cur.dst;
            while (dsts != 0) {
                unsigned r = (unsigned)__builtin_ctz(dsts);
                dsts &= (uint16_t)(dsts - 1);
                writer[r] = tail;
            }
            if (n->pending == 0)
                known |= 1u << (tail % ROB_SIZE);
            unstarted++;
            tail++;
            d -= cur.dec;
            have = cur.ends_block ? false : next_item(src, &cur);
        }
        /* 2. starts, oldest ready first */
        int e = STARTS_PER_CYC;
        uint64_t next = have && tail - head < ROB_SIZE ? c + 1 : UINT64_MAX;
        /* unstarted entries whose producers have all started, oldest first
         * (ring slot - head slot = age) */
        unsigned rot = (unsigned)(head % ROB_SIZE);
        uint32_t m = rot == 0 ? known : (known >> rot) | (known << (ROB_SIZE - rot));
        for (; m != 0; m &= m - 1) {
            unsigned slot = ((unsigned)__builtin_ctz(m) + rot) % ROB_SIZE;
            struct rob_entry *x = &rob[slot];
            uint64_t ready = x->ready;
            uint64_t need = units_word(x->units);
            if (ready <= c && e > 0 && units_fit(avail, need)) {
                x->start = c;
                e -= 1;
                known &= ~(1u << slot);
                unstarted--;
                max_done = max_u64(max_done, c + x->lat);
                /* dependants whose last producer this was become known: they
                 * can start at their ready cycle (>= c + 1) at the earliest */
                for (uint32_t dm = x->dependants; dm != 0; dm &= dm - 1) {
                    unsigned ds = (unsigned)__builtin_ctz(dm);
                    struct rob_entry *y = &rob[ds];
                    y->ready = max_u64(y->ready, c + x->lat);
                    if (--y->pending == 0) {
                        known |= 1u << ds;
                        next = y->ready < next ? y->ready : next;
                    }
                }
                if (x->units != 0) {
                    avail -= need;
                    busy_until[busy_count] = c + x->lat;
                    busy_units[busy_count++] = need;
                    if (c + x->lat < next_release)
                        next_release = c + x->lat;
                }
                continue;
            }
            if (ready > c)
                next = ready < next ? ready : next;
            else if (e == 0)
                next = c + 1 < next ? c + 1 : next;
            else if (next_release < next)
                next = next_release; /* waits for units */
        }
        if (!have && unstarted == 0)
            break;
        if (have && tail - head >= ROB_SIZE && rob[head % ROB_SIZE].start != NOT_STARTED) {
            /* full: decoding resumes the cycle after the oldest retires */
            const struct rob_entry *h = &rob[head % ROB_SIZE];
            uint64_t r = max_u64(last_retire, h->start + h->lat + 1) + 1;
            next = r < next ? r : next;
        }
        c = next > c + 1 ? next : c + 1;
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
 * Most blocks are short (in the nub-cc kernels 80% have at most 4
 * instructions). With at most 4 reorder-buffer entries that together need at
 * most 4 A units, one M and one D, nothing ever waits for a unit, a start
 * slot (5 per cycle) or a buffer slot, so every entry starts as soon as it is
 * decoded and its producers are done: start = max(decode + 1, producers'
 * start + latency), and cycles = max(start + latency) + 2 as in the loop.
 * Returns false when the block is not of that kind.
 */
#define SMALL_BLOCK_ITEMS   8u
#define SMALL_BLOCK_ENTRIES 4u

static bool small_block_cost(const struct pvm_gas_item *items, size_t n, uint32_t *cost)
{
    if (n > SMALL_BLOCK_ITEMS)
        return false;
    uint64_t done[SMALL_BLOCK_ENTRIES]; /* start + latency per entry */
    int writer[16];
    for (unsigned r = 0; r < 16; r++)
        writer[r] = -1;
    unsigned entries = 0, a = 0, m = 0, dv = 0;
    uint64_t cycle = 0, max_done = 0;
    int d = DECODE_SLOTS;
    for (size_t i = 0; i < n; i++) {
        const struct pvm_gas_item *it = &items[i];
        if (it->dec > d) {
            cycle++;
            d = DECODE_SLOTS;
        }
        d -= it->dec;
        if (it->is_move) {
            writer[it->move_to] = writer[it->move_from];
            continue;
        }
        if (entries == SMALL_BLOCK_ENTRIES)
            return false;
        uint64_t start = cycle + 1;
        for (uint16_t srcs = it->src; srcs != 0; srcs &= (uint16_t)(srcs - 1)) {
            int w = writer[__builtin_ctz(srcs)];
            if (w >= 0)
                start = max_u64(start, done[w]);
        }
        done[entries] = start + it->lat;
        max_done = max_u64(max_done, done[entries]);
        for (uint16_t dsts = it->dst; dsts != 0; dsts &= (uint16_t)(dsts - 1))
            writer[__builtin_ctz(dsts)] = (int)entries;
        entries++;
        a += it->units & 3u;
        m += (it->units >> 4) & 1u;
        dv += (it->units >> 5) & 1u;
    }
    if (a > 4 || m > 1 || dv > 1)
        return false;
    *cost = cost_of_cycles(max_done + 2);
    return true;
}

uint32_t pvm_gas_simulate(const struct pvm_gas_item *items, size_t n)
{
    uint32_t cost;
    if (small_block_cost(items, n, &cost))
        return cost;
    struct item_source s = {.items = items, .count = n};
    return simulate(&s, next_from_array);
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

uint32_t pvm_gas_block_cost(const struct pvm_program *p, uint32_t start)
{
    if (start >= p->code_len)
        return p->isa->end_block_cost;
    if (p->isa->gas_model == PVM_GAS_PER_INSTRUCTION)
        return per_instruction_cost(p, start);
    /* a short block: its items in a small array, for the fast path */
    struct pvm_gas_item items[SMALL_BLOCK_ITEMS];
    struct item_source s = {.p = p, .pc = start};
    size_t n = 0;
    while (n < SMALL_BLOCK_ITEMS && next_from_program(&s, &items[n]))
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
