/*
 * step_vector.h — `nubrun --vector FILE.json` for step-format vectors
 * (SPEC-0.8.md §6.2: keys name, initial-pc, initial-gas, program, steps).
 *
 * The steps run in order: `map` {address, length, is_writable} makes pages
 * accessible (zero-filled where new), `write` {address, contents} stores
 * bytes whatever the access, `set-reg` {reg, value}, `run` starts or resumes
 * (at the pc where the last run stopped; after a host call at the next
 * instruction; with the block still paid where the ISA says so), and each
 * `assert` prints ONE JSON object: status, gas, pc, regs, memory (chunks
 * covering every non-zero byte of every mapped page), page-fault-address for
 * page faults, hostcall for host calls. nubrun reports; it does not compare.
 */
#ifndef NUBRUN_STEP_VECTOR_H
#define NUBRUN_STEP_VECTOR_H

#include <stdio.h>

#include "engine.h"
#include "json.h"

/* Runs the vector in root (a parsed step-format file). Returns the process
 * exit code: 0 ran, 1 malformed vector or engine failure. */
int nubrun_step_vector(const struct nubrun_engine *engine, uint32_t isa,
                       const struct json_value *root, const char *path, FILE *out);

#endif /* NUBRUN_STEP_VECTOR_H */
