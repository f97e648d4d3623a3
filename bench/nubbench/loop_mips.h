/*
 * loop_mips.h — speed of one engine on one loop program of loop_programs.h,
 * shared by the interpreter and JIT figures so both are measured the same way.
 */
#ifndef NUBBENCH_LOOP_MIPS_H
#define NUBBENCH_LOOP_MIPS_H

#include <stdint.h>

#include "loop_programs.h"
#include "pvm.h"

/*
 * Millions of PVM instructions per second of `engine` running `kind` for
 * `iterations` iterations, best of three runs, or < 0 (message on stderr).
 * Instructions executed are read off the gas used and checked against the
 * loop's instruction count; instance creation is not timed.
 */
double loop_mips(const struct pvm_engine *engine, enum loop_kind kind, uint64_t iterations);

#endif /* NUBBENCH_LOOP_MIPS_H */
