/*
 * nubbench.h — what a figure group needs: emitting figures and timing.
 *
 * Output: one JSON object per line, {"name": ..., "value": ..., "unit": ...}.
 * A figure group is a function `int fig_NAME(const struct nubbench_options *)`
 * listed once in figures.def; it returns 0, or non-zero after printing a
 * reason to stderr (nubbench then exits 1 after running the other groups).
 */
#ifndef NUBBENCH_H
#define NUBBENCH_H

#include <stdbool.h>
#include <stdint.h>

struct nubbench_options {
    bool quick; /* shorter runs (smoke test), figures are less precise */
};

/* Prints one figure line. */
void nubbench_emit(const char *name, double value, const char *unit);

/* Monotonic time in nanoseconds. */
uint64_t nubbench_now_ns(void);

#endif /* NUBBENCH_H */
