/*
 * keccak.c — n Keccak-f[1600] permutations of a state that starts at zero;
 * the result folds the final 25 lanes. Self-check: one permutation of the
 * all-zero state gives lane 0 = 0xF1258F7940E1DDE7 (the Keccak team's
 * published KeccakF-1600 intermediate values).
 */
#include "kernel.h"

static const uint64_t round_constants[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808Aull, 0x8000000080008000ull,
    0x000000000000808Bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008Aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000Aull,
    0x000000008000808Bull, 0x800000000000008Bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800Aull, 0x800000008000000Aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/* rho rotation for lane x + 5y, and the pi destination order. */
static const unsigned rho[25] = {0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
                                 25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14};

static void keccak_f1600(uint64_t s[25])
{
    for (int round = 0; round < 24; round++) {
        uint64_t c[5], b[25];
        for (int x = 0; x < 5; x++)
            c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
        for (int x = 0; x < 5; x++) {
            uint64_t d = c[(x + 4) % 5] ^ kernel_rotl(c[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5)
                s[y + x] ^= d;
        }
        /* rho and pi: B[y, 2x+3y] = rot(A[x, y], r[x, y]) */
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                b[y + 5 * ((2 * x + 3 * y) % 5)] = kernel_rotl(s[x + 5 * y], rho[x + 5 * y]);
        /* chi */
        for (int y = 0; y < 25; y += 5)
            for (int x = 0; x < 5; x++)
                s[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] & b[y + (x + 2) % 5]);
        /* iota */
        s[0] ^= round_constants[round];
    }
}

uint64_t kernel_keccak(uint64_t n);
uint64_t kernel_keccak(uint64_t n)
{
    uint64_t s[25];
    for (int i = 0; i < 25; i++)
        s[i] = 0;
    keccak_f1600(s);
    if (s[0] != 0xF1258F7940E1DDE7ull)
        return KERNEL_SELF_CHECK_FAILED(2);
    for (uint64_t i = 1; i < n; i++)
        keccak_f1600(s);
    uint64_t sum = 0;
    for (int i = 0; i < 25; i++)
        sum = kernel_rotl(sum, 7) ^ s[i];
    return sum;
}
KERNEL_ENTRY(kernel_keccak);
