/*
 * Every conformance vector (tests/vectors/data) (SPEC §13) through nub_capbuild_raw: the
 * caps must carry exactly the vector's program, entry pc, registers, gas and
 * initial memory, compared with the segments nubrun's independent vector
 * reader builds (tools/nubrun/vector.c). Usage: test_capbuild_vectors DIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nub_capbuild.h"
#include "nub_wire.h"
#include "vector.h"

static const char *vector_dir;

static void check_vector(const char *path)
{
    struct vector vec;
    char err[256];
    if (vector_load(path, &vec, err, sizeof err) != 0)
        fail_msg("%s: %s", path, err);
    struct pvm_segment *ref;
    size_t ref_count;
    if (vector_segments(&vec, &ref, &ref_count, err, sizeof err) != 0)
        fail_msg("%s: %s", path, err);

    struct nub_capbuild_range *ranges = calloc(vec.page_count + 1, sizeof *ranges);
    struct nub_capbuild_chunk *chunks = calloc(vec.memory_count + 1, sizeof *chunks);
    for (size_t i = 0; i < vec.page_count; i++) {
        ranges[i].address = vec.pages[i].address;
        ranges[i].length = vec.pages[i].length;
        ranges[i].access = vec.pages[i].writable ? NUB_WIRE_ACCESS_WRITE : NUB_WIRE_ACCESS_READ;
    }
    for (size_t i = 0; i < vec.memory_count; i++) {
        chunks[i].address = vec.memory[i].address;
        chunks[i].len = vec.memory[i].length;
        chunks[i].bytes = vec.memory[i].contents;
    }
    struct nub_capbuild_raw prog = {0};
    prog.blob = vec.program;
    prog.blob_len = (uint32_t)vec.program_len;
    prog.pc = vec.initial.pc;
    memcpy(prog.regs, vec.initial.regs, sizeof prog.regs);
    prog.ranges = ranges;
    prog.range_count = (uint32_t)vec.page_count;
    prog.chunks = chunks;
    prog.chunk_count = (uint32_t)vec.memory_count;
    prog.default_gas = (uint64_t)vec.initial.gas;

    struct nub_capbuild_out out = {0};
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_OK);
    out.buf = malloc(out.needed);
    out.buf_cap = out.needed;
    out.caps = calloc(out.cap_count, sizeof *out.caps);
    out.caps_cap = out.cap_count;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_OK);

    struct nub_wire_cap_view views[NUB_CAPBUILD_MAX_CAPS];
    for (uint32_t i = 0; i < out.cap_count; i++)
        assert_int_equal(
            nub_wire_decode_cap(out.buf + out.caps[i].offset, out.caps[i].len, &views[i]), NUB_OK);
    const struct nub_wire_cap_view *inst = &views[out.cap_count - 1];
    const struct nub_wire_cap_view *img = &views[out.cap_count - 2];

    assert_int_equal(img->image.blob_len, vec.program_len);
    assert_memory_equal(img->image.blob, vec.program, vec.program_len);
    struct nub_wire_endpoint ep;
    assert_int_equal(nub_wire_image_endpoint(img, 0, &ep), NUB_OK);
    assert_int_equal(ep.pc, vec.initial.pc);
    assert_memory_equal(ep.regs, vec.initial.regs, sizeof ep.regs);
    assert_int_equal((int64_t)inst->instance.facts.default_gas, vec.initial.gas);

    /* Each segment's memory, materialised, equals the reader's page bytes. */
    assert_int_equal(inst->instance.segment_count, ref_count);
    uint32_t data_index = 0;
    for (uint32_t i = 0; i < ref_count; i++) {
        struct nub_wire_segment s;
        assert_int_equal(nub_wire_instance_segment(inst, i, &s), NUB_OK);
        assert_int_equal(s.address, ref[i].address);
        assert_int_equal(s.length, ref[i].length);
        assert_int_equal(s.access, ref[i].access);
        uint8_t *mem = calloc(s.length, 1);
        if (s.has_data) {
            const struct nub_wire_cap_view *d = &views[data_index];
            assert_memory_equal(out.caps[data_index].hash, s.data_hash, NUB_CAP_HASH_BYTES);
            data_index++;
            memcpy(mem, d->data.bytes, d->data.len);
        }
        assert_memory_equal(mem, ref[i].data, s.length);
        free(mem);
    }
    assert_int_equal(data_index + 2, out.cap_count);

    free(out.buf);
    free(out.caps);
    free(ranges);
    free(chunks);
    vector_segments_free(ref, ref_count);
    vector_free(&vec);
}

static void test_all_vectors(void **state)
{
    (void)state;
    DIR *d = vector_dir ? opendir(vector_dir) : NULL;
    if (d == NULL) /* the vectors are part of the tree (tests/vectors/data) */
        fail_msg("no vector folder %s", vector_dir ? vector_dir : "(none given)");
    size_t checked = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", vector_dir, e->d_name);
        check_vector(path);
        checked++;
    }
    closedir(d);
    fprintf(stderr, "checked %zu vectors\n", checked);
    if (checked == 0)
        fail_msg("no *.json vectors in %s", vector_dir);
}

int main(int argc, char **argv)
{
    vector_dir = argc > 1 ? argv[1] : NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_vectors),
    };
    return cmocka_run_group_tests_name("capbuild_vectors", tests, NULL, NULL);
}
