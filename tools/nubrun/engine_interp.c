/*
 * engine_interp.c — nubrun's `--engine interp`: the reference interpreter.
 */
#include "engine.h"

#include <stdio.h>

#include "pvm_alloc_libc.h"
#include "pvm_interp.h"

static int interp_run(const struct nubrun_job *job, struct nubrun_outcome *out, char *err,
                      size_t err_len)
{
    return nubrun_run_pvm_engine(&pvm_interp_engine, job, out, err, err_len);
}

int nubrun_interp_block_costs(const struct nubrun_job *job, uint32_t *costs, char *err,
                              size_t err_len)
{
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *program = NULL;
    struct pvm_interp *it = NULL;
    int rc = pvm_program_decode_isa(job->blob, job->blob_len, job->isa, &alloc, &program);
    if (rc == PVM_OK)
        rc = pvm_interp_create(program, NULL, 0, &job->initial, &alloc, &it);
    if (rc != PVM_OK) {
        snprintf(err, err_len, "interp: %s", pvm_error_name(rc));
        pvm_program_destroy(program);
        return -1;
    }
    for (uint32_t pc = 0; pc < program->code_len; pc++)
        if (pvm_program_is_block_start(program, pc))
            costs[pc] = pvm_interp_entry_cost(it, pc);
    pvm_interp_destroy(it);
    pvm_program_destroy(program);
    return 0;
}

const struct nubrun_engine nubrun_engine_interp = {
    .name = "interp",
    .description = "the reference interpreter, in this process",
    .run = interp_run,
    .block_costs = nubrun_interp_block_costs,
};
