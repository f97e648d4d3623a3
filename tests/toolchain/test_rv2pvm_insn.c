/*
 * test_rv2pvm_insn.c — per-instruction-class translation tests.
 *
 * Every case of insn_cases.h was assembled (insn_*.S), linked and translated
 * by nub-cc; each case is one endpoint. Each case runs on every engine with
 * a set of operand pairs chosen for edge cases (zero, sign bits, 32-bit
 * boundaries, MIN / -1, shift amounts past the width) and must halt with
 * the value the RISC-V reference semantics (ref_semantics.h) give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "insn_cases.h"
#include "ref_semantics.h"
#include "test_engines.h"
#include "test_util.h"

struct insn_case {
    unsigned endpoint;
    const char *name;
    u64 (*ref)(u64 a, u64 b);
};

#define CASE_ENTRY(k, name, ...) {k, #name, ref_##name},
static const struct insn_case rr_cases[] = {INSN_CASES_RR(CASE_ENTRY)};
static const struct insn_case imm_cases[] = {INSN_CASES_IMM(CASE_ENTRY)};
static const struct insn_case mem_cases[] = {INSN_CASES_MEM(CASE_ENTRY)};
static const struct insn_case branch_cases[] = {INSN_CASES_BRANCH(CASE_ENTRY)};

static const u64 operands[][2] = {
    {0, 0},
    {1, 2},
    {2, 1},
    {~0ull, 1},
    {1, ~0ull},
    {1ull << 63, ~0ull},
    {~0ull, 1ull << 63},
    {0x80000000ull, 1},
    {0xFFFFFFFF80000000ull, ~0ull},
    {0x7FFFFFFF, 0x7FFFFFFF},
    {0x123456789ABCDEF0ull, 0x0FEDCBA987654321ull},
    {0xDEADBEEFCAFEBABEull, 0},
    {12345, 67},
    {(u64)-12345, 67},
    {12345, (u64)-67},
    {5, 64},
    {0xF0F0F0F0F0F0F0F0ull, 33},
    {0x00000000FFFFFFFFull, 0x00000000FFFFFFFFull},
    {0x8000, 0x80},
};
#define OPERAND_COUNT (sizeof operands / sizeof operands[0])

static void run_cases(const char *jam_name, const struct insn_case *cases, size_t count)
{
    struct jam_loaded *l = test_load_jam(TOOLCHAIN_JAM_DIR, jam_name);
    assert_non_null(l);
    char err[256];
    size_t failures = 0;
    for (size_t e = 0; e < TEST_ENGINE_COUNT; e++) {
        for (size_t c = 0; c < count; c++) {
            for (size_t o = 0; o < OPERAND_COUNT; o++) {
                const u64 args[2] = {operands[o][0], operands[o][1]};
                struct jam_run_result r;
                if (jam_run(l, test_engines[e], cases[c].endpoint, args, 2, 1000000, &r, err,
                            sizeof err) != 0) {
                    fail_msg("%s", err);
                }
                u64 want = cases[c].ref(args[0], args[1]);
                if (r.exit.reason != PVM_EXIT_HALT || r.regs[7] != want) {
                    if (failures++ < 20)
                        print_error("%s/%s: %s(0x%llx, 0x%llx): exit %u pc %u, r7 = 0x%llx, "
                                    "want 0x%llx\n",
                                    test_engines[e]->name, jam_name, cases[c].name,
                                    (unsigned long long)args[0], (unsigned long long)args[1],
                                    r.exit.reason, r.exit.pc, (unsigned long long)r.regs[7],
                                    (unsigned long long)want);
                }
            }
        }
    }
    jam_free(l);
    assert_int_equal(failures, 0);
}

static void test_register_register(void **state)
{
    (void)state;
    run_cases("insn_rr.jam", rr_cases, sizeof rr_cases / sizeof rr_cases[0]);
}

static void test_immediate_and_unary(void **state)
{
    (void)state;
    run_cases("insn_imm.jam", imm_cases, sizeof imm_cases / sizeof imm_cases[0]);
}

static void test_loads_stores_atomics(void **state)
{
    (void)state;
    run_cases("insn_mem.jam", mem_cases, sizeof mem_cases / sizeof mem_cases[0]);
}

static void test_branches_and_jumps(void **state)
{
    (void)state;
    run_cases("insn_branch.jam", branch_cases, sizeof branch_cases / sizeof branch_cases[0]);
}

/* The stack pointer the cases see is the standard one (c.addi4spn etc. rely on it). */
static void test_initial_stack_pointer(void **state)
{
    (void)state;
    struct jam_loaded *l = test_load_jam(TOOLCHAIN_JAM_DIR, "insn_rr.jam");
    assert_non_null(l);
    char err[256];
    struct jam_run_result r;
    const u64 args[2] = {7, 9};
    assert_int_equal(jam_run(l, &pvm_interp_engine, 0, args, 2, 1000, &r, err, sizeof err), 0);
    assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(r.regs[1], REF_SP);
    jam_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_register),     cmocka_unit_test(test_immediate_and_unary),
        cmocka_unit_test(test_loads_stores_atomics),  cmocka_unit_test(test_branches_and_jumps),
        cmocka_unit_test(test_initial_stack_pointer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
