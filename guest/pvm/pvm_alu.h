/*
 * pvm_alu.h — the arithmetic of SPEC §9 as small, UB-free C functions.
 *
 * Shared by the interpreter and usable by JIT helper calls. Everything is
 * computed on u64; signed views are explicit. No __int128 and no libgcc
 * helpers, so the freestanding build links without a runtime library.
 */
#ifndef NUB_PVM_ALU_H
#define NUB_PVM_ALU_H

#include <stdint.h>

static inline uint64_t pvm_sx8(uint64_t v)
{
    return (uint64_t)(int64_t)(int8_t)(uint8_t)v;
}
static inline uint64_t pvm_sx16(uint64_t v)
{
    return (uint64_t)(int64_t)(int16_t)(uint16_t)v;
}
static inline uint64_t pvm_sx32(uint64_t v)
{
    return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
}

/* Arithmetic right shift without relying on signed >> (n in 0..63). */
static inline uint64_t pvm_shar64(uint64_t v, unsigned n)
{
    uint64_t sign = 0 - (v >> 63);
    return (v >> n) | (sign & ~(UINT64_MAX >> n));
}
/* Arithmetic right shift of the low 32 bits, result sign-extended (n in 0..31). */
static inline uint64_t pvm_shar32(uint64_t v, unsigned n)
{
    return pvm_shar64(pvm_sx32(v), n);
}

static inline uint64_t pvm_rotr64(uint64_t v, unsigned n)
{
    n &= 63;
    return n == 0 ? v : (v >> n) | (v << (64 - n));
}
static inline uint32_t pvm_rotr32(uint32_t v, unsigned n)
{
    n &= 31;
    return n == 0 ? v : (v >> n) | (v << (32 - n));
}
static inline uint64_t pvm_rotl64(uint64_t v, unsigned n)
{
    return pvm_rotr64(v, (64 - (n & 63)) & 63);
}
static inline uint32_t pvm_rotl32(uint32_t v, unsigned n)
{
    return pvm_rotr32(v, (32 - (n & 31)) & 31);
}

static inline uint64_t pvm_popcount64(uint64_t v)
{
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (v * 0x0101010101010101ull) >> 56;
}

static inline uint64_t pvm_clz64(uint64_t v)
{
    return v == 0 ? 64 : (uint64_t)__builtin_clzll(v);
}
static inline uint64_t pvm_clz32(uint32_t v)
{
    return v == 0 ? 32 : (uint64_t)__builtin_clz(v);
}
static inline uint64_t pvm_ctz64(uint64_t v)
{
    return v == 0 ? 64 : (uint64_t)__builtin_ctzll(v);
}
static inline uint64_t pvm_ctz32(uint32_t v)
{
    return v == 0 ? 32 : (uint64_t)__builtin_ctz(v);
}

static inline uint64_t pvm_bswap64(uint64_t v)
{
    uint64_t r = 0;
    for (int i = 0; i < 8; i++)
        r |= ((v >> (8 * i)) & 0xFF) << (8 * (7 - i));
    return r;
}

/* High 64 bits of the unsigned 128-bit product, from 32-bit halves. */
static inline uint64_t pvm_mulh_uu(uint64_t a, uint64_t b)
{
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32, b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo;
    uint64_t hi_lo = a_hi * b_lo;
    uint64_t lo_hi = a_lo * b_hi;
    uint64_t hi_hi = a_hi * b_hi;
    uint64_t cross = (lo_lo >> 32) + (uint32_t)hi_lo + lo_hi;
    return hi_hi + (hi_lo >> 32) + (cross >> 32);
}
/* Signed x signed: subtract the two's-complement corrections. */
static inline uint64_t pvm_mulh_ss(uint64_t a, uint64_t b)
{
    uint64_t h = pvm_mulh_uu(a, b);
    if (a >> 63)
        h -= b;
    if (b >> 63)
        h -= a;
    return h;
}
/* Signed a x unsigned b. */
static inline uint64_t pvm_mulh_su(uint64_t a, uint64_t b)
{
    uint64_t h = pvm_mulh_uu(a, b);
    if (a >> 63)
        h -= b;
    return h;
}

/* Division and remainder exactly as SPEC §9.13. */
static inline uint64_t pvm_div_u64(uint64_t a, uint64_t b)
{
    return b == 0 ? UINT64_MAX : a / b;
}
static inline uint64_t pvm_rem_u64(uint64_t a, uint64_t b)
{
    return b == 0 ? a : a % b;
}
static inline uint64_t pvm_div_s64(uint64_t a, uint64_t b)
{
    if (b == 0)
        return UINT64_MAX;
    if (a == (1ull << 63) && b == UINT64_MAX)
        return a;
    return (uint64_t)((int64_t)a / (int64_t)b);
}
static inline uint64_t pvm_rem_s64(uint64_t a, uint64_t b)
{
    if (a == (1ull << 63) && b == UINT64_MAX)
        return 0;
    if (b == 0)
        return a;
    return (uint64_t)((int64_t)a % (int64_t)b);
}
static inline uint64_t pvm_div_u32(uint64_t a, uint64_t b)
{
    uint32_t x = (uint32_t)a, y = (uint32_t)b;
    return y == 0 ? UINT64_MAX : pvm_sx32(x / y);
}
static inline uint64_t pvm_rem_u32(uint64_t a, uint64_t b)
{
    uint32_t x = (uint32_t)a, y = (uint32_t)b;
    return y == 0 ? pvm_sx32(x) : pvm_sx32(x % y);
}
static inline uint64_t pvm_div_s32(uint64_t a, uint64_t b)
{
    int32_t x = (int32_t)(uint32_t)a, y = (int32_t)(uint32_t)b;
    if (y == 0)
        return UINT64_MAX;
    if (x == INT32_MIN && y == -1)
        return (uint64_t)(int64_t)x;
    return (uint64_t)(int64_t)(x / y);
}
static inline uint64_t pvm_rem_s32(uint64_t a, uint64_t b)
{
    int32_t x = (int32_t)(uint32_t)a, y = (int32_t)(uint32_t)b;
    if (x == INT32_MIN && y == -1)
        return 0;
    if (y == 0)
        return (uint64_t)(int64_t)x;
    return (uint64_t)(int64_t)(x % y);
}

#endif /* NUB_PVM_ALU_H */
