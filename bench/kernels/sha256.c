/*
 * sha256.c — SHA-256 (FIPS 180-4) of n pseudo-random 64-byte blocks;
 * returns the first 8 digest bytes as a big-endian number. Self-check:
 * SHA-256("abc") starts ba7816bf 8f01cfea.
 */
#include "kernel.h"

static const uint32_t k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned r)
{
    return (x >> r) | (x << (32 - r));
}

static void compress(uint32_t h[8], const uint8_t p[64])
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16) |
               ((uint32_t)p[4 * i + 2] << 8) | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 =
            hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + k256[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

static void init(uint32_t h[8])
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (int i = 0; i < 8; i++)
        h[i] = iv[i];
}

/* The final block: 0x80, zeros, the message length in bits (big-endian). */
static void finish(uint32_t h[8], uint64_t message_bytes)
{
    uint8_t pad[64];
    for (int i = 0; i < 64; i++)
        pad[i] = 0;
    pad[0] = 0x80;
    uint64_t bits = message_bytes * 8;
    for (int i = 0; i < 8; i++)
        pad[63 - i] = (uint8_t)(bits >> (8 * i));
    compress(h, pad);
}

uint64_t kernel_sha256(uint64_t n);
uint64_t kernel_sha256(uint64_t n)
{
    uint32_t h[8];
    uint8_t block[64];
    for (int i = 0; i < 64; i++)
        block[i] = 0;
    block[0] = 'a';
    block[1] = 'b';
    block[2] = 'c';
    block[3] = 0x80;
    block[63] = 24; /* 3 bytes = 24 bits */
    init(h);
    compress(h, block);
    if (h[0] != 0xba7816bfu || h[1] != 0x8f01cfeau)
        return KERNEL_SELF_CHECK_FAILED(4);

    init(h);
    uint64_t seed = 0xBB67AE8584CAA73Bull;
    for (uint64_t b = 0; b < n; b++) {
        for (int i = 0; i < 64; i += 8) {
            uint64_t r = kernel_rand(&seed);
            for (int k = 0; k < 8; k++)
                block[i + k] = (uint8_t)(r >> (8 * k));
        }
        compress(h, block);
    }
    finish(h, n * 64);
    return ((uint64_t)h[0] << 32) | h[1];
}
KERNEL_ENTRY(kernel_sha256);
