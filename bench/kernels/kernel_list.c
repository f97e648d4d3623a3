/*
 * kernel_list.c — sizes of the benchmark kernels. bench_n is chosen so each
 * kernel runs for roughly 10 ms natively on the development machine.
 */
#include "kernel_list.h"

#include "kernel.h"

_Static_assert(KERNEL_SELF_CHECK_FAILED(0) == NUB_KERNEL_SELF_CHECK_BAD, "one sentinel");

/* name, native entry, test_n, bench_n, in_geomean. The eight kernels of the
 * geomean figures come first; the others are measured on their own. */
// clang-format off
const struct nub_kernel nub_kernels[] = {
    {"sieve", kernel_sieve, 100000, 4000000, true},
    {"keccak", kernel_keccak, 200, 30000, true},
    {"blake2b", kernel_blake2b, 200, 50000, true},
    {"sha256", kernel_sha256, 200, 40000, true},
    {"matmul", kernel_matmul, 24, 256, true},
    {"fib", kernel_fib, 18, 33, true},
    {"crc32", kernel_crc32, 2, 256, true},
    {"quicksort", kernel_quicksort, 5000, 200000, true},
    {"nqueens", kernel_nqueens, 6, 11, false},
    {"bignum", kernel_bignum, 20, 14000, false},
    {"lz77", kernel_lz77, 1, 75, false},
};
// clang-format on
const size_t nub_kernel_count = sizeof nub_kernels / sizeof nub_kernels[0];
