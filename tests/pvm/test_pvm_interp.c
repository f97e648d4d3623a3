/*
 * test_pvm_interp.c — the reference interpreter on what no shared vector
 * covers (SPEC §12): host calls and resume, sbrk, cmov_*_imm, out-of-gas,
 * jumps into blocks, bad dynamic jumps, undefined opcodes, address wrap,
 * low memory, read-only pages, faults fixed and re-run, final exits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pvm_alloc_libc.h"
#include "pvm_test_util.h"

static struct pvm_state state_with(uint64_t r7, int64_t gas)
{
    struct pvm_state s;
    memset(&s, 0, sizeof(s));
    s.regs[0] = PVM_HALT_ADDRESS;
    s.regs[7] = r7;
    s.gas = gas;
    return s;
}

/* ---- host calls --------------------------------------------------------- */

static void test_ecalli_exits_and_resumes_in_the_same_gas_block(void **unused)
{
    (void)unused;
    struct test_vm vm;
    /* One block: ecalli, add, jump_ind = 3 instructions. */
    test_vm_start(&vm,
                  "    ecalli 7\n"
                  "    add_imm_64 a0, a0, 1\n"
                  "halt:\n"
                  "    jump_ind ra, 0\n",
                  NULL, 0, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HOST_CALL);
    assert_int_equal(vm.exit.arg, 7);
    assert_int_equal(vm.exit.pc, 0);
    assert_int_equal(vm.state.pc, 0);
    assert_int_equal(vm.state.gas, 1000000 - 3); /* the whole block, once */

    /* The host answers in r7 and charges 10 gas. */
    vm.state.regs[7] = 100;
    vm.state.gas -= 10;
    pvm_interp_set_state(vm.interp, &vm.state);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(vm.state.regs[7], 101);
    assert_int_equal(vm.state.gas, 1000000 - 3 - 10); /* resume is not a new block */
    assert_int_equal(vm.exit.pc, test_vm_label(&vm, "halt"));
    test_vm_stop(&vm);
}

static void test_ecalli_id_is_the_sign_extended_immediate(void **unused)
{
    (void)unused;
    struct test_vm vm;
    test_vm_start(&vm, "    ecalli -2\n    trap\n", NULL, 0, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HOST_CALL);
    assert_true(vm.exit.arg == UINT64_MAX - 1);
    test_vm_run(&vm); /* resumes at the trap */
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(vm.exit.pc, 2);
    test_vm_stop(&vm);
}

static void test_set_state_with_a_new_pc_drops_the_pending_resume(void **unused)
{
    (void)unused;
    struct test_vm vm;
    test_vm_start(&vm,
                  "    ecalli 1\n"
                  "    trap\n"
                  "target:\n"
                  "    jump_ind ra, 0\n",
                  NULL, 0, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HOST_CALL);
    int64_t gas = vm.state.gas;
    vm.state.pc = test_vm_label(&vm, "target");
    pvm_interp_set_state(vm.interp, &vm.state);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(vm.state.gas, gas - 1); /* a fresh block at the new pc */
    test_vm_stop(&vm);
}

/* ---- sbrk --------------------------------------------------------------- */

static void test_sbrk_grows_the_heap_with_writable_zero_pages(void **unused)
{
    (void)unused;
    struct test_vm vm;
    struct pvm_state init = state_with(5000, 1000);
    init.heap_top = 0x30000;
    test_vm_start(&vm,
                  "    sbrk a1, a0\n" /* a1 = 0x30000, top = 0x31388 */
                  "    load_imm a2, 0\n"
                  "    sbrk a3, a2\n" /* size 0: the current top */
                  "    store_imm_ind_u32 a1, 4996, 0x11223344\n"
                  "    load_ind_u64 a4, a1, 4992\n"
                  "    jump_ind ra, 0\n",
                  NULL, 0, &init);
    assert_int_equal(pvm_interp_page_access(vm.interp, 0x30000), PVM_ACCESS_NONE);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(vm.state.regs[8], 0x30000);
    assert_int_equal(vm.state.regs[10], 0x30000 + 5000);
    assert_int_equal(vm.state.heap_top, 0x30000 + 5000);
    assert_true(vm.state.regs[11] == 0x1122334400000000ull);
    assert_int_equal(pvm_interp_page_access(vm.interp, 0x30000), PVM_ACCESS_WRITE);
    assert_int_equal(pvm_interp_page_access(vm.interp, 0x31000), PVM_ACCESS_WRITE);
    assert_int_equal(pvm_interp_page_access(vm.interp, 0x32000), PVM_ACCESS_NONE);
    test_vm_stop(&vm);
}

static void test_sbrk_without_a_heap_or_past_the_address_space_returns_zero(void **unused)
{
    (void)unused;
    struct test_vm vm;
    struct pvm_state init = state_with(4096, 1000);
    init.regs[9] = 0xFFFFFFFF; /* too large for any heap top */
    test_vm_start(&vm,
                  "    sbrk a1, a0\n"
                  "    jump_ind ra, 0\n",
                  NULL, 0, &init);
    test_vm_run(&vm);
    assert_int_equal(vm.state.regs[8], 0); /* heap_top 0: no heap */
    test_vm_stop(&vm);

    init.heap_top = 0x40000;
    test_vm_start(&vm,
                  "    sbrk a1, a2\n"
                  "    jump_ind ra, 0\n",
                  NULL, 0, &init);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(vm.state.regs[8], 0);
    assert_int_equal(vm.state.heap_top, 0x40000); /* unchanged */
    test_vm_stop(&vm);
}

/* ---- cmov with immediates ---------------------------------------------- */

static void test_cmov_imm(void **unused)
{
    (void)unused;
    struct test_vm vm;
    struct pvm_state init = state_with(0, 1000);
    init.regs[2] = 0; /* t0 = 0 */
    init.regs[3] = 9; /* t1 = 9 */
    init.regs[8] = 1;
    init.regs[9] = 2;
    init.regs[10] = 3;
    init.regs[11] = 4;
    test_vm_start(&vm,
                  "    cmov_nz_imm a1, t1, -5\n" /* t1 != 0: a1 = -5 */
                  "    cmov_nz_imm a2, t0, 77\n" /* t0 == 0: a2 keeps 2 */
                  "    cmov_iz_imm a3, t0, 66\n" /* t0 == 0: a3 = 66 */
                  "    cmov_iz_imm a4, t1, 55\n" /* t1 != 0: a4 keeps 4 */
                  "    jump_ind ra, 0\n",
                  NULL, 0, &init);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HALT);
    assert_true(vm.state.regs[8] == (uint64_t)-5);
    assert_int_equal(vm.state.regs[9], 2);
    assert_int_equal(vm.state.regs[10], 66);
    assert_int_equal(vm.state.regs[11], 4);
    test_vm_stop(&vm);
}

/* ---- gas ---------------------------------------------------------------- */

static const char counting_loop[] = "    load_imm a1, 0\n"
                                    "    fallthrough\n"
                                    "loop:\n"
                                    "    add_imm_64 a1, a1, 1\n"
                                    "    add_imm_64 a0, a0, -1\n"
                                    "    branch_ne_imm a0, 0, loop\n"
                                    "    jump_ind ra, 0\n";

static void test_out_of_gas_mid_program_stops_at_the_unpaid_block(void **unused)
{
    (void)unused;
    struct test_vm vm;
    /* Blocks: [load_imm, fallthrough] = 2, then [3-instruction loop body]
     * per iteration. 2 + 3*4 = 14 gas pays 4 iterations; 2 gas are left
     * and the fifth iteration (cost 3) cannot be paid. */
    struct pvm_state init = state_with(10, 16);
    test_vm_start(&vm, counting_loop, NULL, 0, &init);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_OUT_OF_GAS);
    assert_int_equal(vm.exit.pc, test_vm_label(&vm, "loop"));
    assert_int_equal(vm.state.pc, test_vm_label(&vm, "loop"));
    assert_int_equal(vm.state.gas, 2); /* not charged for the unpaid block */
    assert_int_equal(vm.state.regs[8], 4);
    assert_int_equal(vm.state.regs[7], 6);
    test_vm_stop(&vm);
}

static void test_exact_gas_is_enough_and_zero_gas_is_not(void **unused)
{
    (void)unused;
    struct test_vm vm;
    /* 2 + 3*3 + 1 (the jump_ind block) = 12 for three iterations. */
    struct pvm_state init = state_with(3, 12);
    test_vm_start(&vm, counting_loop, NULL, 0, &init);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(vm.state.gas, 0);
    test_vm_stop(&vm);

    init = state_with(3, 0);
    test_vm_start(&vm, counting_loop, NULL, 0, &init);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_OUT_OF_GAS);
    assert_int_equal(vm.exit.pc, 0);
    assert_int_equal(vm.state.gas, 0);
    test_vm_stop(&vm);
}

/* ---- control flow ------------------------------------------------------- */

static void test_jump_into_the_middle_of_a_block_panics(void **unused)
{
    (void)unused;
    struct test_vm vm;
    test_vm_start(&vm,
                  "    load_imm a0, 1\n"
                  "middle:\n" /* not after a terminator: not a block start */
                  "    add_imm_64 a0, a0, 1\n"
                  "    jump middle\n",
                  NULL, 0, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(vm.exit.pc, test_vm_label(&vm, "middle") + 3);
    assert_int_equal(vm.state.regs[7], 2); /* the block ran up to the jump */
    assert_int_equal(vm.state.gas, 1000000 - 3);
    test_vm_stop(&vm);
}

static void test_not_taken_branch_to_a_bad_target_continues(void **unused)
{
    (void)unused;
    struct test_vm vm;
    test_vm_start(&vm,
                  "    load_imm a0, 1\n"
                  "middle:\n"
                  "    branch_eq_imm a0, 0, middle\n" /* not taken: target never checked */
                  "    jump_ind ra, 0\n",
                  NULL, 0, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HALT);
    test_vm_stop(&vm);
}

static void test_branch_to_an_absolute_target_outside_the_code_panics(void **unused)
{
    (void)unused;
    struct test_vm vm;
    test_vm_start(&vm, "    jump @-4\n", NULL, 0, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(vm.exit.pc, 0);
    test_vm_stop(&vm);
}

static void test_dynamic_jumps(void **unused)
{
    (void)unused;
    struct test_vm vm;
    /* Table: [ok, inside]. &ok = 2, &inside = 4. */
    const char *src = "    .jumptable ok, inside\n"
                      "    jump_ind a0, 0\n"
                      "ok:\n"
                      "    load_imm a1, 1\n"
                      "inside:\n" /* after load_imm: not a block start */
                      "    jump_ind ra, 0\n";
    uint64_t addresses[] = {2, 4, 0, 3, 6, 0xFFFF0000, 2 + 0x100000000ull};
    uint32_t reasons[] = {PVM_EXIT_HALT,  PVM_EXIT_PANIC, PVM_EXIT_PANIC, PVM_EXIT_PANIC,
                          PVM_EXIT_PANIC, PVM_EXIT_HALT,  PVM_EXIT_HALT};
    for (size_t i = 0; i < sizeof(addresses) / sizeof(addresses[0]); i++) {
        struct pvm_state init = state_with(addresses[i], 100);
        test_vm_start(&vm, src, NULL, 0, &init);
        test_vm_run(&vm);
        assert_int_equal(vm.exit.reason, reasons[i]);
        if (addresses[i] == 0xFFFF0000)
            assert_int_equal(vm.exit.pc, 0); /* halts at the jumping instruction */
        test_vm_stop(&vm);
    }
}

static void test_load_imm_jump_ind_uses_the_old_base_and_writes_ra_even_on_panic(void **unused)
{
    (void)unused;
    struct test_vm vm;
    struct pvm_state init = state_with(0, 100);
    init.regs[7] = 1; /* odd: the jump panics */
    test_vm_start(&vm, "    load_imm_jump_ind a0, a0, 42, 0\n", NULL, 0, &init);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(vm.state.regs[7], 42);
    test_vm_stop(&vm);
}

static void test_undefined_opcode_traps_and_ends_the_gas_block(void **unused)
{
    (void)unused;
    struct test_vm vm;
    test_vm_start(&vm,
                  "    load_imm a0, 5\n"
                  "    .opcode 2\n" /* undefined: behaves as trap */
                  "    load_imm a0, 6\n",
                  NULL, 0, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(vm.exit.pc, 3);
    assert_int_equal(vm.state.regs[7], 5);
    assert_int_equal(vm.state.gas, 1000000 - 2);
    test_vm_stop(&vm);
}

static void test_running_off_the_end_is_an_implicit_trap(void **unused)
{
    (void)unused;
    struct test_vm vm;
    test_vm_start(&vm, "    load_imm a0, 5\n", NULL, 0, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(vm.exit.pc, 3); /* = code length */
    assert_int_equal(vm.state.gas, 1000000 - 2);
    test_vm_stop(&vm);
}

static void test_start_at_a_non_instruction_byte_or_past_the_end_panics(void **unused)
{
    (void)unused;
    struct test_vm vm;
    struct pvm_state init = state_with(0, 100);
    init.pc = 1; /* the operand byte of load_imm */
    test_vm_start(&vm, "    load_imm a0, 5\n    jump_ind ra, 0\n", NULL, 0, &init);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(vm.exit.pc, 1);
    assert_int_equal(vm.state.gas, 99);
    test_vm_stop(&vm);

    init.pc = 1000;
    test_vm_start(&vm, "    load_imm a0, 5\n", NULL, 0, &init);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(vm.exit.pc, 1000);
    test_vm_stop(&vm);
}

static void test_halt_and_panic_are_final(void **unused)
{
    (void)unused;
    struct test_vm vm;
    test_vm_start(&vm, "    trap\n", NULL, 0, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    int64_t gas = vm.state.gas;
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(vm.state.gas, gas);
    test_vm_stop(&vm);
}

/* ---- memory ------------------------------------------------------------- */

static void test_low_memory_access_panics(void **unused)
{
    (void)unused;
    struct test_vm vm;
    test_vm_start(&vm, "    load_u8 a0, 0x8000\n    jump_ind ra, 0\n", NULL, 0, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    assert_int_equal(vm.exit.pc, 0);
    test_vm_stop(&vm);

    /* 0x10000 is the first address that faults instead. */
    test_vm_start(&vm, "    store_imm_u8 0x10000, 1\n    jump_ind ra, 0\n", NULL, 0, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PAGE_FAULT);
    assert_int_equal(vm.exit.arg, 0x10000);
    test_vm_stop(&vm);
}

static void test_address_wrap_at_2_pow_32(void **unused)
{
    (void)unused;
    struct test_vm vm;
    struct pvm_segment top = test_segment(0xFFFFF000, 0x1000, PVM_ACCESS_WRITE);
    struct pvm_state init = state_with(0xFFFFFFFF, 100);
    /* A 2-byte store at 0xFFFFFFFF touches 0xFFFFFFFF and 0x0: the lowest
     * offending byte is 0 < 0x10000, so panic, and nothing is written. */
    test_vm_start(&vm, "    store_imm_ind_u16 a0, 0, 0x1234\n    jump_ind ra, 0\n", &top, 1, &init);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PANIC);
    uint8_t b = 0xEE;
    assert_int_equal(pvm_interp_read_memory(vm.interp, 0xFFFFFFFF, &b, 1), PVM_OK);
    assert_int_equal(b, 0);
    test_vm_stop(&vm);

    /* Only the low 32 bits of base + offset address memory. */
    init = state_with(0, 100);
    test_vm_start(&vm,
                  "    load_imm_64 a3, 0x1234FFFFF004\n"
                  "    store_imm_ind_u32 a3, 0, 0x55\n" /* lands at 0xFFFFF004 */
                  "    load_ind_u32 a4, a3, 0\n"
                  "    jump_ind ra, 0\n",
                  &top, 1, &init);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(vm.state.regs[11], 0x55);
    test_vm_stop(&vm);
}

static void test_write_to_read_only_page_faults_and_writes_nothing(void **unused)
{
    (void)unused;
    struct test_vm vm;
    struct pvm_segment segs[2] = {test_segment(0x20000, 0x1000, PVM_ACCESS_WRITE),
                                  test_segment(0x21000, 0x1000, PVM_ACCESS_READ)};
    /* A 4-byte store across the boundary: first 2 bytes writable. */
    test_vm_start(&vm,
                  "    load_imm a1, 7\n"
                  "    store_imm_u32 0x20FFE, 0x01020304\n"
                  "    load_imm a1, 8\n"
                  "    jump_ind ra, 0\n",
                  segs, 2, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PAGE_FAULT);
    assert_int_equal(vm.exit.arg, 0x21000);
    assert_int_equal(vm.exit.pc, 3);
    assert_int_equal(vm.state.regs[8], 7);
    assert_int_equal(vm.state.gas, 1000000 - 4); /* the whole block is charged */
    uint8_t bytes[4] = {9, 9, 9, 9};
    assert_int_equal(pvm_interp_read_memory(vm.interp, 0x20FFE, bytes, 4), PVM_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(bytes[i], 0);

    /* The embedder makes the page writable and runs again: the faulting
     * instruction re-executes as the start of a new gas block. */
    assert_int_equal(pvm_interp_set_access(vm.interp, 0x21000, 0x1000, PVM_ACCESS_WRITE), PVM_OK);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_HALT);
    assert_int_equal(vm.state.regs[8], 8);
    assert_int_equal(vm.state.gas, 1000000 - 4 - 3);
    assert_int_equal(pvm_interp_read_memory(vm.interp, 0x20FFE, bytes, 4), PVM_OK);
    assert_int_equal(bytes[0], 4);
    assert_int_equal(bytes[3], 1);
    test_vm_stop(&vm);
}

static void test_fault_reports_the_lowest_offending_page(void **unused)
{
    (void)unused;
    struct test_vm vm;
    struct pvm_segment seg = test_segment(0x31000, 0x1000, PVM_ACCESS_READ);
    /* 8-byte load at 0x30FFC: page 0x30000 unmapped (lower), 0x31000 readable. */
    test_vm_start(&vm, "    load_u64 a0, 0x30FFC\n", &seg, 1, NULL);
    test_vm_run(&vm);
    assert_int_equal(vm.exit.reason, PVM_EXIT_PAGE_FAULT);
    assert_int_equal(vm.exit.arg, 0x30000);
    test_vm_stop(&vm);
}

static void test_segments_are_validated(void **unused)
{
    (void)unused;
    struct pvm_segment bad[][2] = {
        {test_segment(0x20001, 0x1000, PVM_ACCESS_READ)},
        {test_segment(0x8000, 0x1000, PVM_ACCESS_READ)},
        {test_segment(0xFFFFF000, 0x2000, PVM_ACCESS_READ)},
        {test_segment(0x20000, 0x2000, PVM_ACCESS_READ),
         test_segment(0x21000, 0x1000, PVM_ACCESS_WRITE)},
        {test_segment(0x20000, 0x1000, 7)},
    };
    int want[] = {PVM_ERR_SEGMENT_UNALIGNED, PVM_ERR_SEGMENT_RANGE, PVM_ERR_SEGMENT_RANGE,
                  PVM_ERR_SEGMENT_OVERLAP, PVM_ERR_SEGMENT_ACCESS};
    size_t counts[] = {1, 1, 1, 2, 1};
    struct pvm_allocator alloc = pvm_libc_allocator();
    static const uint8_t blob[] = {0, 0, 1, 0, 1};
    struct pvm_program *prog;
    assert_int_equal(pvm_program_decode(blob, sizeof(blob), &alloc, &prog), PVM_OK);
    struct pvm_state init = state_with(0, 10);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct pvm_interp *it = (struct pvm_interp *)&alloc; /* must be reset to NULL */
        assert_int_equal(pvm_interp_create(prog, bad[i], counts[i], &init, &alloc, &it), want[i]);
        assert_null(it);
    }
    pvm_program_destroy(prog);
}

static void test_memory_api_copies_in_and_out(void **unused)
{
    (void)unused;
    struct test_vm vm;
    static const uint8_t init_data[3] = {1, 2, 3};
    struct pvm_segment seg = {.address = 0x40000,
                              .length = 0x2000,
                              .access = PVM_ACCESS_READ,
                              .data = init_data,
                              .data_len = 3};
    test_vm_start(&vm, "    trap\n", &seg, 1, NULL);
    uint8_t buf[4];
    assert_int_equal(pvm_interp_read_memory(vm.interp, 0x40000, buf, 4), PVM_OK);
    assert_memory_equal(buf, ((uint8_t[]){1, 2, 3, 0}), 4);
    /* Writes ignore read-only protection but need accessible pages. */
    assert_int_equal(pvm_interp_write_memory(vm.interp, 0x41FFE, "ab", 2), PVM_OK);
    assert_int_equal(pvm_interp_write_memory(vm.interp, 0x41FFF, "ab", 2),
                     PVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(pvm_interp_read_memory(vm.interp, 0x3FFFF, buf, 2), PVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(pvm_interp_page_access(vm.interp, 0x41234), PVM_ACCESS_READ);
    assert_int_equal(pvm_interp_set_access(vm.interp, 0x1000, 0x1000, PVM_ACCESS_WRITE),
                     PVM_ERR_SEGMENT_RANGE);
    test_vm_stop(&vm);
}

static void test_engine_vtable_matches_the_direct_api(void **unused)
{
    (void)unused;
    const struct pvm_engine *e = &pvm_interp_engine;
    assert_string_equal(e->name, "interp");
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvmasm_output out;
    char err[128];
    const char *src = "    ecalli 3\n    add_imm_64 a0, a0, 2\n    jump_ind ra, 0\n";
    assert_int_equal(pvmasm_assemble(src, strlen(src), &out, err, sizeof(err)), 0);
    struct pvm_program *prog;
    assert_int_equal(pvm_program_decode(out.blob, out.blob_len, &alloc, &prog), PVM_OK);
    struct pvm_state init = state_with(40, 100);
    void *inst = NULL;
    assert_int_equal(e->create(prog, NULL, 0, &init, &alloc, &inst), PVM_OK);
    struct pvm_exit x;
    e->run(inst, &x);
    assert_int_equal(x.reason, PVM_EXIT_HOST_CALL);
    assert_int_equal(x.arg, 3);
    e->run(inst, &x);
    assert_int_equal(x.reason, PVM_EXIT_HALT);
    struct pvm_state s;
    e->get_state(inst, &s);
    assert_int_equal(s.regs[7], 42);
    e->destroy(inst);
    pvm_program_destroy(prog);
    pvmasm_output_free(&out);
}

/* ---- instructions no shared vector executes ----------------------------- */

/* Each case sets a1 and a2 (r8, r9), runs one or two instructions and
 * checks a0 (r7). Expected values are worked out by hand. */
static void test_instructions_not_covered_by_vectors(void **unused)
{
    (void)unused;
    struct {
        const char *code;
        uint64_t a1, a2, want;
    } cases[] = {
        {"count_set_bits_64 a0, a1", 0xF0F0F0F0F0F0F0F1ull, 0, 33},
        {"count_set_bits_32 a0, a1", 0xF0F0F0F0F0F0F0F1ull, 0, 17},
        {"trailing_zero_bits_32 a0, a1", 0xFFFFFFFF00000000ull, 0, 32},
        {"trailing_zero_bits_32 a0, a1", 0x80, 0, 7},
        {"trailing_zero_bits_64 a0, a1", 0, 0, 64},
        {"leading_zero_bits_32 a0, a1", 0xFFFFFFFF00000001ull, 0, 31},
        {"sign_extend_8 a0, a1", 0x12345680, 0, 0xFFFFFFFFFFFFFF80ull},
        {"sign_extend_16 a0, a1", 0x7FFF, 0, 0x7FFF},
        {"zero_extend_16 a0, a1", 0xFFFFFFFFFFFF8001ull, 0, 0x8001},
        {"reverse_bytes a0, a1", 0x0102030405060708ull, 0, 0x0807060504030201ull},
        {"rot_r_64_imm a0, a1, 4", 0x0123456789ABCDEFull, 0, 0xF0123456789ABCDEull},
        {"rot_r_64_imm_alt a0, a1, 0x12345678", 8, 0, 0x7800000000123456ull},
        {"rot_r_32_imm a0, a1, 4", 0x80000001ull, 0, 0x18000000},
        {"rot_r_32_imm_alt a0, a1, 1", 1, 0, 0xFFFFFFFF80000000ull},
        {"shar_r_64 a0, a1, a2", 0x8000000000000000ull, 65, 0xC000000000000000ull},
        {"shar_r_imm_32 a0, a1, 31", 0x80000000ull, 0, UINT64_MAX},
        {"shlo_r_imm_32 a0, a1, 0", 0x80000000ull, 0, 0xFFFFFFFF80000000ull},
        {"rot_l_64 a0, a1, a2", 0x8000000000000001ull, 1, 3},
        {"rot_l_32 a0, a1, a2", 0x80000001ull, 1, 3},
        {"rot_r_64 a0, a1, a2", 0x8000000000000001ull, 1, 0xC000000000000000ull},
        {"rot_r_64 a0, a1, a2", 0x1234, 64, 0x1234},
        {"xnor a0, a1, a2", 0xFF00, 0x0F0F, 0xFFFFFFFFFFFF0FF0ull},
        {"and_inv a0, a1, a2", 0xFF, 0x0F, 0xF0},
        {"or_inv a0, a1, a2", 0, UINT64_MAX - 1, 1},
        {"mul_upper_s_s a0, a1, a2", UINT64_MAX, UINT64_MAX, 0},
        {"mul_upper_u_u a0, a1, a2", UINT64_MAX, UINT64_MAX, UINT64_MAX - 1},
        {"mul_upper_s_u a0, a1, a2", UINT64_MAX, 2, UINT64_MAX},
        {"mul_upper_s_s a0, a1, a2", 1ull << 63, 1ull << 63, 1ull << 62},
        {"div_s_64 a0, a1, a2", 1ull << 63, UINT64_MAX, 1ull << 63},
        {"rem_s_64 a0, a1, a2", 1ull << 63, UINT64_MAX, 0},
        {"div_s_32 a0, a1, a2", 0x80000000ull, UINT64_MAX, 0xFFFFFFFF80000000ull},
        {"rem_s_32 a0, a1, a2", (uint64_t)-7, 0, (uint64_t)-7},
        {"rem_u_32 a0, a1, a2", 0x1FFFFFFFFull, 0, UINT64_MAX},
        {"div_u_64 a0, a1, a2", 5, 0, UINT64_MAX},
        {"store_imm_u32 0x20000, 0x12345678\n    load_u64 a0, 0x20000", 0, 0, 0x12345678},
        {"store_imm_u16 0x20002, 0x8001\n    load_i16 a0, 0x20002", 0, 0, 0xFFFFFFFFFFFF8001ull},
        {"store_imm_u64 0x20000, -2\n    load_i8 a0, 0x20007", 0, 0, UINT64_MAX},
        {"store_u16 a1, 0x20010\n    load_u32 a0, 0x20010", 0xABCDEF, 0, 0xCDEF},
        {"set_gt_s_imm a0, a1, -1", 0, 0, 1},
        {"set_gt_u_imm a0, a1, -1", 0, 0, 0},
        {"neg_add_imm_32 a0, a1, 0", 1, 0, UINT64_MAX},
        {"shlo_l_imm_alt_64 a0, a1, 3", 62, 0, 0xC000000000000000ull},
        {"shar_r_imm_alt_64 a0, a1, -8", 2, 0, (uint64_t)-2},
    };
    struct pvm_segment seg = test_segment(0x20000, 0x1000, PVM_ACCESS_WRITE);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char src[256];
        snprintf(src, sizeof(src), "    %s\n    jump_ind ra, 0\n", cases[i].code);
        struct pvm_state init = state_with(0xDEAD, 100);
        init.regs[8] = cases[i].a1;
        init.regs[9] = cases[i].a2;
        struct test_vm vm;
        test_vm_start(&vm, src, &seg, 1, &init);
        test_vm_run(&vm);
        assert_int_equal(vm.exit.reason, PVM_EXIT_HALT);
        if (vm.state.regs[7] != cases[i].want)
            fail_msg("%s: got %#llx want %#llx", cases[i].code,
                     (unsigned long long)vm.state.regs[7], (unsigned long long)cases[i].want);
        test_vm_stop(&vm);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecalli_exits_and_resumes_in_the_same_gas_block),
        cmocka_unit_test(test_ecalli_id_is_the_sign_extended_immediate),
        cmocka_unit_test(test_set_state_with_a_new_pc_drops_the_pending_resume),
        cmocka_unit_test(test_sbrk_grows_the_heap_with_writable_zero_pages),
        cmocka_unit_test(test_sbrk_without_a_heap_or_past_the_address_space_returns_zero),
        cmocka_unit_test(test_cmov_imm),
        cmocka_unit_test(test_out_of_gas_mid_program_stops_at_the_unpaid_block),
        cmocka_unit_test(test_exact_gas_is_enough_and_zero_gas_is_not),
        cmocka_unit_test(test_jump_into_the_middle_of_a_block_panics),
        cmocka_unit_test(test_not_taken_branch_to_a_bad_target_continues),
        cmocka_unit_test(test_branch_to_an_absolute_target_outside_the_code_panics),
        cmocka_unit_test(test_dynamic_jumps),
        cmocka_unit_test(test_load_imm_jump_ind_uses_the_old_base_and_writes_ra_even_on_panic),
        cmocka_unit_test(test_undefined_opcode_traps_and_ends_the_gas_block),
        cmocka_unit_test(test_running_off_the_end_is_an_implicit_trap),
        cmocka_unit_test(test_start_at_a_non_instruction_byte_or_past_the_end_panics),
        cmocka_unit_test(test_halt_and_panic_are_final),
        cmocka_unit_test(test_low_memory_access_panics),
        cmocka_unit_test(test_address_wrap_at_2_pow_32),
        cmocka_unit_test(test_write_to_read_only_page_faults_and_writes_nothing),
        cmocka_unit_test(test_fault_reports_the_lowest_offending_page),
        cmocka_unit_test(test_segments_are_validated),
        cmocka_unit_test(test_memory_api_copies_in_and_out),
        cmocka_unit_test(test_engine_vtable_matches_the_direct_api),
        cmocka_unit_test(test_instructions_not_covered_by_vectors),
    };
    return cmocka_run_group_tests_name("pvm_interp", tests, NULL, NULL);
}
