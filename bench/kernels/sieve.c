/*
 * sieve.c — Sieve of Eratosthenes: the number of primes below n
 * (n <= SIEVE_MAX). Self-check: 25 primes below 100.
 */
#include "kernel.h"

#define SIEVE_MAX (1u << 22)

static uint8_t composite[SIEVE_MAX];

static uint64_t count_primes(uint64_t n)
{
    if (n > SIEVE_MAX)
        n = SIEVE_MAX;
    if (n < 3)
        return 0;
    for (uint64_t i = 0; i < n; i++)
        composite[i] = 0;
    uint64_t count = 0;
    for (uint64_t i = 2; i < n; i++) {
        if (composite[i])
            continue;
        count++;
        for (uint64_t j = i * i; j < n; j += i)
            composite[j] = 1;
    }
    return count;
}

uint64_t kernel_sieve(uint64_t n);
uint64_t kernel_sieve(uint64_t n)
{
    if (count_primes(100) != 25)
        return KERNEL_SELF_CHECK_FAILED(1);
    return count_primes(n);
}
KERNEL_ENTRY(kernel_sieve);
