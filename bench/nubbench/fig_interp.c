/*
 * fig_interp.c — reference interpreter speed, in millions of PVM
 * instructions per second, on the loop programs of loop_programs.c:
 *
 *   interp_mips_alu     ALU-heavy loop (the headline figure; goal >= 100)
 *   interp_mips_mem     loads/stores over a 64 KiB buffer
 *   interp_mips_branch  short blocks, a taken/not-taken branch mix
 *   interp_mips         = interp_mips_alu
 *
 * Instructions executed are read off the gas used (every instruction costs
 * 1), checked against the loop's instruction count. Instance creation is
 * not timed; each figure is the best of three runs.
 */
#include <stdio.h>

#include "loop_programs.h"
#include "nubbench.h"
#include "pvm_alloc_libc.h"
#include "pvm_interp.h"
#include "pvm_program.h"

/* Runs one loop program; returns MIPS, or a negative value on failure. */
static double measure(enum loop_kind kind, uint64_t iterations)
{
    struct loop_program lp;
    if (loop_program_build(kind, &lp) != 0)
        return -1;
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *prog = NULL;
    double best = -1;
    if (pvm_program_decode(lp.blob, lp.blob_len, &alloc, &prog) != PVM_OK) {
        fprintf(stderr, "fig_interp: %s: blob does not decode\n", lp.name);
        goto out;
    }
    for (int rep = 0; rep < 3; rep++) {
        const int64_t gas = INT64_MAX / 2;
        struct pvm_state init;
        loop_program_initial_state(iterations, gas, &init);
        struct pvm_interp *it = NULL;
        size_t nseg = lp.segment.length > 0 ? 1 : 0;
        if (pvm_interp_create(prog, &lp.segment, nseg, &init, &alloc, &it) != PVM_OK) {
            fprintf(stderr, "fig_interp: %s: cannot create the interpreter\n", lp.name);
            best = -1;
            goto out;
        }
        struct pvm_exit e;
        uint64_t t0 = nubbench_now_ns();
        pvm_interp_run(it, &e);
        uint64_t t1 = nubbench_now_ns();
        struct pvm_state fin;
        pvm_interp_get_state(it, &fin);
        pvm_interp_destroy(it);
        uint64_t executed = (uint64_t)(gas - fin.gas);
        if (e.reason != PVM_EXIT_HALT || executed < iterations * lp.insns_per_iteration ||
            executed > iterations * lp.insns_per_iteration + 16) {
            fprintf(stderr, "fig_interp: %s: unexpected run (exit %u, %llu instructions)\n",
                    lp.name, e.reason, (unsigned long long)executed);
            best = -1;
            goto out;
        }
        double mips = (double)executed / ((double)(t1 - t0) / 1e9) / 1e6;
        if (mips > best)
            best = mips;
    }
out:
    pvm_program_destroy(prog);
    loop_program_free(&lp);
    return best;
}

int fig_interp(const struct nubbench_options *opt)
{
    uint64_t iterations = opt->quick ? 200000 : 10000000;
    double alu = measure(LOOP_ALU, iterations);
    double mem = measure(LOOP_MEM, iterations);
    double branch = measure(LOOP_BRANCH, iterations);
    if (alu < 0 || mem < 0 || branch < 0)
        return 1;
    nubbench_emit("interp_mips", alu, "M PVM instructions/s");
    nubbench_emit("interp_mips_alu", alu, "M PVM instructions/s");
    nubbench_emit("interp_mips_mem", mem, "M PVM instructions/s");
    nubbench_emit("interp_mips_branch", branch, "M PVM instructions/s");
    return 0;
}
