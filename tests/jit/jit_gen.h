/*
 * jit_gen.h — random VALID PVM programs for differential testing.
 *
 * A generated case is a program blob (jump table + code + bitmask, SPEC §4)
 * plus the memory and initial state to run it with. Programs use every
 * defined opcode, branch forwards and backwards (loops, bounded by gas),
 * jump through the jump table (valid, misaligned, out-of-range, halt and
 * non-block-start targets), load and store into read-write, read-only and
 * unmapped pages (including page-straddling and wrapping accesses and the
 * low 64 KiB), divide by zero and overflow, call ecalli and sbrk, and run
 * with gas budgets from 0 up.
 */
#ifndef NUB_JIT_GEN_H
#define NUB_JIT_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "pvm.h"

#define JIT_GEN_MAX_BLOB     8192
#define JIT_GEN_MAX_SEGMENTS 4

struct jit_gen_case {
    uint8_t blob[JIT_GEN_MAX_BLOB];
    size_t blob_len;
    struct pvm_segment segments[JIT_GEN_MAX_SEGMENTS];
    size_t segment_count;
    uint8_t data[JIT_GEN_MAX_SEGMENTS][64]; /* initial bytes of each segment */
    struct pvm_state initial;
};

/* Small deterministic PRNG (xorshift64*), so a failing seed reproduces. */
struct jit_rng {
    uint64_t s;
};

static inline uint64_t jit_rng_next(struct jit_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}

static inline uint32_t jit_rng_below(struct jit_rng *r, uint32_t n)
{
    return n == 0 ? 0 : (uint32_t)(jit_rng_next(r) % n);
}

/* Fills *out with the program of seed (max_insns instructions at most). */
void jit_gen_case(uint64_t seed, unsigned max_insns, struct jit_gen_case *out);
/* The same in the numbering and instruction set of ISA version isa
 * (NUB_ISA_*; jit_gen_case is GP 0.7.2): 0.8.0 programs use `unlikely` and
 * no sbrk. */
void jit_gen_case_isa(uint64_t seed, unsigned max_insns, uint32_t isa, struct jit_gen_case *out);

/* Pages whose access and contents the differential check compares. */
#define JIT_GEN_MEM_LO 0x10000u
#define JIT_GEN_MEM_HI 0x60000u

#endif /* NUB_JIT_GEN_H */
