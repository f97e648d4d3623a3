/*
 * gcd.c — the PVM side of the example, compiled with nub-cc: endpoint 0
 * returns the greatest common divisor of a (phi7) and b (phi8).
 */
#include <nub_pvm.h>
#include <stdint.h>

uint64_t gcd(uint64_t a, uint64_t b);

uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}
NUB_EXPORT(0, gcd);
