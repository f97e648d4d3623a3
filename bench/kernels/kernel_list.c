/*
 * kernel_list.c — sizes of the benchmark kernels. bench_n is chosen so each
 * kernel runs for roughly 10 ms natively on the development machine.
 */
#include "kernel_list.h"

#include "kernel.h"

_Static_assert(KERNEL_SELF_CHECK_FAILED(0) == NUB_KERNEL_SELF_CHECK_BAD, "one sentinel");

/* name, native entry, test_n, bench_n */
// clang-format off
const struct nub_kernel nub_kernels[] = {
    {"sieve", kernel_sieve, 100000, 4000000},
    {"keccak", kernel_keccak, 200, 30000},
    {"blake2b", kernel_blake2b, 200, 50000},
    {"sha256", kernel_sha256, 200, 40000},
    {"matmul", kernel_matmul, 24, 256},
    {"fib", kernel_fib, 18, 33},
    {"crc32", kernel_crc32, 2, 256},
    {"quicksort", kernel_quicksort, 5000, 200000},
};
// clang-format on
const size_t nub_kernel_count = sizeof nub_kernels / sizeof nub_kernels[0];
