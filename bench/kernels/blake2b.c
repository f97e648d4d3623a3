/*
 * blake2b.c — BLAKE2b-512 (RFC 7693) of n pseudo-random 128-byte blocks,
 * one compression per block; returns the first 8 digest bytes
 * (little-endian). Self-check: BLAKE2b-512("abc") starts ba 80 a5 3f 98 1c
 * 4d 0d (RFC 7693 appendix A).
 */
#include "kernel.h"

static const uint64_t blake2b_iv[8] = {
    0x6A09E667F3BCC908ull, 0xBB67AE8584CAA73Bull, 0x3C6EF372FE94F82Bull, 0xA54FF53A5F1D36F1ull,
    0x510E527FADE682D1ull, 0x9B05688C2B3E6C1Full, 0x1F83D9ABFB41BD6Bull, 0x5BE0CD19137E2179ull,
};

static const uint8_t sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

static uint64_t rotr(uint64_t x, unsigned r)
{
    return (x >> r) | (x << (64 - r));
}

#define G(a, b, c, d, x, y)                                                                        \
    do {                                                                                           \
        v[a] = v[a] + v[b] + (x);                                                                  \
        v[d] = rotr(v[d] ^ v[a], 32);                                                              \
        v[c] = v[c] + v[d];                                                                        \
        v[b] = rotr(v[b] ^ v[c], 24);                                                              \
        v[a] = v[a] + v[b] + (y);                                                                  \
        v[d] = rotr(v[d] ^ v[a], 16);                                                              \
        v[c] = v[c] + v[d];                                                                        \
        v[b] = rotr(v[b] ^ v[c], 63);                                                              \
    } while (0)

static void compress(uint64_t h[8], const uint8_t block[128], uint64_t bytes_so_far, int last)
{
    uint64_t v[16], m[16];
    for (int i = 0; i < 16; i++)
        m[i] = kernel_load64_le(block + 8 * i);
    for (int i = 0; i < 8; i++) {
        v[i] = h[i];
        v[i + 8] = blake2b_iv[i];
    }
    v[12] ^= bytes_so_far;
    if (last)
        v[14] = ~v[14];
    for (int r = 0; r < 12; r++) {
        const uint8_t *s = sigma[r];
        G(0, 4, 8, 12, m[s[0]], m[s[1]]);
        G(1, 5, 9, 13, m[s[2]], m[s[3]]);
        G(2, 6, 10, 14, m[s[4]], m[s[5]]);
        G(3, 7, 11, 15, m[s[6]], m[s[7]]);
        G(0, 5, 10, 15, m[s[8]], m[s[9]]);
        G(1, 6, 11, 12, m[s[10]], m[s[11]]);
        G(2, 7, 8, 13, m[s[12]], m[s[13]]);
        G(3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; i++)
        h[i] ^= v[i] ^ v[i + 8];
}

static void init(uint64_t h[8])
{
    for (int i = 0; i < 8; i++)
        h[i] = blake2b_iv[i];
    h[0] ^= 0x01010000ull | 64; /* depth 1, fanout 1, no key, 64-byte digest */
}

uint64_t kernel_blake2b(uint64_t n);
uint64_t kernel_blake2b(uint64_t n)
{
    uint64_t h[8];
    uint8_t block[128];
    for (int i = 0; i < 128; i++)
        block[i] = 0;
    block[0] = 'a';
    block[1] = 'b';
    block[2] = 'c';
    init(h);
    compress(h, block, 3, 1);
    if (h[0] != 0x0D4D1C983FA580BAull)
        return KERNEL_SELF_CHECK_FAILED(3);

    init(h);
    uint64_t seed = 0x3C6EF372FE94F82Bull;
    for (uint64_t b = 0; b < n; b++) {
        for (int i = 0; i < 128; i += 8) {
            uint64_t r = kernel_rand(&seed);
            for (int k = 0; k < 8; k++)
                block[i + k] = (uint8_t)(r >> (8 * k));
        }
        compress(h, block, (b + 1) * 128, b + 1 == n);
    }
    return h[0];
}
KERNEL_ENTRY(kernel_blake2b);
