/*
 * test_rv2pvm_programs.c — whole C programs through nub-cc: reloc_prog.c
 * (every kind of code/data reference, see its header) built with the medlow
 * and medany code models, -O0 to -O3, with and without one section per
 * function, run on every engine, compared with the same file
 * compiled natively; nub's own interpreter compiled to PVM (pvm_in_pvm.c);
 * plus endpoint slots, host calls and the output convention.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <elf.h>

#include "pvm_alloc_libc.h"
#include "rv_elf.h"
#include "pvm_stdprog.h"
#include "test_engines.h"
#include "test_util.h"

/* reloc_prog.c, compiled natively into this test. */
extern uint64_t counter, data_word;
uint64_t ep_main(uint64_t sel, uint64_t x);
uint64_t ep_second(uint64_t x);
uint64_t ep_recursion(uint64_t n);
uint64_t ep_bss(uint64_t n);
uint64_t ep_memfns(uint64_t x, uint64_t len);
uint64_t ep_tail(uint64_t x);

static uint64_t native_endpoint(unsigned k, uint64_t a, uint64_t b)
{
    counter = 0; /* every PVM run starts from the initial data */
    data_word = 1234;
    switch (k) {
    case 0:
        return ep_main(a, b);
    case 1:
        return ep_second(a);
    case 3:
        return ep_recursion(a);
    case 4:
        return ep_bss(a);
    case 5:
        return ep_memfns(a, b);
    case 6:
        return ep_tail(a);
    default:
        return 0;
    }
}

static const unsigned compared_endpoints[] = {0, 1, 3, 4, 5, 6};

static void compare_with_native(const char *jam_name)
{
    struct jam_loaded *l = test_load_jam(TOOLCHAIN_JAM_DIR, jam_name);
    assert_non_null(l);
    char err[256];
    size_t failures = 0, runs = 0;
    for (size_t e = 0; e < TEST_ENGINE_COUNT; e++) {
        for (size_t i = 0; i < sizeof compared_endpoints / sizeof compared_endpoints[0]; i++) {
            unsigned k = compared_endpoints[i];
            for (uint64_t a = 0; a < 40; a += 3) {
                const uint64_t args[2] = {a * 0x9E3779B9u + k, a + 5};
                struct jam_run_result r;
                assert_int_equal(
                    jam_run(l, test_engines[e], k, args, 2, 100000000, &r, err, sizeof err), 0);
                uint64_t want = native_endpoint(k, args[0], args[1]);
                runs++;
                if (r.exit.reason != PVM_EXIT_HALT || r.regs[7] != want) {
                    if (failures++ < 10)
                        print_error("%s %s endpoint %u (%llu, %llu): exit %u pc %u r7 %llu, "
                                    "native %llu\n",
                                    test_engines[e]->name, jam_name, k, (unsigned long long)args[0],
                                    (unsigned long long)args[1], r.exit.reason, r.exit.pc,
                                    (unsigned long long)r.regs[7], (unsigned long long)want);
                }
            }
        }
    }
    jam_free(l);
    assert_true(runs > 100);
    assert_int_equal(failures, 0);
}

static void test_medlow_matches_native(void **state)
{
    (void)state;
    compare_with_native("reloc_medlow.jam");
}

static void test_medany_matches_native(void **state)
{
    (void)state;
    compare_with_native("reloc_medany.jam");
}

/* -O0 (frame pointers, no folding), and one section per function so calls
 * and addresses cross sections (R_RISCV_CALL_PLT, more relocations). */
static void test_other_builds_match_native(void **state)
{
    (void)state;
    compare_with_native("reloc_O0.jam");
    compare_with_native("reloc_O3_sections.jam");
    compare_with_native("reloc_Os_medany_sections.jam");
    compare_with_native("reloc_O3_medany.jam");
}

/* Cross-section branches and jumps: the ELF has each relocation type, and
 * the program computes what reloc_branches.S says. */
static void test_branch_relocations(void **state)
{
    (void)state;
    char path[1024], err[256];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/reloc_branches.elf", TOOLCHAIN_JAM_DIR);
    uint8_t *bytes = test_read_file(path, &len);
    assert_non_null(bytes);
    struct rv_elf elf;
    assert_int_equal(rv_elf_parse(bytes, len, &elf, err, sizeof err), 0);
    const uint32_t wanted[] = {R_RISCV_BRANCH, R_RISCV_RVC_BRANCH, R_RISCV_JAL, R_RISCV_RVC_JUMP};
    for (size_t w = 0; w < sizeof wanted / sizeof wanted[0]; w++) {
        bool seen = false;
        for (size_t s = 0; s < elf.section_count; s++) {
            if (elf.sections[s].type != SHT_RELA)
                continue;
            for (size_t j = 0; j < rv_elf_rela_count(&elf, s); j++) {
                struct rv_elf_rela r;
                rv_elf_rela(&elf, s, j, &r);
                seen |= r.type == wanted[w];
            }
        }
        if (!seen)
            fail_msg("reloc_branches.elf has no relocation of type %u", wanted[w]);
    }
    rv_elf_free(&elf);
    free(bytes);

    struct jam_loaded *l = test_load_jam(TOOLCHAIN_JAM_DIR, "reloc_branches.jam");
    assert_non_null(l);
    for (size_t e = 0; e < TEST_ENGINE_COUNT; e++) {
        for (uint64_t x = 0; x < 6; x++) {
            struct jam_run_result r;
            assert_int_equal(jam_run(l, test_engines[e], 0, &x, 1, 10000, &r, err, sizeof err), 0);
            uint64_t want = x == 0 ? 200 : x == 1 ? 100 : x == 2 ? 300 : 2 * x + 1;
            assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
            assert_int_equal(r.regs[7], want);
        }
    }
    jam_free(l);
}

/* guest/pvm's interpreter compiled by nub-cc runs a PVM loop (pvm_in_pvm.c). */
static void test_interpreter_in_pvm(void **state)
{
    (void)state;
    char err[256];
    struct jam_loaded *l = test_load_jam(TOOLCHAIN_JAM_DIR, "pvm_in_pvm.jam");
    assert_non_null(l);
    const uint64_t ns[] = {1, 2, 10, 1000, 5000};
    for (size_t e = 0; e < TEST_ENGINE_COUNT; e++) {
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            struct jam_run_result r;
            assert_int_equal(
                jam_run(l, test_engines[e], 0, &ns[i], 1, 100000000, &r, err, sizeof err), 0);
            assert_int_equal(r.exit.reason, PVM_EXIT_HALT);
            assert_int_equal(r.regs[7], ns[i] * (ns[i] + 1) / 2);
        }
    }
    jam_free(l);
}

/* Slot 2 has no endpoint: it is a trap at pc 10, the run panics there. */
static void test_unused_endpoint_slot_traps(void **state)
{
    (void)state;
    struct jam_loaded *l = test_load_jam(TOOLCHAIN_JAM_DIR, "reloc_medlow.jam");
    assert_non_null(l);
    char err[256];
    for (size_t e = 0; e < TEST_ENGINE_COUNT; e++) {
        struct jam_run_result r;
        assert_int_equal(jam_run(l, test_engines[e], 2, NULL, 0, 1000, &r, err, sizeof err), 0);
        assert_int_equal(r.exit.reason, PVM_EXIT_PANIC);
        assert_int_equal(r.exit.pc, 10);
    }
    jam_free(l);
}

/* An instance kept alive across exits (host call resume, memory reads). */
struct live {
    uint8_t *bytes;
    struct pvm_stdprog layout;
    struct pvm_program *program;
    void *inst;
    const struct pvm_engine *engine;
};

static void live_start(struct live *lv, const struct pvm_engine *engine, const char *jam,
                       uint32_t endpoint, uint64_t arg)
{
    char path[1024];
    size_t len = 0;
    struct pvm_allocator alloc = pvm_libc_allocator();
    snprintf(path, sizeof path, "%s/%s", TOOLCHAIN_JAM_DIR, jam);
    memset(lv, 0, sizeof *lv);
    lv->engine = engine;
    lv->bytes = test_read_file(path, &len);
    assert_non_null(lv->bytes);
    assert_int_equal(pvm_stdprog_load(lv->bytes, len, NULL, 0, &lv->layout), PVM_OK);
    assert_int_equal(
        pvm_program_decode(lv->layout.code_blob, lv->layout.code_blob_len, &alloc, &lv->program),
        PVM_OK);
    struct pvm_state init;
    pvm_stdprog_initial_state(&lv->layout, 5 * endpoint, 1000000, &init);
    init.regs[7] = arg;
    assert_int_equal(engine->create(lv->program, lv->layout.segments, lv->layout.segment_count,
                                    &init, &alloc, &lv->inst),
                     PVM_OK);
}

static void live_end(struct live *lv)
{
    lv->engine->destroy(lv->inst);
    pvm_program_destroy(lv->program);
    free(lv->bytes);
}

/* NUB_ECALLI(77, x, 2, 3, 4, 5, 6) + 1: exits with host call 77 and the
 * arguments in r7..r12; after the host sets r7 and resumes, the program
 * adds 1 and halts. */
static void test_host_call_macro(void **state)
{
    (void)state;
    for (size_t e = 0; e < TEST_ENGINE_COUNT; e++) {
        struct live lv;
        struct pvm_exit ex;
        struct pvm_state s;
        live_start(&lv, test_engines[e], "reloc_medlow.jam", 7, 0xABCDEF);
        lv.engine->run(lv.inst, &ex);
        assert_int_equal(ex.reason, PVM_EXIT_HOST_CALL);
        assert_int_equal(ex.arg, 77);
        lv.engine->get_state(lv.inst, &s);
        assert_int_equal(s.regs[7], 0xABCDEF);
        for (unsigned r = 8; r <= 12; r++)
            assert_int_equal(s.regs[r], r - 6);
        s.regs[7] = 999;
        lv.engine->set_state(lv.inst, &s);
        lv.engine->run(lv.inst, &ex);
        assert_int_equal(ex.reason, PVM_EXIT_HALT);
        lv.engine->get_state(lv.inst, &s);
        assert_int_equal(s.regs[7], 1000);
        live_end(&lv);
    }
}

/* An endpoint returning struct nub_output leaves {pointer, length} in r7/r8. */
static void test_output_convention(void **state)
{
    (void)state;
    for (size_t e = 0; e < TEST_ENGINE_COUNT; e++) {
        struct live lv;
        struct pvm_exit ex;
        struct pvm_state s;
        char out[16];
        live_start(&lv, test_engines[e], "reloc_medlow.jam", 8, 3);
        lv.engine->run(lv.inst, &ex);
        assert_int_equal(ex.reason, PVM_EXIT_HALT);
        lv.engine->get_state(lv.inst, &s);
        assert_int_equal(s.regs[8], 16);
        assert_int_equal(lv.engine->read_memory(lv.inst, (uint32_t)s.regs[7], out, 16), PVM_OK);
        assert_memory_equal(out, "defghijklmnopqrs", 16);
        live_end(&lv);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_medlow_matches_native),
        cmocka_unit_test(test_medany_matches_native),
        cmocka_unit_test(test_other_builds_match_native),
        cmocka_unit_test(test_branch_relocations),
        cmocka_unit_test(test_interpreter_in_pvm),
        cmocka_unit_test(test_unused_endpoint_slot_traps),
        cmocka_unit_test(test_host_call_macro),
        cmocka_unit_test(test_output_convention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
