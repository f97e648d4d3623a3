/*
 * loop_programs.h — the benchmark loop programs, shared by every engine's
 * figures (interp now, the JIT later).
 *
 * Each program is PVM assembler text (assembled with pvmasm) that loops
 * phi7 (r7) times and then halts through r0 (= 0xFFFF0000). Every
 * instruction costs 1 gas, so instructions executed = gas used; the
 * builders also report the instructions per iteration for a sanity check.
 */
#ifndef NUBBENCH_LOOP_PROGRAMS_H
#define NUBBENCH_LOOP_PROGRAMS_H

#include <stddef.h>
#include <stdint.h>

#include "pvm.h"

enum loop_kind {
    LOOP_ALU,    /* register arithmetic, one backward branch per iteration */
    LOOP_MEM,    /* loads and stores over a 64 KiB buffer */
    LOOP_BRANCH, /* many short blocks: compare-and-branch heavy */
};

struct loop_program {
    const char *name; /* "alu", "mem", "branch" */
    uint8_t *blob;    /* SPEC §4 blob (malloc'd) */
    size_t blob_len;
    struct pvm_segment segment; /* memory the program uses (length 0: none) */
    uint32_t insns_per_iteration;
};

/* Assembles the program; returns 0 or -1 (message on stderr). */
int loop_program_build(enum loop_kind kind, struct loop_program *out);
void loop_program_free(struct loop_program *p);

/* Initial state for `iterations` iterations with the given gas. */
void loop_program_initial_state(uint64_t iterations, int64_t gas, struct pvm_state *out);

#endif /* NUBBENCH_LOOP_PROGRAMS_H */
