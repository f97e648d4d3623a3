/*
 * collatz.c — the PVM side of the example, compiled with nub-cc: endpoint 0
 * returns how many Collatz steps take n (phi7) to 1.
 */
#include <nub_pvm.h>
#include <stdint.h>

uint64_t collatz_steps(uint64_t n);

uint64_t collatz_steps(uint64_t n)
{
    uint64_t steps = 0;
    while (n > 1) {
        n = (n & 1) ? 3 * n + 1 : n / 2;
        steps++;
    }
    return steps;
}
NUB_EXPORT(0, collatz_steps);
