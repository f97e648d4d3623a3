/*
 * nub_service_blob.c — the standard program inside a JAM service code blob.
 */
#include "nub_service_blob.h"

/* GP's general natural-number encoding E (Appendix C): the number of
 * leading 1 bits of the first byte is how many little-endian bytes follow;
 * the rest of the first byte are the value's high bits. */
static bool decode_general_natural(const uint8_t *b, size_t len, uint64_t *value, size_t *used)
{
    if (len == 0)
        return false;
    unsigned l = 0;
    while (l < 8 && (b[0] & (0x80u >> l)))
        l++;
    if (len < 1 + (size_t)l)
        return false;
    uint64_t v = 0;
    for (unsigned i = 0; i < l; i++)
        v |= (uint64_t)b[1 + i] << (8 * i);
    if (l < 8)
        v |= (uint64_t)(b[0] & ((1u << (7 - l)) - 1)) << (8 * l);
    *value = v;
    *used = 1 + l;
    return true;
}

bool nub_service_program(const uint8_t *b, size_t len, const uint8_t **y, size_t *y_len)
{
    uint64_t meta_len;
    size_t used;
    if (!decode_general_natural(b, len, &meta_len, &used) || meta_len > len - used)
        return false;
    *y = b + used + meta_len;
    *y_len = len - used - (size_t)meta_len;
    return true;
}
