/*
 * libFuzzer target: nub_wire_decode_result on arbitrary bytes; whatever it
 * accepts must re-encode to exactly the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nub_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nub_invocation_result r;
    if (nub_wire_decode_result(data, size, &r) != NUB_OK)
        return 0;
    uint8_t re[NUB_WIRE_RESULT_BYTES];
    size_t re_len;
    if (nub_wire_encode_result(&r, re, sizeof re, &re_len) != NUB_OK)
        abort();
    if (re_len != size || memcmp(re, data, size) != 0)
        abort();
    return 0;
}
