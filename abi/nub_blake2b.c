/*
 * nub_blake2b.c — BLAKE2b as specified in RFC 7693, written for freestanding
 * use: byte-wise little-endian loads/stores (input may be unaligned), no
 * library calls.
 */
#include "nub_blake2b.h"

static const uint64_t blake2b_iv[8] = {
    UINT64_C(0x6A09E667F3BCC908), UINT64_C(0xBB67AE8584CAA73B), UINT64_C(0x3C6EF372FE94F82B),
    UINT64_C(0xA54FF53A5F1D36F1), UINT64_C(0x510E527FADE682D1), UINT64_C(0x9B05688C2B3E6C1F),
    UINT64_C(0x1F83D9ABFB41BD6B), UINT64_C(0x5BE0CD19137E2179),
};

/* Message word schedule; rounds 10 and 11 reuse rows 0 and 1. */
static const uint8_t blake2b_sigma[12][16] = {
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

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t rotr64(uint64_t x, unsigned n)
{
    return (x >> n) | (x << (64 - n));
}

#define BLAKE2B_G(a, b, c, d, x, y)                                                                \
    do {                                                                                           \
        v[a] = v[a] + v[b] + (x);                                                                  \
        v[d] = rotr64(v[d] ^ v[a], 32);                                                            \
        v[c] = v[c] + v[d];                                                                        \
        v[b] = rotr64(v[b] ^ v[c], 24);                                                            \
        v[a] = v[a] + v[b] + (y);                                                                  \
        v[d] = rotr64(v[d] ^ v[a], 16);                                                            \
        v[c] = v[c] + v[d];                                                                        \
        v[b] = rotr64(v[b] ^ v[c], 63);                                                            \
    } while (0)

static void blake2b_compress(struct nub_blake2b *s, const uint8_t *block, int last)
{
    uint64_t m[16];
    uint64_t v[16];
    for (int i = 0; i < 16; i++)
        m[i] = load_le64(block + 8 * i);
    for (int i = 0; i < 8; i++) {
        v[i] = s->h[i];
        v[i + 8] = blake2b_iv[i];
    }
    v[12] ^= s->t[0];
    v[13] ^= s->t[1];
    if (last)
        v[14] = ~v[14];
    for (int r = 0; r < 12; r++) {
        const uint8_t *sg = blake2b_sigma[r];
        BLAKE2B_G(0, 4, 8, 12, m[sg[0]], m[sg[1]]);
        BLAKE2B_G(1, 5, 9, 13, m[sg[2]], m[sg[3]]);
        BLAKE2B_G(2, 6, 10, 14, m[sg[4]], m[sg[5]]);
        BLAKE2B_G(3, 7, 11, 15, m[sg[6]], m[sg[7]]);
        BLAKE2B_G(0, 5, 10, 15, m[sg[8]], m[sg[9]]);
        BLAKE2B_G(1, 6, 11, 12, m[sg[10]], m[sg[11]]);
        BLAKE2B_G(2, 7, 8, 13, m[sg[12]], m[sg[13]]);
        BLAKE2B_G(3, 4, 9, 14, m[sg[14]], m[sg[15]]);
    }
    for (int i = 0; i < 8; i++)
        s->h[i] ^= v[i] ^ v[i + 8];
}

static void blake2b_count(struct nub_blake2b *s, uint64_t n)
{
    s->t[0] += n;
    if (s->t[0] < n)
        s->t[1]++;
}

nub_status nub_blake2b_init(struct nub_blake2b *s, size_t out_len, const void *key, size_t key_len)
{
    if (s == NULL || out_len == 0 || out_len > NUB_BLAKE2B_MAX_OUT_BYTES ||
        key_len > NUB_BLAKE2B_MAX_KEY_BYTES || (key == NULL && key_len != 0))
        return NUB_ERR_INVALID_ARGUMENT;
    for (int i = 0; i < 8; i++)
        s->h[i] = blake2b_iv[i];
    /* Parameter block word 0: digest length, key length, fanout 1, depth 1. */
    s->h[0] ^= UINT64_C(0x01010000) ^ ((uint64_t)key_len << 8) ^ (uint64_t)out_len;
    s->t[0] = 0;
    s->t[1] = 0;
    s->buf_len = 0;
    s->out_len = (uint32_t)out_len;
    for (int i = 0; i < NUB_BLAKE2B_BLOCK_BYTES; i++)
        s->buf[i] = 0;
    if (key_len > 0) {
        /* The key, zero-padded to a full block, is the first message block. */
        const uint8_t *k = key;
        for (size_t i = 0; i < key_len; i++)
            s->buf[i] = k[i];
        s->buf_len = NUB_BLAKE2B_BLOCK_BYTES;
    }
    return NUB_OK;
}

void nub_blake2b_update(struct nub_blake2b *s, const void *data, size_t len)
{
    const uint8_t *in = data;
    while (len > 0) {
        /* A full buffer is compressed only once more input arrives: the last
         * block must be compressed with the final flag. */
        if (s->buf_len == NUB_BLAKE2B_BLOCK_BYTES) {
            blake2b_count(s, NUB_BLAKE2B_BLOCK_BYTES);
            blake2b_compress(s, s->buf, 0);
            s->buf_len = 0;
        }
        if (s->buf_len == 0) {
            while (len > NUB_BLAKE2B_BLOCK_BYTES) {
                blake2b_count(s, NUB_BLAKE2B_BLOCK_BYTES);
                blake2b_compress(s, in, 0);
                in += NUB_BLAKE2B_BLOCK_BYTES;
                len -= NUB_BLAKE2B_BLOCK_BYTES;
            }
        }
        size_t room = NUB_BLAKE2B_BLOCK_BYTES - s->buf_len;
        size_t take = len < room ? len : room;
        for (size_t i = 0; i < take; i++)
            s->buf[s->buf_len + i] = in[i];
        s->buf_len += (uint32_t)take;
        in += take;
        len -= take;
    }
}

void nub_blake2b_final(struct nub_blake2b *s, uint8_t *out)
{
    blake2b_count(s, s->buf_len);
    for (uint32_t i = s->buf_len; i < NUB_BLAKE2B_BLOCK_BYTES; i++)
        s->buf[i] = 0;
    blake2b_compress(s, s->buf, 1);
    for (uint32_t i = 0; i < s->out_len; i++)
        out[i] = (uint8_t)(s->h[i / 8] >> (8 * (i % 8)));
}

nub_status nub_blake2b(uint8_t *out, size_t out_len, const void *key, size_t key_len,
                       const void *data, size_t len)
{
    struct nub_blake2b s;
    nub_status st = nub_blake2b_init(&s, out_len, key, key_len);
    if (st != NUB_OK)
        return st;
    if (out == NULL || (data == NULL && len != 0))
        return NUB_ERR_INVALID_ARGUMENT;
    nub_blake2b_update(&s, data, len);
    nub_blake2b_final(&s, out);
    return NUB_OK;
}

void nub_cap_hash_of(const void *encoding, size_t len, nub_cap_hash out)
{
    struct nub_blake2b s;
    (void)nub_blake2b_init(&s, NUB_CAP_HASH_BYTES, NULL, 0);
    nub_blake2b_update(&s, encoding, len);
    nub_blake2b_final(&s, out);
}
