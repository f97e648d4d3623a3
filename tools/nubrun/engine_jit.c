/*
 * engine_jit.c — nubrun's `--engine jit`: the x86-64 JIT, hosted in this
 * process (host/pvm_hosted: mmap'ed 4 GiB window, faults via signals).
 */
#include "engine.h"

#include <stdio.h>

#include "jit.h"
#include "pvm_alloc_libc.h"
#include "pvm_hosted.h"

static int jit_engine_run(const struct nubrun_job *job, struct nubrun_outcome *out, char *err,
                          size_t err_len)
{
    return nubrun_run_pvm_engine(&pvm_jit_engine, job, out, err, err_len);
}

int nubrun_jit_block_costs(const struct nubrun_job *job, uint32_t *costs, char *err, size_t err_len)
{
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *program = NULL;
    struct pvm_hosted *h = NULL;
    int rc = pvm_program_decode_isa(job->blob, job->blob_len, job->isa, &alloc, &program);
    if (rc == PVM_OK)
        rc = pvm_hosted_create(program, NULL, 0, &job->initial, &alloc, &h);
    if (rc != PVM_OK) {
        snprintf(err, err_len, "jit: %s", jit_error_name(rc));
        pvm_program_destroy(program);
        return -1;
    }
    for (uint32_t pc = 0; pc < program->code_len && rc == PVM_OK; pc++)
        if (pvm_program_is_block_start(program, pc) &&
            !pvm_hosted_block_charge(h, pc, &costs[pc])) {
            snprintf(err, err_len, "jit: no gas check at block start %u", pc);
            rc = -1;
        }
    pvm_hosted_destroy(h);
    pvm_program_destroy(program);
    return rc == PVM_OK ? 0 : -1;
}

const struct nubrun_engine nubrun_engine_jit = {
    .name = "jit",
    .description = "the x86-64 JIT, in this process (hosted backend)",
    .run = jit_engine_run,
    .block_costs = nubrun_jit_block_costs,
};
