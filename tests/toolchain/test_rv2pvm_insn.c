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
#include <string.h>

#include <cmocka.h>

#include "insn_cases.h"
#include "ref_semantics.h"
#include "pvm_alloc_libc.h"
#include "pvm_stdprog.h"
#include "rv2pvm.h"
#include "rv_elf.h"
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
    {4, 0},
    {100, 0},
    {101, 0},
    {0x7FF, 0},
    {(u64)-3, 0},
    {(u64)-4, 0},
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

/* The fuse_* cases really are fused: the PVM instruction at the li is a
 * branch_*_imm; nofuse_live (rX live after the branch) keeps its load_imm. */
struct pc_map {
    uint64_t addr[4096];
    uint32_t pc[4096];
    size_t n;
};

static void record_pc(void *ctx, uint64_t rv_addr, uint32_t pvm_pc)
{
    struct pc_map *m = ctx;
    if (m->n < 4096) {
        m->addr[m->n] = rv_addr;
        m->pc[m->n++] = pvm_pc;
    }
}

static void test_constant_branches_are_fused(void **state)
{
    (void)state;
    char path[1024], err[512], sym_name[64];
    size_t len = 0, checked = 0;
    snprintf(path, sizeof path, "%s/insn_branch.elf", TOOLCHAIN_JAM_DIR);
    uint8_t *elf_bytes = test_read_file(path, &len);
    assert_non_null(elf_bytes);
    static struct pc_map map;
    map.n = 0;
    struct rv2pvm_options opt = {.stack_size = 4096, .map = record_pc, .map_ctx = &map};
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(rv2pvm_translate(elf_bytes, len, &opt, &out, &out_len, NULL, err, sizeof err),
                     0);
    struct pvm_stdprog sp;
    struct pvm_program *prog = NULL;
    struct pvm_allocator alloc = pvm_libc_allocator();
    assert_int_equal(pvm_stdprog_load(out, out_len, NULL, 0, &sp), PVM_OK);
    assert_int_equal(pvm_program_decode(sp.code_blob, sp.code_blob_len, &alloc, &prog), PVM_OK);
    struct rv_elf elf;
    assert_int_equal(rv_elf_parse(elf_bytes, len, &elf, err, sizeof err), 0);
    for (size_t c = 0; c < sizeof branch_cases / sizeof branch_cases[0]; c++) {
        bool fuse = strncmp(branch_cases[c].name, "fuse_", 5) == 0;
        if (!fuse && strcmp(branch_cases[c].name, "nofuse_live") != 0)
            continue;
        snprintf(sym_name, sizeof sym_name, "t_%s", branch_cases[c].name);
        uint64_t addr = 0;
        for (size_t i = 0; i < rv_elf_symbol_count(&elf); i++) {
            struct rv_elf_symbol sym;
            if (rv_elf_symbol(&elf, i, &sym) == 0 && strcmp(sym.name, sym_name) == 0)
                addr = sym.value;
        }
        assert_true(addr != 0);
        uint32_t pc = UINT32_MAX;
        for (size_t i = 0; i < map.n; i++)
            if (map.addr[i] == addr)
                pc = map.pc[i];
        assert_true(pc < prog->code_len);
        uint8_t op = pvm_program_opcode(prog, pc);
        if (fuse && (op < PVM_OP_branch_eq_imm || op > PVM_OP_branch_gt_s_imm))
            fail_msg("%s: opcode %u at pc %u, want a branch_*_imm", sym_name, op, pc);
        if (!fuse && op != PVM_OP_load_imm)
            fail_msg("%s: opcode %u at pc %u, want load_imm", sym_name, op, pc);
        checked++;
    }
    assert_int_equal(checked, 10);
    rv_elf_free(&elf);
    pvm_program_destroy(prog);
    free(out);
    free(elf_bytes);
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
        cmocka_unit_test(test_register_register),
        cmocka_unit_test(test_immediate_and_unary),
        cmocka_unit_test(test_loads_stores_atomics),
        cmocka_unit_test(test_branches_and_jumps),
        cmocka_unit_test(test_constant_branches_are_fused),
        cmocka_unit_test(test_initial_stack_pointer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
