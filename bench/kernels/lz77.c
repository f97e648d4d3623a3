/*
 * lz77.c — LZ77 compression of a 32 KiB pseudo-text (words drawn from a
 * small list), n times: a hash table of 4-byte prefixes finds earlier
 * occurrences, greedy matching, byte-oriented output; each pass is then
 * decompressed and compared with its input. Format: a control byte
 * c < 128 is a run of c + 1 literals; c >= 128 a match of length c - 124
 * (4..131) at a 16-bit little-endian distance (1..65535) that follows.
 * Self-checks: the round trip, and 200 equal bytes in at most 8 bytes.
 */
#include "kernel.h"

#define LZ_IN_LEN    32768u
#define LZ_OUT_MAX   (LZ_IN_LEN + LZ_IN_LEN / 128 + 16)
#define LZ_HASH_BITS 12
#define LZ_MIN_MATCH 4u
#define LZ_MAX_MATCH 131u

static uint8_t lz_in[LZ_IN_LEN], lz_out[LZ_OUT_MAX], lz_back[LZ_IN_LEN];
static uint32_t lz_head[1u << LZ_HASH_BITS]; /* position + 1 of the last prefix, 0: none */

static uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t put_literals(uint8_t *out, size_t o, const uint8_t *in, size_t from, size_t to)
{
    while (from < to) {
        size_t run = to - from > 128 ? 128 : to - from;
        out[o++] = (uint8_t)(run - 1);
        for (size_t k = 0; k < run; k++)
            out[o++] = in[from + k];
        from += run;
    }
    return o;
}

__attribute__((noinline)) static size_t lz_compress(const uint8_t *in, size_t len, uint8_t *out)
{
    for (size_t h = 0; h < (1u << LZ_HASH_BITS); h++)
        lz_head[h] = 0;
    size_t i = 0, lit = 0, o = 0;
    while (i + LZ_MIN_MATCH <= len) {
        uint32_t v = load32_le(in + i);
        uint32_t h = (v * 2654435761u) >> (32 - LZ_HASH_BITS);
        size_t cand = lz_head[h];
        lz_head[h] = (uint32_t)(i + 1);
        if (cand == 0 || i + 1 - cand > 65535 || load32_le(in + cand - 1) != v) {
            i++;
            continue;
        }
        size_t from = cand - 1, mlen = LZ_MIN_MATCH;
        while (i + mlen < len && mlen < LZ_MAX_MATCH && in[from + mlen] == in[i + mlen])
            mlen++;
        o = put_literals(out, o, in, lit, i);
        size_t dist = i - from;
        out[o++] = (uint8_t)(128 + mlen - LZ_MIN_MATCH);
        out[o++] = (uint8_t)dist;
        out[o++] = (uint8_t)(dist >> 8);
        i += mlen;
        lit = i;
    }
    return put_literals(out, o, in, lit, len);
}

/* The decompressed length, or SIZE_MAX for a malformed stream. */
__attribute__((noinline)) static size_t lz_decompress(const uint8_t *in, size_t len, uint8_t *out,
                                                      size_t cap)
{
    size_t i = 0, o = 0;
    while (i < len) {
        unsigned c = in[i++];
        if (c < 128) {
            if (i + c + 1 > len || o + c + 1 > cap)
                return SIZE_MAX;
            for (unsigned k = 0; k <= c; k++)
                out[o++] = in[i++];
        } else {
            size_t mlen = c - 128 + LZ_MIN_MATCH;
            if (i + 2 > len)
                return SIZE_MAX;
            size_t dist = (size_t)in[i] | (size_t)in[i + 1] << 8;
            i += 2;
            if (dist == 0 || dist > o || o + mlen > cap)
                return SIZE_MAX;
            for (size_t k = 0; k < mlen; k++, o++)
                out[o] = out[o - dist];
        }
    }
    return o;
}

static int same(const uint8_t *x, const uint8_t *y, size_t len)
{
    for (size_t k = 0; k < len; k++)
        if (x[k] != y[k])
            return 0;
    return 1;
}

static void make_text(uint64_t seed)
{
    static const char words[16][8] = {"the ",  "quick ", "brown ", "fox ",  "jumps ", "over ",
                                      "lazy ", "dog ",   "and ",   "then ", "runs ",  "far ",
                                      "away ", "from ",  "home ",  "again "};
    size_t o = 0;
    while (o < LZ_IN_LEN) {
        uint64_t r = kernel_rand(&seed);
        const char *w = words[r & 15];
        for (size_t k = 0; w[k] != 0 && o < LZ_IN_LEN; k++)
            lz_in[o++] = (uint8_t)w[k];
        if ((r >> 8) % 7 == 0 && o < LZ_IN_LEN) /* a little noise */
            lz_in[o++] = (uint8_t)(r >> 16);
    }
}

uint64_t kernel_lz77(uint64_t n);
uint64_t kernel_lz77(uint64_t n)
{
    for (size_t k = 0; k < 200; k++)
        lz_in[k] = 'a';
    size_t clen = lz_compress(lz_in, 200, lz_out);
    if (clen > 8 || lz_decompress(lz_out, clen, lz_back, LZ_IN_LEN) != 200 ||
        !same(lz_in, lz_back, 200))
        return KERNEL_SELF_CHECK_FAILED(11);
    make_text(0x13198A2E03707344ull);
    uint64_t sum = 0;
    for (uint64_t pass = 0; pass < n; pass++) {
        lz_in[(pass * 4099) % LZ_IN_LEN] ^= (uint8_t)pass; /* each pass sees new input */
        clen = lz_compress(lz_in, LZ_IN_LEN, lz_out);
        if (lz_decompress(lz_out, clen, lz_back, LZ_IN_LEN) != LZ_IN_LEN ||
            !same(lz_in, lz_back, LZ_IN_LEN))
            return KERNEL_SELF_CHECK_FAILED(12);
        sum = kernel_rotl(sum, 9) ^ clen;
        for (size_t k = 0; k < clen; k += 61)
            sum += lz_out[k];
    }
    return sum;
}
KERNEL_ENTRY(kernel_lz77);
