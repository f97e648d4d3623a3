/*
 * fig_kernels.c — the benchmark kernels (bench/kernels) against native code.
 *
 * For each kernel, with the same input n (kernel_list.c: bench_n, or
 * test_n under --quick), in one nubbench run:
 *   native   the kernel compiled for the host (-O2), called directly
 *   interp   the nub-cc .jam on the reference interpreter
 *   jit      the same .jam on the hosted JIT (gas metering on)
 * Every engine's answer (r7 at halt) must equal the native answer, or the
 * group fails. Figures:
 *   native_ratio_jit_<kernel>      JIT run time / native time (x)
 *   native_ratio_interp_<kernel>   interpreter run time / native time (x)
 *   native_ratio_jit_geomean, native_ratio_interp_geomean
 *                                  over the eight kernels marked in_geomean
 *                                  (kernel_list.c); the others (nqueens,
 *                                  bignum, lz77) only have their own figures
 *   native_ratio_jit_<kernel>_080, native_ratio_jit_geomean_080
 *                                  the JIT running the same program as GP 0.8.0
 *                                  (renumbered, block costs of the pipeline
 *                                  model), interleaved with the others
 *   native_ratio_jit_cold_<kernel>, native_ratio_jit_cold_geomean
 *                                  the JIT on a fresh instance's memory: its
 *                                  run pays the first touch of every page it
 *                                  writes (host page faults), which native
 *                                  and the figures above do not
 *   native_ms_<kernel>             the native time itself (context for the ratios)
 *   jit_compile_ns_per_insn_<kernel>  cold jit_compile time of the whole
 *                                     kernel program / its PVM instructions
 * Times: native and JIT are the best of seven runs, interleaved (the
 * machine is shared), the interpreter one run;
 * JIT instance creation (compilation, memory setup) is not in its run time.
 * Native code runs on static memory that its first run made resident, and a
 * sandbox instance keeps the pages its calls backed; so the JIT figures
 * (but jit_cold) rewrite each writable segment with its initial contents
 * before the timed run (jam_run_resident): same memory, resident pages, and
 * the ratio measures the generated code.
 *   sandbox  the same .jam in the KVM sandbox (libnubhost, when built and
 *            /dev/kvm works): wall time of nub_invoke, one call per round
 *            (interleaved like the others), best of six after one warm-up
 *            call, so it includes the RPC round trip
 *   native_ratio_sandbox_<kernel>, native_ratio_sandbox_geomean
 * A sandbox that cannot be created, whose guest does not serve INVOKE yet
 * (NUB_ERR_UNKNOWN_FN), or whose call fails (e.g. times out after 10 s) is
 * reported on stderr and those figures left out (the geomean needs all
 * eight); a wrong answer from it fails the group like any other engine.
 * --quick leaves the sandbox out.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jam_runner.h"
#include "compile_time.h"
#include "kernel_list.h"
#include "nub_readfile.h"
#include "nubbench.h"
#include "pvm_alloc_libc.h"
#include "pvm_hosted.h"
#include "pvm_interp.h"
#if defined(NUB_HAVE_JAM_SANDBOX)
#include "jam_sandbox.h"
#endif

struct kernel_engine {
    const char *figure; /* native_ratio_<figure>_<kernel><suffix> */
    const char *suffix;
    const struct pvm_engine *engine;
    int repeats;
    uint32_t isa;  /* NUB_ISA_* the kernel runs as */
    bool resident; /* jam_run_resident: timed on resident pages */
};

static const struct kernel_engine kernel_engines[] = {
    {"interp", "", &pvm_interp_engine, 1, NUB_ISA_GP_0_7_2, false},
    {"jit", "", &pvm_jit_engine, 7, NUB_ISA_GP_0_7_2, true},
    {"jit", "_080", &pvm_jit_engine, 7, NUB_ISA_GP_0_8_0, true},
    {"jit_cold", "", &pvm_jit_engine, 7, NUB_ISA_GP_0_7_2, false},
};
#define KERNEL_ROUNDS       7 /* the most repeats of any engine */
#define KERNEL_ENGINE_COUNT (sizeof kernel_engines / sizeof kernel_engines[0])

static struct jam_loaded *load_kernel(const char *name, uint32_t isa)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/%s.jam", NUB_KERNEL_JAM_DIR, name);
    size_t len = 0;
    uint8_t *buf = nub_read_file(path, NUB_READFILE_DEFAULT_MAX, &len, err, sizeof err);
    if (buf == NULL) {
        fprintf(stderr, "fig_kernels: %s (build target nub_kernels_jam)\n", err);
        return NULL;
    }
    struct jam_loaded *l = jam_load_isa(buf, len, isa, err, sizeof err);
    free(buf);
    if (l == NULL)
        fprintf(stderr, "fig_kernels: %s: %s\n", path, err);
    return l;
}

/* Best of five cold compiles of the whole program, per PVM instruction. */
static double compile_ns_per_insn(const struct pvm_program *prog)
{
    uint64_t insns = nubbench_count_insns(prog);
    uint64_t ns = insns ? nubbench_best_compile_ns(prog, "fig_kernels") : 0;
    return ns ? (double)ns / (double)insns : -1;
}

/* One native run of k(n): its time; the answer in *answer. */
static uint64_t time_native_once(const struct nub_kernel *k, uint64_t n, uint64_t *answer)
{
    uint64_t t0 = nubbench_now_ns();
    *answer = k->native(n);
    uint64_t t1 = nubbench_now_ns();
    return t1 > t0 ? t1 - t0 : 1;
}

/* One engine run of the kernel: its run time, or 0 on failure (reported). */
static uint64_t time_engine_once(const struct kernel_engine *ke, const struct jam_loaded *l,
                                 const struct nub_kernel *k, uint64_t n, uint64_t want)
{
    char err[256];
    struct jam_run_result r;
    int rc = ke->resident
                 ? jam_run_resident(l, ke->engine, 0, &n, 1, INT64_MAX / 4, &r, err, sizeof err)
                 : jam_run(l, ke->engine, 0, &n, 1, INT64_MAX / 4, &r, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "fig_kernels: %s on %s: %s\n", k->name, ke->figure, err);
        return 0;
    }
    if (r.exit.reason != PVM_EXIT_HALT || r.regs[7] != want) {
        fprintf(stderr,
                "fig_kernels: %s on %s: exit %u at pc %u with r7 = 0x%llx, native "
                "answer 0x%llx\n",
                k->name, ke->figure, r.exit.reason, r.exit.pc, (unsigned long long)r.regs[7],
                (unsigned long long)want);
        return 0;
    }
    return r.run_ns ? r.run_ns : 1;
}

#if defined(NUB_HAVE_JAM_SANDBOX)
#define SANDBOX_INVOKE_TIMEOUT_NS (10ull * 1000000000ull)

enum sandbox_outcome {
    SANDBOX_TIMED,     /* published, or *ns_out is the call's time */
    SANDBOX_NO_INVOKE, /* the guest does not serve INVOKE: no sandbox figures at all */
    SANDBOX_BROKEN,    /* the call failed (timeout, dead sandbox, ...): no figure */
    SANDBOX_WRONG,     /* it ran and disagreed with native: the group fails */
};

/* The kernel's INSTANCE in sandbox sb (publishes it). */
static enum sandbox_outcome publish_sandbox(nub_sandbox *sb, const struct jam_loaded *l,
                                            const struct nub_kernel *k, nub_cap_hash instance)
{
    size_t len;
    const uint8_t *bytes = jam_bytes(l, &len);
    nub_status st = jam_sandbox_publish(sb, bytes, len, instance);
    if (st != NUB_OK) {
        fprintf(stderr, "fig_kernels: %s: sandbox publish: %s\n", k->name, nub_strerror(st));
        return SANDBOX_BROKEN;
    }
    return SANDBOX_TIMED;
}

/* One invoke of the kernel's instance: its wall time in *ns_out. */
static enum sandbox_outcome time_sandbox_once(nub_sandbox *sb, const nub_cap_hash instance,
                                              const struct nub_kernel *k, uint64_t n, uint64_t want,
                                              uint64_t *ns_out)
{
    struct nub_invocation_result res;
    uint64_t ns = 0;
    nub_status st = jam_sandbox_invoke(sb, instance, 0, &n, 1, (uint64_t)INT64_MAX / 4, &res, &ns);
    if (st == NUB_ERR_UNKNOWN_FN) {
        fprintf(stderr, "fig_kernels: the sandbox guest does not serve INVOKE yet: "
                        "no sandbox figures\n");
        return SANDBOX_NO_INVOKE;
    }
    if (st != NUB_OK) {
        fprintf(stderr, "fig_kernels: %s on sandbox: %s (%s): no figure\n", k->name,
                nub_strerror(st), nub_sandbox_last_error(sb));
        return SANDBOX_BROKEN;
    }
    if (res.exit_reason != NUB_EXIT_HALT || res.return_value != want) {
        fprintf(stderr,
                "fig_kernels: %s on sandbox: exit %u at pc %u with r7 = 0x%llx, native "
                "answer 0x%llx\n",
                k->name, res.exit_reason, res.pc, (unsigned long long)res.return_value,
                (unsigned long long)want);
        return SANDBOX_WRONG;
    }
    *ns_out = ns ? ns : 1;
    return SANDBOX_TIMED;
}

static nub_sandbox *open_sandbox(void)
{
    char why[256] = "";
    nub_sandbox_config cfg = {.invoke_timeout_ns = SANDBOX_INVOKE_TIMEOUT_NS,
                              .create_error = why,
                              .create_error_len = sizeof why};
    nub_sandbox *sb = NULL;
    nub_status st = nub_sandbox_create(&cfg, &sb);
    if (st != NUB_OK) {
        fprintf(stderr, "fig_kernels: no sandbox figures: %s (%s)\n", nub_strerror(st), why);
        return NULL;
    }
    return sb;
}
#endif

int fig_kernels(const struct nubbench_options *opt)
{
    double log_sum[KERNEL_ENGINE_COUNT] = {0};
    size_t measured[KERNEL_ENGINE_COUNT] = {0};
    int failed = 0;
    char name[128];
#if defined(NUB_HAVE_JAM_SANDBOX)
    /* --quick is a smoke run: the sandbox has its own tests, and its calls
     * (memory set up per call, timeouts) would dominate the run. */
    nub_sandbox *sandbox = opt->quick ? NULL : open_sandbox();
    double sandbox_log_sum = 0;
    size_t sandbox_measured = 0;
#endif
    for (size_t i = 0; i < nub_kernel_count; i++) {
        const struct nub_kernel *k = &nub_kernels[i];
        uint64_t n = opt->quick ? k->test_n : k->bench_n, answer = 0;
        struct jam_loaded *l = load_kernel(k->name, NUB_ISA_GP_0_7_2);
        struct jam_loaded *l080 = load_kernel(k->name, NUB_ISA_GP_0_8_0);
        if (l == NULL || l080 == NULL) {
            jam_free(l);
            jam_free(l080);
            failed = 1;
            continue;
        }
        /* Rounds of one native run and one run per engine (while it has
         * repeats left), so a change in the machine's load hits both sides;
         * each side keeps its best time. */
        uint64_t native_ns = UINT64_MAX, best[KERNEL_ENGINE_COUNT] = {0};
        bool engine_failed[KERNEL_ENGINE_COUNT] = {false};
#if defined(NUB_HAVE_JAM_SANDBOX)
        /* The sandbox takes one invoke per round too; round 0 warms it up
         * (the guest compiles the program on its first call). */
        nub_cap_hash instance;
        enum sandbox_outcome sandbox_state =
            sandbox != NULL ? publish_sandbox(sandbox, l, k, instance) : SANDBOX_BROKEN;
        uint64_t sandbox_ns = UINT64_MAX;
#endif
        for (int round = 0; round < KERNEL_ROUNDS; round++) {
            uint64_t a = 0, t = time_native_once(k, n, &a);
            if (round == 0)
                answer = a;
            if (t < native_ns)
                native_ns = t;
            for (size_t e = 0; e < KERNEL_ENGINE_COUNT; e++) {
                if (round >= kernel_engines[e].repeats || engine_failed[e])
                    continue;
                const struct jam_loaded *le = kernel_engines[e].isa == NUB_ISA_GP_0_7_2 ? l : l080;
                uint64_t ns = time_engine_once(&kernel_engines[e], le, k, n, answer);
                if (ns == 0)
                    engine_failed[e] = true;
                else if (best[e] == 0 || ns < best[e])
                    best[e] = ns;
            }
#if defined(NUB_HAVE_JAM_SANDBOX)
            uint64_t ns = 0;
            if (sandbox != NULL && sandbox_state == SANDBOX_TIMED) {
                sandbox_state = time_sandbox_once(sandbox, instance, k, n, answer, &ns);
                if (sandbox_state == SANDBOX_TIMED && round > 0 && ns < sandbox_ns)
                    sandbox_ns = ns;
            }
#endif
        }
        snprintf(name, sizeof name, "native_ms_%s", k->name);
        nubbench_emit(name, (double)native_ns / 1e6, "ms");
        if ((answer & NUB_KERNEL_SELF_CHECK_MASK) == NUB_KERNEL_SELF_CHECK_BAD) {
            fprintf(stderr, "fig_kernels: %s: native self-check failed\n", k->name);
            failed = 1;
        }
        for (size_t e = 0; e < KERNEL_ENGINE_COUNT; e++) {
            if (engine_failed[e]) {
                failed = 1;
                continue;
            }
            double ratio = (double)best[e] / (double)native_ns;
            snprintf(name, sizeof name, "native_ratio_%s_%s%s", kernel_engines[e].figure, k->name,
                     kernel_engines[e].suffix);
            nubbench_emit(name, ratio, "x");
            if (k->in_geomean) {
                log_sum[e] += log(ratio);
                measured[e]++;
            }
        }
#if defined(NUB_HAVE_JAM_SANDBOX)
        if (sandbox != NULL) {
            switch (sandbox_state) {
            case SANDBOX_TIMED: {
                double ratio = (double)sandbox_ns / (double)native_ns;
                snprintf(name, sizeof name, "native_ratio_sandbox_%s", k->name);
                nubbench_emit(name, ratio, "x");
                if (k->in_geomean) {
                    sandbox_log_sum += log(ratio);
                    sandbox_measured++;
                }
                break;
            }
            case SANDBOX_NO_INVOKE:
                nub_sandbox_destroy(sandbox);
                sandbox = NULL;
                break;
            case SANDBOX_BROKEN: /* a timeout kills the sandbox: start a new one */
                nub_sandbox_destroy(sandbox);
                sandbox = open_sandbox();
                break;
            case SANDBOX_WRONG:
                failed = 1;
                break;
            }
        }
#endif
        double compile = compile_ns_per_insn(jam_program(l));
        if (compile < 0) {
            failed = 1;
        } else {
            snprintf(name, sizeof name, "jit_compile_ns_per_insn_%s", k->name);
            nubbench_emit(name, compile, "ns/PVM instruction");
        }
        jam_free(l);
        jam_free(l080);
    }
    for (size_t e = 0; e < KERNEL_ENGINE_COUNT; e++) {
        if (measured[e] != NUB_KERNEL_GEOMEAN_COUNT)
            continue;
        snprintf(name, sizeof name, "native_ratio_%s_geomean%s", kernel_engines[e].figure,
                 kernel_engines[e].suffix);
        nubbench_emit(name, exp(log_sum[e] / (double)measured[e]), "x");
    }
#if defined(NUB_HAVE_JAM_SANDBOX)
    if (sandbox_measured == NUB_KERNEL_GEOMEAN_COUNT)
        nubbench_emit("native_ratio_sandbox_geomean",
                      exp(sandbox_log_sum / (double)sandbox_measured), "x");
    nub_sandbox_destroy(sandbox);
#endif
    return failed;
}
