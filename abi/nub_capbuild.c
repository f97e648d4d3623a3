/*
 * nub_capbuild.c — standard programs and raw blobs to caps. Both builders
 * describe their segments, then share one two-pass writer: pass 1 validates
 * everything with the wire encoders' size queries and sums the sizes (so no
 * error can surface half-way through writing), pass 2 writes the DATA caps
 * (filling their contents in place), the IMAGE and the INSTANCE, hashing
 * each as it goes.
 */
#include "nub_capbuild.h"

#include "nub_blake2b.h"
#include "nub_wire_bytes.h"

/* Fills the contents of segment i (data_len bytes, pre-zeroed). */
typedef void (*fill_fn)(const void *ctx, uint32_t i, uint8_t *dst);

struct build_plan {
    const struct nub_wire_image *image;
    struct nub_wire_segment *segs; /* has_data/data_len set; hashes filled by build */
    uint32_t seg_count;
    struct nub_wire_instance_facts facts;
    fill_fn fill;
    const void *ctx;
};

static void record(struct nub_capbuild_out *out, size_t offset, size_t len, uint32_t kind)
{
    struct nub_capbuild_cap *c = &out->caps[out->cap_count++];
    c->offset = offset;
    c->len = len;
    c->kind = kind;
    nub_cap_hash_of(out->buf + offset, len, c->hash);
}

static nub_status build(const struct build_plan *plan, struct nub_capbuild_out *out)
{
    if (out == NULL)
        return NUB_ERR_INVALID_ARGUMENT;
    out->needed = 0;
    out->cap_count = 0;

    /* Pass 1: validate and size. */
    struct nub_wire_instance inst;
    nub_zero_bytes(inst.image_hash, NUB_CAP_HASH_BYTES);
    inst.facts = plan->facts;
    inst.segments = plan->segs;
    inst.segment_count = plan->seg_count;
    uint64_t total = 0;
    uint32_t count = 0;
    size_t size;
    uint8_t *contents;
    nub_status st;
    for (uint32_t i = 0; i < plan->seg_count; i++) {
        if (!plan->segs[i].has_data)
            continue;
        st = nub_wire_encode_data_in_place(plan->segs[i].data_len, NULL, 0, &size, &contents);
        if (st != NUB_OK)
            return st;
        total += size;
        count++;
    }
    st = nub_wire_encode_image(plan->image, NULL, 0, &size);
    if (st != NUB_OK)
        return st;
    total += size;
    st = nub_wire_encode_instance(&inst, NULL, 0, &size);
    if (st != NUB_OK)
        return st;
    total += size;
    count += 2;
    if (total > (uint64_t)SIZE_MAX)
        return NUB_ERR_WIRE_OVERFLOW;
    out->needed = (size_t)total;
    if (out->buf == NULL && out->buf_cap == 0) {
        out->cap_count = count;
        return NUB_OK;
    }
    if (out->buf == NULL || out->buf_cap < total || out->caps == NULL || out->caps_cap < count)
        return NUB_ERR_PAYLOAD_TOO_LARGE;

    /* Pass 2: write and hash, dependencies first. */
    size_t pos = 0;
    for (uint32_t i = 0; i < plan->seg_count; i++) {
        struct nub_wire_segment *seg = &plan->segs[i];
        if (!seg->has_data)
            continue;
        st = nub_wire_encode_data_in_place(seg->data_len, out->buf + pos, out->buf_cap - pos, &size,
                                           &contents);
        if (st != NUB_OK)
            return st;
        plan->fill(plan->ctx, i, contents);
        record(out, pos, size, NUB_WIRE_KIND_DATA);
        nub_copy_bytes(seg->data_hash, out->caps[out->cap_count - 1].hash, NUB_CAP_HASH_BYTES);
        pos += size;
    }
    st = nub_wire_encode_image(plan->image, out->buf + pos, out->buf_cap - pos, &size);
    if (st != NUB_OK)
        return st;
    record(out, pos, size, NUB_WIRE_KIND_IMAGE);
    nub_copy_bytes(inst.image_hash, out->caps[out->cap_count - 1].hash, NUB_CAP_HASH_BYTES);
    pos += size;
    st = nub_wire_encode_instance(&inst, out->buf + pos, out->buf_cap - pos, &size);
    if (st != NUB_OK)
        return st;
    record(out, pos, size, NUB_WIRE_KIND_INSTANCE);
    return NUB_OK;
}

static void set_segment(struct nub_wire_segment *s, uint32_t address, uint32_t length,
                        uint32_t access, uint32_t data_len)
{
    s->address = address;
    s->length = length;
    s->access = access;
    s->has_data = data_len > 0;
    s->data_len = data_len;
    nub_zero_bytes(s->data_hash, NUB_CAP_HASH_BYTES);
}

/* ---- (a) standard programs ------------------------------------------ */

static uint64_t page_round(uint64_t x)
{
    return (x + NUB_STDPROG_PAGE - 1) & ~(uint64_t)(NUB_STDPROG_PAGE - 1);
}

static uint64_t zone_round(uint64_t x)
{
    return (x + NUB_STDPROG_ZONE - 1) & ~(uint64_t)(NUB_STDPROG_ZONE - 1);
}

static uint32_t ld24(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}

nub_status nub_stdprog_parse(const uint8_t *prog, size_t prog_len, struct nub_stdprog *out)
{
    if (out == NULL || (prog == NULL && prog_len != 0))
        return NUB_ERR_INVALID_ARGUMENT;
    const size_t fixed = 3 + 3 + 2 + 3;
    if (prog_len < fixed)
        return NUB_ERR_PROGRAM_INVALID;
    struct nub_stdprog sp;
    sp.ro_len = ld24(prog);
    sp.rw_len = ld24(prog + 3);
    sp.heap_pages = nub_ld16(prog + 6);
    sp.stack_size = ld24(prog + 8);
    size_t pos = fixed;
    /* Each step checks the remaining length before advancing. */
    if (prog_len - pos < sp.ro_len)
        return NUB_ERR_PROGRAM_INVALID;
    sp.ro = prog + pos;
    pos += sp.ro_len;
    if (prog_len - pos < sp.rw_len)
        return NUB_ERR_PROGRAM_INVALID;
    sp.rw = prog + pos;
    pos += sp.rw_len;
    if (prog_len - pos < 4)
        return NUB_ERR_PROGRAM_INVALID;
    sp.blob_len = nub_ld32(prog + pos);
    pos += 4;
    if (prog_len - pos != sp.blob_len)
        return NUB_ERR_PROGRAM_INVALID; /* short, or not consumed exactly */
    sp.blob = prog + pos;
    uint64_t need = 5 * (uint64_t)NUB_STDPROG_ZONE + zone_round(sp.ro_len) +
                    zone_round((uint64_t)sp.rw_len + (uint64_t)sp.heap_pages * NUB_STDPROG_PAGE) +
                    zone_round(sp.stack_size) + NUB_STDPROG_MAX_ARGS;
    if (need > UINT64_C(0x100000000))
        return NUB_ERR_PROGRAM_INVALID;
    *out = sp;
    return NUB_OK;
}

/* Segment i's contents come from a plain pointer: a fill that knows lengths. */
struct stdprog_ctx {
    const uint8_t *src[4];
    uint32_t len[4];
};

static void fill_from_pointer(const void *ctx, uint32_t i, uint8_t *dst)
{
    const struct stdprog_ctx *c = ctx;
    nub_copy_bytes(dst, c->src[i], c->len[i]);
}

/* GP's general natural number (Appendix C) at b[*at..len); 0 if truncated. */
static int read_natural(const uint8_t *b, uint32_t len, uint32_t *at, uint64_t *value)
{
    if (*at >= len)
        return 0;
    uint8_t first = b[(*at)++];
    unsigned l = 0;
    while (l < 8 && (first & (0x80u >> l)))
        l++;
    if (len - *at < l)
        return 0;
    uint64_t v = 0;
    for (unsigned i = 0; i < l; i++)
        v |= (uint64_t)b[*at + i] << (8 * i);
    if (l < 8)
        v |= (uint64_t)(first & ((1u << (7 - l)) - 1)) << (8 * l);
    *at += l;
    *value = v;
    return 1;
}

uint32_t nub_stdprog_endpoint_count(const uint8_t *blob, uint32_t blob_len)
{
    /* SPEC §4: E(|j|) ++ E1(z) ++ E(|c|) ++ E_z(j) ++ c ++ bitmask(k) */
    uint32_t at = 0;
    uint64_t jump_len, code_len;
    if (!blob || !read_natural(blob, blob_len, &at, &jump_len) || at >= blob_len)
        return 2;
    uint64_t z = blob[at++];
    if (!read_natural(blob, blob_len, &at, &code_len) || jump_len > blob_len || z > 4 ||
        jump_len * z > blob_len - at)
        return 2;
    at += (uint32_t)(jump_len * z);
    if (code_len > blob_len - at || (code_len + 7) / 8 > blob_len - at - code_len)
        return 2;
    const uint8_t *code = blob + at, *mask = code + code_len;
    uint32_t n = 2;
    while (n < NUB_STDPROG_MAX_ENDPOINTS) {
        uint64_t pc = 5 * (uint64_t)n;
        if (pc + 5 > code_len || code[pc] != 40 /* jump */)
            break;
        int ok = 1;
        for (uint64_t i = pc; i <= pc + 5 && i < code_len; i++) {
            int start = (mask[i / 8] >> (i % 8)) & 1;
            if (start != (i == pc || i == pc + 5))
                ok = 0;
        }
        if (!ok)
            break;
        n++;
    }
    return n;
}

nub_status nub_capbuild_stdprog(const uint8_t *prog, size_t prog_len, const uint8_t *args,
                                size_t args_len, uint64_t default_gas, struct nub_capbuild_out *out)
{
    return nub_capbuild_stdprog_isa(prog, prog_len, args, args_len, default_gas, NUB_ISA_GP_0_7_2,
                                    out);
}

nub_status nub_capbuild_stdprog_isa(const uint8_t *prog, size_t prog_len, const uint8_t *args,
                                    size_t args_len, uint64_t default_gas, uint32_t isa,
                                    struct nub_capbuild_out *out)
{
    if (out == NULL || (args == NULL && args_len != 0))
        return NUB_ERR_INVALID_ARGUMENT;
    struct nub_stdprog sp;
    nub_status st = nub_stdprog_parse(prog, prog_len, &sp);
    if (st != NUB_OK)
        return st;
    if (args_len > NUB_STDPROG_MAX_ARGS)
        return NUB_ERR_PROGRAM_INVALID;

    struct nub_wire_segment segs[4];
    struct stdprog_ctx ctx;
    uint32_t n = 0;
    uint64_t ro_pages = page_round(sp.ro_len);
    if (ro_pages > 0) {
        set_segment(&segs[n], NUB_STDPROG_RO_BASE, (uint32_t)ro_pages, NUB_WIRE_ACCESS_READ,
                    sp.ro_len);
        ctx.src[n] = sp.ro;
        ctx.len[n++] = sp.ro_len;
    }
    uint64_t rw_base = 2 * (uint64_t)NUB_STDPROG_ZONE + zone_round(sp.ro_len);
    uint64_t rw_pages = page_round(sp.rw_len) + (uint64_t)sp.heap_pages * NUB_STDPROG_PAGE;
    if (rw_pages > 0) {
        set_segment(&segs[n], (uint32_t)rw_base, (uint32_t)rw_pages, NUB_WIRE_ACCESS_WRITE,
                    sp.rw_len);
        ctx.src[n] = sp.rw;
        ctx.len[n++] = sp.rw_len;
    }
    uint64_t stack_pages = page_round(sp.stack_size);
    uint32_t stack_low = (uint32_t)(NUB_STDPROG_STACK_TOP - stack_pages);
    if (stack_pages > 0) {
        set_segment(&segs[n], stack_low, (uint32_t)stack_pages, NUB_WIRE_ACCESS_WRITE, 0);
        ctx.src[n] = NULL;
        ctx.len[n++] = 0;
    }
    uint64_t args_pages = page_round(args_len);
    if (args_pages > 0) {
        set_segment(&segs[n], NUB_STDPROG_ARGS_BASE, (uint32_t)args_pages, NUB_WIRE_ACCESS_READ,
                    (uint32_t)args_len);
        ctx.src[n] = args;
        ctx.len[n++] = (uint32_t)args_len;
    }

    struct nub_wire_endpoint eps[NUB_STDPROG_MAX_ENDPOINTS];
    uint32_t ep_count = nub_stdprog_endpoint_count(sp.blob, sp.blob_len);
    for (uint32_t e = 0; e < ep_count; e++) {
        eps[e].pc = 5 * e;
        for (int r = 0; r < NUB_PVM_REGS; r++)
            eps[e].regs[r] = 0;
        eps[e].regs[0] = NUB_STDPROG_HALT_ADDR;
        eps[e].regs[1] = NUB_STDPROG_STACK_TOP;
        eps[e].regs[7] = NUB_STDPROG_ARGS_BASE;
        eps[e].regs[8] = args_len;
    }
    struct nub_wire_image image = {sp.blob, sp.blob_len, eps, ep_count, isa};

    struct build_plan plan;
    plan.image = &image;
    plan.segs = segs;
    plan.seg_count = n;
    plan.facts.default_gas = default_gas;
    plan.facts.heap_top = (uint32_t)(rw_base + rw_pages);
    plan.facts.heap_limit = stack_low - NUB_STDPROG_ZONE;
    plan.facts.stack_low = stack_low;
    plan.facts.stack_high = NUB_STDPROG_STACK_TOP;
    plan.fill = fill_from_pointer;
    plan.ctx = &ctx;
    return build(&plan, out);
}

/* ---- (b) raw blobs --------------------------------------------------- */

/* The part of chunk c inside segment s, as [*lo, *hi) addresses (lo == hi: none). */
static void intersect(const struct nub_capbuild_chunk *c, const struct nub_wire_segment *s,
                      uint64_t *lo, uint64_t *hi)
{
    uint64_t c_end = (uint64_t)c->address + c->len;
    uint64_t s_end = (uint64_t)s->address + s->length;
    *lo = c->address > s->address ? c->address : s->address;
    *hi = c_end < s_end ? c_end : s_end;
    if (*hi < *lo)
        *hi = *lo;
}

struct raw_ctx {
    const struct nub_capbuild_raw *prog;
    const struct nub_wire_segment *segs;
};

static void fill_from_chunks(const void *ctx, uint32_t i, uint8_t *dst)
{
    const struct raw_ctx *c = ctx;
    const struct nub_wire_segment *s = &c->segs[i];
    for (uint32_t k = 0; k < c->prog->chunk_count; k++) {
        const struct nub_capbuild_chunk *ch = &c->prog->chunks[k];
        uint64_t lo, hi;
        intersect(ch, s, &lo, &hi);
        if (hi > lo)
            nub_copy_bytes(dst + (lo - s->address), ch->bytes + (lo - ch->address), hi - lo);
    }
}

nub_status nub_capbuild_raw(const struct nub_capbuild_raw *prog, struct nub_capbuild_out *out)
{
    if (prog == NULL || out == NULL || (prog->ranges == NULL && prog->range_count != 0) ||
        (prog->chunks == NULL && prog->chunk_count != 0))
        return NUB_ERR_INVALID_ARGUMENT;
    if (prog->range_count > NUB_CAPBUILD_MAX_RAW_SEGMENTS)
        return NUB_ERR_WIRE_LIMIT;
    struct nub_wire_segment segs[NUB_CAPBUILD_MAX_RAW_SEGMENTS];
    for (uint32_t i = 0; i < prog->range_count; i++) {
        const struct nub_capbuild_range *r = &prog->ranges[i];
        set_segment(&segs[i], r->address, r->length, r->access, 0);
        nub_status st = nub_wire_check_segment(i == 0 ? NULL : &segs[i - 1], &segs[i]);
        if (st != NUB_OK)
            return st;
    }
    for (uint32_t k = 0; k < prog->chunk_count; k++) {
        const struct nub_capbuild_chunk *ch = &prog->chunks[k];
        if (ch->bytes == NULL && ch->len != 0)
            return NUB_ERR_INVALID_ARGUMENT;
        if ((uint64_t)ch->address + ch->len > UINT64_C(0x100000000))
            return NUB_ERR_WIRE_OVERFLOW;
        uint64_t covered = 0;
        for (uint32_t i = 0; i < prog->range_count; i++) {
            uint64_t lo, hi;
            intersect(ch, &segs[i], &lo, &hi);
            if (hi > lo) {
                covered += hi - lo;
                uint32_t end = (uint32_t)(hi - segs[i].address);
                if (end > segs[i].data_len) {
                    segs[i].data_len = end;
                    segs[i].has_data = 1;
                }
            }
        }
        if (covered != ch->len)
            return NUB_ERR_INVALID_ARGUMENT; /* bytes outside every range */
    }

    struct nub_wire_endpoint ep;
    ep.pc = prog->pc;
    for (int r = 0; r < NUB_PVM_REGS; r++)
        ep.regs[r] = prog->regs[r];
    struct nub_wire_image image = {prog->blob, prog->blob_len, &ep, 1, prog->isa};
    struct raw_ctx ctx = {prog, segs};
    struct build_plan plan;
    plan.image = &image;
    plan.segs = segs;
    plan.seg_count = prog->range_count;
    plan.facts.default_gas = prog->default_gas;
    plan.facts.heap_top = prog->heap_top;
    plan.facts.heap_limit = prog->heap_limit < prog->heap_top ? prog->heap_top : prog->heap_limit;
    plan.facts.stack_low = 0;
    plan.facts.stack_high = 0;
    plan.fill = fill_from_chunks;
    plan.ctx = &ctx;
    return build(&plan, out);
}
