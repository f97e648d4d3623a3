/*
 * test_host_calls.c — host functions and per-call input/output on all three
 * engines through the public API (nub/host.h, nub/local.h): the same program
 * and the same host function must give the same registers, gas, pc, exit,
 * output and host-call count on the sandbox, the in-process JIT and the
 * interpreter; misuse is a status, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_host.h"
#include "kvm_check.h"
#include "nub/local.h"
#include "pvmasm.h"
#include "test_util.h"

#define ENGINES 3
static const char *const engine_names[ENGINES] = {"sandbox", "jit", "interp"};

/* A raw program from assembler text: RO page at 0x10000 (bytes "ro"), RW
 * pages at 0x20000..0x21FFF, ra = the halt address. */
struct prog {
    struct pvmasm_output as;
    struct nub_capbuild_range ranges[2];
    struct nub_capbuild_chunk chunk;
    struct nub_capbuild_raw raw;
};

static void prog_build(struct prog *p, const char *text)
{
    char err[256];
    if (pvmasm_assemble(text, strlen(text), &p->as, err, sizeof err) != 0)
        fail_msg("pvmasm: %s", err);
    p->ranges[0] = (struct nub_capbuild_range){0x10000, 0x1000, NUB_WIRE_ACCESS_READ};
    p->ranges[1] = (struct nub_capbuild_range){0x20000, 0x2000, NUB_WIRE_ACCESS_WRITE};
    p->chunk = (struct nub_capbuild_chunk){0x10000, 2, (const uint8_t *)"ro"};
    p->raw = (struct nub_capbuild_raw){
        .blob = p->as.blob,
        .blob_len = (uint32_t)p->as.blob_len,
        .ranges = p->ranges,
        .range_count = 2,
        .chunks = &p->chunk,
        .chunk_count = 1,
        .default_gas = 10000,
    };
    p->raw.regs[0] = NUB_STDPROG_HALT_ADDR;
}

/* The in-process instance of the last run_on per engine: kept until the
 * next one, so a handle it lent is still valid memory (and stale). */
static nub_local *kept[ENGINES];

static void release_kept(void)
{
    for (int e = 0; e < ENGINES; e++) {
        nub_local_destroy(kept[e]);
        kept[e] = NULL;
    }
}

/* One call on one engine (0 sandbox, 1 jit, 2 interp). */
static nub_status run_on(int engine, nub_sandbox *sb, const struct nub_capbuild_raw *raw,
                         struct nub_invoke_packet *p, struct nub_call *call,
                         struct nub_invocation_result *r)
{
    if (engine == 0) {
        nub_status s = nub_publish_raw(sb, raw, p->instance_hash);
        if (s != NUB_OK)
            fail_msg("publish: %s: %s", nub_strerror(s), nub_sandbox_last_error(sb));
        return nub_invoke_call(sb, p, call, r);
    }
    nub_local *l = NULL;
    nub_status s = nub_local_create_raw(engine == 1 ? NUB_LOCAL_JIT : NUB_LOCAL_INTERP, raw, &l);
    if (s != NUB_OK)
        fail_msg("nub_local_create_raw: %s", nub_strerror(s));
    s = nub_local_invoke(l, p, call, r);
    nub_local_destroy(kept[engine]);
    kept[engine] = l;
    return s;
}

static void assert_same_result(const struct nub_invocation_result *a,
                               const struct nub_invocation_result *b, const char *engine)
{
    if (memcmp(a, b, sizeof *a) != 0)
        fail_msg("%s differs from the sandbox: exit %u/%u pc %u/%u arg %llu/%llu gas %llu/%llu "
                 "phi7 %llu/%llu",
                 engine, a->exit_reason, b->exit_reason, a->pc, b->pc,
                 (unsigned long long)a->exit_arg, (unsigned long long)b->exit_arg,
                 (unsigned long long)a->gas_remaining, (unsigned long long)b->gas_remaining,
                 (unsigned long long)a->return_value, (unsigned long long)b->return_value);
}

/* ---- the example: nub-cc program, input, computation, output ---------- */
static void test_example_program(void **state)
{
    (void)state;
    REQUIRE_KVM();
    FILE *f = fopen(EXAMPLE_JAM, "rb");
    assert_non_null(f);
    static uint8_t jam[1 << 20];
    size_t len = fread(jam, 1, sizeof jam, f);
    fclose(f);
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct nub_invocation_result r[ENGINES];
    struct example_host h[ENGINES];
    struct nub_call call[ENGINES];
    static const char input[] = "\x01\x02\x0A\xFF";
    struct nub_invocation_result r3_unused;
    for (int e = 0; e < ENGINES; e++) {
        h[e] = (struct example_host){.input = (const uint8_t *)input, .input_len = 4};
        call[e] = (struct nub_call){.host = {example_host_fn, &h[e]}};
        struct nub_invoke_packet p = {.initial_gas = 100000};
        nub_status s;
        if (e == 0) {
            s = nub_publish_stdprog(sb, jam, len, NULL, 0, 100000, p.instance_hash);
            assert_int_equal(s, NUB_OK);
            s = nub_invoke_call(sb, &p, &call[e], &r[e]);
        } else {
            nub_local *l = NULL;
            s = nub_local_create_stdprog(e == 1 ? NUB_LOCAL_JIT : NUB_LOCAL_INTERP, jam, len, NULL,
                                         0, 100000, &l);
            assert_int_equal(s, NUB_OK);
            s = nub_local_invoke(l, &p, &call[e], &r[e]);
            nub_local_destroy(l);
        }
        assert_int_equal(s, NUB_OK);
        assert_int_equal(r[e].exit_reason, NUB_EXIT_HALT);
        assert_int_equal(r[e].return_value, 4);
        assert_int_equal(call[e].host_calls, 1 + 4 + 1);
        assert_int_equal(h[e].output_len, 32);
        const uint64_t want[4] = {1, 4, 100, 255 * 255};
        assert_memory_equal(h[e].output, want, sizeof want);
        if (e > 0) {
            assert_same_result(&r[0], &r[e], engine_names[e]);
            assert_memory_equal(h[0].output, h[e].output, 32);
        }
        /* NUB_EXPORT(2, twice): endpoint 2 is published too; endpoint 3 is not. */
        p.endpoint_idx = 2;
        p.arg_count = 1;
        p.args[0] = 21;
        struct nub_invocation_result r2;
        if (e == 0) {
            assert_int_equal(nub_invoke(sb, &p, &r2), NUB_OK);
            p.endpoint_idx = 3;
            assert_int_equal(nub_invoke(sb, &p, &r3_unused), NUB_ERR_BAD_ENDPOINT);
        } else {
            nub_local *l = NULL;
            assert_int_equal(nub_local_create_stdprog(e == 1 ? NUB_LOCAL_JIT : NUB_LOCAL_INTERP,
                                                      jam, len, NULL, 0, 100000, &l),
                             NUB_OK);
            assert_int_equal(nub_local_invoke(l, &p, NULL, &r2), NUB_OK);
            p.endpoint_idx = 3;
            assert_int_equal(nub_local_invoke(l, &p, NULL, &r3_unused), NUB_ERR_BAD_ENDPOINT);
            nub_local_destroy(l);
        }
        assert_int_equal(r2.exit_reason, NUB_EXIT_HALT);
        assert_int_equal(r2.return_value, 42);
    }
    nub_sandbox_destroy(sb);
}

/* ---- per-call input and output ----------------------------------------- */
/* Halts at once: the output is [phi7, phi7 + phi8) = the input. */
static void test_input_output(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, "    add_64 a0, a0, a2\n" /* phi7 += phi9 (the first argument) */
                    "    jump_ind ra, 0\n");
    struct nub_invocation_result r[ENGINES];
    static uint8_t input[5000];
    for (size_t i = 0; i < sizeof input; i++)
        input[i] = (uint8_t)(i * 13 + 1);
    for (int e = 0; e < ENGINES; e++) {
        uint8_t out[5000];
        /* args go to phi9.. with input: phi7 moves by 1 byte */
        struct nub_invoke_packet p = {.arg_count = 1, .args = {1}, .initial_gas = 100};
        struct nub_call call = {
            .input = input, .input_len = sizeof input, .output = out, .output_cap = sizeof out};
        assert_int_equal(run_on(e, sb, &pr.raw, &p, &call, &r[e]), NUB_OK);
        assert_int_equal(r[e].exit_reason, NUB_EXIT_HALT);
        assert_int_equal(r[e].return_value, NUB_STDPROG_ARGS_BASE + 1);
        assert_int_equal(r[e].regs[8], sizeof input);
        assert_int_equal(call.output_status, NUB_OK);
        assert_int_equal(call.output_len, sizeof input);
        /* [phi7+1, +len) runs one byte past the input into the zeroed page tail */
        assert_memory_equal(out, input + 1, sizeof input - 1);
        assert_int_equal(out[sizeof input - 1], 0);
        if (e > 0)
            assert_same_result(&r[0], &r[e], engine_names[e]);

        /* Output larger than the caller's buffer: a status, the length kept. */
        struct nub_invocation_result other;
        call = (struct nub_call){
            .input = input, .input_len = sizeof input, .output = out, .output_cap = 10};
        assert_int_equal(run_on(e, sb, &pr.raw, &p, &call, &other), NUB_OK);
        assert_int_equal(call.output_status, NUB_ERR_OUTPUT_TOO_LARGE);
        assert_int_equal(call.output_len, sizeof input);

        /* Empty input: phi8 = 0, nothing mapped, empty output. */
        call = (struct nub_call){.input = "", .input_len = 0, .output = out, .output_cap = 10};
        p.arg_count = 0;
        p.args[0] = 0; /* args past arg_count must be zero */
        assert_int_equal(run_on(e, sb, &pr.raw, &p, &call, &other), NUB_OK);
        assert_int_equal(other.return_value, NUB_STDPROG_ARGS_BASE);
        assert_int_equal(call.output_status, NUB_OK);
        assert_int_equal(call.output_len, 0);
    }
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* ---- host-function outcomes and memory rules --------------------------- */
struct probe {
    int action;       /* what to return */
    uint32_t address; /* memory to touch */
    uint32_t len;
    int write;            /* 1: write, 0: read */
    nub_status mem;       /* the status the access got */
    uint64_t id;          /* the id seen */
    nub_host_call *saved; /* the handle, kept to misuse after the call */
};

static int probe_fn(void *ctx, nub_host_call *call)
{
    struct probe *p = ctx;
    uint8_t buf[64] = {0x5A};
    p->id = nub_host_call_id(call);
    p->saved = call;
    p->mem = p->write ? nub_host_call_write(call, p->address, buf, p->len)
                      : nub_host_call_read(call, p->address, buf, p->len);
    nub_host_call_set_reg(call, 7, 77);
    nub_host_call_set_gas(call, nub_host_call_gas(call) - 5);
    return p->action;
}

static const char probe_text[] = "    ecalli 7\n"
                                 "    add_imm_64 a0, a0, 1\n"
                                 "    load_u8 a1, 0x20000\n"
                                 "    jump_ind ra, 0\n";

static void run_probe(nub_sandbox *sb, struct probe base, nub_status want_status,
                      uint32_t want_exit, nub_status want_mem)
{
    struct prog pr;
    prog_build(&pr, probe_text);
    struct nub_invocation_result r[ENGINES];
    for (int e = 0; e < ENGINES; e++) {
        struct probe pb = base;
        struct nub_call call = {.host = {probe_fn, &pb}};
        struct nub_invoke_packet p = {.initial_gas = 1000};
        nub_status s = run_on(e, sb, &pr.raw, &p, &call, &r[e]);
        if (s != want_status)
            fail_msg("%s: status %s, want %s", engine_names[e], nub_strerror(s),
                     nub_strerror(want_status));
        assert_int_equal(pb.mem, want_mem);
        assert_int_equal(pb.id, 7);
        assert_int_equal(call.host_calls, 1);
        /* The handle is over once its function returned. */
        uint8_t b;
        assert_int_equal(nub_host_call_read(pb.saved, 0x10000, &b, 1), NUB_ERR_RUN_FINISHED);
        assert_int_equal(nub_host_call_set_reg(pb.saved, 7, 1), NUB_ERR_RUN_FINISHED);
        if (s != NUB_OK)
            continue;
        assert_int_equal(r[e].exit_reason, want_exit);
        if (e > 0)
            assert_same_result(&r[0], &r[e], engine_names[e]);
    }
    if (want_status == NUB_ERR_HOST_ACTION) {
        uint64_t v = 0; /* the sandbox lives on */
        assert_int_equal(nub_smoke(sb, &v), NUB_OK);
    }
    pvmasm_output_free(&pr.as);
}

static void test_outcomes_and_memory(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    /* continue: phi7 = 77 + 1 */
    run_probe(sb, (struct probe){.action = NUB_HOST_CONTINUE, .address = 0x10000, .len = 2}, NUB_OK,
              NUB_EXIT_HALT, NUB_OK);
    run_probe(sb, (struct probe){.action = NUB_HOST_HALT, .address = 0x20000, .len = 8, .write = 1},
              NUB_OK, NUB_EXIT_HALT, NUB_OK);
    run_probe(sb, (struct probe){.action = NUB_HOST_PANIC}, NUB_OK, NUB_EXIT_PANIC, NUB_OK);
    run_probe(sb, (struct probe){.action = NUB_HOST_OUT_OF_GAS}, NUB_OK, NUB_EXIT_OUT_OF_GAS,
              NUB_OK);
    /* memory out of range, across a page end, wrapping, and read-only */
    run_probe(sb, (struct probe){.action = NUB_HOST_PANIC, .address = 0x30000, .len = 1}, NUB_OK,
              NUB_EXIT_PANIC, NUB_ERR_MEMORY_INACCESSIBLE);
    run_probe(sb, (struct probe){.action = NUB_HOST_CONTINUE, .address = 0x21FFC, .len = 8}, NUB_OK,
              NUB_EXIT_HALT, NUB_ERR_MEMORY_INACCESSIBLE);
    run_probe(sb, (struct probe){.action = NUB_HOST_CONTINUE, .address = 0xFFFFFFFC, .len = 8},
              NUB_OK, NUB_EXIT_HALT, NUB_ERR_MEMORY_INACCESSIBLE);
    run_probe(sb,
              (struct probe){.action = NUB_HOST_CONTINUE, .address = 0x10000, .len = 4, .write = 1},
              NUB_OK, NUB_EXIT_HALT, NUB_ERR_MEMORY_READ_ONLY);
    run_probe(sb,
              (struct probe){.action = NUB_HOST_CONTINUE, .address = 0x30000, .len = 4, .write = 1},
              NUB_OK, NUB_EXIT_HALT, NUB_ERR_MEMORY_INACCESSIBLE);
    /* an invalid action: a status on every engine, the sandbox alive */
    run_probe(sb, (struct probe){.action = 42}, NUB_ERR_HOST_ACTION, 0, NUB_OK);
    run_probe(sb, (struct probe){.action = -1}, NUB_ERR_HOST_ACTION, 0, NUB_OK);
    nub_sandbox_destroy(sb);
}

/* The write of a host function is what the program reads next. */
static void test_write_seen_by_program(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, probe_text);
    for (int e = 0; e < ENGINES; e++) {
        struct probe pb = {.action = NUB_HOST_CONTINUE, .address = 0x20000, .len = 1, .write = 1};
        struct nub_call call = {.host = {probe_fn, &pb}};
        struct nub_invoke_packet p = {.initial_gas = 1000};
        struct nub_invocation_result r;
        assert_int_equal(run_on(e, sb, &pr.raw, &p, &call, &r), NUB_OK);
        assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
        assert_int_equal(r.return_value, 78);
        assert_int_equal(r.regs[8], 0x5A);
    }
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* A host function writes into a page the program had only read: the space
 * keeps that page backed between calls and zeroes it after a call only if
 * it was written, which the CPU does not know of a host write. The next
 * call reads the page as published. */
static int write_ab_at_0x20008(void *ctx, nub_host_call *call)
{
    const int *enabled = ctx;
    const uint8_t b = 0xAB;
    if (*enabled && nub_host_call_write(call, 0x20008, &b, 1) != NUB_OK)
        return NUB_HOST_PANIC;
    return NUB_HOST_CONTINUE;
}

static void test_host_write_undone_next_call(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, "    load_imm a1, 0x20000\n"
                    "    load_ind_u8 a0, a1, 8\n"
                    "    ecalli 3\n"
                    "    load_ind_u8 a2, a1, 8\n"
                    "    jump_ind ra, 0\n");
    struct nub_invoke_packet p = {.initial_gas = 1000};
    assert_int_equal(nub_publish_raw(sb, &pr.raw, p.instance_hash), NUB_OK);
    for (int i = 0; i < 4; i++) {
        int enabled = i % 2 == 0;
        struct nub_call call = {.host = {write_ab_at_0x20008, &enabled}};
        struct nub_invocation_result r;
        assert_int_equal(nub_invoke_call(sb, &p, &call, &r), NUB_OK);
        assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
        assert_int_equal(r.return_value, 0);
        assert_int_equal(r.regs[9], enabled ? 0xAB : 0);
    }
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* A host function writes into pages the program got from sbrk in the same
 * run; the program reads the byte back. */
static int write_at_phi7(void *ctx, nub_host_call *call)
{
    (void)ctx;
    const uint8_t b = 0xC3;
    nub_status s = nub_host_call_write(call, (uint32_t)nub_host_call_reg(call, 7) + 5000, &b, 1);
    return s == NUB_OK ? NUB_HOST_CONTINUE : NUB_HOST_PANIC;
}

static void test_write_to_sbrk_pages(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, "    load_imm a1, 8192\n"
                    "    sbrk a0, a1\n"
                    "    ecalli 9\n"
                    "    load_ind_u8 a2, a0, 5000\n"
                    "    jump_ind ra, 0\n");
    pr.raw.heap_top = 0x30000;
    pr.raw.heap_limit = 0x100000;
    struct nub_invocation_result r[ENGINES];
    for (int e = 0; e < ENGINES; e++) {
        struct nub_call call = {.host = {write_at_phi7, NULL}};
        struct nub_invoke_packet p = {.initial_gas = 1000};
        assert_int_equal(run_on(e, sb, &pr.raw, &p, &call, &r[e]), NUB_OK);
        assert_int_equal(r[e].exit_reason, NUB_EXIT_HALT);
        assert_int_equal(r[e].return_value, 0x30000);
        assert_int_equal(r[e].regs[9], 0xC3);
        if (e > 0)
            assert_same_result(&r[0], &r[e], engine_names[e]);
    }
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* A host function fills 4 MiB of pages the program got from sbrk and never
 * touched: every page is backed during the host call, far more than the
 * guest keeps free for a run, and the program reads the last byte back. */
#define BIG_WRITE (4u << 20)
static int fill_at_phi7(void *ctx, nub_host_call *call)
{
    (void)ctx;
    static uint8_t bytes[BIG_WRITE];
    for (uint32_t i = 0; i < BIG_WRITE; i++)
        bytes[i] = (uint8_t)(i * 31 + 7);
    nub_status s =
        nub_host_call_write(call, (uint32_t)nub_host_call_reg(call, 7), bytes, BIG_WRITE);
    if (s != NUB_OK)
        fprintf(stderr, "host write: %s\n", nub_strerror(s));
    return s == NUB_OK ? NUB_HOST_CONTINUE : NUB_HOST_PANIC;
}

static void test_large_write_to_fresh_pages(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, "    load_imm a1, 0x800000\n"
                    "    sbrk a0, a1\n"
                    "    ecalli 9\n"
                    "    load_imm a3, 0x3FFFFF\n"
                    "    add_64 a3, a3, a0\n"
                    "    load_ind_u8 a2, a3, 0\n"
                    "    jump_ind ra, 0\n");
    pr.raw.heap_top = 0x100000;
    pr.raw.heap_limit = 0x2000000;
    struct nub_invocation_result r[ENGINES];
    for (int e = 0; e < ENGINES; e++) {
        for (int round = 0; round < 3; round++) {
            struct nub_call call = {.host = {fill_at_phi7, NULL}};
            struct nub_invoke_packet p = {.initial_gas = 1000};
            assert_int_equal(run_on(e, sb, &pr.raw, &p, &call, &r[e]), NUB_OK);
            assert_int_equal(r[e].exit_reason, NUB_EXIT_HALT);
            assert_int_equal(r[e].regs[9], (uint8_t)((BIG_WRITE - 1) * 31 + 7));
        }
        if (e > 0)
            assert_same_result(&r[0], &r[e], engine_names[e]);
    }
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* More fresh pages than the guest has memory: the write is refused with a
 * status the host function sees (after the guest tried to refill its pool),
 * and the sandbox works on. */
static int fill_48m_at_phi7(void *ctx, nub_host_call *call)
{
    nub_status *seen = ctx;
    size_t n = (size_t)48 << 20;
    uint8_t *bytes = calloc(1, n);
    *seen =
        bytes ? nub_host_call_write(call, (uint32_t)nub_host_call_reg(call, 7), bytes, (uint32_t)n)
              : NUB_ERR_NOMEM;
    free(bytes);
    return NUB_HOST_PANIC;
}

static void test_write_past_guest_memory(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox_config cfg = {.guest_memory_bytes = (uint64_t)32 << 20};
    nub_sandbox *sb = nub_test_sandbox(&cfg);
    struct prog pr;
    prog_build(&pr, "    load_imm a1, 0x4000000\n"
                    "    sbrk a0, a1\n"
                    "    ecalli 9\n"
                    "    jump_ind ra, 0\n");
    pr.raw.heap_top = 0x100000;
    pr.raw.heap_limit = 0x8000000;
    nub_status seen = NUB_OK;
    struct nub_call call = {.host = {fill_48m_at_phi7, &seen}};
    struct nub_invoke_packet p = {.initial_gas = 1000};
    struct nub_invocation_result r;
    assert_int_equal(run_on(0, sb, &pr.raw, &p, &call, &r), NUB_OK);
    assert_int_equal(seen, NUB_ERR_HEAP_EXHAUSTED);
    assert_int_equal(r.exit_reason, NUB_EXIT_PANIC);
    uint64_t v = 0;
    assert_int_equal(nub_smoke(sb, &v), NUB_OK);
    assert_int_equal(v, 42);
    /* and a write that fits still works in the same sandbox */
    call = (struct nub_call){.host = {write_at_phi7, NULL}};
    assert_int_equal(run_on(0, sb, &pr.raw, &p, &call, &r), NUB_OK);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* A host function may run another program (not the one it serves): after
 * it, a fault in the outer program is still that program's PVM exit. */
static int run_inner(void *ctx, nub_host_call *call)
{
    struct prog *inner = ctx;
    nub_local *l = NULL;
    if (nub_local_create_raw(NUB_LOCAL_JIT, &inner->raw, &l) != NUB_OK)
        return NUB_HOST_PANIC;
    struct nub_invoke_packet p = {.initial_gas = 100};
    struct nub_invocation_result r;
    nub_status s = nub_local_invoke(l, &p, NULL, &r);
    nub_local_destroy(l);
    if (s != NUB_OK || r.exit_reason != NUB_EXIT_PAGE_FAULT)
        return NUB_HOST_PANIC;
    nub_host_call_set_reg(call, 7, r.exit_arg);
    return NUB_HOST_CONTINUE;
}

static void test_nested_run_in_host_function(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog outer, inner;
    prog_build(&inner, "    load_u8 a0, 0x40000\n    jump_ind ra, 0\n"); /* page fault */
    prog_build(&outer, "    ecalli 1\n    load_u8 a1, 0x50000\n    jump_ind ra, 0\n");
    struct nub_invocation_result r[ENGINES];
    for (int e = 0; e < ENGINES; e++) {
        struct nub_call call = {.host = {run_inner, &inner}};
        struct nub_invoke_packet p = {.initial_gas = 1000};
        assert_int_equal(run_on(e, sb, &outer.raw, &p, &call, &r[e]), NUB_OK);
        assert_int_equal(r[e].exit_reason, NUB_EXIT_PAGE_FAULT);
        assert_int_equal(r[e].exit_arg, 0x50000);
        assert_int_equal(r[e].return_value, 0x40000);
        if (e > 0)
            assert_same_result(&r[0], &r[e], engine_names[e]);
    }
    pvmasm_output_free(&outer.as);
    pvmasm_output_free(&inner.as);
    nub_sandbox_destroy(sb);
}

/* A host function that calls back into the sandbox / instance it serves
 * gets a status (the run goes on). */
struct reentry {
    nub_sandbox *sb;
    nub_local *l;
    nub_status got;
};

static int call_back_in(void *ctx, nub_host_call *call)
{
    struct reentry *re = ctx;
    (void)call;
    struct nub_invoke_packet p = {.initial_gas = 10};
    struct nub_invocation_result r;
    uint64_t v;
    if (re->sb) {
        re->got = nub_smoke(re->sb, &v);
        if (nub_invoke(re->sb, &p, &r) != re->got)
            re->got = NUB_ERR_PROTOCOL; /* the two must agree */
    } else {
        re->got = nub_local_invoke(re->l, &p, NULL, &r);
    }
    return NUB_HOST_CONTINUE;
}

static void test_reentry_refused(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, "    ecalli 1\n    jump_ind ra, 0\n");
    struct nub_invoke_packet p = {.initial_gas = 100};
    assert_int_equal(nub_publish_raw(sb, &pr.raw, p.instance_hash), NUB_OK);
    struct reentry re = {.sb = sb};
    struct nub_call call = {.host = {call_back_in, &re}};
    struct nub_invocation_result r;
    assert_int_equal(nub_invoke_call(sb, &p, &call, &r), NUB_OK);
    assert_int_equal(re.got, NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
    uint64_t v;
    assert_int_equal(nub_smoke(sb, &v), NUB_OK); /* usable again after the call */
    for (int e = 1; e < ENGINES; e++) {
        nub_local *l = NULL;
        assert_int_equal(
            nub_local_create_raw(e == 1 ? NUB_LOCAL_JIT : NUB_LOCAL_INTERP, &pr.raw, &l), NUB_OK);
        re = (struct reentry){.l = l};
        call = (struct nub_call){.host = {call_back_in, &re}};
        assert_int_equal(nub_local_invoke(l, &p, &call, &r), NUB_OK);
        assert_int_equal(re.got, NUB_ERR_INVALID_ARGUMENT);
        assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
        nub_local_destroy(l);
    }
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* ecalli's id is the same 64-bit value everywhere (exit_arg and handle). */
static void test_ecalli_id_64(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, "    ecalli -1\n    jump_ind ra, 0\n");
    struct nub_invocation_result r[ENGINES];
    for (int e = 0; e < ENGINES; e++) {
        struct nub_invoke_packet p = {.initial_gas = 100};
        assert_int_equal(run_on(e, sb, &pr.raw, &p, NULL, &r[e]), NUB_OK);
        assert_int_equal(r[e].exit_reason, NUB_EXIT_HOST_CALL);
        if (e > 0)
            assert_same_result(&r[0], &r[e], engine_names[e]);
        struct probe pb = {.action = NUB_HOST_CONTINUE};
        struct nub_call call = {.host = {probe_fn, &pb}};
        struct nub_invocation_result served;
        assert_int_equal(run_on(e, sb, &pr.raw, &p, &call, &served), NUB_OK);
        assert_int_equal(served.exit_reason, NUB_EXIT_HALT);
        assert_int_equal(pb.id, r[e].exit_arg);
    }
    assert_true(r[0].exit_arg > UINT32_MAX); /* the immediate is sign-extended to 64 bits */
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* A host function charges gas; gas that runs out ends the run where GP says. */
static int count_fn(void *ctx, nub_host_call *call)
{
    (*(int *)ctx)++;
    nub_host_call_set_gas(call, nub_host_call_gas(call) - 100);
    return NUB_HOST_CONTINUE;
}

static void test_loop_gas(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, "loop:\n    ecalli 3\n    add_imm_64 a0, a0, -1\n"
                    "    branch_ne_imm a0, 0, loop\n    jump_ind ra, 0\n");
    struct nub_invocation_result r[ENGINES];
    for (int e = 0; e < ENGINES; e++) {
        int n = 0;
        struct nub_call call = {.host = {count_fn, &n}};
        struct nub_invoke_packet p = {.arg_count = 1, .args = {50}, .initial_gas = 3000};
        assert_int_equal(run_on(e, sb, &pr.raw, &p, &call, &r[e]), NUB_OK);
        assert_int_equal(r[e].exit_reason, NUB_EXIT_OUT_OF_GAS);
        assert_int_equal(call.host_calls, (uint64_t)n);
        if (e > 0)
            assert_same_result(&r[0], &r[e], engine_names[e]);
    }
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

/* Bad requests: the same status on every engine, with a message. */
static void test_bad_requests_alike(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct prog pr;
    prog_build(&pr, "    jump_ind ra, 0\n");
    static const struct {
        struct nub_invoke_packet p;
        uint32_t input_len;
        nub_status want;
    } cases[] = {
        {{.endpoint_idx = 1}, 0, NUB_ERR_BAD_ENDPOINT},
        {{.arg_count = 5}, 0, NUB_ERR_ARG_COUNT},
        {{.arg_count = 1, .args = {1, 2}}, 0, NUB_ERR_ARG_COUNT}, /* args[1] not counted */
        {{.initial_gas = (uint64_t)INT64_MAX + 1}, 0, NUB_ERR_GAS_TOO_LARGE},
        {{.initial_gas = 10}, NUB_STDPROG_MAX_ARGS + 1, NUB_ERR_INPUT_TOO_LARGE},
    };
    static uint8_t big[NUB_STDPROG_MAX_ARGS + 1];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int e = 0; e < ENGINES; e++) {
            struct nub_invoke_packet p = cases[c].p;
            struct nub_call call = {.input = cases[c].input_len ? big : NULL,
                                    .input_len = cases[c].input_len};
            struct nub_invocation_result r;
            nub_status s = run_on(e, sb, &pr.raw, &p, &call, &r);
            if (s != cases[c].want)
                fail_msg("case %zu on %s: %s, want %s", c, engine_names[e], nub_strerror(s),
                         nub_strerror(cases[c].want));
            const char *msg = e == 0 ? nub_sandbox_last_error(sb) : nub_local_last_error(kept[e]);
            if (msg[0] == 0)
                fail_msg("case %zu on %s: no message", c, engine_names[e]);
        }
    }
    assert_false(nub_sandbox_is_dead(sb));
    pvmasm_output_free(&pr.as);
    nub_sandbox_destroy(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_program),
        cmocka_unit_test(test_input_output),
        cmocka_unit_test(test_outcomes_and_memory),
        cmocka_unit_test(test_write_seen_by_program),
        cmocka_unit_test(test_ecalli_id_64),
        cmocka_unit_test(test_loop_gas),
        cmocka_unit_test(test_bad_requests_alike),
        cmocka_unit_test(test_write_to_sbrk_pages),
        cmocka_unit_test(test_host_write_undone_next_call),
        cmocka_unit_test(test_large_write_to_fresh_pages),
        cmocka_unit_test(test_write_past_guest_memory),
        cmocka_unit_test(test_nested_run_in_host_function),
        cmocka_unit_test(test_reentry_refused),
    };
    int rc = nub_test_kvm_suite_result(
        cmocka_run_group_tests_name("sandbox_host_calls", tests, NULL, NULL));
    release_kept();
    return rc;
}
