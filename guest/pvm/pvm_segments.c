/*
 * pvm_segments.c — checking a memory segment list (struct pvm_segment).
 */
#include "pvm.h"

static int check_one(const struct pvm_segment *s)
{
    if ((s->address % PVM_PAGE_SIZE) != 0 || (s->length % PVM_PAGE_SIZE) != 0)
        return PVM_ERR_SEGMENT_UNALIGNED;
    if (s->access != PVM_ACCESS_NONE && s->access != PVM_ACCESS_READ &&
        s->access != PVM_ACCESS_WRITE)
        return PVM_ERR_SEGMENT_ACCESS;
    uint64_t end = (uint64_t)s->address + s->length;
    if (end > ((uint64_t)1 << 32) || s->data_len > s->length ||
        (s->data_len > 0 && s->data == NULL))
        return PVM_ERR_SEGMENT_RANGE;
    if (s->length > 0 && s->address < PVM_LOW_GUARD_END)
        return PVM_ERR_SEGMENT_RANGE;
    return PVM_OK;
}

int pvm_segments_validate(const struct pvm_segment *segments, size_t count)
{
    if (segments == NULL && count > 0)
        return PVM_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; i++) {
        int err = check_one(&segments[i]);
        if (err != PVM_OK)
            return err;
    }
    /* Few segments (the standard layout has four): the quadratic check is fine. */
    for (size_t i = 0; i < count; i++) {
        uint64_t a0 = segments[i].address, a1 = a0 + segments[i].length;
        for (size_t j = i + 1; j < count; j++) {
            uint64_t b0 = segments[j].address, b1 = b0 + segments[j].length;
            if (a0 < b1 && b0 < a1)
                return PVM_ERR_SEGMENT_OVERLAP;
        }
    }
    return PVM_OK;
}
