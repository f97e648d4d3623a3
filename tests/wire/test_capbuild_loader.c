/*
 * Cross-check of two independent readings of SPEC §11: the caps that
 * nub_capbuild_stdprog makes (what the sandbox runs) against the layout of
 * the interpreter's loader pvm_stdprog_load (guest/pvm). Same segments,
 * same contents, same registers, same heap top, for several containers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nub_capbuild.h"
#include "nub_wire.h"
#include "pvm_stdprog.h"

static const uint8_t code_blob[] = {0x00, 0x00, 0x03, 0xbe, 0x87, 0x09, 0x01};

static size_t make_stdprog(uint8_t *out, uint32_t ro_len, uint32_t rw_len, uint16_t heap_pages,
                           uint32_t stack)
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
    for (uint32_t i = 0; i < ro_len + rw_len; i++)
        out[p++] = (uint8_t)(i * 29 + 3);
    for (int i = 0; i < 4; i++)
        out[p++] = (uint8_t)(sizeof code_blob >> (8 * i));
    memcpy(out + p, code_blob, sizeof code_blob);
    return p + sizeof code_blob;
}

static const struct nub_wire_cap_view *
find_data(const struct nub_capbuild_out *out, const nub_cap_hash hash, struct nub_wire_cap_view *v)
{
    for (uint32_t i = 0; i < out->cap_count; i++) {
        if (out->caps[i].kind == NUB_WIRE_KIND_DATA &&
            memcmp(out->caps[i].hash, hash, NUB_CAP_HASH_BYTES) == 0) {
            assert_int_equal(
                nub_wire_decode_cap(out->buf + out->caps[i].offset, out->caps[i].len, v), NUB_OK);
            return v;
        }
    }
    return NULL;
}

static void compare(uint32_t ro_len, uint32_t rw_len, uint16_t heap_pages, uint32_t stack,
                    size_t args_len)
{
    static uint8_t prog[1 << 18], args[1 << 13];
    assert_true(ro_len + rw_len + 64 <= sizeof prog && args_len <= sizeof args);
    size_t len = make_stdprog(prog, ro_len, rw_len, heap_pages, stack);
    for (size_t i = 0; i < args_len; i++)
        args[i] = (uint8_t)(0xA0 + i);

    struct pvm_stdprog ref;
    assert_int_equal(pvm_stdprog_load(prog, len, args, args_len, &ref), 0);

    struct nub_capbuild_out out = {0};
    assert_int_equal(nub_capbuild_stdprog(prog, len, args, args_len, 0, &out), NUB_OK);
    out.buf = malloc(out.needed);
    out.buf_cap = out.needed;
    out.caps = calloc(out.cap_count, sizeof *out.caps);
    out.caps_cap = out.cap_count;
    assert_int_equal(nub_capbuild_stdprog(prog, len, args, args_len, 0, &out), NUB_OK);

    const struct nub_capbuild_cap *ic = &out.caps[out.cap_count - 1], *mc = ic - 1;
    struct nub_wire_cap_view inst, img, data;
    assert_int_equal(nub_wire_decode_cap(out.buf + ic->offset, ic->len, &inst), NUB_OK);
    assert_int_equal(nub_wire_decode_cap(out.buf + mc->offset, mc->len, &img), NUB_OK);

    assert_int_equal(inst.instance.segment_count, ref.segment_count);
    for (uint32_t i = 0; i < ref.segment_count; i++) {
        struct nub_wire_segment s;
        assert_int_equal(nub_wire_instance_segment(&inst, i, &s), NUB_OK);
        assert_int_equal(s.address, ref.segments[i].address);
        assert_int_equal(s.length, ref.segments[i].length);
        assert_int_equal(s.access, ref.segments[i].access);
        assert_int_equal(s.data_len, ref.segments[i].data_len);
        if (s.has_data) {
            assert_non_null(find_data(&out, s.data_hash, &data));
            assert_memory_equal(data.data.bytes, ref.segments[i].data, s.data_len);
        }
    }
    assert_int_equal(inst.instance.facts.heap_top, ref.heap_top);
    assert_int_equal(img.image.blob_len, ref.code_blob_len);
    assert_memory_equal(img.image.blob, ref.code_blob, ref.code_blob_len);
    for (uint32_t e = 0; e < img.image.endpoint_count; e++) {
        struct nub_wire_endpoint ep;
        assert_int_equal(nub_wire_image_endpoint(&img, e, &ep), NUB_OK);
        assert_memory_equal(ep.regs, ref.regs, sizeof ep.regs);
    }
    free(out.buf);
    free(out.caps);
}

static void test_matches_loader(void **state)
{
    (void)state;
    compare(0, 0, 0, 0, 0);
    compare(6, 5000, 3, 0x3005, 4);
    compare(0x10001, 1, 0, 0x10000, 0);
    compare(4096, 4096, 0, 4096, 4096);
    compare(1, 0, 0xFFFF, 0xFFFFFF, 8192);
    compare(0, 7, 0, 1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_loader),
    };
    return cmocka_run_group_tests_name("capbuild_loader", tests, NULL, NULL);
}
