/*
 * bignum.c — multi-precision arithmetic on 64-bit limbs: n rounds of a
 * schoolbook product of two 24-limb numbers (64 x 64 -> 128-bit partial
 * products, carry chains), folded back with a carrying add. Self-checks:
 * 30! from repeated small multiplications, and (2^256 - 1)^2 =
 * 2^512 - 2^257 + 1.
 */
#include "kernel.h"

#define BN_LIMBS 24

typedef unsigned __int128 bn_wide;

static uint64_t bn_a[BN_LIMBS], bn_b[BN_LIMBS], bn_prod[2 * BN_LIMBS];

/* r[0 .. 2len) = a * b */
__attribute__((noinline)) static void bn_mul(uint64_t *r, const uint64_t *a, const uint64_t *b,
                                             size_t len)
{
    for (size_t i = 0; i < 2 * len; i++)
        r[i] = 0;
    for (size_t i = 0; i < len; i++) {
        uint64_t carry = 0;
        for (size_t j = 0; j < len; j++) {
            bn_wide t = (bn_wide)a[i] * b[j] + r[i + j] + carry;
            r[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        r[i + len] = carry;
    }
}

/* r[0 .. len) += a[0 .. len); returns the carry out */
__attribute__((noinline)) static uint64_t bn_add(uint64_t *r, const uint64_t *a, size_t len)
{
    uint64_t carry = 0;
    for (size_t i = 0; i < len; i++) {
        uint64_t s = r[i] + carry;
        carry = s < carry;
        s += a[i];
        carry += s < a[i];
        r[i] = s;
    }
    return carry;
}

/* r[0 .. len) *= m; returns the limb carried out */
static uint64_t bn_mul_small(uint64_t *r, size_t len, uint64_t m)
{
    uint64_t carry = 0;
    for (size_t i = 0; i < len; i++) {
        bn_wide t = (bn_wide)r[i] * m + carry;
        r[i] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
    return carry;
}

static int self_check(void)
{
    uint64_t f[2] = {1, 0};
    for (uint64_t k = 2; k <= 30; k++)
        if (bn_mul_small(f, 2, k) != 0)
            return 0;
    /* 30! = 265252859812191058636308480000000 */
    if (f[0] != 0x865DF5DD54000000ull || f[1] != 0xD13F6370F96ull)
        return 0;
    uint64_t ones[4] = {~0ull, ~0ull, ~0ull, ~0ull}, sq[8];
    bn_mul(sq, ones, ones, 4);
    static const uint64_t want[8] = {1, 0, 0, 0, ~1ull, ~0ull, ~0ull, ~0ull};
    for (int i = 0; i < 8; i++)
        if (sq[i] != want[i])
            return 0;
    return 1;
}

uint64_t kernel_bignum(uint64_t n);
uint64_t kernel_bignum(uint64_t n)
{
    if (!self_check())
        return KERNEL_SELF_CHECK_FAILED(10);
    uint64_t seed = 0x452821E638D01377ull;
    for (size_t i = 0; i < BN_LIMBS; i++) {
        bn_a[i] = kernel_rand(&seed);
        bn_b[i] = kernel_rand(&seed);
    }
    uint64_t sum = 0;
    for (uint64_t round = 0; round < n; round++) {
        bn_mul(bn_prod, bn_a, bn_b, BN_LIMBS);
        /* a = low half + high half (+ the carry into limb 0), b gets a new limb */
        uint64_t carry = bn_add(bn_prod, bn_prod + BN_LIMBS, BN_LIMBS);
        for (size_t i = 0; i < BN_LIMBS; i++)
            bn_a[i] = bn_prod[i];
        bn_a[0] += carry;
        bn_b[round % BN_LIMBS] ^= bn_prod[BN_LIMBS - 1] | 1;
        sum = kernel_rotl(sum, 7) ^ bn_a[round % BN_LIMBS];
    }
    return sum;
}
KERNEL_ENTRY(kernel_bignum);
