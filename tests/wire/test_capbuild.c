/*
 * Cap builder tests: a JAM standard program and a raw blob with explicit
 * memory are turned into caps; every cap must decode, hash to the recorded
 * hash, and describe exactly the SPEC §11 layout / the given memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nub_blake2b.h"
#include "nub_capbuild.h"
#include "nub_wire.h"

static const uint8_t code_blob[] = {0x00, 0x00, 0x03, 0xbe, 0x87, 0x09, 0x01};

/* A Y container (SPEC §11.1) built field by field. */
static size_t make_stdprog(uint8_t *out, const uint8_t *ro, uint32_t ro_len, const uint8_t *rw,
                           uint32_t rw_len, uint16_t heap_pages, uint32_t stack,
                           const uint8_t *blob, uint32_t blob_len)
{
    size_t p = 0;
    for (int i = 0; i < 3; i++)
        out[p++] = (uint8_t)(ro_len >> (8 * i));
    for (int i = 0; i < 3; i++)
        out[p++] = (uint8_t)(rw_len >> (8 * i));
    out[p++] = (uint8_t)heap_pages;
    out[p++] = (uint8_t)(heap_pages >> 8);
    for (int i = 0; i < 3; i++)
        out[p++] = (uint8_t)(stack >> (8 * i));
    if (ro_len > 0)
        memcpy(out + p, ro, ro_len);
    p += ro_len;
    if (rw_len > 0)
        memcpy(out + p, rw, rw_len);
    p += rw_len;
    for (int i = 0; i < 4; i++)
        out[p++] = (uint8_t)(blob_len >> (8 * i));
    memcpy(out + p, blob, blob_len);
    return p + blob_len;
}

/* Builds with a size query first, into exactly-sized buffers. */
struct built {
    uint8_t *buf;
    struct nub_capbuild_cap *caps;
    struct nub_capbuild_out out;
};

/* After a sizing call: buffers of exactly the sizes it reported. */
static void give_needed_space(struct built *b)
{
    b->buf = malloc(b->out.needed);
    b->caps = calloc(b->out.cap_count, sizeof *b->caps);
    b->out.buf = b->buf;
    b->out.buf_cap = b->out.needed;
    b->out.caps = b->caps;
    b->out.caps_cap = b->out.cap_count;
}

static nub_status build_stdprog(const uint8_t *prog, size_t len, const uint8_t *args,
                                size_t args_len, struct built *b)
{
    memset(b, 0, sizeof *b);
    nub_status st = nub_capbuild_stdprog(prog, len, args, args_len, 777, &b->out);
    if (st != NUB_OK)
        return st;
    give_needed_space(b);
    return nub_capbuild_stdprog(prog, len, args, args_len, 777, &b->out);
}

static nub_status build_raw(const struct nub_capbuild_raw *prog, struct built *b)
{
    memset(b, 0, sizeof *b);
    nub_status st = nub_capbuild_raw(prog, &b->out);
    if (st != NUB_OK)
        return st;
    give_needed_space(b);
    return nub_capbuild_raw(prog, &b->out);
}

static void free_built(struct built *b)
{
    free(b->buf);
    free(b->caps);
}

/* Every cap decodes, is contiguous, hashes to its record; returns views. */
static void check_caps(const struct built *b, struct nub_wire_cap_view *views)
{
    size_t pos = 0;
    assert_true(b->out.cap_count >= 2);
    for (uint32_t i = 0; i < b->out.cap_count; i++) {
        const struct nub_capbuild_cap *c = &b->caps[i];
        assert_int_equal(c->offset, pos);
        assert_int_equal(nub_wire_decode_cap(b->buf + c->offset, c->len, &views[i]), NUB_OK);
        assert_int_equal(views[i].kind, c->kind);
        nub_cap_hash h;
        nub_cap_hash_of(b->buf + c->offset, c->len, h);
        assert_memory_equal(h, c->hash, NUB_CAP_HASH_BYTES);
        pos += c->len;
    }
    assert_int_equal(pos, b->out.needed);
    assert_int_equal(b->caps[b->out.cap_count - 1].kind, NUB_WIRE_KIND_INSTANCE);
    assert_int_equal(b->caps[b->out.cap_count - 2].kind, NUB_WIRE_KIND_IMAGE);
    /* The INSTANCE names the IMAGE. */
    assert_memory_equal(views[b->out.cap_count - 1].instance.image_hash,
                        b->caps[b->out.cap_count - 2].hash, NUB_CAP_HASH_BYTES);
}

static void check_segment(const struct nub_wire_cap_view *inst, uint32_t i, uint32_t address,
                          uint32_t length, uint32_t access, const struct nub_capbuild_cap *data,
                          const struct nub_wire_cap_view *data_view, const uint8_t *contents,
                          uint32_t contents_len)
{
    struct nub_wire_segment s;
    assert_int_equal(nub_wire_instance_segment(inst, i, &s), NUB_OK);
    assert_int_equal(s.address, address);
    assert_int_equal(s.length, length);
    assert_int_equal(s.access, access);
    if (data == NULL) {
        assert_int_equal(s.has_data, 0);
        return;
    }
    assert_int_equal(s.has_data, 1);
    assert_int_equal(s.data_len, contents_len);
    assert_memory_equal(s.data_hash, data->hash, NUB_CAP_HASH_BYTES);
    assert_int_equal(data_view->data.len, contents_len);
    assert_memory_equal(data_view->data.bytes, contents, contents_len);
}

static void test_stdprog_layout(void **state)
{
    (void)state;
    static uint8_t prog[16384];
    static uint8_t rw[5000];
    const uint8_t ro[] = "RODATA";
    const uint8_t args[] = {'A', 'R', 'G', 'S'};
    for (size_t i = 0; i < sizeof rw; i++)
        rw[i] = (uint8_t)(i * 31 + 7);
    size_t len = make_stdprog(prog, ro, 6, rw, sizeof rw, 3, 0x3005, code_blob, sizeof code_blob);

    struct nub_stdprog sp;
    assert_int_equal(nub_stdprog_parse(prog, len, &sp), NUB_OK);
    assert_int_equal(sp.ro_len, 6);
    assert_int_equal(sp.rw_len, sizeof rw);
    assert_int_equal(sp.heap_pages, 3);
    assert_int_equal(sp.stack_size, 0x3005);
    assert_int_equal(sp.blob_len, sizeof code_blob);
    assert_ptr_equal(sp.blob, prog + len - sizeof code_blob);

    struct built b;
    assert_int_equal(build_stdprog(prog, len, args, sizeof args, &b), NUB_OK);
    assert_int_equal(b.out.cap_count, 5); /* DATA ro, DATA rw, DATA args, IMAGE, INSTANCE */
    struct nub_wire_cap_view v[5];
    check_caps(&b, v);
    const struct nub_wire_cap_view *inst = &v[4];
    assert_int_equal(inst->instance.segment_count, 4);
    check_segment(inst, 0, 0x10000, 0x1000, NUB_WIRE_ACCESS_READ, &b.caps[0], &v[0], ro, 6);
    check_segment(inst, 1, 0x30000, 0x2000 + 3 * 0x1000, NUB_WIRE_ACCESS_WRITE, &b.caps[1], &v[1],
                  rw, sizeof rw);
    check_segment(inst, 2, 0xFEFDC000, 0x4000, NUB_WIRE_ACCESS_WRITE, NULL, NULL, NULL, 0);
    check_segment(inst, 3, 0xFEFF0000, 0x1000, NUB_WIRE_ACCESS_READ, &b.caps[2], &v[2], args,
                  sizeof args);
    assert_int_equal(inst->instance.facts.default_gas, 777);
    assert_int_equal(inst->instance.facts.heap_top, 0x35000);
    assert_int_equal(inst->instance.facts.heap_limit, 0xFEFCC000);
    assert_int_equal(inst->instance.facts.stack_low, 0xFEFDC000);
    assert_int_equal(inst->instance.facts.stack_high, 0xFEFE0000);

    const struct nub_wire_cap_view *img = &v[3];
    assert_int_equal(img->image.blob_len, sizeof code_blob);
    assert_memory_equal(img->image.blob, code_blob, sizeof code_blob);
    assert_int_equal(img->image.endpoint_count, 2);
    for (uint32_t e = 0; e < 2; e++) {
        struct nub_wire_endpoint ep;
        assert_int_equal(nub_wire_image_endpoint(img, e, &ep), NUB_OK);
        assert_int_equal(ep.pc, e == NUB_STDPROG_ENTRY_REFINE ? 0 : 5);
        for (int r = 0; r < NUB_PVM_REGS; r++) {
            uint64_t want = 0;
            if (r == 0)
                want = 0xFFFF0000;
            else if (r == 1)
                want = 0xFEFE0000;
            else if (r == 7)
                want = 0xFEFF0000;
            else if (r == 8)
                want = sizeof args;
            assert_int_equal(ep.regs[r], want);
        }
    }

    /* Deterministic: same input, same bytes and hashes. */
    struct built again;
    assert_int_equal(build_stdprog(prog, len, args, sizeof args, &again), NUB_OK);
    assert_int_equal(again.out.needed, b.out.needed);
    assert_memory_equal(again.buf, b.buf, b.out.needed);
    free_built(&again);
    free_built(&b);
}

/* ro in a second zone: rw starts at 0x20000 + zone_round(ro_len). */
static void test_stdprog_rw_base_follows_ro_zones(void **state)
{
    (void)state;
    static uint8_t prog[0x20000], ro[0x10001];
    memset(ro, 0x5A, sizeof ro);
    const uint8_t rw[1] = {9};
    size_t len = make_stdprog(prog, ro, sizeof ro, rw, 1, 0, 0, code_blob, sizeof code_blob);
    struct built b;
    assert_int_equal(build_stdprog(prog, len, NULL, 0, &b), NUB_OK);
    assert_int_equal(b.out.cap_count, 4);
    struct nub_wire_cap_view v[4];
    check_caps(&b, v);
    check_segment(&v[3], 0, 0x10000, 0x11000, NUB_WIRE_ACCESS_READ, &b.caps[0], &v[0], ro,
                  sizeof ro);
    check_segment(&v[3], 1, 0x40000, 0x1000, NUB_WIRE_ACCESS_WRITE, &b.caps[1], &v[1], rw, 1);
    assert_int_equal(v[3].instance.segment_count, 2);
    assert_int_equal(v[3].instance.facts.heap_top, 0x41000);
    assert_int_equal(v[3].instance.facts.stack_low, 0xFEFE0000);
    free_built(&b);
}

static void test_stdprog_empty_sections(void **state)
{
    (void)state;
    uint8_t prog[64];
    size_t len = make_stdprog(prog, NULL, 0, NULL, 0, 0, 0, code_blob, sizeof code_blob);
    struct built b;
    assert_int_equal(build_stdprog(prog, len, NULL, 0, &b), NUB_OK);
    assert_int_equal(b.out.cap_count, 2);
    struct nub_wire_cap_view v[2];
    check_caps(&b, v);
    assert_int_equal(v[1].instance.segment_count, 0);
    free_built(&b);

    /* Heap pages alone still give a W segment (no DATA). */
    len = make_stdprog(prog, NULL, 0, NULL, 0, 2, 0, code_blob, sizeof code_blob);
    assert_int_equal(build_stdprog(prog, len, NULL, 0, &b), NUB_OK);
    assert_int_equal(b.out.cap_count, 2);
    check_caps(&b, v);
    check_segment(&v[1], 0, 0x20000, 0x2000, NUB_WIRE_ACCESS_WRITE, NULL, NULL, NULL, 0);
    free_built(&b);
}

static void test_stdprog_rejections(void **state)
{
    (void)state;
    uint8_t prog[128];
    const uint8_t ro[3] = {1, 2, 3};
    size_t len = make_stdprog(prog, ro, 3, NULL, 0, 0, 16, code_blob, sizeof code_blob);
    struct nub_stdprog sp;
    struct nub_capbuild_out out = {0};
    assert_int_equal(nub_stdprog_parse(prog, len, &sp), NUB_OK);
    for (size_t k = 0; k < len; k++)
        assert_int_equal(nub_stdprog_parse(prog, k, &sp), NUB_ERR_PROGRAM_INVALID);
    prog[len] = 0;
    assert_int_equal(nub_stdprog_parse(prog, len + 1, &sp), NUB_ERR_PROGRAM_INVALID);
    prog[0] = 200; /* ro_len past the end */
    assert_int_equal(nub_stdprog_parse(prog, len, &sp), NUB_ERR_PROGRAM_INVALID);
    prog[0] = 3;
    prog[3] = 100; /* rw_len past the end */
    assert_int_equal(nub_stdprog_parse(prog, len, &sp), NUB_ERR_PROGRAM_INVALID);
    prog[3] = 0;
    prog[11 + 3] = 0xFF; /* code_len's low byte */
    assert_int_equal(nub_stdprog_parse(prog, len, &sp), NUB_ERR_PROGRAM_INVALID);
    prog[11 + 3] = sizeof code_blob;
    prog[11 + 3 + 3] = 0x80; /* code_len = 2^31 + 7 */
    assert_int_equal(nub_stdprog_parse(prog, len, &sp), NUB_ERR_PROGRAM_INVALID);
    prog[11 + 3 + 3] = 0;
    assert_int_equal(nub_stdprog_parse(prog, len, &sp), NUB_OK);

    assert_int_equal(nub_capbuild_stdprog(prog, len - 1, NULL, 0, 0, &out),
                     NUB_ERR_PROGRAM_INVALID);
    assert_int_equal(nub_capbuild_stdprog(prog, len, NULL, 1, 0, &out), NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub_capbuild_stdprog(prog, len, NULL, 0, 0, NULL), NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub_stdprog_parse(NULL, 3, &sp), NUB_ERR_INVALID_ARGUMENT);
    /* Arguments longer than ZI = 16 MiB. */
    uint8_t *big = calloc(NUB_STDPROG_MAX_ARGS + 1, 1);
    assert_int_equal(nub_capbuild_stdprog(prog, len, big, NUB_STDPROG_MAX_ARGS + 1, 0, &out),
                     NUB_ERR_PROGRAM_INVALID);
    free(big);
}

static void test_buffer_protocol(void **state)
{
    (void)state;
    uint8_t prog[64];
    const uint8_t ro[3] = {1, 2, 3};
    size_t len = make_stdprog(prog, ro, 3, NULL, 0, 0, 16, code_blob, sizeof code_blob);
    struct nub_capbuild_out out = {0};
    assert_int_equal(nub_capbuild_stdprog(prog, len, NULL, 0, 5, &out), NUB_OK);
    assert_int_equal(out.cap_count, 3);
    size_t needed = out.needed;
    assert_int_equal(needed, (16 + 3) + (16 + 112 * 2 + sizeof code_blob) + (72 + 2 * 48));

    uint8_t *buf = malloc(needed);
    struct nub_capbuild_cap caps[3];
    out.buf = buf;
    out.buf_cap = needed - 1;
    out.caps = caps;
    out.caps_cap = 3;
    assert_int_equal(nub_capbuild_stdprog(prog, len, NULL, 0, 5, &out), NUB_ERR_PAYLOAD_TOO_LARGE);
    assert_int_equal(out.needed, needed);
    out.buf_cap = needed;
    out.caps_cap = 2;
    assert_int_equal(nub_capbuild_stdprog(prog, len, NULL, 0, 5, &out), NUB_ERR_PAYLOAD_TOO_LARGE);
    out.caps = NULL;
    out.caps_cap = 3;
    assert_int_equal(nub_capbuild_stdprog(prog, len, NULL, 0, 5, &out), NUB_ERR_PAYLOAD_TOO_LARGE);
    out.caps = caps;
    assert_int_equal(nub_capbuild_stdprog(prog, len, NULL, 0, 5, &out), NUB_OK);
    assert_int_equal(out.cap_count, 3);
    free(buf);
}

/* The shape of conformance vector riscv_rv64ui_lb: two ranges, scattered bytes. */
static void test_raw_vector_shape(void **state)
{
    (void)state;
    const struct nub_capbuild_range ranges[2] = {
        {0x10000, 0x1000, NUB_WIRE_ACCESS_READ},
        {0x30000, 0x1000, NUB_WIRE_ACCESS_WRITE},
    };
    const uint8_t b1[1] = {0xFF}, b2[1] = {0x0F}, b3[1] = {0xAA}, b4[2] = {0x12, 0x34};
    const struct nub_capbuild_chunk chunks[4] = {
        {0x10002, 1, b1},
        {0x10008, 1, b2},
        {0x30000, 1, b3},
        {0x30002, 2, b4},
    };
    struct nub_capbuild_raw prog = {0};
    prog.blob = code_blob;
    prog.blob_len = sizeof code_blob;
    prog.pc = 13;
    for (int r = 0; r < NUB_PVM_REGS; r++)
        prog.regs[r] = (uint64_t)r * 1000;
    prog.ranges = ranges;
    prog.range_count = 2;
    prog.chunks = chunks;
    prog.chunk_count = 4;
    prog.default_gas = 10000;

    struct built b;
    assert_int_equal(build_raw(&prog, &b), NUB_OK);
    assert_int_equal(b.out.cap_count, 4);
    struct nub_wire_cap_view v[4];
    check_caps(&b, v);
    const uint8_t want0[9] = {0, 0, 0xFF, 0, 0, 0, 0, 0, 0x0F};
    const uint8_t want1[4] = {0xAA, 0, 0x12, 0x34};
    check_segment(&v[3], 0, 0x10000, 0x1000, NUB_WIRE_ACCESS_READ, &b.caps[0], &v[0], want0, 9);
    check_segment(&v[3], 1, 0x30000, 0x1000, NUB_WIRE_ACCESS_WRITE, &b.caps[1], &v[1], want1, 4);
    struct nub_wire_endpoint ep;
    assert_int_equal(v[2].image.endpoint_count, 1);
    assert_int_equal(nub_wire_image_endpoint(&v[2], 0, &ep), NUB_OK);
    assert_int_equal(ep.pc, 13);
    assert_memory_equal(ep.regs, prog.regs, sizeof ep.regs);
    assert_int_equal(v[3].instance.facts.default_gas, 10000);
    assert_int_equal(v[3].instance.facts.heap_top, 0);
    assert_int_equal(v[3].instance.facts.stack_high, 0);
    free_built(&b);
}

static void test_raw_chunks_split_and_overwrite(void **state)
{
    (void)state;
    /* Two adjacent ranges and a third with no initial bytes. */
    const struct nub_capbuild_range ranges[3] = {
        {0x20000, 0x1000, NUB_WIRE_ACCESS_WRITE},
        {0x21000, 0x1000, NUB_WIRE_ACCESS_READ},
        {0x40000, 0x1000, NUB_WIRE_ACCESS_NONE},
    };
    const uint8_t span[4] = {1, 2, 3, 4}, over[1] = {9};
    const struct nub_capbuild_chunk chunks[2] = {
        {0x20FFE, 4, span}, /* 2 bytes in each of the first two ranges */
        {0x20FFF, 1, over}, /* later chunks win */
    };
    struct nub_capbuild_raw prog = {0};
    prog.blob = code_blob;
    prog.blob_len = sizeof code_blob;
    prog.ranges = ranges;
    prog.range_count = 3;
    prog.chunks = chunks;
    prog.chunk_count = 2;
    struct built b;
    assert_int_equal(build_raw(&prog, &b), NUB_OK);
    assert_int_equal(b.out.cap_count, 4);
    struct nub_wire_cap_view v[4];
    check_caps(&b, v);
    uint8_t want0[0x1000] = {0};
    want0[0xFFE] = 1;
    want0[0xFFF] = 9;
    const uint8_t want1[2] = {3, 4};
    check_segment(&v[3], 0, 0x20000, 0x1000, NUB_WIRE_ACCESS_WRITE, &b.caps[0], &v[0], want0,
                  0x1000);
    check_segment(&v[3], 1, 0x21000, 0x1000, NUB_WIRE_ACCESS_READ, &b.caps[1], &v[1], want1, 2);
    check_segment(&v[3], 2, 0x40000, 0x1000, NUB_WIRE_ACCESS_NONE, NULL, NULL, NULL, 0);
    free_built(&b);
}

static void test_raw_rejections(void **state)
{
    (void)state;
    struct nub_capbuild_range ranges[NUB_CAPBUILD_MAX_RAW_SEGMENTS + 1];
    for (uint32_t i = 0; i <= NUB_CAPBUILD_MAX_RAW_SEGMENTS; i++) {
        ranges[i].address = 0x10000 + i * 0x1000;
        ranges[i].length = 0x1000;
        ranges[i].access = NUB_WIRE_ACCESS_READ;
    }
    const uint8_t byte[1] = {7};
    struct nub_capbuild_chunk chunk = {0x10000, 1, byte};
    struct nub_capbuild_raw prog = {0};
    struct nub_capbuild_out out = {0};
    prog.blob = code_blob;
    prog.blob_len = sizeof code_blob;
    prog.ranges = ranges;
    prog.range_count = NUB_CAPBUILD_MAX_RAW_SEGMENTS;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_OK);
    assert_int_equal(out.cap_count, 2);
    prog.range_count = NUB_CAPBUILD_MAX_RAW_SEGMENTS + 1;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_ERR_WIRE_LIMIT);

    prog.range_count = 2;
    ranges[1].address = 0x10000; /* same as the first */
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_ERR_WIRE_OVERLAP);
    ranges[1].address = 0x8000; /* descending */
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_ERR_WIRE_LIMIT);
    ranges[0].address = 0x30000;
    ranges[1].address = 0x20000;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_ERR_WIRE_OVERLAP);
    ranges[0].address = 0x10000;
    ranges[1].address = 0x11001;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_ERR_WIRE_UNALIGNED);
    ranges[1].address = 0x11000;
    ranges[1].access = 3;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_ERR_WIRE_NONCANONICAL);
    ranges[1].access = NUB_WIRE_ACCESS_WRITE;

    prog.chunks = &chunk;
    prog.chunk_count = 1;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_OK);
    chunk.address = 0x12000; /* past both ranges */
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_ERR_INVALID_ARGUMENT);
    chunk.address = 0x11FFF;
    chunk.len = 2; /* last byte past the end */
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_ERR_INVALID_ARGUMENT);
    chunk.address = 0xFFFFFFFF;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_ERR_WIRE_OVERFLOW);
    chunk.address = 0x10000;
    chunk.bytes = NULL;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_ERR_INVALID_ARGUMENT);
    chunk.bytes = byte;
    prog.blob = NULL;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub_capbuild_raw(NULL, &out), NUB_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdprog_layout),
        cmocka_unit_test(test_stdprog_rw_base_follows_ro_zones),
        cmocka_unit_test(test_stdprog_empty_sections),
        cmocka_unit_test(test_stdprog_rejections),
        cmocka_unit_test(test_buffer_protocol),
        cmocka_unit_test(test_raw_vector_shape),
        cmocka_unit_test(test_raw_chunks_split_and_overwrite),
        cmocka_unit_test(test_raw_rejections),
    };
    return cmocka_run_group_tests_name("capbuild", tests, NULL, NULL);
}
