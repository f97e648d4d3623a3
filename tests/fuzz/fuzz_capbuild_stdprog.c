/*
 * libFuzzer target: the standard-program -> caps converter on arbitrary
 * containers. The first input byte picks the argument length (0..255 bytes
 * taken from the input's tail); the rest is the Y container. Whatever it
 * builds must decode cap by cap, hash to the recorded hashes, and the
 * INSTANCE must name the IMAGE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nub_blake2b.h"
#include "nub_capbuild.h"
#include "nub_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t args_len = data[0];
    data++;
    size--;
    if (args_len > size)
        args_len = size;
    const uint8_t *args = data + size - args_len;
    size_t prog_len = size - args_len;

    struct nub_capbuild_out out;
    memset(&out, 0, sizeof out);
    nub_status st = nub_capbuild_stdprog(data, prog_len, args, args_len, 1000, &out);
    if (st != NUB_OK)
        return 0;
    size_t needed = out.needed;
    uint32_t count = out.cap_count;
    if (count < 2 || count > NUB_CAPBUILD_MAX_CAPS)
        abort();
    out.buf = malloc(needed);
    out.buf_cap = needed;
    out.caps = calloc(count, sizeof *out.caps);
    out.caps_cap = count;
    if (nub_capbuild_stdprog(data, prog_len, args, args_len, 1000, &out) != NUB_OK ||
        out.needed != needed || out.cap_count != count)
        abort();
    size_t pos = 0;
    struct nub_wire_cap_view v;
    for (uint32_t i = 0; i < count; i++) {
        const struct nub_capbuild_cap *c = &out.caps[i];
        if (c->offset != pos || nub_wire_decode_cap(out.buf + c->offset, c->len, &v) != NUB_OK ||
            v.kind != c->kind)
            abort();
        nub_cap_hash h;
        nub_cap_hash_of(out.buf + c->offset, c->len, h);
        if (memcmp(h, c->hash, sizeof h) != 0)
            abort();
        pos += c->len;
    }
    if (pos != needed || v.kind != NUB_WIRE_KIND_INSTANCE ||
        memcmp(v.instance.image_hash, out.caps[count - 2].hash, NUB_CAP_HASH_BYTES) != 0)
        abort();
    free(out.buf);
    free(out.caps);
    return 0;
}
