/*
 * nub_wire.c — encoder and validating decoder of the wire format in
 * docs/wire-format.md. The decoder checks, in this order: header (size limit,
 * truncation, version, kind), then counts and declared lengths against the
 * limits, then the total size (truncated / trailing), then every field. All
 * size arithmetic is done in uint64_t on values bounded by the limits first,
 * so it cannot wrap.
 */
#include "nub_wire.h"

#include <stdbool.h>

#include "nub_wire_bytes.h"

/* Offsets inside the encodings (see docs/wire-format.md). */
enum {
    OFF_VERSION = 0,
    OFF_KIND = 4,

    OFF_IMAGE_ENDPOINT_COUNT = 8,
    OFF_IMAGE_BLOB_LEN = 12,
    OFF_IMAGE_ENDPOINTS = 16,
    OFF_IMAGE_V2_ISA = 16,
    OFF_IMAGE_V2_ZERO = 20,
    OFF_IMAGE_V2_ENDPOINTS = 24,

    OFF_DATA_LEN = 8,
    OFF_DATA_ZERO = 12,
    OFF_DATA_BYTES = 16,

    OFF_INST_IMAGE_HASH = 8,
    OFF_INST_DEFAULT_GAS = 40,
    OFF_INST_HEAP_START = 48,
    OFF_INST_HEAP_LIMIT = 52,
    OFF_INST_STACK_LOW = 56,
    OFF_INST_STACK_HIGH = 60,
    OFF_INST_SEGMENT_COUNT = 64,
    OFF_INST_ZERO = 68,
    OFF_INST_SEGMENTS = 72,

    SEG_ADDRESS = 0,
    SEG_LENGTH = 4,
    SEG_ACCESS = 8,
    SEG_HAS_DATA = 9,
    SEG_ZERO = 10,
    SEG_DATA_LEN = 12,
    SEG_DATA_HASH = 16,

    EP_PC = 0,
    EP_ZERO = 4,
    EP_REGS = 8,

    OFF_RES_EXIT_REASON = 8,
    OFF_RES_EXIT_ARG = 12,
    OFF_RES_RETURN_VALUE = 16,
    OFF_RES_GAS = 24,
    OFF_RES_REGS = 32,
    OFF_RES_PC = 136,
    OFF_RES_EXIT_ARG_HI = 140,
};

_Static_assert(OFF_IMAGE_ENDPOINTS == NUB_WIRE_IMAGE_FIXED_BYTES, "image fixed part");
_Static_assert(OFF_IMAGE_V2_ENDPOINTS == NUB_WIRE_IMAGE_V2_FIXED_BYTES, "image v2 fixed part");
_Static_assert(OFF_DATA_BYTES == NUB_WIRE_DATA_FIXED_BYTES, "data fixed part");
_Static_assert(OFF_INST_SEGMENTS == NUB_WIRE_INSTANCE_FIXED_BYTES, "instance fixed part");
_Static_assert(SEG_DATA_HASH + NUB_CAP_HASH_BYTES == NUB_WIRE_SEGMENT_BYTES, "segment size");
_Static_assert(EP_REGS + 8 * NUB_PVM_REGS == NUB_WIRE_ENDPOINT_BYTES, "endpoint size");
_Static_assert(OFF_RES_EXIT_ARG_HI + 4 == NUB_WIRE_RESULT_BYTES, "result size");
_Static_assert((uint64_t)NUB_WIRE_MAX_CAP_BYTES < UINT32_MAX, "limits fit in u32");

static void write_header_version(uint8_t *out, uint32_t version, uint32_t kind)
{
    nub_st32(out + OFF_VERSION, version);
    nub_st32(out + OFF_KIND, kind);
}

static void write_header(uint8_t *out, uint32_t kind)
{
    write_header_version(out, NUB_WIRE_VERSION, kind);
}

/* Common prologue of every encoder: record the size, decide whether to write. */
static nub_status reserve(uint64_t size, uint8_t *out, size_t out_cap, size_t *needed, int *write)
{
    if (needed == NULL)
        return NUB_ERR_INVALID_ARGUMENT;
    *needed = (size_t)size;
    *write = 0;
    if (out == NULL && out_cap == 0)
        return NUB_OK;
    if (out == NULL || out_cap < size)
        return NUB_ERR_PAYLOAD_TOO_LARGE;
    *write = 1;
    return NUB_OK;
}

/* ---- Segments -------------------------------------------------------- */

nub_status nub_wire_check_segment(const struct nub_wire_segment *prev,
                                  const struct nub_wire_segment *seg)
{
    if (seg == NULL)
        return NUB_ERR_INVALID_ARGUMENT;
    if (seg->access > NUB_WIRE_ACCESS_WRITE || seg->has_data > 1)
        return NUB_ERR_WIRE_NONCANONICAL;
    if (!seg->has_data && (seg->data_len != 0 || !nub_all_zero(seg->data_hash, NUB_CAP_HASH_BYTES)))
        return NUB_ERR_WIRE_NONCANONICAL;
    if (seg->address % NUB_WIRE_PAGE_BYTES != 0 || seg->length % NUB_WIRE_PAGE_BYTES != 0)
        return NUB_ERR_WIRE_UNALIGNED;
    if (seg->length == 0)
        return NUB_ERR_WIRE_NONCANONICAL;
    if (seg->address < NUB_WIRE_MIN_ADDRESS)
        return NUB_ERR_WIRE_LIMIT;
    if ((uint64_t)seg->address + seg->length > UINT64_C(0x100000000))
        return NUB_ERR_WIRE_OVERFLOW;
    if (seg->data_len > seg->length)
        return NUB_ERR_WIRE_LIMIT;
    if (prev != NULL && (uint64_t)seg->address < (uint64_t)prev->address + prev->length)
        return NUB_ERR_WIRE_OVERLAP;
    return NUB_OK;
}

static nub_status check_facts(const struct nub_wire_instance_facts *f)
{
    if (f->heap_top % NUB_WIRE_PAGE_BYTES != 0 || f->heap_limit % NUB_WIRE_PAGE_BYTES != 0 ||
        f->stack_low % NUB_WIRE_PAGE_BYTES != 0 || f->stack_high % NUB_WIRE_PAGE_BYTES != 0)
        return NUB_ERR_WIRE_UNALIGNED;
    if (f->heap_top > f->heap_limit || f->stack_low > f->stack_high)
        return NUB_ERR_WIRE_NONCANONICAL;
    return NUB_OK;
}

static void read_segment(const uint8_t *p, struct nub_wire_segment *s)
{
    s->address = nub_ld32(p + SEG_ADDRESS);
    s->length = nub_ld32(p + SEG_LENGTH);
    s->access = p[SEG_ACCESS];
    s->has_data = p[SEG_HAS_DATA];
    s->data_len = nub_ld32(p + SEG_DATA_LEN);
    nub_copy_bytes(s->data_hash, p + SEG_DATA_HASH, NUB_CAP_HASH_BYTES);
}

static void write_segment(uint8_t *p, const struct nub_wire_segment *s)
{
    nub_st32(p + SEG_ADDRESS, s->address);
    nub_st32(p + SEG_LENGTH, s->length);
    p[SEG_ACCESS] = (uint8_t)s->access;
    p[SEG_HAS_DATA] = (uint8_t)s->has_data;
    nub_st16(p + SEG_ZERO, 0);
    nub_st32(p + SEG_DATA_LEN, s->data_len);
    nub_copy_bytes(p + SEG_DATA_HASH, s->data_hash, NUB_CAP_HASH_BYTES);
}

/* ---- Decoding -------------------------------------------------------- */

static nub_status check_total(size_t len, uint64_t needed)
{
    if (needed > NUB_WIRE_MAX_CAP_BYTES)
        return NUB_ERR_WIRE_LIMIT;
    if (len < needed)
        return NUB_ERR_WIRE_TRUNCATED;
    if (len > needed)
        return NUB_ERR_WIRE_TRAILING;
    return NUB_OK;
}

/* Version 1: GP 0.7.2, no ISA field. Version 2: u32 isa, u32 zero before
 * the endpoints; isa is never GP 0.7.2 there (one program, one encoding). */
static nub_status decode_image(const uint8_t *buf, size_t len, uint32_t version,
                               struct nub_wire_cap_view *v)
{
    size_t fixed =
        version == NUB_WIRE_VERSION ? NUB_WIRE_IMAGE_FIXED_BYTES : NUB_WIRE_IMAGE_V2_FIXED_BYTES;
    if (len < fixed)
        return NUB_ERR_WIRE_TRUNCATED;
    uint32_t count = nub_ld32(buf + OFF_IMAGE_ENDPOINT_COUNT);
    uint32_t blob_len = nub_ld32(buf + OFF_IMAGE_BLOB_LEN);
    if (count == 0 || count > NUB_WIRE_MAX_ENDPOINTS)
        return NUB_ERR_WIRE_ENDPOINTS;
    if (blob_len > NUB_WIRE_MAX_BLOB_BYTES)
        return NUB_ERR_WIRE_LIMIT;
    uint64_t needed = (uint64_t)fixed + (uint64_t)count * NUB_WIRE_ENDPOINT_BYTES + blob_len;
    nub_status st = check_total(len, needed);
    if (st != NUB_OK)
        return st;
    uint32_t isa = NUB_ISA_GP_0_7_2;
    if (version != NUB_WIRE_VERSION) {
        isa = nub_ld32(buf + OFF_IMAGE_V2_ISA);
        if (isa == NUB_ISA_GP_0_7_2 || nub_ld32(buf + OFF_IMAGE_V2_ZERO) != 0)
            return NUB_ERR_WIRE_NONCANONICAL;
        if (isa >= NUB_ISA_COUNT)
            return NUB_ERR_WIRE_ISA;
    }
    const uint8_t *eps = buf + fixed;
    for (uint32_t i = 0; i < count; i++) {
        if (nub_ld32(eps + (size_t)i * NUB_WIRE_ENDPOINT_BYTES + EP_ZERO) != 0)
            return NUB_ERR_WIRE_NONCANONICAL;
    }
    v->image.endpoint_count = count;
    v->image.endpoints = eps;
    v->image.blob_len = blob_len;
    v->image.blob = eps + (size_t)count * NUB_WIRE_ENDPOINT_BYTES;
    v->image.isa = isa;
    return NUB_OK;
}

static nub_status decode_data(const uint8_t *buf, size_t len, struct nub_wire_cap_view *v)
{
    if (len < NUB_WIRE_DATA_FIXED_BYTES)
        return NUB_ERR_WIRE_TRUNCATED;
    uint32_t data_len = nub_ld32(buf + OFF_DATA_LEN);
    if (data_len > NUB_WIRE_MAX_DATA_BYTES)
        return NUB_ERR_WIRE_LIMIT;
    nub_status st = check_total(len, (uint64_t)NUB_WIRE_DATA_FIXED_BYTES + data_len);
    if (st != NUB_OK)
        return st;
    if (nub_ld32(buf + OFF_DATA_ZERO) != 0)
        return NUB_ERR_WIRE_NONCANONICAL;
    v->data.bytes = buf + OFF_DATA_BYTES;
    v->data.len = data_len;
    return NUB_OK;
}

static nub_status decode_instance(const uint8_t *buf, size_t len, struct nub_wire_cap_view *v)
{
    if (len < NUB_WIRE_INSTANCE_FIXED_BYTES)
        return NUB_ERR_WIRE_TRUNCATED;
    uint32_t count = nub_ld32(buf + OFF_INST_SEGMENT_COUNT);
    if (count > NUB_WIRE_MAX_SEGMENTS)
        return NUB_ERR_WIRE_LIMIT;
    nub_status st = check_total(len, (uint64_t)NUB_WIRE_INSTANCE_FIXED_BYTES +
                                         (uint64_t)count * NUB_WIRE_SEGMENT_BYTES);
    if (st != NUB_OK)
        return st;
    if (nub_ld32(buf + OFF_INST_ZERO) != 0)
        return NUB_ERR_WIRE_NONCANONICAL;
    struct nub_wire_instance_facts f;
    f.default_gas = nub_ld64(buf + OFF_INST_DEFAULT_GAS);
    f.heap_top = nub_ld32(buf + OFF_INST_HEAP_START);
    f.heap_limit = nub_ld32(buf + OFF_INST_HEAP_LIMIT);
    f.stack_low = nub_ld32(buf + OFF_INST_STACK_LOW);
    f.stack_high = nub_ld32(buf + OFF_INST_STACK_HIGH);
    st = check_facts(&f);
    if (st != NUB_OK)
        return st;
    const uint8_t *segs = buf + OFF_INST_SEGMENTS;
    struct nub_wire_segment prev, cur;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *p = segs + (size_t)i * NUB_WIRE_SEGMENT_BYTES;
        if (nub_ld16(p + SEG_ZERO) != 0)
            return NUB_ERR_WIRE_NONCANONICAL;
        read_segment(p, &cur);
        st = nub_wire_check_segment(i == 0 ? NULL : &prev, &cur);
        if (st != NUB_OK)
            return st;
        prev = cur;
    }
    v->instance.image_hash = buf + OFF_INST_IMAGE_HASH;
    v->instance.facts = f;
    v->instance.segment_count = count;
    v->instance.segments = segs;
    return NUB_OK;
}

nub_status nub_wire_decode_cap(const uint8_t *buf, size_t len, struct nub_wire_cap_view *view)
{
    if (view == NULL || (buf == NULL && len != 0))
        return NUB_ERR_INVALID_ARGUMENT;
    struct nub_wire_cap_view v = {0};
    if (len > NUB_WIRE_MAX_CAP_BYTES)
        return NUB_ERR_WIRE_LIMIT;
    if (len < NUB_WIRE_HEADER_BYTES)
        return NUB_ERR_WIRE_TRUNCATED;
    uint32_t version = nub_ld32(buf + OFF_VERSION);
    v.kind = nub_ld32(buf + OFF_KIND);
    if (version != NUB_WIRE_VERSION &&
        !(version == NUB_WIRE_VERSION_IMAGE_ISA && v.kind == NUB_WIRE_KIND_IMAGE))
        return NUB_ERR_WIRE_VERSION;
    v.bytes = buf;
    v.len = len;
    nub_status st;
    switch (v.kind) {
    case NUB_WIRE_KIND_IMAGE:
        st = decode_image(buf, len, version, &v);
        break;
    case NUB_WIRE_KIND_DATA:
        st = decode_data(buf, len, &v);
        break;
    case NUB_WIRE_KIND_INSTANCE:
        st = decode_instance(buf, len, &v);
        break;
    default:
        return NUB_ERR_WIRE_KIND;
    }
    if (st == NUB_OK)
        *view = v;
    return st;
}

nub_status nub_wire_image_endpoint(const struct nub_wire_cap_view *view, uint32_t i,
                                   struct nub_wire_endpoint *out)
{
    if (view == NULL || out == NULL || view->kind != NUB_WIRE_KIND_IMAGE)
        return NUB_ERR_INVALID_ARGUMENT;
    if (i >= view->image.endpoint_count)
        return NUB_ERR_BAD_ENDPOINT;
    const uint8_t *p = view->image.endpoints + (size_t)i * NUB_WIRE_ENDPOINT_BYTES;
    out->pc = nub_ld32(p + EP_PC);
    for (int r = 0; r < NUB_PVM_REGS; r++)
        out->regs[r] = nub_ld64(p + EP_REGS + 8 * r);
    return NUB_OK;
}

nub_status nub_wire_instance_segment(const struct nub_wire_cap_view *view, uint32_t i,
                                     struct nub_wire_segment *out)
{
    if (view == NULL || out == NULL || view->kind != NUB_WIRE_KIND_INSTANCE ||
        i >= view->instance.segment_count)
        return NUB_ERR_INVALID_ARGUMENT;
    read_segment(view->instance.segments + (size_t)i * NUB_WIRE_SEGMENT_BYTES, out);
    return NUB_OK;
}

/* ---- Encoding -------------------------------------------------------- */

nub_status nub_wire_encode_image(const struct nub_wire_image *image, uint8_t *out, size_t out_cap,
                                 size_t *needed)
{
    if (image == NULL || (image->blob == NULL && image->blob_len != 0) ||
        (image->endpoints == NULL && image->endpoint_count != 0))
        return NUB_ERR_INVALID_ARGUMENT;
    if (image->endpoint_count == 0 || image->endpoint_count > NUB_WIRE_MAX_ENDPOINTS)
        return NUB_ERR_WIRE_ENDPOINTS;
    if (image->blob_len > NUB_WIRE_MAX_BLOB_BYTES)
        return NUB_ERR_WIRE_LIMIT;
    if (image->isa >= NUB_ISA_COUNT)
        return NUB_ERR_WIRE_ISA;
    bool v2 = image->isa != NUB_ISA_GP_0_7_2;
    size_t fixed = v2 ? NUB_WIRE_IMAGE_V2_FIXED_BYTES : NUB_WIRE_IMAGE_FIXED_BYTES;
    uint64_t size = (uint64_t)fixed + (uint64_t)image->endpoint_count * NUB_WIRE_ENDPOINT_BYTES +
                    image->blob_len;
    if (size > NUB_WIRE_MAX_CAP_BYTES)
        return NUB_ERR_WIRE_LIMIT;
    int write;
    nub_status st = reserve(size, out, out_cap, needed, &write);
    if (st != NUB_OK || !write)
        return st;
    write_header_version(out, v2 ? NUB_WIRE_VERSION_IMAGE_ISA : NUB_WIRE_VERSION,
                         NUB_WIRE_KIND_IMAGE);
    nub_st32(out + OFF_IMAGE_ENDPOINT_COUNT, image->endpoint_count);
    nub_st32(out + OFF_IMAGE_BLOB_LEN, image->blob_len);
    if (v2) {
        nub_st32(out + OFF_IMAGE_V2_ISA, image->isa);
        nub_st32(out + OFF_IMAGE_V2_ZERO, 0);
    }
    uint8_t *p = out + fixed;
    for (uint32_t i = 0; i < image->endpoint_count; i++, p += NUB_WIRE_ENDPOINT_BYTES) {
        nub_st32(p + EP_PC, image->endpoints[i].pc);
        nub_st32(p + EP_ZERO, 0);
        for (int r = 0; r < NUB_PVM_REGS; r++)
            nub_st64(p + EP_REGS + 8 * r, image->endpoints[i].regs[r]);
    }
    nub_copy_bytes(p, image->blob, image->blob_len);
    return NUB_OK;
}

/* The common part of both DATA encoders: limit, size and the fixed fields.
 * *contents = where the data_len content bytes go, or NULL when the caller
 * only asked for the size (or on error). */
static nub_status begin_data(size_t data_len, uint8_t *out, size_t out_cap, size_t *needed,
                             uint8_t **contents)
{
    *contents = NULL;
    if (data_len > NUB_WIRE_MAX_DATA_BYTES)
        return NUB_ERR_WIRE_LIMIT;
    int write;
    nub_status st =
        reserve((uint64_t)NUB_WIRE_DATA_FIXED_BYTES + data_len, out, out_cap, needed, &write);
    if (st != NUB_OK || !write)
        return st;
    write_header(out, NUB_WIRE_KIND_DATA);
    nub_st32(out + OFF_DATA_LEN, (uint32_t)data_len);
    nub_st32(out + OFF_DATA_ZERO, 0);
    *contents = out + OFF_DATA_BYTES;
    return NUB_OK;
}

nub_status nub_wire_encode_data(const uint8_t *data, size_t data_len, uint8_t *out, size_t out_cap,
                                size_t *needed)
{
    if (data == NULL && data_len != 0)
        return NUB_ERR_INVALID_ARGUMENT;
    uint8_t *contents;
    nub_status st = begin_data(data_len, out, out_cap, needed, &contents);
    if (contents != NULL)
        nub_copy_bytes(contents, data, data_len);
    return st;
}

nub_status nub_wire_encode_data_in_place(size_t data_len, uint8_t *out, size_t out_cap,
                                         size_t *needed, uint8_t **contents)
{
    if (contents == NULL)
        return NUB_ERR_INVALID_ARGUMENT;
    nub_status st = begin_data(data_len, out, out_cap, needed, contents);
    if (*contents != NULL)
        nub_zero_bytes(*contents, data_len);
    return st;
}

nub_status nub_wire_encode_instance(const struct nub_wire_instance *instance, uint8_t *out,
                                    size_t out_cap, size_t *needed)
{
    if (instance == NULL || (instance->segments == NULL && instance->segment_count != 0))
        return NUB_ERR_INVALID_ARGUMENT;
    if (instance->segment_count > NUB_WIRE_MAX_SEGMENTS)
        return NUB_ERR_WIRE_LIMIT;
    nub_status st = check_facts(&instance->facts);
    if (st != NUB_OK)
        return st;
    for (uint32_t i = 0; i < instance->segment_count; i++) {
        st = nub_wire_check_segment(i == 0 ? NULL : &instance->segments[i - 1],
                                    &instance->segments[i]);
        if (st != NUB_OK)
            return st;
    }
    uint64_t size = (uint64_t)NUB_WIRE_INSTANCE_FIXED_BYTES +
                    (uint64_t)instance->segment_count * NUB_WIRE_SEGMENT_BYTES;
    int write;
    st = reserve(size, out, out_cap, needed, &write);
    if (st != NUB_OK || !write)
        return st;
    write_header(out, NUB_WIRE_KIND_INSTANCE);
    nub_copy_bytes(out + OFF_INST_IMAGE_HASH, instance->image_hash, NUB_CAP_HASH_BYTES);
    nub_st64(out + OFF_INST_DEFAULT_GAS, instance->facts.default_gas);
    nub_st32(out + OFF_INST_HEAP_START, instance->facts.heap_top);
    nub_st32(out + OFF_INST_HEAP_LIMIT, instance->facts.heap_limit);
    nub_st32(out + OFF_INST_STACK_LOW, instance->facts.stack_low);
    nub_st32(out + OFF_INST_STACK_HIGH, instance->facts.stack_high);
    nub_st32(out + OFF_INST_SEGMENT_COUNT, instance->segment_count);
    nub_st32(out + OFF_INST_ZERO, 0);
    for (uint32_t i = 0; i < instance->segment_count; i++)
        write_segment(out + OFF_INST_SEGMENTS + (size_t)i * NUB_WIRE_SEGMENT_BYTES,
                      &instance->segments[i]);
    return NUB_OK;
}

/* ---- Invocation results ---------------------------------------------- */

static int known_exit_reason(uint32_t r)
{
    return r <= NUB_EXIT_HOST_CALL || r == NUB_EXIT_ERROR;
}

nub_status nub_wire_encode_result(const struct nub_invocation_result *result, uint8_t *out,
                                  size_t out_cap, size_t *needed)
{
    if (result == NULL)
        return NUB_ERR_INVALID_ARGUMENT;
    if (!known_exit_reason(result->exit_reason) ||
        (result->exit_reason != NUB_EXIT_HOST_CALL && result->exit_arg > UINT32_MAX))
        return NUB_ERR_WIRE_NONCANONICAL;
    int write;
    nub_status st = reserve(NUB_WIRE_RESULT_BYTES, out, out_cap, needed, &write);
    if (st != NUB_OK || !write)
        return st;
    write_header(out, NUB_WIRE_KIND_RESULT);
    nub_st32(out + OFF_RES_EXIT_REASON, result->exit_reason);
    nub_st32(out + OFF_RES_EXIT_ARG, (uint32_t)result->exit_arg);
    nub_st64(out + OFF_RES_RETURN_VALUE, result->return_value);
    nub_st64(out + OFF_RES_GAS, result->gas_remaining);
    for (int r = 0; r < NUB_PVM_REGS; r++)
        nub_st64(out + OFF_RES_REGS + 8 * r, result->regs[r]);
    nub_st32(out + OFF_RES_PC, result->pc);
    nub_st32(out + OFF_RES_EXIT_ARG_HI, (uint32_t)(result->exit_arg >> 32));
    return NUB_OK;
}

nub_status nub_wire_decode_result(const uint8_t *buf, size_t len, struct nub_invocation_result *out)
{
    if (out == NULL || (buf == NULL && len != 0))
        return NUB_ERR_INVALID_ARGUMENT;
    if (len < NUB_WIRE_HEADER_BYTES)
        return NUB_ERR_WIRE_TRUNCATED;
    if (nub_ld32(buf + OFF_VERSION) != NUB_WIRE_VERSION)
        return NUB_ERR_WIRE_VERSION;
    if (nub_ld32(buf + OFF_KIND) != NUB_WIRE_KIND_RESULT)
        return NUB_ERR_WIRE_KIND;
    if (len < NUB_WIRE_RESULT_BYTES)
        return NUB_ERR_WIRE_TRUNCATED;
    if (len > NUB_WIRE_RESULT_BYTES)
        return NUB_ERR_WIRE_TRAILING;
    uint32_t reason = nub_ld32(buf + OFF_RES_EXIT_REASON);
    uint32_t arg_hi = nub_ld32(buf + OFF_RES_EXIT_ARG_HI);
    if (!known_exit_reason(reason) || (reason != NUB_EXIT_HOST_CALL && arg_hi != 0))
        return NUB_ERR_WIRE_NONCANONICAL;
    out->exit_reason = reason;
    out->exit_arg = (uint64_t)arg_hi << 32 | nub_ld32(buf + OFF_RES_EXIT_ARG);
    out->return_value = nub_ld64(buf + OFF_RES_RETURN_VALUE);
    out->gas_remaining = nub_ld64(buf + OFF_RES_GAS);
    for (int r = 0; r < NUB_PVM_REGS; r++)
        out->regs[r] = nub_ld64(buf + OFF_RES_REGS + 8 * r);
    out->pc = nub_ld32(buf + OFF_RES_PC);
    return NUB_OK;
}
