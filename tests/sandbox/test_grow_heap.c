/*
 * test_grow_heap.c — GP 0.8.0's grow_heap (host call 1, SPEC-0.8.md §5.2),
 * served by the library on the sandbox, the in-process JIT and the
 * interpreter: the same registers, gas, pc and exit on all three, and the
 * embedder's function never sees id 1 under 0.8.0 (under 0.7.2 id 1 is
 * `fetch`, the embedder's).
 *
 * The programs use only opcodes numbered alike in both versions (ecalli,
 * move_reg, load_imm, the indirect loads and stores, jump_ind), so pvmasm's
 * blob is the same program under 0.7.2 and 0.8.0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_check.h"
#include "nub/local.h"
#include "pvmasm.h"
#include "test_util.h"

#define ENGINES 3
static const char *const engine_names[ENGINES] = {"sandbox", "jit", "interp"};

/* phi7 = the wanted end page, phi8 = an address to probe afterwards.
 * s0 = grow_heap's answer, s1 = a second call's (a query: the end now),
 * a2 = the probed u64 before, a3 = after storing 0x1234 there. */
static const char grow_text[] = "    ecalli 1\n" /* pc 0 */
                                "    move_reg s0, a0\n"
                                "    load_imm a0, 0\n"
                                "second:\n"
                                "    ecalli 1\n"
                                "    move_reg s1, a0\n"
                                "    load_ind_u64 a2, a1, 0\n"
                                "    load_imm t1, 0x1234\n"
                                "    store_ind_u64 t1, a1, 0\n"
                                "    load_ind_u64 a3, a1, 0\n"
                                "    move_reg a0, s0\n"
                                "    jump_ind ra, 0\n";

#define RW_BASE  0x20000u /* two read-write pages: pages 32, 33 */
#define HEAP_TOP 0x22000u /* the break: end page 34 */
#define HEAP_END 34u
#define HEAP_LIM 0x28000u /* b = 40 */
#define LIMIT_PG 40u
#define BIG_GAS  100000u
#define REG_S0   5
#define REG_S1   6
#define REG_A2   9
#define REG_A3   10

struct counter {
    int calls;
    uint64_t last_id;
};

/* The embedder's function: counts, answers 999 for 10 gas. */
static int count_fn(void *ctx, nub_host_call *call)
{
    struct counter *c = ctx;
    c->calls++;
    c->last_id = nub_host_call_id(call);
    nub_host_call_set_reg(call, 7, 999);
    nub_host_call_set_gas(call, nub_host_call_gas(call) - 10);
    return NUB_HOST_CONTINUE;
}

struct prog {
    struct pvmasm_output as;
    struct nub_capbuild_range range;
    struct nub_capbuild_raw raw;
    uint32_t second_pc; /* pc of the second ecalli */
};

static void prog_build(struct prog *p, uint32_t isa, uint32_t heap_top)
{
    char err[256];
    if (pvmasm_assemble(grow_text, strlen(grow_text), &p->as, err, sizeof err) != 0)
        fail_msg("pvmasm: %s", err);
    p->second_pc = UINT32_MAX;
    for (size_t i = 0; i < p->as.label_count; i++)
        if (strcmp(p->as.labels[i].name, "second") == 0)
            p->second_pc = p->as.labels[i].pc;
    assert_int_not_equal(p->second_pc, UINT32_MAX);
    p->range = (struct nub_capbuild_range){RW_BASE, HEAP_TOP - RW_BASE, NUB_WIRE_ACCESS_WRITE};
    p->raw = (struct nub_capbuild_raw){
        .blob = p->as.blob,
        .blob_len = (uint32_t)p->as.blob_len,
        .ranges = &p->range,
        .range_count = 1,
        .default_gas = BIG_GAS,
        .heap_top = heap_top,
        .heap_limit = heap_top ? HEAP_LIM : 0,
        .isa = isa,
    };
    p->raw.regs[0] = NUB_STDPROG_HALT_ADDR;
}

/* Runs the program on every engine with phi7 = want, phi8 = probe; checks
 * the three agree and the sandbox's result lands in *r. counters[e] is what
 * the embedder's function saw on engine e. */
static void run_all(nub_sandbox *sb, const struct prog *pr, uint64_t want, uint32_t probe,
                    uint64_t gas, struct nub_invocation_result *r, struct counter *counters)
{
    struct nub_invocation_result res[ENGINES];
    uint64_t served[ENGINES];
    for (int e = 0; e < ENGINES; e++) {
        counters[e] = (struct counter){0};
        struct nub_call call = {.host = {count_fn, &counters[e]}};
        struct nub_invoke_packet p = {.arg_count = 2, .args = {want, probe}, .initial_gas = gas};
        nub_status s;
        if (e == 0) {
            s = nub_publish_raw(sb, &pr->raw, p.instance_hash);
            if (s != NUB_OK)
                fail_msg("publish: %s: %s", nub_strerror(s), nub_sandbox_last_error(sb));
            s = nub_invoke_call(sb, &p, &call, &res[e]);
            if (s != NUB_OK)
                fail_msg("sandbox: %s: %s", nub_strerror(s), nub_sandbox_last_error(sb));
        } else {
            nub_local *l = NULL;
            s = nub_local_create_raw(e == 1 ? NUB_LOCAL_JIT : NUB_LOCAL_INTERP, &pr->raw, &l);
            assert_int_equal(s, NUB_OK);
            s = nub_local_invoke(l, &p, &call, &res[e]);
            if (s != NUB_OK)
                fail_msg("%s: %s: %s", engine_names[e], nub_strerror(s), nub_local_last_error(l));
            nub_local_destroy(l);
        }
        served[e] = call.host_calls;
        if (e > 0 && memcmp(&res[0], &res[e], sizeof res[0]) != 0)
            fail_msg(
                "%s differs from the sandbox (want %llu): exit %u/%u pc %u/%u gas %llu/%llu "
                "s0 %llu/%llu",
                engine_names[e], (unsigned long long)want, res[0].exit_reason, res[e].exit_reason,
                res[0].pc, res[e].pc, (unsigned long long)res[0].gas_remaining,
                (unsigned long long)res[e].gas_remaining, (unsigned long long)res[0].regs[REG_S0],
                (unsigned long long)res[e].regs[REG_S0]);
        if (e > 0) {
            assert_int_equal(served[e], served[0]);
            assert_int_equal(counters[e].calls, counters[0].calls);
        }
    }
    *r = res[0];
}

static void test_grow_heap_080(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, NUB_ISA_GP_0_8_0, HEAP_TOP);
    struct counter c[ENGINES];
    struct nub_invocation_result r;

    /* (1) a query (phi7 = 0 <= end): 100 gas, the end page; twice. */
    run_all(sb, &pr, 0, RW_BASE, BIG_GAS, &r, c);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    assert_int_equal(r.regs[REG_S0], HEAP_END);
    assert_int_equal(r.regs[REG_S1], HEAP_END);
    assert_int_equal(r.regs[REG_A3], 0x1234);
    for (int e = 0; e < ENGINES; e++)
        assert_int_equal(c[e].calls, 0); /* the embedder never sees id 1 */
    /* the program's block costs: what the two queries did not take */
    uint64_t query_gas = r.gas_remaining;
    uint64_t blocks = BIG_GAS - 200 - query_gas;
    assert_true(blocks > 0 && blocks < 1000);

    /* (2) grow by 3 pages: 100 + 30 gas; the new pages read as zero and
     * are writable; the page after them is not. */
    run_all(sb, &pr, HEAP_END + 3, HEAP_TOP + 3 * 4096 - 8, BIG_GAS, &r, c);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    assert_int_equal(r.regs[REG_S0], HEAP_END + 3);
    assert_int_equal(r.regs[REG_S1], HEAP_END + 3); /* the break stays moved */
    assert_int_equal(r.regs[REG_A2], 0);
    assert_int_equal(r.regs[REG_A3], 0x1234);
    assert_int_equal(r.gas_remaining, query_gas - 30);
    assert_int_equal(c[0].calls, 0);
    run_all(sb, &pr, HEAP_END + 3, HEAP_TOP + 3 * 4096, BIG_GAS, &r, c);
    assert_int_equal(r.exit_reason, NUB_EXIT_PAGE_FAULT);
    assert_int_equal(r.exit_arg, HEAP_TOP + 3 * 4096);
    assert_int_equal(r.regs[REG_S0], HEAP_END + 3);
    /* Each call starts from the published memory: ungrown, the first new
     * page faults again (the sandbox undid the growth with the call). */
    run_all(sb, &pr, 0, HEAP_TOP, BIG_GAS, &r, c);
    assert_int_equal(r.exit_reason, NUB_EXIT_PAGE_FAULT);
    assert_int_equal(r.exit_arg, HEAP_TOP);

    /* Up to b exactly: allowed, 100 + 10 per page. */
    run_all(sb, &pr, LIMIT_PG, LIMIT_PG * 4096 - 8, BIG_GAS, &r, c);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    assert_int_equal(r.regs[REG_S0], LIMIT_PG);
    assert_int_equal(r.gas_remaining, query_gas - 10 * (LIMIT_PG - HEAP_END));

    /* (3) past b: 100 gas, the end back, memory unchanged. */
    const uint64_t past[] = {LIMIT_PG + 1, UINT64_C(1) << 32, UINT64_MAX};
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
        run_all(sb, &pr, past[i], RW_BASE, BIG_GAS, &r, c);
        assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
        assert_int_equal(r.regs[REG_S0], HEAP_END);
        assert_int_equal(r.regs[REG_S1], HEAP_END);
        assert_int_equal(r.gas_remaining, query_gas);
    }

    /* Enough for 100 but not for the growth (100 + 60): refused, 100
     * charged; the second call then has 50 and runs out of gas there. */
    run_all(sb, &pr, LIMIT_PG, RW_BASE, blocks + 150, &r, c);
    assert_int_equal(r.exit_reason, NUB_EXIT_OUT_OF_GAS);
    assert_int_equal(r.pc, pr.second_pc);
    assert_int_equal(r.regs[REG_S0], HEAP_END);
    assert_int_equal(r.gas_remaining, 50);

    /* (4) under 100 gas: out of gas at the ecalli, gas and phi7 unchanged. */
    run_all(sb, &pr, HEAP_END + 1, RW_BASE, blocks + 99, &r, c);
    assert_int_equal(r.exit_reason, NUB_EXIT_OUT_OF_GAS);
    assert_int_equal(r.pc, 0);
    assert_int_equal(r.exit_arg, 0);
    assert_int_equal(r.regs[7], HEAP_END + 1);
    assert_int_equal(r.gas_remaining, 99);
    assert_int_equal(c[0].calls, 0);

    /* The sandbox lives on. */
    uint64_t v = 0;
    assert_int_equal(nub_smoke(sb, &v), NUB_OK);
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* A program published without a heap (break 0): end = b = 0. */
static void test_grow_heap_no_heap(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, NUB_ISA_GP_0_8_0, 0);
    struct counter c[ENGINES];
    struct nub_invocation_result r, q;
    run_all(sb, &pr, 0, RW_BASE, BIG_GAS, &q, c);
    run_all(sb, &pr, 5, RW_BASE, BIG_GAS, &r, c);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    assert_int_equal(r.regs[REG_S0], 0);
    assert_int_equal(r.regs[REG_S1], 0);
    assert_int_equal(r.gas_remaining, q.gas_remaining); /* 100 per call, as a query */
    assert_int_equal(c[0].calls, 0);
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* (5) under GP 0.7.2 the same ecalli 1 is the embedder's (fetch). */
static void test_id_1_is_the_embedders_under_072(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, NUB_ISA_GP_0_7_2, HEAP_TOP);
    struct counter c[ENGINES];
    struct nub_invocation_result r;
    run_all(sb, &pr, HEAP_END + 3, RW_BASE, BIG_GAS, &r, c);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    assert_int_equal(r.regs[REG_S0], 999);
    assert_int_equal(r.regs[REG_S1], 999);
    for (int e = 0; e < ENGINES; e++) {
        assert_int_equal(c[e].calls, 2);
        assert_int_equal(c[e].last_id, 1);
    }
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* A standard program: end = the end of rw data + heap pages, b = one zone
 * below the stack (SPEC-0.8.md §5.2), through nub_publish_stdprog_isa and
 * nub_local_create_stdprog_isa. */
static void test_grow_heap_stdprog(void **state)
{
    (void)state;
    REQUIRE_KVM();
    char text[1024];
    /* .rw 1 byte + 2 heap pages from 0x20000: end page 0x20 + 1 + 2;
     * stack 4096: b = (2^32 - 3 * 0x10000 - 0x1000000 - 0x1000) / 0x1000 */
    snprintf(text, sizeof text, ".rw 7\n.heap 2\n.stack 4096\n%s", grow_text);
    const uint64_t end = 0x20 + 1 + 2;
    const uint64_t b = (UINT64_C(0x100000000) - 3 * 0x10000 - 0x1000000 - 0x1000) / 0x1000;
    struct pvmasm_output as;
    char err[256];
    if (pvmasm_assemble(text, strlen(text), &as, err, sizeof err) != 0)
        fail_msg("pvmasm: %s", err);
    nub_sandbox *sb = nub_test_sandbox(NULL);
    const struct {
        uint64_t want;
        uint32_t probe;
        uint64_t s0;
    } cases[] = {
        {0, 0x20000, end},                        /* query; the rw byte is there */
        {end + 2, (end + 2) * 4096 - 8, end + 2}, /* grown, new pages usable */
        {b + 1, 0x20000, end},                    /* past b */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nub_invocation_result r[ENGINES];
        struct counter c[ENGINES];
        for (int e = 0; e < ENGINES; e++) {
            c[e] = (struct counter){0};
            struct nub_call call = {.host = {count_fn, &c[e]}};
            struct nub_invoke_packet p = {
                .arg_count = 2, .args = {cases[i].want, cases[i].probe}, .initial_gas = BIG_GAS};
            if (e == 0) {
                assert_int_equal(nub_publish_stdprog_isa(sb, as.stdprog, as.stdprog_len, NULL, 0,
                                                         BIG_GAS, NUB_ISA_GP_0_8_0,
                                                         p.instance_hash),
                                 NUB_OK);
                assert_int_equal(nub_invoke_call(sb, &p, &call, &r[e]), NUB_OK);
            } else {
                nub_local *l = NULL;
                assert_int_equal(nub_local_create_stdprog_isa(
                                     e == 1 ? NUB_LOCAL_JIT : NUB_LOCAL_INTERP, as.stdprog,
                                     as.stdprog_len, NULL, 0, BIG_GAS, NUB_ISA_GP_0_8_0, &l),
                                 NUB_OK);
                assert_int_equal(nub_local_invoke(l, &p, &call, &r[e]), NUB_OK);
                nub_local_destroy(l);
                if (memcmp(&r[0], &r[e], sizeof r[0]) != 0)
                    fail_msg("case %zu: %s differs from the sandbox", i, engine_names[e]);
            }
            assert_int_equal(c[e].calls, 0);
        }
        assert_int_equal(r[0].exit_reason, NUB_EXIT_HALT);
        assert_int_equal(r[0].regs[REG_S0], cases[i].s0);
        assert_int_equal(r[0].regs[REG_S1], cases[i].s0);
        assert_int_equal(r[0].regs[REG_A3], 0x1234);
        if (i == 0)
            assert_int_equal(r[0].regs[REG_A2], 7); /* the rw data byte */
        if (i == 1)
            assert_int_equal(r[0].regs[REG_A2], 0);
    }
    /* an unknown version is refused */
    nub_local *l = NULL;
    assert_int_equal(nub_local_create_stdprog_isa(NUB_LOCAL_INTERP, as.stdprog, as.stdprog_len,
                                                  NULL, 0, BIG_GAS, NUB_ISA_COUNT, &l),
                     NUB_ERR_WIRE_ISA);
    assert_null(l);
    pvmasm_output_free(&as);
    nub_sandbox_destroy(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_heap_080),
        cmocka_unit_test(test_grow_heap_no_heap),
        cmocka_unit_test(test_id_1_is_the_embedders_under_072),
        cmocka_unit_test(test_grow_heap_stdprog),
    };
    return nub_test_kvm_suite_result(
        cmocka_run_group_tests_name("sandbox_grow_heap", tests, NULL, NULL));
}
