/*
 * kernel_list.h — the benchmark kernels as a table, for the toolchain tests
 * and nubbench: name, native entry point, problem sizes, where the PVM
 * build lives.
 */
#ifndef NUB_KERNEL_LIST_H
#define NUB_KERNEL_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nub_kernel {
    const char *name;               /* also the .jam file name: <name>.jam */
    uint64_t (*native)(uint64_t n); /* the same C file compiled for the host */
    uint64_t test_n;                /* small: tests (runs on every engine, sanitized) */
    uint64_t bench_n;               /* ~10 ms native: nubbench */
    bool in_geomean;                /* one of the eight kernels of the *_geomean figures */
};

extern const struct nub_kernel nub_kernels[];
extern const size_t nub_kernel_count;
/* How many kernels have in_geomean set: the geomeans need all of them. */
#define NUB_KERNEL_GEOMEAN_COUNT 8

/* The value every kernel returns when its built-in test vector fails. */
#define NUB_KERNEL_SELF_CHECK_MASK 0xFFFFFFF000000000ull
#define NUB_KERNEL_SELF_CHECK_BAD  0xBADC0DE000000000ull

uint64_t kernel_sieve(uint64_t n);
uint64_t kernel_keccak(uint64_t n);
uint64_t kernel_blake2b(uint64_t n);
uint64_t kernel_sha256(uint64_t n);
uint64_t kernel_matmul(uint64_t n);
uint64_t kernel_fib(uint64_t n);
uint64_t kernel_crc32(uint64_t n);
uint64_t kernel_quicksort(uint64_t n);
uint64_t kernel_nqueens(uint64_t n);
uint64_t kernel_bignum(uint64_t n);
uint64_t kernel_lz77(uint64_t n);

#endif /* NUB_KERNEL_LIST_H */
