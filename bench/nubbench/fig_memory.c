/*
 * fig_memory.c — guest memory figures of the sandbox (demand paging, the
 * page pool, sbrk in the run, the cache of run address spaces):
 *
 *   invoke_plain_us                    nub_invoke of a cached program that
 *                                      halts at once (mean; the baseline of
 *                                      the ratios below, measured here)
 *   invoke_touch_1_page_of_4g_us       nub_invoke of a program whose one
 *                                      segment declares the whole 4 GiB space
 *                                      (no contents) and which writes one
 *                                      page (mean: a first touch every call)
 *   invoke_touch_1_page_of_4g_vs_invoke  the ratio of the two (goal <= 1.5)
 *   sbrk_sandbox_vs_jit                a loop of sbrk(1) calls bounded by gas:
 *                                      time in the sandbox (one invoke) over
 *                                      time on the hosted JIT (goal <= 3)
 *   invoke_17_round_robin_vs_16        mean invoke time over 17 instances
 *                                      called in turn, over 16 (the space
 *                                      cache holds 16; goal <= 2)
 *   heap_32768_sandbox_vs_interp       the 24-byte standard program with
 *                                      `.heap 32768` (128 MiB of heap) that
 *                                      halts at once: publish + first invoke
 *                                      in a running sandbox, over load +
 *                                      create + run on the interpreter
 *                                      (best of 5 each; goal <= 2)
 *   heap_32768_sandbox_us, heap_32768_interp_us  the two times of that ratio
 *   heap_0_sandbox_us                  the same program without `.heap`:
 *                                      publish + first invoke in a fresh
 *                                      sandbox (best of 5)
 *   heap_32768_vs_heap_0_sandbox       what declaring 128 MiB of heap adds
 *                                      in the sandbox (1: nothing)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nub/host.h"
#include "nubbench.h"
#include "pvm_alloc_libc.h"
#include "pvm_hosted.h"
#include "pvm_interp.h"
#include "pvm_program.h"
#include "pvm_stdprog.h"
#include "pvmasm.h"

#define HALT_ADDR 0xFFFF0000u

static int assemble(const char *text, struct pvmasm_output *out)
{
    char err[256];
    if (pvmasm_assemble(text, strlen(text), out, err, sizeof err) != 0) {
        fprintf(stderr, "fig_memory: pvmasm: %s\n", err);
        return -1;
    }
    return 0;
}

/* Publishes text as a raw blob with one read-write segment, no contents. */
static int publish_raw(nub_sandbox *sb, const char *text, uint32_t address, uint32_t length,
                       uint64_t a1, nub_cap_hash out)
{
    struct pvmasm_output asm_out;
    if (assemble(text, &asm_out) != 0)
        return -1;
    struct nub_capbuild_range range = {address, length, NUB_WIRE_ACCESS_WRITE};
    struct nub_capbuild_raw prog = {
        .blob = asm_out.blob,
        .blob_len = (uint32_t)asm_out.blob_len,
        .ranges = &range,
        .range_count = length ? 1 : 0,
        .default_gas = 1000,
    };
    prog.regs[0] = HALT_ADDR;
    prog.regs[8] = a1; /* a1: distinguishes otherwise equal instances */
    nub_status s = nub_publish_raw(sb, &prog, out);
    pvmasm_output_free(&asm_out);
    if (s != NUB_OK)
        fprintf(stderr, "fig_memory: publish: %s\n", nub_sandbox_last_error(sb));
    return s == NUB_OK ? 0 : -1;
}

/* Mean time of `calls` invokes of the instances in turn; < 0 on failure. */
static double invoke_us(nub_sandbox *sb, nub_cap_hash *instances, int count, int calls,
                        uint64_t gas)
{
    struct nub_invoke_packet p = {.initial_gas = gas};
    struct nub_invocation_result r;
    for (int i = 0; i < count; i++) { /* compile and build: not timed */
        memcpy(p.instance_hash, instances[i], sizeof p.instance_hash);
        if (nub_invoke(sb, &p, &r) != NUB_OK || r.exit_reason != NUB_EXIT_HALT)
            return -1;
    }
    uint64_t t0 = nubbench_now_ns();
    for (int i = 0; i < calls; i++) {
        memcpy(p.instance_hash, instances[i % count], sizeof p.instance_hash);
        if (nub_invoke(sb, &p, &r) != NUB_OK || r.exit_reason != NUB_EXIT_HALT)
            return -1;
    }
    return (double)(nubbench_now_ns() - t0) / 1e3 / calls;
}

static int measure_touch(nub_sandbox *sb, int calls, double *plain_us, double *touch_us)
{
    nub_cap_hash plain, touch;
    if (publish_raw(sb, "    jump_ind ra, 0\n", 0, 0, 0, plain) != 0 ||
        publish_raw(sb,
                    "    load_imm_64 a2, 0x87654320\n"
                    "    store_ind_u64 a2, a2, 0\n"
                    "    jump_ind ra, 0\n",
                    0x10000, 0xFFFF0000u, 0, touch) != 0)
        return -1;
    *plain_us = invoke_us(sb, &plain, 1, calls, 100);
    *touch_us = invoke_us(sb, &touch, 1, calls, 100);
    return *plain_us > 0 && *touch_us > 0 ? 0 : -1;
}

static int measure_round_robin(nub_sandbox *sb, int calls, double *ratio)
{
    /* 17 instances of one image, each with a written 64 KiB data segment. */
    nub_cap_hash inst[17];
    for (int i = 0; i < 17; i++)
        if (publish_raw(sb,
                        "    load_imm a0, 0x20000\n"
                        "    store_ind_u64 a1, a0, 0\n"
                        "    jump_ind ra, 0\n",
                        0x20000, 0x10000, (uint64_t)i, inst[i]) != 0)
            return -1;
    double sixteen = invoke_us(sb, inst, 16, calls, 100);
    double seventeen = invoke_us(sb, inst, 17, calls, 100);
    if (sixteen <= 0 || seventeen <= 0)
        return -1;
    *ratio = seventeen / sixteen;
    return 0;
}

static const char sbrk_loop[] = "    load_imm a1, 1\n"
                                "    fallthrough\n"
                                "loop:\n"
                                "    sbrk a0, a1\n"
                                "    jump loop\n";

/* Seconds of one run of the sbrk loop on the hosted JIT. */
static double sbrk_jit_s(const struct pvmasm_output *asm_out, int64_t gas)
{
    struct pvm_stdprog sp;
    if (pvm_stdprog_load(asm_out->stdprog, asm_out->stdprog_len, NULL, 0, &sp) != PVM_OK)
        return -1;
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *prog = NULL;
    if (pvm_program_decode(sp.code_blob, sp.code_blob_len, &alloc, &prog) != PVM_OK)
        return -1;
    struct pvm_state init;
    pvm_stdprog_initial_state(&sp, 0, gas, &init);
    void *inst = NULL;
    double s = -1;
    if (pvm_jit_engine.create(prog, sp.segments, sp.segment_count, &init, &alloc, &inst) ==
        PVM_OK) {
        struct pvm_exit e;
        uint64_t t0 = nubbench_now_ns();
        pvm_jit_engine.run(inst, &e);
        uint64_t t1 = nubbench_now_ns();
        if (e.reason == PVM_EXIT_OUT_OF_GAS)
            s = (double)(t1 - t0) / 1e9;
        pvm_jit_engine.destroy(inst);
    }
    pvm_program_destroy(prog);
    return s;
}

static int measure_sbrk(nub_sandbox *sb, int64_t gas, double *ratio)
{
    struct pvmasm_output asm_out;
    if (assemble(sbrk_loop, &asm_out) != 0)
        return -1;
    double jit_s = sbrk_jit_s(&asm_out, gas);
    nub_cap_hash h;
    nub_status s =
        nub_publish_stdprog(sb, asm_out.stdprog, asm_out.stdprog_len, NULL, 0, (uint64_t)gas, h);
    pvmasm_output_free(&asm_out);
    if (s != NUB_OK || jit_s <= 0)
        return -1;
    struct nub_invoke_packet p = {.initial_gas = (uint64_t)gas};
    memcpy(p.instance_hash, h, sizeof h);
    struct nub_invocation_result r;
    if (nub_invoke(sb, &p, &r) != NUB_OK) /* compiles: not timed */
        return -1;
    uint64_t t0 = nubbench_now_ns();
    s = nub_invoke(sb, &p, &r);
    uint64_t t1 = nubbench_now_ns();
    if (s != NUB_OK || r.exit_reason != NUB_EXIT_OUT_OF_GAS)
        return -1;
    *ratio = (double)(t1 - t0) / 1e9 / jit_s;
    return 0;
}

static const char heap_program[] = ".heap 32768\n    load_imm a0, 42\n    jump_ind ra, 0\n";
/* The same program without a heap: what publish + first invoke cost when
 * nothing is declared. */
static const char no_heap_program[] = "    load_imm a0, 42\n    jump_ind ra, 0\n";

/* Seconds of load + decode + create + run on the interpreter. */
static double heap_interp_s(const struct pvmasm_output *asm_out)
{
    uint64_t t0 = nubbench_now_ns();
    struct pvm_stdprog sp;
    if (pvm_stdprog_load(asm_out->stdprog, asm_out->stdprog_len, NULL, 0, &sp) != PVM_OK)
        return -1;
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *prog = NULL;
    if (pvm_program_decode(sp.code_blob, sp.code_blob_len, &alloc, &prog) != PVM_OK)
        return -1;
    struct pvm_state init;
    pvm_stdprog_initial_state(&sp, 0, 1000, &init);
    void *inst = NULL;
    double s = -1;
    if (pvm_interp_engine.create(prog, sp.segments, sp.segment_count, &init, &alloc, &inst) ==
        PVM_OK) {
        struct pvm_exit e;
        pvm_interp_engine.run(inst, &e);
        pvm_interp_engine.destroy(inst);
        if (e.reason == PVM_EXIT_HALT)
            s = (double)(nubbench_now_ns() - t0) / 1e9;
    }
    pvm_program_destroy(prog);
    return s;
}

/* Best-of-5 seconds of text on the interpreter and in a fresh sandbox. */
static int measure_heap_program(const char *text, double *sandbox_s, double *interp_s)
{
    struct pvmasm_output asm_out;
    if (assemble(text, &asm_out) != 0)
        return -1;
    double best_interp = -1, best_sandbox = -1;
    for (int rep = 0; rep < 5; rep++) {
        double t = heap_interp_s(&asm_out);
        if (t > 0 && (best_interp < 0 || t < best_interp))
            best_interp = t;
        nub_sandbox *sb = NULL; /* a fresh sandbox each time: nothing cached */
        if (nub_sandbox_create(NULL, &sb) != NUB_OK)
            break;
        uint64_t t0 = nubbench_now_ns();
        struct nub_invoke_packet p = {.initial_gas = 1000};
        struct nub_invocation_result r;
        nub_status s = nub_publish_stdprog(sb, asm_out.stdprog, asm_out.stdprog_len, NULL, 0, 1000,
                                           p.instance_hash);
        if (s == NUB_OK)
            s = nub_invoke(sb, &p, &r);
        t = (double)(nubbench_now_ns() - t0) / 1e9;
        nub_sandbox_destroy(sb);
        if (s != NUB_OK || r.exit_reason != NUB_EXIT_HALT || r.return_value != 42)
            break;
        if (best_sandbox < 0 || t < best_sandbox)
            best_sandbox = t;
    }
    pvmasm_output_free(&asm_out);
    if (best_interp <= 0 || best_sandbox <= 0)
        return -1;
    *sandbox_s = best_sandbox;
    *interp_s = best_interp;
    return 0;
}

int fig_memory(const struct nubbench_options *opt)
{
    nub_sandbox *sb = NULL;
    if (nub_sandbox_create(NULL, &sb) != NUB_OK) {
        fprintf(stderr, "fig_memory: skipped: no sandbox (KVM unavailable?)\n");
        return 0;
    }
    int calls = opt->quick ? 20 : 300;
    double plain = 0, touch = 0, rr = 0, sbrk = 0;
    int rc = measure_touch(sb, calls, &plain, &touch);
    if (rc == 0)
        rc = measure_sbrk(sb, opt->quick ? 200001 : 20000001, &sbrk);
    if (rc == 0)
        rc = measure_round_robin(sb, opt->quick ? 34 : 340, &rr);
    double heap_sandbox = 0, heap_interp = 0, no_heap_sandbox = 0, no_heap_interp = 0;
    if (rc == 0)
        rc = measure_heap_program(heap_program, &heap_sandbox, &heap_interp);
    if (rc == 0)
        rc = measure_heap_program(no_heap_program, &no_heap_sandbox, &no_heap_interp);
    if (rc != 0) {
        fprintf(stderr, "fig_memory: failed: %s\n", nub_sandbox_last_error(sb));
        nub_sandbox_destroy(sb);
        return 1;
    }
    nub_sandbox_destroy(sb);
    nubbench_emit("invoke_plain_us", plain, "us");
    nubbench_emit("invoke_touch_1_page_of_4g_us", touch, "us");
    nubbench_emit("invoke_touch_1_page_of_4g_vs_invoke", touch / plain, "x");
    nubbench_emit("sbrk_sandbox_vs_jit", sbrk, "x");
    nubbench_emit("invoke_17_round_robin_vs_16", rr, "x");
    nubbench_emit("heap_32768_sandbox_vs_interp", heap_sandbox / heap_interp, "x");
    nubbench_emit("heap_32768_sandbox_us", heap_sandbox * 1e6, "us");
    nubbench_emit("heap_32768_interp_us", heap_interp * 1e6, "us");
    nubbench_emit("heap_0_sandbox_us", no_heap_sandbox * 1e6, "us");
    nubbench_emit("heap_32768_vs_heap_0_sandbox", heap_sandbox / no_heap_sandbox, "x");
    return 0;
}
