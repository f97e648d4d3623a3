/*
 * test_invoke.c — INVOKE_CACHED through the public API: every exit reason,
 * statelessness, and isolation of the ring-3 PVM code (it reaches only its
 * own window; read-only and unmapped pages fault; loops end by gas). After
 * each run the guest still answers SMOKE with 42 and its heap does not grow.
 */
#include "test_util.h"
#include "kvm_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nub_rpc.h"
#include "pvmasm.h"

#define HALT_ADDRESS 0xFFFF0000u
#define DATA_PAGE    0x20000u /* RW */
#define RO_PAGE      0x30000u /* read-only */

static void expect_smoke(nub_sandbox *sb)
{
    uint64_t v = 0;
    assert_int_equal(nub_smoke(sb, &v), NUB_OK);
    assert_int_equal(v, 42);
}

/* Assembles text and publishes it with a RW page at DATA_PAGE (first 8
 * bytes = init) and a read-only page at RO_PAGE. */
static void publish(nub_sandbox *sb, const char *text, uint64_t init, nub_cap_hash instance)
{
    struct pvmasm_output out;
    char err[256];
    if (pvmasm_assemble(text, strlen(text), &out, err, sizeof err) != 0)
        fail_msg("pvmasm: %s", err);
    uint8_t init_bytes[8];
    memcpy(init_bytes, &init, 8);
    static const uint8_t ro_bytes[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    struct nub_capbuild_range ranges[2] = {{DATA_PAGE, 4096, NUB_WIRE_ACCESS_WRITE},
                                           {RO_PAGE, 4096, NUB_WIRE_ACCESS_READ}};
    struct nub_capbuild_chunk chunks[2] = {{DATA_PAGE, 8, init_bytes}, {RO_PAGE, 4, ro_bytes}};
    struct nub_capbuild_raw prog = {
        .blob = out.blob,
        .blob_len = (uint32_t)out.blob_len,
        .ranges = ranges,
        .range_count = 2,
        .chunks = chunks,
        .chunk_count = init ? 2 : 1,
        .default_gas = 10000,
    };
    if (!init)
        chunks[0] = chunks[1];
    prog.regs[0] = HALT_ADDRESS; /* ra: `jump_ind ra, 0` halts */
    nub_status s = nub_publish_raw(sb, &prog, instance);
    if (s != NUB_OK)
        fail_msg("publish: %s: %s", nub_strerror(s), nub_sandbox_last_error(sb));
    pvmasm_output_free(&out);
}

static struct nub_invocation_result run(nub_sandbox *sb, const nub_cap_hash instance, uint64_t a0,
                                        uint64_t gas)
{
    struct nub_invoke_packet p = {.arg_count = 1, .args = {a0}, .initial_gas = gas};
    memcpy(p.instance_hash, instance, sizeof p.instance_hash);
    struct nub_invocation_result r;
    nub_status s = nub_invoke(sb, &p, &r);
    if (s != NUB_OK)
        fail_msg("invoke: %s: %s", nub_strerror(s), nub_sandbox_last_error(sb));
    return r;
}

static void test_exit_reasons(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    nub_cap_hash h;

    publish(sb, "    add_imm_64 a0, a0, 5\n    jump_ind ra, 0\n", 0, h);
    struct nub_invocation_result r = run(sb, h, 37, 100);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    assert_int_equal(r.return_value, 42);
    assert_int_equal(r.regs[7], 42);
    assert_int_equal(r.gas_remaining, 98);

    publish(sb, "    trap\n", 0, h);
    r = run(sb, h, 0, 100);
    assert_int_equal(r.exit_reason, NUB_EXIT_PANIC);
    assert_int_equal(r.pc, 0);

    publish(sb, "    load_imm a0, 7\n    ecalli 99\n    jump_ind ra, 0\n", 0, h);
    r = run(sb, h, 0, 100);
    assert_int_equal(r.exit_reason, NUB_EXIT_HOST_CALL);
    assert_int_equal(r.exit_arg, 99);
    assert_int_equal(r.return_value, 7);

    /* An infinite loop is stopped by gas. */
    publish(sb, "    fallthrough\nloop:\n    add_imm_64 a0, a0, 1\n    jump loop\n", 0, h);
    r = run(sb, h, 0, 1001);
    assert_int_equal(r.exit_reason, NUB_EXIT_OUT_OF_GAS);
    assert_true(r.return_value >= 400 && r.return_value <= 1001);

    /* Reads of the RO page work; a write to it faults at its page. */
    publish(sb, "    load_u32 a0, 0x30000\n    store_u32 a0, 0x30004\n    jump_ind ra, 0\n", 0, h);
    r = run(sb, h, 0, 100);
    assert_int_equal(r.exit_reason, NUB_EXIT_PAGE_FAULT);
    assert_int_equal(r.exit_arg, RO_PAGE);
    assert_int_equal(r.return_value, 0xEFBEADDE);
    assert_int_equal(r.pc, 5); /* the store */

    /* Unmapped memory: right above the data page, and near the top of the
     * 4 GiB window. */
    publish(sb, "    store_u32 a0, 0x21000\n    jump_ind ra, 0\n", 0, h);
    r = run(sb, h, 0, 100);
    assert_int_equal(r.exit_reason, NUB_EXIT_PAGE_FAULT);
    assert_int_equal(r.exit_arg, 0x21000);
    publish(sb, "    load_imm a1, -16\n    load_ind_u64 a0, a1, 0\n    jump_ind ra, 0\n", 0, h);
    r = run(sb, h, 0, 100);
    assert_int_equal(r.exit_reason, NUB_EXIT_PAGE_FAULT);
    assert_int_equal(r.exit_arg, 0xFFFFF000);

    /* Low memory panics (SPEC §2). */
    publish(sb, "    load_u32 a0, 0x100\n    jump_ind ra, 0\n", 0, h);
    r = run(sb, h, 0, 100);
    assert_int_equal(r.exit_reason, NUB_EXIT_PANIC);

    /* A wild dynamic jump panics. */
    publish(sb, "    load_imm a1, 0x12345678\n    jump_ind a1, 0\n", 0, h);
    r = run(sb, h, 0, 100);
    assert_int_equal(r.exit_reason, NUB_EXIT_PANIC);
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

/* An indexed load (`shlo_l_imm_64 T, T, k; add_64 T, T, O; load_ind D, T`)
 * is one fused load in the JIT, which leaves T's PVM value in rax until the
 * load is done: a fault there must still report T = O + (T << k), through
 * the guest kernel's page-fault path, and an access in bounds (a first
 * touch of the declared page, run again) loads the word. */
static void test_indexed_load_fault(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    nub_cap_hash h;
    publish(sb,
            "    load_imm a1, 0x20000\n    shlo_l_imm_64 a0, a0, 2\n    add_64 a0, a0, a1\n"
            "    load_ind_u32 a0, a0, 0\n    jump_ind ra, 0\n",
            0xCAFEBABEu, h);
    struct nub_invocation_result r = run(sb, h, 0x400, 100);
    assert_int_equal(r.exit_reason, NUB_EXIT_PAGE_FAULT);
    assert_int_equal(r.exit_arg, 0x21000);
    assert_int_equal(r.pc, 11); /* the load */
    assert_int_equal(r.return_value, 0x21000);
    assert_int_equal(r.regs[8], 0x20000);
    r = run(sb, h, 0, 100);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    assert_int_equal(r.return_value, 0xCAFEBABEu);
    r = run(sb, h, 0x3FFFC400, 100); /* (a0 << 2) + a1 = 0xFFFF1000 + 0x20000 wraps to 0x11000 */
    assert_int_equal(r.exit_reason, NUB_EXIT_PAGE_FAULT);
    assert_int_equal(r.exit_arg, 0x11000);
    assert_int_equal(r.return_value, 0x100011000ull);
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

/* The guest kernel sits at guest-physical 1 MiB; from the PVM window that
 * address (and every other) is just PVM memory: unmapped, so it faults. */
static void test_kernel_memory_unreachable(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct nub_boot_info bi;
    assert_int_equal(nub_get_boot_info(sb, &bi), NUB_OK);
    const uint64_t targets[] = {0x100000, bi.directory_va, 0x1000, 0x10000};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "    load_imm a1, %llu\n    load_ind_u64 a0, a1, 0\n"
                 "    store_ind_u64 a1, a0, 0\n    jump_ind ra, 0\n",
                 (unsigned long long)(uint32_t)targets[i]);
        nub_cap_hash h;
        publish(sb, text, 0, h);
        struct nub_invocation_result r = run(sb, h, 0, 100);
        if (targets[i] < 0x10000)
            assert_int_equal(r.exit_reason, NUB_EXIT_PANIC);
        else {
            assert_int_equal(r.exit_reason, NUB_EXIT_PAGE_FAULT);
            assert_int_equal(r.exit_arg, (uint32_t)targets[i] & ~0xFFFu);
        }
        assert_int_equal(r.return_value, 0); /* nothing was read */
    }
    expect_smoke(sb);
    /* The directory still serves what was published before. */
    struct nub_boot_info again;
    assert_int_equal(nub_get_boot_info(sb, &again), NUB_OK);
    assert_memory_equal(&bi, &again, sizeof bi);
    nub_sandbox_destroy(sb);
}

/* Returns the old value at DATA_PAGE in a0 and stores the argument there. */
static const char *const swap_program = "    load_u64 a1, 0x20000\n"
                                        "    store_u64 a0, 0x20000\n"
                                        "    move_reg a0, a1\n"
                                        "    jump_ind ra, 0\n";

static void test_stateless_and_separate(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    nub_cap_hash a, b;
    publish(sb, swap_program, 0, a);
    publish(sb, swap_program, 0x5555, b); /* same IMAGE, other memory */
    struct nub_heap_stats before, after;
    /* Every call starts from the published memory. */
    for (int i = 0; i < 3; i++) {
        struct nub_invocation_result r = run(sb, a, 0x1234 + i, 100);
        assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
        assert_int_equal(r.return_value, 0);
        r = run(sb, b, 0x9999, 100);
        assert_int_equal(r.return_value, 0x5555); /* not a's 0x1234 */
        if (i == 0)
            assert_int_equal(nub_heap_stats(sb, &before), NUB_OK);
    }
    /* Runs free everything they build: only the JIT cache stays. */
    assert_int_equal(nub_heap_stats(sb, &after), NUB_OK);
    assert_int_equal(after.allocation_count, before.allocation_count);
    assert_int_equal(after.allocated_bytes, before.allocated_bytes);
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

static void test_bad_requests(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    nub_cap_hash h;
    publish(sb, "    jump_ind ra, 0\n", 0, h);
    struct nub_invoke_packet p = {.initial_gas = 10};
    struct nub_invocation_result r;
    /* Unknown instance. */
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_ERR_CAP_NOT_FOUND);
    /* Endpoint out of range. */
    memcpy(p.instance_hash, h, sizeof h);
    p.endpoint_idx = 1;
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_ERR_BAD_ENDPOINT);
    /* More than four argument registers: its own status and message, and
     * last_error is that message (not an earlier call's). */
    p.endpoint_idx = 0;
    p.arg_count = 5;
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_ERR_ARG_COUNT);
    assert_non_null(strstr(nub_sandbox_last_error(sb), "arg_count"));
    /* Gas past INT64_MAX (PVM gas is a signed i64). */
    p.arg_count = 0;
    p.initial_gas = (uint64_t)INT64_MAX + 1;
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_ERR_GAS_TOO_LARGE);
    assert_non_null(strstr(nub_sandbox_last_error(sb), "INT64_MAX"));
    p.initial_gas = 10;
    /* Truncated and oversized packets. */
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_INVOKE_CACHED, &p, 79, NULL, 0, NULL),
                     NUB_ERR_PAYLOAD_TRUNCATED);
    uint8_t big[80 + 16 + 8 * 65] = {0};
    memcpy(big, &p, sizeof p);
    struct nub_invoke_io_header io = {.readback_count = 65};
    memcpy(big + 80, &io, sizeof io);
    assert_int_equal(
        nub_sandbox_call_raw(sb, NUB_FN_ID_INVOKE_CACHED, big, sizeof big, NULL, 0, NULL),
        NUB_ERR_READBACK_LIST);
    io = (struct nub_invoke_io_header){.flags = 8};
    memcpy(big + 80, &io, sizeof io);
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_INVOKE_CACHED, big, 96, NULL, 0, NULL),
                     NUB_ERR_BAD_PACKET);
    io = (struct nub_invoke_io_header){.flags = NUB_INVOKE_IO_INPUT, .input_len = 1u << 25};
    memcpy(big + 80, &io, sizeof io);
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_INVOKE_CACHED, big, 96, NULL, 0, NULL),
                     NUB_ERR_INPUT_TOO_LARGE);
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_INVOKE_CACHED, big, 83, NULL, 0, NULL),
                     NUB_ERR_READBACK_LIST);
    /* A DATA cap is not an instance. */
    uint8_t wire[NUB_WIRE_DATA_FIXED_BYTES + 4];
    size_t n;
    const uint8_t c[4] = {1, 2, 3, 4};
    assert_int_equal(nub_wire_encode_data(c, 4, wire, sizeof wire, &n), NUB_OK);
    assert_int_equal(nub_put_cap(sb, wire, n, p.instance_hash), NUB_OK);
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_ERR_CAP_WRONG_KIND);
    /* And a good call still works. */
    memcpy(p.instance_hash, h, sizeof h);
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_OK);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

/* Readback ranges that together cannot fit the guest's 1 MiB response
 * buffer are the caller's mistake: refused before the call (no reply buffer
 * sized from them, no run), and the sandbox stays usable. */
static void test_readback_too_large(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    nub_cap_hash h;
    publish(sb, "    jump_ind ra, 0\n", 0, h);
    struct nub_invoke_packet p = {.initial_gas = 10};
    memcpy(p.instance_hash, h, sizeof h);
    struct nub_invocation_result r;
    uint8_t sink[16];
    struct nub_readback rb[NUB_INVOKE_MAX_READBACKS];
    for (size_t i = 0; i < NUB_INVOKE_MAX_READBACKS; i++) /* ~256 GiB in all */
        rb[i] = (struct nub_readback){.address = DATA_PAGE, .length = UINT32_MAX, .buffer = sink};
    assert_int_equal(nub_invoke_readback(sb, &p, &r, rb, NUB_INVOKE_MAX_READBACKS),
                     NUB_ERR_PAYLOAD_TOO_LARGE);
    assert_false(nub_sandbox_is_dead(sb));
    rb[0].length = 1u << 20; /* one range alone: more than the buffer holds */
    assert_int_equal(nub_invoke_readback(sb, &p, &r, rb, 1), NUB_ERR_PAYLOAD_TOO_LARGE);
    assert_false(nub_sandbox_is_dead(sb));
    /* A range that fits is served. */
    rb[0].length = sizeof sink;
    assert_int_equal(nub_invoke_readback(sb, &p, &r, rb, 1), NUB_OK);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    assert_int_equal(rb[0].ok, 1);
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

/* A dead sandbox fails at once with NUB_ERR_SANDBOX_DEAD, whatever the
 * call, and keeps the message of what killed it. */
static void test_dead_fails_fast(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox_config cfg = {.flags = NUB_SANDBOX_FLAG_NO_RESTORE};
    nub_sandbox *sb = nub_test_sandbox(&cfg);
    nub_cap_hash h;
    publish(sb, "    jump_ind ra, 0\n", 0, h);
    uint32_t kind = NUB_DEBUG_FAULT_INVALID_OPCODE;
    assert_int_equal(
        nub_sandbox_call_raw(sb, NUB_FN_ID_DEBUG_FAULT, &kind, sizeof kind, NULL, 0, NULL),
        NUB_ERR_GUEST_CRASHED);
    char why[256];
    snprintf(why, sizeof why, "%s", nub_sandbox_last_error(sb));
    assert_non_null(strstr(why, "#UD"));

    struct nub_invoke_packet p = {.initial_gas = 10};
    memcpy(p.instance_hash, h, sizeof h);
    struct nub_invocation_result r;
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_ERR_SANDBOX_DEAD);
    /* Publishing a program the cap builder rejects: still "dead" first. */
    struct nub_capbuild_range bad_range = {0x20123, 4096, NUB_WIRE_ACCESS_WRITE};
    const uint8_t blob[1] = {0};
    struct nub_capbuild_raw prog = {
        .blob = blob, .blob_len = 1, .ranges = &bad_range, .range_count = 1};
    assert_int_equal(nub_publish_raw(sb, &prog, h), NUB_ERR_SANDBOX_DEAD);
    const uint8_t none[1] = {0};
    assert_int_equal(nub_publish_stdprog(sb, none, 1, NULL, 0, 10, h), NUB_ERR_SANDBOX_DEAD);
    assert_string_equal(nub_sandbox_last_error(sb), why);
    nub_sandbox_destroy(sb);
}

/* A JAM standard program (SPEC §11) published with nub_publish_stdprog:
 * its argument data is readable at the address in a1 (phi8 = length). */
static void test_standard_program(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    const char *text = "    load_ind_u32 a0, a0, 0\n" /* a0 = first 4 bytes of the args */
                       "    add_64 a0, a0, a1\n"      /* + their length */
                       "    jump_ind ra, 0\n";
    struct pvmasm_output out;
    char err[256];
    if (pvmasm_assemble(text, strlen(text), &out, err, sizeof err) != 0)
        fail_msg("pvmasm: %s", err);
    const uint8_t args[6] = {0x10, 0x20, 0x30, 0x40, 0x55, 0x66};
    nub_cap_hash h;
    nub_status s =
        nub_publish_stdprog(sb, out.stdprog, out.stdprog_len, args, sizeof args, 1000, h);
    if (s != NUB_OK)
        fail_msg("publish_stdprog: %s: %s", nub_strerror(s), nub_sandbox_last_error(sb));
    struct nub_invoke_packet p = {.endpoint_idx = NUB_STDPROG_ENTRY_REFINE};
    memcpy(p.instance_hash, h, sizeof h);
    /* arg_count 0: the endpoint's registers stay (phi7 = the args address,
     * phi8 = their length, SPEC §11.4). */
    struct nub_invocation_result r;
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_OK);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    assert_int_equal(r.return_value, 0x40302010u + sizeof args);
    assert_int_equal(r.gas_remaining, 1000 - 3); /* the instance's default gas */
    pvmasm_output_free(&out);
    nub_sandbox_destroy(sb);
}

/* One blob published under both ISA versions: two IMAGEs, two hashes, two
 * behaviours. Byte 101 is sbrk in GP 0.7.2 (r7 = the break: 0, no heap) and
 * count_set_bits_64 in GP 0.8.0 (r7 = popcount(r8) = 8); the gas differs too
 * (0.8.0 prices the block with the pipeline model). */
static void test_one_blob_two_isas(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    /* r7 = op(r8) (F8: rD = 7 low nibble, rA = 8 high); jump_ind r0, 0 */
    static const uint8_t blob[] = {0, 0, 4, 101, 0x87, 50, 0x00, 0x05};
    nub_cap_hash inst[NUB_ISA_COUNT];
    struct nub_invocation_result r[NUB_ISA_COUNT];
    for (uint32_t isa = 0; isa < NUB_ISA_COUNT; isa++) {
        struct nub_capbuild_raw prog = {
            .blob = blob, .blob_len = sizeof blob, .default_gas = 1000, .isa = isa};
        prog.regs[0] = HALT_ADDRESS;
        nub_status s = nub_publish_raw(sb, &prog, inst[isa]);
        if (s != NUB_OK)
            fail_msg("publish: %s: %s", nub_strerror(s), nub_sandbox_last_error(sb));
        struct nub_invoke_packet p = {.arg_count = 2, .args = {0, 0xFF}, .initial_gas = 1000};
        memcpy(p.instance_hash, inst[isa], sizeof p.instance_hash);
        assert_int_equal(nub_invoke(sb, &p, &r[isa]), NUB_OK);
        assert_int_equal(r[isa].exit_reason, NUB_EXIT_HALT);
    }
    assert_memory_not_equal(inst[0], inst[1], sizeof inst[0]);
    assert_int_equal(r[NUB_ISA_GP_0_7_2].return_value, 0);
    assert_int_equal(r[NUB_ISA_GP_0_8_0].return_value, 8);
    assert_int_equal(r[NUB_ISA_GP_0_7_2].gas_remaining, 1000 - 2);
    /* 0.8.0: count_set_bits (lat 1) then jump_ind (lat 22, independent):
     * both start in cycle 1, cost = 1 + 22 - 1 = 22 */
    assert_int_equal(r[NUB_ISA_GP_0_8_0].gas_remaining, 1000 - 22);
    /* the same for a standard program: two IMAGEs, two INSTANCE hashes */
    const char *text = "    count_set_bits_64 a0, a1\n"
                       "    jump_ind ra, 0\n";
    struct pvmasm_output out;
    char err[256];
    if (pvmasm_assemble(text, strlen(text), &out, err, sizeof err) != 0)
        fail_msg("pvmasm: %s", err);
    nub_cap_hash sp[NUB_ISA_COUNT];
    for (uint32_t isa = 0; isa < NUB_ISA_COUNT; isa++)
        assert_int_equal(
            nub_publish_stdprog_isa(sb, out.stdprog, out.stdprog_len, NULL, 0, 1000, isa, sp[isa]),
            NUB_OK);
    assert_memory_not_equal(sp[0], sp[1], sizeof sp[0]);
    pvmasm_output_free(&out);
    /* an unknown version is refused before anything is stored */
    struct nub_capbuild_raw bad = {.blob = blob, .blob_len = sizeof blob, .isa = NUB_ISA_COUNT};
    nub_cap_hash h;
    assert_int_equal(nub_publish_raw(sb, &bad, h), NUB_ERR_WIRE_ISA);
    /* ... and by the guest, as a status of the call (the sandbox lives on),
     * when an IMAGE with an unknown version reaches it through nub_put_cap. */
    struct nub_capbuild_raw v2 = {.blob = blob, .blob_len = sizeof blob, .isa = NUB_ISA_GP_0_8_0};
    struct nub_capbuild_cap caps[NUB_CAPBUILD_MAX_CAPS];
    struct nub_capbuild_out co = {.caps = caps, .caps_cap = NUB_CAPBUILD_MAX_CAPS};
    assert_int_equal(nub_capbuild_raw(&v2, &co), NUB_OK);
    co.buf = malloc(co.needed);
    co.buf_cap = co.needed;
    assert_non_null(co.buf);
    assert_int_equal(nub_capbuild_raw(&v2, &co), NUB_OK);
    uint8_t *image = co.buf + caps[0].offset; /* IMAGE first, INSTANCE last */
    const uint32_t unknown = NUB_ISA_COUNT;
    memcpy(image + 16, &unknown, sizeof unknown); /* docs/wire-format.md: isa at 16 */
    assert_int_equal(nub_put_cap(sb, image, caps[0].len, h), NUB_ERR_WIRE_ISA);
    free(co.buf);
    assert_false(nub_sandbox_is_dead(sb));
    uint64_t v = 0;
    assert_int_equal(nub_smoke(sb, &v), NUB_OK);
    nub_sandbox_destroy(sb);
}

/* A program with (practically) unlimited gas that loops forever is stopped
 * by invoke_timeout_ns while it runs in ring 3. */
static void test_timeout_in_program(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox_config cfg = {.invoke_timeout_ns = 200u * 1000 * 1000};
    nub_sandbox *sb = nub_test_sandbox(&cfg);
    nub_cap_hash h;
    publish(sb, "    fallthrough\nloop:\n    add_imm_64 a0, a0, 1\n    jump loop\n", 0, h);
    struct nub_invoke_packet p = {.initial_gas = UINT64_C(1) << 62};
    memcpy(p.instance_hash, h, sizeof h);
    struct nub_invocation_result r;
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_ERR_TIMEOUT);
    /* Restored to its creation state: alive, the cap gone (no snapshot). */
    assert_false(nub_sandbox_is_dead(sb));
    expect_smoke(sb);
    assert_false(nub_sandbox_has_cap(sb, h));
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_ERR_CAP_NOT_FOUND);
    nub_sandbox_destroy(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_reasons),
        cmocka_unit_test(test_indexed_load_fault),
        cmocka_unit_test(test_kernel_memory_unreachable),
        cmocka_unit_test(test_stateless_and_separate),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_readback_too_large),
        cmocka_unit_test(test_dead_fails_fast),
        cmocka_unit_test(test_standard_program),
        cmocka_unit_test(test_one_blob_two_isas),
        cmocka_unit_test(test_timeout_in_program),
    };
    return nub_test_kvm_suite_result(
        cmocka_run_group_tests_name("sandbox_invoke", tests, NULL, NULL));
}
