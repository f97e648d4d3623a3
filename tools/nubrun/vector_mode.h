/*
 * vector_mode.h — `nubrun --vector FILE.json`: run one conformance vector
 * and print its final state as one JSON object (keys = the vector's
 * expected-* names without the prefix), or a step-format vector
 * (step_vector.h).
 */
#ifndef NUBRUN_VECTOR_MODE_H
#define NUBRUN_VECTOR_MODE_H

#include <stdint.h>
#include <stdio.h>

#include "engine.h"

/* The largest page map (sum of its lengths) --vector runs: 16 MiB, far
 * above any conformance vector (a few pages), far below what would take
 * gigabytes of memory and output. */
#define NUBRUN_VECTOR_MAX_MAP_BYTES (UINT64_C(16) << 20)

/* Runs FILE as a program of ISA version isa (NUB_ISA_*). A file with a
 * "steps" list is a step-format vector (step_vector.h); any other is a
 * SPEC.md §13 vector. Returns the process exit code: 0 ran, 1 unreadable
 * input, a page map past NUBRUN_VECTOR_MAX_MAP_BYTES, or engine failure. */
int nubrun_vector_mode(const struct nubrun_engine *engine, uint32_t isa, const char *path,
                       FILE *out);

/* "halt", "panic", "out-of-gas", "page-fault", "host" (or "error"). */
const char *nubrun_status_name(uint32_t reason);

#endif /* NUBRUN_VECTOR_MODE_H */
