/*
 * pvm_util.h — the few libc-like helpers the freestanding PVM code needs.
 *
 * Byte-wise on purpose: no alignment assumptions, no libc. Compilers turn
 * the little-endian loops into single loads/stores on x86-64.
 */
#ifndef NUB_PVM_UTIL_H
#define NUB_PVM_UTIL_H

#include <stddef.h>
#include <stdint.h>

static inline void pvm_memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
}

static inline void pvm_memset(void *dst, uint8_t value, size_t n)
{
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++)
        d[i] = value;
}

/* Little-endian unsigned load of n (0..8) bytes. */
static inline uint64_t pvm_load_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void pvm_store_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Sign-extend the low n bytes (0..8) of v to 64 bits. n = 0 gives 0. */
static inline uint64_t pvm_sign_extend_bytes(uint64_t v, unsigned n)
{
    if (n == 0)
        return 0;
    if (n >= 8)
        return v;
    uint64_t sign = (uint64_t)1 << (8 * n - 1);
    v &= ((uint64_t)1 << (8 * n)) - 1;
    return (v ^ sign) - sign;
}

static inline uint32_t pvm_min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

#endif /* NUB_PVM_UTIL_H */
