/*
 * test_isa.c — PVM ISA versions: the opcode tables, GP 0.8.0 validation,
 * the pipeline gas model (worked examples of SPEC-0.8.md §3.4 and §6.3, and
 * the engine's event-driven evaluation against a literal transcription of
 * §3.2), and the 0.8.0 run semantics of §2 on the interpreter AND the JIT,
 * including the three places where the draft vectors and the 0.8.0 text
 * disagree (§6.3), tested as the text says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gas_reference.h"
#include "pvm_alloc_libc.h"
#include "pvm_gas.h"
#include "pvm_hosted.h"
#include "pvm_interp.h"
#include "pvm_isa.h"
#include "pvm_program.h"

/* ---- tables ---------------------------------------------------------------- */

static unsigned valid_count(const struct pvm_isa *isa)
{
    unsigned n = 0;
    for (unsigned b = 0; b < 256; b++)
        n += isa->opcode_of[b] != PVM_OPCODE_INVALID;
    return n;
}

static void test_opcode_tables(void **unused)
{
    (void)unused;
    const struct pvm_isa *v7 = pvm_isa_get(NUB_ISA_GP_0_7_2);
    const struct pvm_isa *v8 = pvm_isa_get(NUB_ISA_GP_0_8_0);
    assert_non_null(v7);
    assert_non_null(v8);
    assert_null(pvm_isa_get(NUB_ISA_COUNT));
    assert_ptr_equal(pvm_isa_by_name("0.8.0", 5), v8);
    assert_ptr_equal(pvm_isa_by_name("0.7.2", 5), v7);
    assert_null(pvm_isa_by_name("0.8", 3));
    assert_int_equal(valid_count(v7), PVM_DEFINED_OPCODE_COUNT);
    assert_int_equal(valid_count(v8), PVM_DEFINED_OPCODE_COUNT);
    /* SPEC-0.8.md §1.1 */
    assert_int_equal(v8->opcode_of[2], PVM_OP_unlikely);
    assert_int_equal(v8->opcode_of[3], PVM_OPCODE_INVALID);
    assert_int_equal(v8->opcode_of[101], PVM_OP_count_set_bits_64);
    assert_int_equal(v8->opcode_of[110], PVM_OP_reverse_bytes);
    assert_int_equal(v8->opcode_of[111], PVM_OPCODE_INVALID);
    assert_int_equal(v8->byte_of[PVM_OP_sbrk], PVM_OPCODE_INVALID);
    assert_int_equal(v7->opcode_of[2], PVM_OPCODE_INVALID);
    assert_int_equal(v7->opcode_of[101], PVM_OP_sbrk);
    assert_int_equal(v7->opcode_of[111], PVM_OP_reverse_bytes);
    /* every other number keeps its meaning, and the maps are inverse */
    for (unsigned b = 0; b < 256; b++) {
        if (b != 2 && (b < 101 || b > 111))
            assert_int_equal(v7->opcode_of[b], v8->opcode_of[b]);
        if (v8->opcode_of[b] != PVM_OPCODE_INVALID)
            assert_int_equal(v8->byte_of[v8->opcode_of[b]], b);
        if (v7->opcode_of[b] != PVM_OPCODE_INVALID)
            assert_int_equal(v7->byte_of[v7->opcode_of[b]], b);
    }
}

/* Every instruction some version decodes has its row in the 0.8.0 cost
 * table (without one it would be priced as trap), and only move_reg is
 * renamed away (latency 0, no reorder-buffer entry). */
static void test_gas_rows_cover_the_instruction_set(void **unused)
{
    (void)unused;
    bool used[256] = {false};
    for (uint32_t v = 0; v < NUB_ISA_COUNT; v++) {
        const struct pvm_isa *isa = pvm_isa_get(v);
        assert_non_null(isa);
        for (unsigned b = 0; b < 256; b++)
            if (isa->opcode_of[b] != PVM_OPCODE_INVALID)
                used[isa->opcode_of[b]] = true;
    }
    /* the JIT builds the item of a code byte the ISA does not define from
     * its row without testing known: the row must price it as trap */
    const struct pvm_gas_row *invalid = &pvm_gas_rows[PVM_OPCODE_INVALID];
    const struct pvm_gas_row *trap = &pvm_gas_rows[PVM_OP_trap];
    assert_false(invalid->known);
    assert_int_equal(invalid->src_lo | invalid->src_hi | invalid->dst_lo | invalid->dst_third, 0);
    assert_int_equal(invalid->lat, trap->lat);
    assert_int_equal(invalid->dec_other, trap->dec_other);
    assert_int_equal(invalid->dec_match, trap->dec_match);
    assert_int_equal(invalid->units, trap->units);
    assert_false(invalid->is_move);
    assert_int_equal(invalid->shape, trap->shape);
    for (unsigned op = 0; op < 256; op++) {
        const struct pvm_gas_row *row = &pvm_gas_rows[op];
        assert_int_equal(row->known, used[op]);
        if (!row->known)
            continue;
        assert_int_equal(row->is_move, op == PVM_OP_move_reg);
        assert_true(row->lat > 0 || op == PVM_OP_move_reg);
        assert_true(row->dec_match >= 1 && row->dec_other >= row->dec_match && row->dec_other <= 4);
        if (row->sel == PVM_GAS_SEL_FIXED)
            assert_int_equal(row->dec_match, row->dec_other);
    }
}

/* ---- programs ---------------------------------------------------------------- */

static struct pvm_program *decode(const uint8_t *blob, size_t len, uint32_t isa)
{
    struct pvm_allocator a = pvm_libc_allocator();
    struct pvm_program *p = NULL;
    assert_int_equal(pvm_program_decode_isa(blob, len, isa, &a, &p), PVM_OK);
    return p;
}

static void test_validation(void **unused)
{
    (void)unused;
    static const uint8_t ok[] = {0, 0, 2, 0x33, 0x07, 0x01}; /* load_imm r7 (no trap at end) */
    static const uint8_t ok2[] = {0, 0, 3, 0x33, 0x07, 0x00, 0x05};
    static const uint8_t no_bit0[] = {0, 0, 2, 0x00, 0x00, 0x02};
    static const uint8_t bad_op[] = {0, 0, 1, 111, 0x01};
    static const uint8_t old_unlikely[] = {0, 0, 1, 3, 0x01}; /* the draft's number */
    uint8_t gap[3 + 30 + 4] = {0, 0, 30};                     /* bits 0 and 26: skip > 24 */
    gap[3 + 30] = 0x01;
    gap[3 + 30 + 3] = 0x04;
    struct {
        const uint8_t *b;
        size_t n;
        bool valid;
    } cases[] = {
        {ok, sizeof ok, true},
        {ok2, sizeof ok2, true},
        {no_bit0, sizeof no_bit0, false},
        {bad_op, sizeof bad_op, false},
        {old_unlikely, sizeof old_unlikely, false},
        {gap, sizeof gap, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pvm_program *p = decode(cases[i].b, cases[i].n, NUB_ISA_GP_0_8_0);
        assert_int_equal(p->stream_valid, cases[i].valid);
        assert_int_equal(pvm_program_can_enter(p, 0), cases[i].valid);
        pvm_program_destroy(p);
        /* GP 0.7.2 runs them all */
        p = decode(cases[i].b, cases[i].n, NUB_ISA_GP_0_7_2);
        assert_true(pvm_program_can_enter(p, 0));
        pvm_program_destroy(p);
    }
    struct pvm_program *p = decode(ok2, sizeof ok2, NUB_ISA_GP_0_8_0);
    assert_true(pvm_program_can_enter(p, 2));  /* any instruction start */
    assert_false(pvm_program_can_enter(p, 1)); /* an operand byte */
    assert_false(pvm_program_can_enter(p, 3)); /* pc = len(c) */
    pvm_program_destroy(p);
}

/* ---- the gas model ---------------------------------------------------------- */

static uint32_t cost_at(const uint8_t *blob, size_t len, uint32_t pc)
{
    struct pvm_program *p = decode(blob, len, NUB_ISA_GP_0_8_0);
    uint32_t c = pvm_gas_block_cost(p, pc);
    pvm_program_destroy(p);
    return c;
}

static void test_worked_examples(void **unused)
{
    (void)unused;
    /* §3.4 (a) gas_sequential_simple */
    static const uint8_t seq[] = {0x00, 0x00, 0x07, 0xc8, 0x98, 0x07, 0xc8, 0x97, 0x08, 0x00, 0x49};
    assert_int_equal(cost_at(seq, sizeof seq, 0), 3);
    /* §3.4 (b) gas_register_move */
    static const uint8_t mv[] = {0x00, 0x00, 0x09, 0x33, 0x05, 0x01, 0x64,
                                 0x57, 0x95, 0x78, 0x01, 0x00, 0x29, 0x01};
    assert_int_equal(cost_at(mv, sizeof mv, 0), 3);
    /* §3.4 (c) gas_jump_unlikely_target, converted (unlikely = 2) */
    static const uint8_t unl[] = {0x00, 0x00, 0x0c, 0x51, 0x07, 0x07, 0x33, 0x07, 0x01,
                                  0x00, 0x02, 0x33, 0x07, 0x02, 0x00, 0xc9, 0x09};
    assert_int_equal(cost_at(unl, sizeof unl, 0), 1);
    assert_int_equal(cost_at(unl, sizeof unl, 3), 2);
    assert_int_equal(cost_at(unl, sizeof unl, 7), 40);
    /* §6.3 item 1: four move_reg then trap = 3 under the final rule (the
     * draft's rule gave 1) */
    static const uint8_t moves[] = {0x00, 0x00, 0x09, 0x64, 0x10, 0x64, 0x21,
                                    0x64, 0x32, 0x64, 0x43, 0x00, 0x55, 0x01};
    assert_int_equal(cost_at(moves, sizeof moves, 0), 3);
    /* a block that runs off the end includes the implicit trap: load_imm r7 */
    static const uint8_t off_end[] = {0, 0, 3, 0x33, 0x07, 0x01, 0x01};
    assert_int_equal(cost_at(off_end, sizeof off_end, 0), 2);
}

/* The next pseudo-random word of the item generators below. */
static uint64_t next_random(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}

/* One item in move_one_in (by r's bits from 27 on) becomes a move_reg
 * between two of the first regs registers; the last item ends the block
 * and is not a move. */
static void finish_item(struct pvm_gas_item *it, uint64_t r, unsigned move_one_in, unsigned regs,
                        bool last)
{
    if ((r >> 27) % move_one_in == 0) {
        it->is_move = true;
        it->dec = 1;
        it->move_to = (uint8_t)((r >> 30) % regs);
        it->move_from = (uint8_t)((r >> 34) % regs);
    }
    if (last) {
        it->is_move = false;
        it->ends_block = true;
    }
}

static void random_item(uint64_t *s, struct pvm_gas_item *it, bool last)
{
    uint64_t r = next_random(s);
    static const uint8_t lats[] = {1, 1, 1, 2, 2, 3, 4, 6, 15, 20, 22, 25, 40, 60, 100};
    static const uint8_t units[] = {0, 1, 1, 1, 2, 1 | 4, 1 | 8, 1 | 16, 1 | 32};
    memset(it, 0, sizeof(*it));
    it->lat = lats[r % sizeof lats];
    it->dec = (uint8_t)(1 + (r >> 4) % 4);
    it->units = units[(r >> 8) % sizeof units];
    it->src = (uint16_t)((1u << ((r >> 12) % 13)) | ((r >> 16) & 1 ? 1u << ((r >> 17) % 13) : 0));
    it->dst = (r >> 21) % 3 ? (uint16_t)(1u << ((r >> 23) % 13)) : 0;
    finish_item(it, r, 8, 13, last);
}

static void test_event_driven_matches_the_literal_model(void **unused)
{
    (void)unused;
    uint64_t s = 12345;
    struct pvm_gas_item items[200];
    for (int block = 0; block < 9000; block++) {
        /* a third of the blocks short (the engine's fast path for them) */
        size_t n = block % 3 == 0 ? 1 + (size_t)(block % 8)
                                  : 1 + (size_t)(block % 97) + (block % 7 == 0 ? 100 : 0);
        for (size_t i = 0; i < n; i++)
            random_item(&s, &items[i], i + 1 == n);
        uint32_t want = gas_reference_cost(items, n);
        uint32_t got = pvm_gas_simulate(items, n);
        if (want != got)
            fail_msg("block %d (%zu items): literal model %u, engine %u", block, n, want, got);
    }
}

/* An item of a kind that makes a short block bind on one resource: kind 0
 * memory accesses (A units held 25 cycles), 1 entries taking no unit (more
 * than 5 starts in a cycle), 2 multiplies and divides (one M, one D),
 * 3 A2 entries mixed with A1 and unit-free ones. */
static void binding_item(uint64_t *s, struct pvm_gas_item *it, int kind, bool last)
{
    uint64_t r = next_random(s);
    static const uint8_t lats[] = {1, 1, 2, 3, 4, 6, 15, 20, 22, 25, 40, 60, 100};
    unsigned regs = (r >> 40) & 1 ? 4 : 13;
    memset(it, 0, sizeof(*it));
    it->dec = (uint8_t)(1 + (r >> 4) % 2);
    switch (kind) {
    case 0:
        it->units =
            (uint8_t)(r % 4 != 0
                          ? (PVM_GAS_UNIT_A1 | ((r >> 2) & 1 ? PVM_GAS_UNIT_L : PVM_GAS_UNIT_S))
                          : PVM_GAS_UNIT_A1);
        it->lat = (r >> 3) % 4 != 0 ? 25 : 1;
        break;
    case 1:
        it->units = (uint8_t)(r % 3 != 0 ? 0 : PVM_GAS_UNIT_A1);
        it->lat = (uint8_t)(1 + (r >> 2) % 3);
        it->dec = 1;
        break;
    case 2:
        it->units = (uint8_t)((r & 1)   ? PVM_GAS_UNIT_A1 | PVM_GAS_UNIT_M
                              : (r & 2) ? PVM_GAS_UNIT_A1 | PVM_GAS_UNIT_D
                                        : PVM_GAS_UNIT_A1);
        it->lat = (r >> 3) % 2 ? 3 : (r >> 4) % 3 ? 4 : 60;
        break;
    default:
        it->units = (uint8_t)(r % 4 == 0   ? PVM_GAS_UNIT_A2
                              : r % 4 == 1 ? 0
                                           : PVM_GAS_UNIT_A1 | ((r >> 3) & 1 ? PVM_GAS_UNIT_L : 0));
        it->lat = lats[(r >> 5) % sizeof lats];
        break;
    }
    it->src = (uint16_t)((r >> 9) % 3 == 0 ? 0
                                           : (1u << ((r >> 12) % regs)) |
                                                 ((r >> 16) & 1 ? 1u << ((r >> 17) % regs) : 0));
    it->dst = (r >> 21) % 4 != 0 ? (uint16_t)(1u << ((r >> 23) % regs)) : 0;
    finish_item(it, r, 10, regs, last);
}

/* Blocks of 9 to 16 items (pvm_gas_simulate prices most of them in one
 * pass and must hand those where a resource binds to its loop) against the
 * literal model. */
static void test_short_binding_blocks_match_the_literal_model(void **unused)
{
    (void)unused;
    uint64_t s = 6789;
    struct pvm_gas_item items[16];
    for (int block = 0; block < 40000; block++) {
        size_t n = 9 + (size_t)(block % 8);
        for (size_t i = 0; i < n; i++)
            binding_item(&s, &items[i], block % 4, i + 1 == n);
        uint32_t want = gas_reference_cost(items, n);
        uint32_t got = pvm_gas_simulate(items, n);
        if (want != got)
            fail_msg("block %d (%zu items, kind %d): literal model %u, engine %u", block, n,
                     block % 4, want, got);
    }
}

/* The gas word of a random instruction of a kind that stresses a block:
 * kind 0 any opcode, 1 memory accesses (A units held 25 cycles), 2
 * unit-free and A2 ones (start slots, A2 weights), 3 multiplies and divides
 * (one M, one D), each with a share of any opcode and of move_reg. With
 * `few_regs` the register fields are 0..3, so that dependencies and P/PS
 * matches are common. */
struct word_pools {
    uint8_t op[4][256];
    unsigned len[4];
};

static void word_pools_init(struct word_pools *p)
{
    memset(p, 0, sizeof(*p));
    for (unsigned op = 0; op < 256; op++) {
        const struct pvm_gas_row *row = &pvm_gas_rows[op];
        if (!row->known && op != PVM_OPCODE_INVALID)
            continue;
        unsigned u = row->units;
        bool in[4] = {true, (u & (PVM_GAS_UNIT_L | PVM_GAS_UNIT_S)) != 0, (u & 3u) != 1,
                      (u & (PVM_GAS_UNIT_M | PVM_GAS_UNIT_D)) != 0};
        for (unsigned k = 0; k < 4; k++)
            if (in[k])
                p->op[k][p->len[k]++] = (uint8_t)op;
    }
}

static uint32_t random_word(uint64_t *s, const struct word_pools *pool, int kind, bool few_regs,
                            bool last)
{
    uint64_t r = next_random(s);
    unsigned k = r % 3 == 0 ? 0 : (unsigned)kind;
    uint8_t op = pool->op[k][(r >> 2) % pool->len[k]];
    if ((r >> 10) % 9 == 0)
        op = PVM_OP_move_reg;
    if (last && op == PVM_OP_move_reg)
        op = PVM_OP_trap; /* (a block never ends in a move) */
    uint8_t byte1 = (uint8_t)(r >> 14), third = (uint8_t)((r >> 22) % 13);
    if (few_regs) {
        byte1 &= 0x33;
        third &= 3;
    }
    uint8_t lat = 0xFF;
    if (pvm_gas_rows[op].lat == PVM_GAS_LAT_BRANCH)
        lat = (r >> 30) & 1 ? 1 : 20;
    return pvm_gas_word(op, byte1, third, lat);
}

/* pvm_gas_words_cost (the JIT's block costs: one pass over the words, or
 * items for the blocks it leaves) against the literal model on the items of
 * the same words, built the other way (pvm_gas_item_of_word: masks). Blocks
 * of 1 to 48 words, and some over 48 (the words source of the loop). */
static void test_gas_words_match_the_literal_model(void **unused)
{
    (void)unused;
    uint64_t s = 4242;
    uint32_t words[80];
    struct pvm_gas_item items[80];
    struct word_pools pools;
    word_pools_init(&pools);
    for (int block = 0; block < 60000; block++) {
        size_t n = block % 50 == 0 ? 49 + (size_t)(block % 31) : 1 + (size_t)(block % 23) % 17;
        if (block % 7 == 0)
            n = 17 + (size_t)(block % 32);
        int kind = (block / 3) % 4;
        bool few_regs = block % 2 == 0;
        for (size_t i = 0; i < n; i++) {
            words[i] = random_word(&s, &pools, kind, few_regs, i + 1 == n);
            pvm_gas_item_of_word(words[i], i + 1 == n, &items[i]);
        }
        uint32_t want = gas_reference_cost(items, n);
        uint32_t got = pvm_gas_words_cost(words, n);
        if (want != got)
            fail_msg("block %d (%zu words, kind %d): literal model %u, words %u", block, n, kind,
                     want, got);
    }
}

/* pvm_gas_batch_costs (the JIT's short blocks, eight at a time) against the
 * literal model, both ways: the lanes-at-once pass (where this CPU runs it)
 * and one lane at a time. Lanes hold 0 to 16 words; slots past a lane's
 * block hold other words, which must not matter. */
static void test_gas_batch_matches_the_literal_model(void **unused)
{
    (void)unused;
    uint64_t s = 777;
    struct word_pools pools;
    word_pools_init(&pools);
    struct pvm_gas_batch batch;
    pvm_gas_batch_init(&batch);
    struct pvm_gas_item items[PVM_GAS_BATCH_WORDS];
    uint32_t want[PVM_GAS_BATCH_LANES];
    if (!pvm_gas_batch_has_vector())
        print_message("note: no lanes-at-once pass here (AVX2); one lane at a time only\n");
    for (int round = 0; round < 12000; round++) {
        int kind = (round / 5) % 4;
        bool few_regs = round % 2 == 0;
        for (unsigned l = 0; l < PVM_GAS_BATCH_LANES; l++) {
            uint64_t r = next_random(&s);
            uint32_t n = (uint32_t)(r % (PVM_GAS_BATCH_WORDS + 1));
            if (round % 3 == 0)
                n = PVM_GAS_BATCH_WORDS - (uint32_t)(r % 3); /* long: the unit checks */
            batch.count[l] = n;
            for (uint32_t w = 0; w < PVM_GAS_BATCH_WORDS; w++) {
                bool last = w + 1 == n;
                batch.words[w][l] = random_word(&s, &pools, kind, few_regs, last);
                if (w < n)
                    pvm_gas_item_of_word(batch.words[w][l], last, &items[w]);
            }
            want[l] = n != 0 ? gas_reference_cost(items, n) : 0;
        }
        for (int vector = 0; vector < 2; vector++) {
            uint32_t got[PVM_GAS_BATCH_LANES];
            pvm_gas_batch_costs(&batch, vector != 0, got);
            for (unsigned l = 0; l < PVM_GAS_BATCH_LANES; l++)
                if (got[l] != want[l])
                    fail_msg("round %d lane %u (%u words, vector %d): literal model %u, batch %u",
                             round, l, batch.count[l], vector, want[l], got[l]);
        }
    }
}

/* ---- run semantics on both engines -------------------------------------- */

struct engine_case {
    const struct pvm_engine *engine;
    int (*set_access)(void *inst, uint32_t address, uint32_t length, uint32_t access);
};

static int interp_set_access(void *inst, uint32_t address, uint32_t length, uint32_t access)
{
    return pvm_interp_set_access(inst, address, length, access);
}

static int jit_set_access(void *inst, uint32_t address, uint32_t length, uint32_t access)
{
    return pvm_hosted_set_access(inst, address, length, access);
}

static const struct engine_case engines[] = {
    {&pvm_interp_engine, interp_set_access},
    {&pvm_jit_engine, jit_set_access},
};
#define ENGINE_COUNT (sizeof engines / sizeof engines[0])

struct run {
    struct pvm_program *program;
    void *inst;
    const struct engine_case *e;
    struct pvm_exit exit;
    struct pvm_state state;
};

static void start(struct run *r, const struct engine_case *e, const uint8_t *blob, size_t len,
                  uint32_t isa, uint32_t pc, int64_t gas, const struct pvm_segment *segs,
                  size_t nsegs)
{
    struct pvm_allocator a = pvm_libc_allocator();
    memset(r, 0, sizeof(*r));
    r->e = e;
    r->program = decode(blob, len, isa);
    struct pvm_state init = {.pc = pc, .gas = gas};
    assert_int_equal(e->engine->create(r->program, segs, nsegs, &init, &a, &r->inst), PVM_OK);
}

static void step(struct run *r)
{
    r->e->engine->run(r->inst, &r->exit);
    r->e->engine->get_state(r->inst, &r->state);
}

static void stop(struct run *r)
{
    r->e->engine->destroy(r->inst);
    pvm_program_destroy(r->program);
}

/* §6.3 / §8 item 1: code = one fallthrough. The draft vector charges 2 more
 * for a "block" at pc = len(c); the 0.8.0 text fails the pc check there
 * first and charges nothing: 10000 - cost(fallthrough block = 2). */
static void test_fallthrough_at_the_end(void **unused)
{
    (void)unused;
    static const uint8_t blob[] = {0, 0, 1, 0x01, 0x01};
    for (size_t i = 0; i < ENGINE_COUNT; i++) {
        struct run r;
        start(&r, &engines[i], blob, sizeof blob, NUB_ISA_GP_0_8_0, 0, 10000, NULL, 0);
        step(&r);
        assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
        assert_int_equal(r.exit.pc, 1);
        assert_int_equal(r.state.gas, 9998);
        stop(&r);
    }
}

/* §6.3 / §8 item 3: a store to a mapped read-only page is a page fault
 * (0.8.0 text, unchanged from 0.7.2), not the panic the draft vectors expect.
 * §2: the block stays paid, so running again at the faulting store charges
 * nothing; GP 0.7.2 charges the block again. */
static void test_read_only_store_faults_and_keeps_its_block_paid(void **unused)
{
    (void)unused;
    /* store_imm_u8 [0x10000] = 1 (F3: lx = 3); store_u8 r7 -> [0x10000]; trap */
    static const uint8_t store_imm[] = {0, 0, 7, 0x1e, 0x03, 0x00, 0x00, 0x01, 0x01, 0x00, 0x41};
    static const uint8_t store_reg[] = {0, 0, 6, 0x3b, 0x07, 0x00, 0x00, 0x01, 0x00, 0x21};
    const uint8_t *blobs[] = {store_imm, store_reg};
    size_t lens[] = {sizeof store_imm, sizeof store_reg};
    struct pvm_segment ro = {.address = 0x10000, .length = 0x1000, .access = PVM_ACCESS_READ};
    for (size_t i = 0; i < ENGINE_COUNT; i++) {
        for (size_t b = 0; b < 2; b++) {
            for (uint32_t isa = 0; isa < NUB_ISA_COUNT; isa++) {
                struct run r;
                start(&r, &engines[i], blobs[b], lens[b], isa, 0, 10000, &ro, 1);
                step(&r);
                assert_int_equal(r.exit.reason, PVM_EXIT_PAGE_FAULT);
                assert_int_equal(r.exit.arg, 0x10000);
                assert_int_equal(r.exit.pc, 0);
                int64_t after_fault = r.state.gas;
                uint32_t cost = pvm_gas_entry_cost(r.program, 0);
                assert_int_equal(after_fault, 10000 - (int64_t)cost);
                assert_int_equal(r.state.gas_charged, isa == NUB_ISA_GP_0_8_0);
                step(&r); /* the page is still read-only: the same fault */
                assert_int_equal(r.exit.reason, PVM_EXIT_PAGE_FAULT);
                assert_int_equal(r.state.gas,
                                 isa == NUB_ISA_GP_0_8_0 ? after_fault : after_fault - cost);
                /* fixed: the store runs, then the trap */
                assert_int_equal(r.e->set_access(r.inst, 0x10000, 0x1000, PVM_ACCESS_WRITE),
                                 PVM_OK);
                int64_t before = r.state.gas;
                step(&r);
                assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
                assert_int_equal(r.state.gas, isa == NUB_ISA_GP_0_8_0 ? before : before - cost);
                stop(&r);
            }
        }
    }
}

/* §2: out of gas leaves gas and pc unchanged (pc = where the charge failed);
 * more gas retries the charge. */
static void test_out_of_gas_leaves_the_state(void **unused)
{
    (void)unused;
    static const uint8_t seq[] = {0x00, 0x00, 0x07, 0xc8, 0x98, 0x07, 0xc8, 0x97, 0x08, 0x00, 0x49};
    for (size_t i = 0; i < ENGINE_COUNT; i++) {
        struct run r;
        start(&r, &engines[i], seq, sizeof seq, NUB_ISA_GP_0_8_0, 0, 2, NULL, 0);
        step(&r);
        assert_int_equal(r.exit.reason, PVM_EXIT_OUT_OF_GAS);
        assert_int_equal(r.exit.pc, 0);
        assert_int_equal(r.state.gas, 2);
        assert_false(r.state.gas_charged);
        r.state.gas = 10;
        r.e->engine->set_state(r.inst, &r.state);
        step(&r);
        assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
        assert_int_equal(r.exit.pc, 6);
        assert_int_equal(r.state.gas, 7);
        stop(&r);
    }
}

/* §2: a fresh start in the middle of a block pays the whole block; §4: an
 * entry pc that is not an instruction start, or an invalid blob, panics with
 * nothing charged. */
static void test_entry_rules(void **unused)
{
    (void)unused;
    static const uint8_t seq[] = {0x00, 0x00, 0x07, 0xc8, 0x98, 0x07, 0xc8, 0x97, 0x08, 0x00, 0x49};
    static const uint8_t bad_op[] = {0, 0, 2, 111, 0x00, 0x03};
    for (size_t i = 0; i < ENGINE_COUNT; i++) {
        struct run r;
        start(&r, &engines[i], seq, sizeof seq, NUB_ISA_GP_0_8_0, 3, 100, NULL, 0);
        step(&r);
        assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
        assert_int_equal(r.exit.pc, 6);
        assert_int_equal(r.state.gas, 97); /* cost(L(3)) = cost(0) = 3 */
        stop(&r);

        start(&r, &engines[i], seq, sizeof seq, NUB_ISA_GP_0_8_0, 1, 100, NULL, 0);
        step(&r);
        assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
        assert_int_equal(r.state.gas, 100);
        stop(&r);

        start(&r, &engines[i], bad_op, sizeof bad_op, NUB_ISA_GP_0_8_0, 1, 100, NULL, 0);
        step(&r);
        assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
        assert_int_equal(r.state.gas, 100);
        stop(&r);
    }
}

/* `unlikely` does nothing but cost: unlikely; trap = one block of 40. */
static void test_unlikely(void **unused)
{
    (void)unused;
    static const uint8_t blob[] = {0, 0, 2, 0x02, 0x00, 0x03};
    for (size_t i = 0; i < ENGINE_COUNT; i++) {
        struct run r;
        start(&r, &engines[i], blob, sizeof blob, NUB_ISA_GP_0_8_0, 0, 100, NULL, 0);
        step(&r);
        assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
        assert_int_equal(r.exit.pc, 1);
        assert_int_equal(r.state.gas, 60);
        stop(&r);
    }
}

/* One blob, two versions, two behaviours: byte 101 is sbrk in 0.7.2 (no heap:
 * returns 0) and count_set_bits_64 in 0.8.0. */
static void test_one_blob_two_versions(void **unused)
{
    (void)unused;
    static const uint8_t blob[] = {0, 0, 3, 101, 0x87, 0x00, 0x05}; /* r7 = op(r8); trap */
    for (size_t i = 0; i < ENGINE_COUNT; i++) {
        uint64_t r7[2];
        for (uint32_t isa = 0; isa < NUB_ISA_COUNT; isa++) {
            struct run r;
            start(&r, &engines[i], blob, sizeof blob, isa, 0, 1000, NULL, 0);
            r.e->engine->get_state(r.inst, &r.state);
            r.state.regs[8] = 0xFF;
            r.e->engine->set_state(r.inst, &r.state);
            step(&r);
            assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
            r7[isa] = r.state.regs[7];
            stop(&r);
        }
        assert_int_equal(r7[NUB_ISA_GP_0_7_2], 0);
        assert_int_equal(r7[NUB_ISA_GP_0_8_0], 8);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opcode_tables),
        cmocka_unit_test(test_gas_rows_cover_the_instruction_set),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_worked_examples),
        cmocka_unit_test(test_event_driven_matches_the_literal_model),
        cmocka_unit_test(test_short_binding_blocks_match_the_literal_model),
        cmocka_unit_test(test_gas_words_match_the_literal_model),
        cmocka_unit_test(test_gas_batch_matches_the_literal_model),
        cmocka_unit_test(test_fallthrough_at_the_end),
        cmocka_unit_test(test_read_only_store_faults_and_keeps_its_block_paid),
        cmocka_unit_test(test_out_of_gas_leaves_the_state),
        cmocka_unit_test(test_entry_rules),
        cmocka_unit_test(test_unlikely),
        cmocka_unit_test(test_one_blob_two_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
