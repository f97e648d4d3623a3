/*
 * fib.c — naive recursive Fibonacci: call/return heavy. Self-check:
 * fib(20) = 6765.
 */
#include "kernel.h"

__attribute__((noinline)) static uint64_t fib(uint64_t n)
{
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

uint64_t kernel_fib(uint64_t n);
uint64_t kernel_fib(uint64_t n)
{
    if (fib(20) != 6765)
        return KERNEL_SELF_CHECK_FAILED(6);
    if (n > 60)
        n = 60;
    return fib(n);
}
KERNEL_ENTRY(kernel_fib);
