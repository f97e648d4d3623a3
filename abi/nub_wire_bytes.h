/*
 * nub_wire_bytes.h — little-endian byte access for the wire and cap-build
 * code (internal to abi/). Byte-wise so it works on unaligned buffers and
 * needs no library call in the freestanding build.
 */
#ifndef NUB_WIRE_BYTES_H
#define NUB_WIRE_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t nub_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t nub_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t nub_ld64(const uint8_t *p)
{
    return (uint64_t)nub_ld32(p) | ((uint64_t)nub_ld32(p + 4) << 32);
}

static inline void nub_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void nub_st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void nub_st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void nub_copy_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static inline void nub_zero_bytes(uint8_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = 0;
}

static inline int nub_all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

#endif /* NUB_WIRE_BYTES_H */
