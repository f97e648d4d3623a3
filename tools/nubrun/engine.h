/*
 * engine.h — the engines nubrun can run a PVM program on.
 *
 * A job is engine-neutral: a §4 program blob, memory segments, an initial
 * state, per-call input, host functions, and byte ranges to read back after
 * the run. An engine runs the job until an exit that ends it (with no host
 * function: the first ecalli) and fills the outcome.
 *
 * Adding an engine: one file `engine_NAME.c` defining
 * `const struct nubrun_engine nubrun_engine_NAME`, one line in engine.c's
 * table, and the file in CMakeLists.txt. Engines that implement pvm.h's
 * struct pvm_engine (interp, jit) can use nubrun_run_pvm_engine() and need
 * only a few lines (see engine_interp.c).
 */
#ifndef NUBRUN_ENGINE_H
#define NUBRUN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "nub/host.h"
#include "pvm.h"

/* A range of PVM memory to copy out after the run. */
struct nubrun_readback {
    uint32_t address;
    uint32_t length;
    uint8_t *buffer; /* length bytes, filled by the engine */
    bool ok;         /* set by the engine: false if some byte was inaccessible */
};

struct nubrun_job {
    const uint8_t *blob; /* SPEC §4 program blob */
    size_t blob_len;
    uint32_t isa; /* NUB_ISA_*: the version the blob is written for */
    const struct pvm_segment *segments;
    size_t segment_count;
    struct pvm_state initial;
    struct nubrun_readback *readbacks;
    size_t readback_count;
    /* Host functions (fn NULL: the run stops at the first ecalli). */
    struct nub_host host;
    /* Per-call input (has_input): the argument area (SPEC §11) holds it and
     * initial phi7/phi8 point at it (the caller sets them). */
    bool has_input;
    const uint8_t *input;
    uint32_t input_len;
    /* Output of a halted run ([phi7, phi7 + phi8)), when output != NULL. */
    uint8_t *output;
    uint32_t output_cap;
};

struct nubrun_outcome {
    struct pvm_exit exit;
    struct pvm_state final; /* registers, pc, gas at the exit */
    uint64_t host_calls;
    uint32_t output_len;
    nub_status output_status; /* NUB_OK when output[0..output_len) holds the output */
};

struct nubrun_engine {
    const char *name;
    const char *description; /* one line for --help */
    /* Returns 0 when the program ran (any PVM exit, including a panic for an
     * invalid blob), or -1 with a one-line message in err when the engine
     * itself failed (no /dev/kvm, out of memory, ...). */
    int (*run)(const struct nubrun_job *job, struct nubrun_outcome *out, char *err, size_t err_len);
    /* What the engine charges on entering each gas block: fills costs[pc]
     * for every block start pc of job->blob (array of code_len + 1). 0, or
     * -1 with a message. */
    int (*block_costs)(const struct nubrun_job *job, uint32_t *costs, char *err, size_t err_len);
};

/* Table of all engines, NULL-terminated; the first is the default. */
extern const struct nubrun_engine *const nubrun_engines[];
const struct nubrun_engine *nubrun_engine_find(const char *name);

/* Runs a job on an engine of pvm.h's shape (decode, create, run, read back).
 * An invalid blob ends in a panic at pc 0 with no gas charged (SPEC §4.2). */
int nubrun_run_pvm_engine(const struct pvm_engine *engine, const struct nubrun_job *job,
                          struct nubrun_outcome *out, char *err, size_t err_len);

/* block_costs of the interpreter and of the JIT (read from compiled code). */
int nubrun_interp_block_costs(const struct nubrun_job *job, uint32_t *costs, char *err,
                              size_t err_len);
int nubrun_jit_block_costs(const struct nubrun_job *job, uint32_t *costs, char *err,
                           size_t err_len);

#endif /* NUBRUN_ENGINE_H */
