/*
 * fig_hostcall.c — host calls in this process:
 *
 *   hostcall_jit_ns  per host call, in-process JIT (nub/local.h): a program
 *                    looping over `ecalli 0` (counter in phi7) with a host
 *                    function that does nothing; the time of the same loop
 *                    without the ecalli is subtracted; best of three
 *   hostcall_interp_ns  the same on the interpreter (for comparison)
 *
 * The sandbox's host-call figures are in fig_sandbox.c (they are ratios to
 * the bare VM exit measured there).
 */
#include <stdio.h>
#include <string.h>

#include "nub/local.h"
#include "nubbench.h"
#include "pvmasm.h"

static int nothing(void *ctx, nub_host_call *call)
{
    (void)ctx;
    (void)call;
    return NUB_HOST_CONTINUE;
}

/* ns for `loops` iterations of the program on engine (create not timed). */
static double time_loop(enum nub_local_engine engine, const char *text, uint64_t loops)
{
    struct pvmasm_output as;
    char err[200];
    if (pvmasm_assemble(text, strlen(text), &as, err, sizeof err) != 0) {
        fprintf(stderr, "fig_hostcall: %s\n", err);
        return -1;
    }
    struct nub_capbuild_raw prog = {.blob = as.blob, .blob_len = (uint32_t)as.blob_len};
    prog.regs[0] = NUB_STDPROG_HALT_ADDR;
    nub_local *l = NULL;
    double best = -1;
    if (nub_local_create_raw(engine, &prog, &l) == NUB_OK) {
        for (int rep = 0; rep < 3; rep++) {
            struct nub_invoke_packet p = {
                .arg_count = 1, .args = {loops}, .initial_gas = INT64_MAX};
            struct nub_call call = {.host = {.fn = nothing}};
            struct nub_invocation_result r;
            uint64_t t0 = nubbench_now_ns();
            nub_status s = nub_local_invoke(l, &p, &call, &r);
            uint64_t t1 = nubbench_now_ns();
            if (s != NUB_OK || r.exit_reason != NUB_EXIT_HALT) {
                fprintf(stderr, "fig_hostcall: run failed: %s %s\n", nub_strerror(s),
                        nub_local_last_error(l));
                best = -1;
                break;
            }
            double ns = (double)(t1 - t0);
            if (best < 0 || ns < best)
                best = ns;
        }
    }
    nub_local_destroy(l);
    pvmasm_output_free(&as);
    return best;
}

static const char with_ecalli[] = "loop:\n"
                                  "    ecalli 0\n"
                                  "    add_imm_64 a0, a0, -1\n"
                                  "    branch_ne_imm a0, 0, loop\n"
                                  "    jump_ind ra, 0\n";
static const char without_ecalli[] = "loop:\n"
                                     "    fallthrough\n"
                                     "    add_imm_64 a0, a0, -1\n"
                                     "    branch_ne_imm a0, 0, loop\n"
                                     "    jump_ind ra, 0\n";

static double per_call_ns(enum nub_local_engine engine, uint64_t loops)
{
    double with = time_loop(engine, with_ecalli, loops);
    double without = time_loop(engine, without_ecalli, loops);
    if (with < 0 || without < 0)
        return -1;
    return (with - without) / (double)loops;
}

int fig_hostcall(const struct nubbench_options *opt)
{
    uint64_t loops = opt->quick ? 20000 : 2000000;
    double jit = per_call_ns(NUB_LOCAL_JIT, loops);
    double interp = per_call_ns(NUB_LOCAL_INTERP, loops / 4);
    if (jit < 0 || interp < 0)
        return 1;
    nubbench_emit("hostcall_jit_ns", jit, "ns");
    nubbench_emit("hostcall_interp_ns", interp, "ns");
    return 0;
}
