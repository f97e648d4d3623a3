/*
 * matmul.c — integer matrix multiply C = A * B of n x n (n <= MATMUL_MAX)
 * 64-bit matrices (wrapping arithmetic), checksum of C. Self-check: a 2x2
 * product.
 */
#include "kernel.h"

#define MATMUL_MAX 256u

static uint64_t a[MATMUL_MAX * MATMUL_MAX], b[MATMUL_MAX * MATMUL_MAX], c[MATMUL_MAX * MATMUL_MAX];

static void multiply(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        for (uint64_t j = 0; j < n; j++)
            c[i * n + j] = 0;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t aik = a[i * n + k];
            for (uint64_t j = 0; j < n; j++)
                c[i * n + j] += aik * b[k * n + j];
        }
    }
}

uint64_t kernel_matmul(uint64_t n);
uint64_t kernel_matmul(uint64_t n)
{
    /* [1 2; 3 4] * [5 6; 7 8] = [19 22; 43 50] */
    static const uint64_t want[4] = {19, 22, 43, 50};
    for (uint64_t i = 0; i < 4; i++) {
        a[i] = i + 1;
        b[i] = i + 5;
    }
    multiply(2);
    for (uint64_t i = 0; i < 4; i++)
        if (c[i] != want[i])
            return KERNEL_SELF_CHECK_FAILED(5);
    if (n > MATMUL_MAX)
        n = MATMUL_MAX;
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    for (uint64_t i = 0; i < n * n; i++) {
        a[i] = kernel_rand(&seed) >> 40;
        b[i] = kernel_rand(&seed) >> 40;
    }
    multiply(n);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n * n; i++)
        sum = kernel_rotl(sum, 5) ^ c[i];
    return sum;
}
KERNEL_ENTRY(kernel_matmul);
