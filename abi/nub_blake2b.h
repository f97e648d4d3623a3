/*
 * nub_blake2b.h — BLAKE2b (RFC 7693), freestanding: no libc, no allocation.
 *
 * Used on both sides of the VM boundary: a cap's hash (nub_cap_hash) is the
 * BLAKE2b-256 of its canonical wire encoding (see nub_wire.h), so host and
 * guest must compute it identically.
 */
#ifndef NUB_BLAKE2B_H
#define NUB_BLAKE2B_H

#include <stddef.h>
#include <stdint.h>

#include "nub_abi.h"

#define NUB_BLAKE2B_BLOCK_BYTES   128
#define NUB_BLAKE2B_MAX_OUT_BYTES 64
#define NUB_BLAKE2B_MAX_KEY_BYTES 64

/* Incremental state. Treat as opaque; it lives wherever the caller wants. */
struct nub_blake2b {
    uint64_t h[8];                        /* chained state */
    uint64_t t[2];                        /* bytes compressed so far (128-bit counter) */
    uint8_t buf[NUB_BLAKE2B_BLOCK_BYTES]; /* pending input, never empty at final */
    uint32_t buf_len;                     /* bytes in buf */
    uint32_t out_len;                     /* digest length chosen at init */
};

/*
 * Starts a hash with a digest of out_len bytes (1..64) and an optional key
 * (key_len 0..64; key may be NULL when key_len is 0).
 * Returns NUB_ERR_INVALID_ARGUMENT (and leaves *s unusable) for bad lengths.
 */
nub_status nub_blake2b_init(struct nub_blake2b *s, size_t out_len, const void *key, size_t key_len);

/* Absorbs len bytes (data may be NULL when len is 0). */
void nub_blake2b_update(struct nub_blake2b *s, const void *data, size_t len);

/* Writes the out_len-byte digest to out. The state must not be used afterwards. */
void nub_blake2b_final(struct nub_blake2b *s, uint8_t *out);

/* One shot: out = BLAKE2b-(8*out_len)(key; data). Same argument rules as init. */
nub_status nub_blake2b(uint8_t *out, size_t out_len, const void *key, size_t key_len,
                       const void *data, size_t len);

/*
 * out = BLAKE2b-256 (unkeyed) of the bytes of a cap's wire encoding. It does
 * not validate them: decode first (nub_wire_decode_cap) when they are untrusted.
 */
void nub_cap_hash_of(const void *encoding, size_t len, nub_cap_hash out);

#endif /* NUB_BLAKE2B_H */
