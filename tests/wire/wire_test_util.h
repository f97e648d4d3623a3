/* Helpers shared by the wire and capbuild test suites. */
#ifndef WIRE_TEST_UTIL_H
#define WIRE_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "nub_wire.h"

static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static inline void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Re-encodes a decoded cap from its view into a fresh malloc'd buffer (the
 * caller frees *out). Canonical means: decode then re-encode gives the input.
 */
static inline nub_status reencode_cap(const struct nub_wire_cap_view *v, uint8_t **out,
                                      size_t *out_len)
{
    size_t needed = 0;
    nub_status st;
    *out = NULL;
    if (v->kind == NUB_WIRE_KIND_IMAGE) {
        struct nub_wire_endpoint *eps = calloc(v->image.endpoint_count, sizeof *eps);
        if (eps == NULL)
            return NUB_ERR_NOMEM;
        for (uint32_t i = 0; i < v->image.endpoint_count; i++)
            nub_wire_image_endpoint(v, i, &eps[i]);
        struct nub_wire_image img = {v->image.blob, v->image.blob_len, eps, v->image.endpoint_count,
                                     v->image.isa};
        st = nub_wire_encode_image(&img, NULL, 0, &needed);
        if (st == NUB_OK) {
            *out = malloc(needed ? needed : 1);
            st = nub_wire_encode_image(&img, *out, needed, &needed);
        }
        free(eps);
    } else if (v->kind == NUB_WIRE_KIND_DATA) {
        st = nub_wire_encode_data(v->data.bytes, v->data.len, NULL, 0, &needed);
        if (st == NUB_OK) {
            *out = malloc(needed);
            st = nub_wire_encode_data(v->data.bytes, v->data.len, *out, needed, &needed);
        }
    } else {
        uint32_t n = v->instance.segment_count;
        struct nub_wire_segment *segs = calloc(n ? n : 1, sizeof *segs);
        if (segs == NULL)
            return NUB_ERR_NOMEM;
        for (uint32_t i = 0; i < n; i++)
            nub_wire_instance_segment(v, i, &segs[i]);
        struct nub_wire_instance inst;
        for (int i = 0; i < NUB_CAP_HASH_BYTES; i++)
            inst.image_hash[i] = v->instance.image_hash[i];
        inst.facts = v->instance.facts;
        inst.segments = segs;
        inst.segment_count = n;
        st = nub_wire_encode_instance(&inst, NULL, 0, &needed);
        if (st == NUB_OK) {
            *out = malloc(needed);
            st = nub_wire_encode_instance(&inst, *out, needed, &needed);
        }
        free(segs);
    }
    *out_len = needed;
    return st;
}

#endif /* WIRE_TEST_UTIL_H */
