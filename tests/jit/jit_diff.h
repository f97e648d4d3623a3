/*
 * jit_diff.h — run one program on the reference interpreter and on the
 * hosted JIT and require the same final state after every exit: status, pc,
 * exit argument, registers, gas, heap top, page access and memory contents.
 * Host calls, page faults (after mapping the page) and out-of-gas (after
 * adding gas) are continued identically on both engines a few times. Before
 * running, the gas each engine charges for every block is compared too (the
 * interpreter's table against the JIT's compiled gas checks).
 */
#ifndef NUB_JIT_DIFF_H
#define NUB_JIT_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "pvm.h"

/* Counts of what the runs did (so a test can show it exercised every exit). */
struct jit_diff_stats {
    uint64_t exits[6]; /* by reason: halt, panic, oog, fault, host, error */
    uint64_t programs, invalid_blobs, executed_insns_hint;
};

/* 0: same behaviour (or the blob is invalid for both); 1: divergence, with a
 * description in msg; -1: the harness itself failed (out of memory). */
int jit_diff_run(const uint8_t *blob, size_t blob_len, const struct pvm_segment *segments,
                 size_t segment_count, const struct pvm_state *initial,
                 struct jit_diff_stats *stats, char *msg, size_t msg_len);
/* The same for a blob of ISA version isa (NUB_ISA_*). */
int jit_diff_run_isa(const uint8_t *blob, size_t blob_len, uint32_t isa,
                     const struct pvm_segment *segments, size_t segment_count,
                     const struct pvm_state *initial, struct jit_diff_stats *stats, char *msg,
                     size_t msg_len);

#endif /* NUB_JIT_DIFF_H */
