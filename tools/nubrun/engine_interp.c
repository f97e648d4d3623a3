/*
 * engine_interp.c — nubrun's `--engine interp`: the reference interpreter.
 */
#include "engine.h"
#include "pvm_interp.h"

static int interp_run(const struct nubrun_job *job, struct nubrun_outcome *out, char *err,
                      size_t err_len)
{
    return nubrun_run_pvm_engine(&pvm_interp_engine, job, out, err, err_len);
}

const struct nubrun_engine nubrun_engine_interp = {
    .name = "interp",
    .description = "the reference interpreter, in this process",
    .run = interp_run,
};
