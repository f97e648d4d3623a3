/*
 * engine_jit.c — nubrun's `--engine jit`: the x86-64 JIT, hosted in this
 * process (host/pvm_hosted: mmap'ed 4 GiB window, faults via signals).
 */
#include "engine.h"
#include "pvm_hosted.h"

static int jit_run(const struct nubrun_job *job, struct nubrun_outcome *out, char *err,
                   size_t err_len)
{
    return nubrun_run_pvm_engine(&pvm_jit_engine, job, out, err, err_len);
}

const struct nubrun_engine nubrun_engine_jit = {
    .name = "jit",
    .description = "the x86-64 JIT, in this process (hosted backend)",
    .run = jit_run,
};
