/*
 * guest.c — the PVM side of examples/host_calls, compiled with nub-cc.
 * Endpoint 0 reads its input through a host call, asks the host to square
 * each byte, and hands the squares (u64 little-endian) back through a host
 * call. It returns the number of input bytes it used.
 */
#include <nub_pvm.h>
#include <stdint.h>

#include "example_host.h"

static uint8_t input[256];
static uint64_t squares[256];

uint64_t run(void);
uint64_t run(void)
{
    uint64_t n = NUB_ECALLI(EXAMPLE_HOST_INPUT, (uintptr_t)input, sizeof input, 0, 0, 0, 0);
    if (n > sizeof input)
        n = sizeof input;
    for (uint64_t i = 0; i < n; i++)
        squares[i] = NUB_ECALLI(EXAMPLE_HOST_SQUARE, input[i], 0, 0, 0, 0, 0);
    NUB_ECALLI(EXAMPLE_HOST_OUTPUT, (uintptr_t)squares, n * sizeof squares[0], 0, 0, 0, 0);
    return n;
}
NUB_EXPORT(0, run);

/* Endpoint 2 (pc 10): every NUB_EXPORT is published, not only 0 and 1. */
uint64_t twice(uint64_t x);
uint64_t twice(uint64_t x)
{
    return 2 * x;
}
NUB_EXPORT(2, twice);
