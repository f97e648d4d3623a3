/*
 * kernel.h — shared by the benchmark kernels. Each kernel is one plain C
 * file with one entry point `uint64_t kernel_<name>(uint64_t n)`: n scales
 * the work, the result is a checksum of everything computed. Each kernel
 * first checks itself against a published test vector and returns
 * KERNEL_SELF_CHECK_FAILED(id) if that fails, so a wrong translation cannot
 * produce a plausible checksum by accident.
 *
 * The same file is compiled natively (host compiler, -O2) and to PVM with
 * nub-cc, where KERNEL_ENTRY makes the function endpoint 0.
 */
#ifndef NUB_BENCH_KERNEL_H
#define NUB_BENCH_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#if defined(__riscv)
#include <nub_pvm.h>
#define KERNEL_ENTRY(fn) NUB_EXPORT(0, fn)
#else
#define KERNEL_ENTRY(fn) /* native: an ordinary function */
#endif

#define KERNEL_SELF_CHECK_FAILED(id) (0xBADC0DE000000000ull | (uint64_t)(id))

/* xorshift64: the deterministic input generator of every kernel. */
static inline uint64_t kernel_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

static inline uint64_t kernel_rotl(uint64_t x, unsigned r)
{
    return (x << (r & 63)) | (x >> ((64 - r) & 63));
}

static inline uint64_t kernel_load64_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#endif /* NUB_BENCH_KERNEL_H */
