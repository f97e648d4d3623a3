/*
 * loop_mips.c — one engine's speed on one loop program (see loop_mips.h).
 */
#include "loop_mips.h"

#include <stdio.h>

#include "nubbench.h"
#include "pvm_alloc_libc.h"
#include "pvm_program.h"

double loop_mips(const struct pvm_engine *engine, enum loop_kind kind, uint64_t iterations)
{
    struct loop_program lp;
    if (loop_program_build(kind, &lp) != 0)
        return -1;
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *prog = NULL;
    double best = -1;
    if (pvm_program_decode(lp.blob, lp.blob_len, &alloc, &prog) != PVM_OK) {
        fprintf(stderr, "nubbench: %s: blob does not decode\n", lp.name);
        goto out;
    }
    for (int rep = 0; rep < 3; rep++) {
        const int64_t gas = INT64_MAX / 2;
        struct pvm_state init;
        loop_program_initial_state(iterations, gas, &init);
        void *inst = NULL;
        size_t nseg = lp.segment.length > 0 ? 1 : 0;
        if (engine->create(prog, &lp.segment, nseg, &init, &alloc, &inst) != PVM_OK) {
            fprintf(stderr, "nubbench: %s on %s: cannot create the instance\n", lp.name,
                    engine->name);
            best = -1;
            goto out;
        }
        struct pvm_exit e;
        uint64_t t0 = nubbench_now_ns();
        engine->run(inst, &e);
        uint64_t t1 = nubbench_now_ns();
        struct pvm_state fin;
        engine->get_state(inst, &fin);
        engine->destroy(inst);
        uint64_t executed = (uint64_t)(gas - fin.gas);
        if (e.reason != PVM_EXIT_HALT || executed < iterations * lp.insns_per_iteration ||
            executed > iterations * lp.insns_per_iteration + 16) {
            fprintf(stderr, "nubbench: %s on %s: unexpected run (exit %u, %llu instructions)\n",
                    lp.name, engine->name, e.reason, (unsigned long long)executed);
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
