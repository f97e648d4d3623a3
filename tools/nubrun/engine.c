/*
 * engine.c — the engine table and the runner for pvm.h-shaped engines.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit.h"
#include "local_run.h"
#include "pvm_alloc_libc.h"
#include "pvm_program.h"

extern const struct nubrun_engine nubrun_engine_interp;
extern const struct nubrun_engine nubrun_engine_jit;
extern const struct nubrun_engine nubrun_engine_sandbox;

/* The first entry is the default engine. One line per engine. */
const struct nubrun_engine *const nubrun_engines[] = {
    &nubrun_engine_sandbox,
    &nubrun_engine_interp,
    &nubrun_engine_jit,
    NULL,
};

const struct nubrun_engine *nubrun_engine_find(const char *name)
{
    for (size_t i = 0; nubrun_engines[i] != NULL; i++)
        if (strcmp(nubrun_engines[i]->name, name) == 0)
            return nubrun_engines[i];
    return NULL;
}

int nubrun_run_pvm_engine(const struct pvm_engine *engine, const struct nubrun_job *job,
                          struct nubrun_outcome *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *program = NULL;
    int rc = pvm_program_decode_isa(job->blob, job->blob_len, job->isa, &alloc, &program);
    if (rc == PVM_ERR_NOMEM) {
        snprintf(err, err_len, "out of memory decoding the program");
        return -1;
    }
    if (rc != PVM_OK) {
        /* SPEC §4.2: an invalid blob panics without running or charging;
         * pc 0 as the paper reports for every panic. Memory is the initial one. */
        out->exit.reason = PVM_EXIT_PANIC;
        out->exit.pc = 0;
        out->final = job->initial;
        out->final.pc = 0;
        for (size_t i = 0; i < job->readback_count; i++) {
            struct nubrun_readback *r = &job->readbacks[i];
            memset(r->buffer, 0, r->length);
            r->ok = false;
            for (size_t s = 0; s < job->segment_count; s++) {
                const struct pvm_segment *seg = &job->segments[s];
                if (r->address >= seg->address &&
                    (uint64_t)r->address + r->length <= (uint64_t)seg->address + seg->length) {
                    uint64_t off = r->address - seg->address;
                    for (uint32_t k = 0; k < r->length; k++)
                        r->buffer[k] = off + k < seg->data_len ? seg->data[off + k] : 0;
                    r->ok = true;
                }
            }
        }
        return 0;
    }

    struct pvm_segment *segs = NULL;
    size_t seg_count = job->segment_count;
    if (job->has_input) {
        segs = calloc(job->segment_count + 1, sizeof *segs);
        if (segs == NULL) {
            pvm_program_destroy(program);
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        seg_count = nub__local_input_segments(job->segments, job->segment_count, job->input,
                                              job->input_len, segs);
    }
    void *inst = NULL;
    rc = engine->create(program, segs ? segs : job->segments, seg_count, &job->initial, &alloc,
                        &inst);
    free(segs);
    if (rc != PVM_OK) {
        pvm_program_destroy(program);
        /* jit_error_name knows the JIT's own codes (JIT_ERR_TOO_LARGE, ...)
         * and falls back to pvm_error_name for the rest. */
        snprintf(err, err_len, "%s engine: cannot set up the instance: %s", engine->name,
                 jit_error_name(rc));
        return -1;
    }
    struct nub_host_call handle;
    nub_status hs =
        nub__local_run(engine, inst, job->isa, &job->host, &handle, &out->host_calls, &out->exit);
    engine->get_state(inst, &out->final);
    if (hs == NUB_OK && job->output != NULL && out->exit.reason == PVM_EXIT_HALT) {
        struct nub_call call = {.output = job->output, .output_cap = job->output_cap};
        nub__local_output(engine, inst, &out->final, &call);
        out->output_len = call.output_len;
        out->output_status = call.output_status;
    }
    for (size_t i = 0; i < job->readback_count; i++) {
        struct nubrun_readback *r = &job->readbacks[i];
        r->ok = engine->read_memory(inst, r->address, r->buffer, r->length) == PVM_OK;
    }
    engine->destroy(inst);
    pvm_program_destroy(program);
    if (hs != NUB_OK) {
        snprintf(err, err_len, "%s engine: host function: %s", engine->name, nub_strerror(hs));
        return -1;
    }
    if (out->exit.reason == PVM_EXIT_ERROR) {
        snprintf(err, err_len, "%s engine failed: %s", engine->name,
                 nub_strerror((nub_status)out->exit.arg));
        return -1;
    }
    return 0;
}
