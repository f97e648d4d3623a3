/*
 * compile_time.h — timing jit_compile for the compile figures of fig_jit.c
 * and fig_kernels.c, so every jit_compile_* figure is measured one way.
 */
#ifndef NUBBENCH_COMPILE_TIME_H
#define NUBBENCH_COMPILE_TIME_H

#include <stdint.h>

#include "pvm_program.h"

/* Best of five hosted jit_compile runs of prog into a buffer whose pages
 * are faulted in beforehand, in ns; 0 on failure (reported on stderr,
 * naming `what`). */
uint64_t nubbench_best_compile_ns(const struct pvm_program *prog, const char *what);

/* PVM instructions in prog's code. */
uint64_t nubbench_count_insns(const struct pvm_program *prog);

#endif /* NUBBENCH_COMPILE_TIME_H */
