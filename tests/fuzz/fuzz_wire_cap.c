/*
 * libFuzzer target: nub_wire_decode_cap on arbitrary bytes. Beyond "no
 * crash, no out-of-bounds read" (ASan) it checks canonicality: whatever the
 * decoder accepts re-encodes to exactly the same bytes, and every accessor
 * works on every index the view reports.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nub_wire.h"
#include "wire_test_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nub_wire_cap_view v;
    if (nub_wire_decode_cap(data, size, &v) != NUB_OK)
        return 0;
    if (v.bytes != data || v.len != size)
        abort();
    if (v.kind == NUB_WIRE_KIND_IMAGE) {
        struct nub_wire_endpoint ep;
        for (uint32_t i = 0; i < v.image.endpoint_count; i++)
            if (nub_wire_image_endpoint(&v, i, &ep) != NUB_OK)
                abort();
        if (nub_wire_image_endpoint(&v, v.image.endpoint_count, &ep) == NUB_OK)
            abort();
    } else if (v.kind == NUB_WIRE_KIND_INSTANCE) {
        struct nub_wire_segment seg;
        for (uint32_t i = 0; i < v.instance.segment_count; i++)
            if (nub_wire_instance_segment(&v, i, &seg) != NUB_OK)
                abort();
    }
    uint8_t *re;
    size_t re_len;
    if (reencode_cap(&v, &re, &re_len) != NUB_OK)
        abort();
    if (re_len != size || memcmp(re, data, size) != 0)
        abort(); /* accepted bytes that are not the canonical encoding */
    free(re);
    return 0;
}
