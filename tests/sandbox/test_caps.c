/*
 * test_caps.c — PUT_CAP and the guest's cap directory through the public
 * API: hashes recomputed by the guest, deduplication, heap statistics,
 * malformed caps, missing dependencies and the directory's limits. After
 * every rejected request the guest must still answer SMOKE with 42 and its
 * heap must be back where it was.
 */
#include "test_util.h"
#include "kvm_check.h"

#include <stdlib.h>
#include <string.h>

#include "nub_blake2b.h"
#include "nub_capbuild.h"
#include "nub_wire.h"

static void expect_smoke(nub_sandbox *sb)
{
    uint64_t v = 0;
    assert_int_equal(nub_smoke(sb, &v), NUB_OK);
    assert_int_equal(v, 42);
}

static struct nub_heap_stats stats(nub_sandbox *sb)
{
    struct nub_heap_stats st;
    assert_int_equal(nub_heap_stats(sb, &st), NUB_OK);
    return st;
}

static void expect_same_heap(nub_sandbox *sb, const struct nub_heap_stats *before)
{
    struct nub_heap_stats now = stats(sb);
    assert_int_equal(now.allocated_bytes, before->allocated_bytes);
    assert_int_equal(now.allocation_count, before->allocation_count);
    assert_int_equal(now.available_bytes, before->available_bytes);
}

/* A DATA cap of n bytes filled from seed; returns its encoding (malloc'd). */
static uint8_t *make_data(size_t n, uint32_t seed, size_t *len)
{
    uint8_t *contents = malloc(n ? n : 1);
    assert_non_null(contents);
    for (size_t i = 0; i < n; i++)
        contents[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
    size_t needed = 0;
    assert_int_equal(nub_wire_encode_data(contents, n, NULL, 0, &needed), NUB_OK);
    uint8_t *out = malloc(needed);
    assert_non_null(out);
    assert_int_equal(nub_wire_encode_data(contents, n, out, needed, &needed), NUB_OK);
    free(contents);
    *len = needed;
    return out;
}

static void test_put_data_and_dedup(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct nub_heap_stats st0 = stats(sb);
    size_t len;
    uint8_t *wire = make_data(10000, 1, &len);

    nub_cap_hash h, expect;
    nub_cap_hash_of(wire, len, expect);
    assert_false(nub_sandbox_has_cap(sb, expect));
    assert_int_equal(nub_put_cap(sb, wire, len, h), NUB_OK);
    assert_memory_equal(h, expect, sizeof h);
    assert_true(nub_sandbox_has_cap(sb, h));

    struct nub_heap_stats st1 = stats(sb);
    assert_int_equal(st1.allocation_count, st0.allocation_count + 2); /* the copy + its entry */
    assert_true(st1.allocated_bytes >= st0.allocated_bytes + len);
    assert_true(st1.available_bytes <= st0.available_bytes - len);

    /* The same cap again: same hash, nothing more stored. */
    nub_cap_hash h2;
    assert_int_equal(nub_put_cap(sb, wire, len, h2), NUB_OK);
    assert_memory_equal(h2, expect, sizeof h2);
    expect_same_heap(sb, &st1);

    /* A different cap is a different hash. */
    size_t len3;
    uint8_t *wire3 = make_data(10000, 2, &len3);
    nub_cap_hash h3;
    assert_int_equal(nub_put_cap(sb, wire3, len3, h3), NUB_OK);
    assert_memory_not_equal(h3, h, sizeof h);
    assert_int_equal(stats(sb).allocation_count, st1.allocation_count + 2);
    free(wire);
    free(wire3);
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

static void expect_rejected(nub_sandbox *sb, const uint8_t *wire, size_t len, nub_status want)
{
    struct nub_heap_stats before = stats(sb);
    nub_cap_hash h;
    nub_status got = nub_put_cap(sb, wire, len, h);
    if (got != want)
        fail_msg("PUT_CAP of %zu bytes: got %s, want %s", len, nub_strerror(got),
                 nub_strerror(want));
    assert_false(nub_sandbox_is_dead(sb));
    expect_smoke(sb);
    expect_same_heap(sb, &before); /* nothing leaked */
}

static void test_malformed_caps(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    size_t len;
    uint8_t *wire = make_data(300, 3, &len);
    uint8_t *bad = malloc(len + 16);
    assert_non_null(bad);

    expect_rejected(sb, wire, len - 1, NUB_ERR_WIRE_TRUNCATED);
    memcpy(bad, wire, len);
    memset(bad + len, 0, 16);
    expect_rejected(sb, bad, len + 16, NUB_ERR_WIRE_TRAILING);
    memcpy(bad, wire, len);
    bad[0] = 2; /* version 2 */
    expect_rejected(sb, bad, len, NUB_ERR_WIRE_VERSION);
    memcpy(bad, wire, len);
    bad[4] = 9; /* kind 9 */
    expect_rejected(sb, bad, len, NUB_ERR_WIRE_KIND);
    memcpy(bad, wire, len);
    bad[4] = NUB_WIRE_KIND_RESULT; /* a result is not a cap */
    assert_int_not_equal(nub_put_cap(sb, bad, len, (uint8_t[32]){0}), NUB_OK);
    expect_smoke(sb);
    /* Shorter than any header: refused by the dispatcher. */
    expect_rejected(sb, wire, 3, NUB_ERR_PAYLOAD_TRUNCATED);
    /* Garbage of many lengths never crashes the guest. */
    srand(7);
    for (int i = 0; i < 200; i++) {
        size_t n = 8 + (size_t)(rand() % 200);
        for (size_t j = 0; j < n; j++)
            bad[j % (len + 16)] = (uint8_t)rand();
        bad[0] = 1, bad[1] = bad[2] = bad[3] = 0; /* a valid version gets further */
        nub_cap_hash h;
        (void)nub_put_cap(sb, bad, n < len + 16 ? n : len + 16, h);
        assert_false(nub_sandbox_is_dead(sb));
    }
    expect_smoke(sb);
    free(bad);
    free(wire);
    nub_sandbox_destroy(sb);
}

/* Builds the caps of a tiny raw program (trap) with one data segment. */
static struct nub_capbuild_out build_program(uint8_t **buf, struct nub_capbuild_cap *caps)
{
    static const uint8_t blob[] = {0x00, 0x01, 0x00, 0x00, 0x01}; /* placeholder, not run */
    static const uint8_t init[] = {1, 2, 3, 4, 5};
    struct nub_capbuild_range range = {
        .address = 0x20000, .length = 0x1000, .access = NUB_WIRE_ACCESS_WRITE};
    struct nub_capbuild_chunk chunk = {.address = 0x20000, .len = sizeof init, .bytes = init};
    struct nub_capbuild_raw prog = {
        .blob = blob,
        .blob_len = sizeof blob,
        .pc = 0,
        .ranges = &range,
        .range_count = 1,
        .chunks = &chunk,
        .chunk_count = 1,
        .default_gas = 1000,
    };
    struct nub_capbuild_out out = {.caps = caps, .caps_cap = NUB_CAPBUILD_MAX_CAPS};
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_OK);
    *buf = malloc(out.needed);
    assert_non_null(*buf);
    out.buf = *buf;
    out.buf_cap = out.needed;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_OK);
    assert_int_equal(out.cap_count, 3); /* DATA, IMAGE, INSTANCE */
    return out;
}

static void test_missing_dependencies(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    uint8_t *buf;
    struct nub_capbuild_cap caps[NUB_CAPBUILD_MAX_CAPS];
    struct nub_capbuild_out out = build_program(&buf, caps);
    const struct nub_capbuild_cap *data = &caps[0], *image = &caps[1], *inst = &caps[2];
    nub_cap_hash h;

    /* INSTANCE before its IMAGE and DATA. */
    expect_rejected(sb, buf + inst->offset, inst->len, NUB_ERR_CAP_MISSING_DEP);
    /* With the IMAGE but not the DATA. */
    assert_int_equal(nub_put_cap(sb, buf + image->offset, image->len, h), NUB_OK);
    assert_memory_equal(h, image->hash, sizeof h);
    expect_rejected(sb, buf + inst->offset, inst->len, NUB_ERR_CAP_MISSING_DEP);
    /* With both: accepted, and the guest's hash is the builder's. */
    assert_int_equal(nub_put_cap(sb, buf + data->offset, data->len, h), NUB_OK);
    assert_memory_equal(h, data->hash, sizeof h);
    assert_int_equal(nub_put_cap(sb, buf + inst->offset, inst->len, h), NUB_OK);
    assert_memory_equal(h, inst->hash, sizeof h);
    assert_true(nub_sandbox_has_cap(sb, inst->hash));

    /* An INSTANCE whose image hash names a DATA cap. */
    uint8_t *forged = malloc(inst->len);
    assert_non_null(forged);
    memcpy(forged, buf + inst->offset, inst->len);
    memcpy(forged + NUB_WIRE_HEADER_BYTES, data->hash, NUB_CAP_HASH_BYTES);
    expect_rejected(sb, forged, inst->len, NUB_ERR_CAP_WRONG_KIND);
    free(forged);
    (void)out;
    free(buf);
    nub_sandbox_destroy(sb);
}

static void test_directory_limits(void **state)
{
    (void)state;
    REQUIRE_KVM();
    /* Byte limit (lowered so the test stays quick: the guest kernel may run
     * emulated, see docs/protocol.md). */
    nub_sandbox_config cfg = {.directory_max_bytes = 20000};
    nub_sandbox *sb = nub_test_sandbox(&cfg);
    nub_status s = NUB_OK;
    int stored = 0;
    struct nub_heap_stats before_full = stats(sb);
    for (uint32_t i = 0; i < 50 && s == NUB_OK; i++) {
        size_t len;
        uint8_t *wire = make_data(3000, 100 + i, &len);
        nub_cap_hash h;
        before_full = stats(sb);
        s = nub_put_cap(sb, wire, len, h);
        free(wire);
        if (s == NUB_OK)
            stored++;
    }
    assert_int_equal(s, NUB_ERR_DIRECTORY_FULL);
    assert_int_equal(stored, 6); /* 6 x 3016 bytes fit in 20000, 7 do not */
    assert_false(nub_sandbox_is_dead(sb));
    expect_smoke(sb);
    expect_same_heap(sb, &before_full); /* the refused cap left nothing behind */
    /* A cap already stored is still accepted (dedup needs no room). */
    size_t len;
    uint8_t *wire = make_data(3000, 100, &len);
    nub_cap_hash h;
    assert_int_equal(nub_put_cap(sb, wire, len, h), NUB_OK);
    free(wire);
    nub_sandbox_destroy(sb);

    /* Count limit: many tiny caps. */
    nub_sandbox_config few = {.directory_max_caps = 40};
    sb = nub_test_sandbox(&few);
    s = NUB_OK;
    stored = 0;
    for (uint32_t i = 0; i < 100 && s == NUB_OK; i++) {
        uint8_t w[NUB_WIRE_DATA_FIXED_BYTES + 4];
        size_t needed;
        uint8_t contents[4] = {(uint8_t)i, (uint8_t)(i >> 8), 0xAA, 0x55};
        assert_int_equal(nub_wire_encode_data(contents, 4, w, sizeof w, &needed), NUB_OK);
        s = nub_put_cap(sb, w, needed, h);
        if (s == NUB_OK)
            stored++;
    }
    assert_int_equal(s, NUB_ERR_DIRECTORY_FULL);
    assert_int_equal(stored, 40);
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

/* With 2 GiB of guest memory the request buffer (128 MiB) holds more than
 * a cap may be: the guest's own bound (64 MiB) refuses the rest before it
 * copies anything. */
static void test_cap_larger_than_the_limit(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox_config cfg = {.guest_memory_bytes = (size_t)2 << 30};
    nub_sandbox *sb = nub_test_sandbox(&cfg);
    size_t len = (size_t)NUB_WIRE_MAX_CAP_BYTES + 1;
    assert_true(nub_sandbox_max_request(sb) >= len);
    uint8_t *wire = calloc(1, len);
    assert_non_null(wire);
    struct nub_heap_stats before = stats(sb);
    nub_cap_hash h;
    assert_int_equal(nub_put_cap(sb, wire, len, h), NUB_ERR_PAYLOAD_TOO_LARGE);
    free(wire);
    assert_false(nub_sandbox_is_dead(sb));
    expect_smoke(sb);
    expect_same_heap(sb, &before);
    nub_sandbox_destroy(sb);
}

/* nub_drop_cap: an INSTANCE first, then what it used; dropped caps are
 * gone (and can be published again), and the heap is back where it was. */
static void test_drop_cap(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct nub_heap_stats before = stats(sb);
    static const uint8_t halt_blob[] = {0x00, 0x00, 0x03, 0x32, 0x00, 0x00, 0x01};
    struct nub_capbuild_range range = {0x20000, 0x1000, NUB_WIRE_ACCESS_WRITE};
    struct nub_capbuild_chunk chunk = {0x20000, 3, (const uint8_t *)"abc"};
    struct nub_capbuild_raw prog = {.blob = halt_blob,
                                    .blob_len = sizeof halt_blob,
                                    .ranges = &range,
                                    .range_count = 1,
                                    .chunks = &chunk,
                                    .chunk_count = 1,
                                    .default_gas = 100};
    prog.regs[0] = NUB_STDPROG_HALT_ADDR;
    struct nub_capbuild_cap caps[NUB_CAPBUILD_MAX_CAPS];
    struct nub_capbuild_out out = {.caps = caps, .caps_cap = NUB_CAPBUILD_MAX_CAPS};
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_OK); /* size query */
    out.buf = malloc(out.needed);
    out.buf_cap = out.needed;
    assert_int_equal(nub_capbuild_raw(&prog, &out), NUB_OK); /* the hashes */
    free(out.buf);
    assert_int_equal(out.cap_count, 3); /* DATA, IMAGE, INSTANCE */
    for (int round = 0; round < 2; round++) {
        struct nub_invoke_packet p = {.initial_gas = 100};
        assert_int_equal(nub_publish_raw(sb, &prog, p.instance_hash), NUB_OK);
        struct nub_invocation_result r;
        assert_int_equal(nub_invoke(sb, &p, &r), NUB_OK); /* compiles, keeps a space */
        assert_int_equal(r.exit_reason, NUB_EXIT_HALT);
        assert_memory_equal(p.instance_hash, caps[2].hash, NUB_CAP_HASH_BYTES);
        for (int i = 0; i < 3; i++)
            assert_true(nub_sandbox_has_cap(sb, caps[i].hash));
        for (int i = 0; i < 2; i++) { /* DATA and IMAGE are in use */
            assert_int_equal(nub_drop_cap(sb, caps[i].hash), NUB_ERR_CAP_IN_USE);
            assert_non_null(strstr(nub_sandbox_last_error(sb), "INSTANCE"));
        }
        for (int i = 2; i >= 0; i--) {
            assert_int_equal(nub_drop_cap(sb, caps[i].hash), NUB_OK);
            assert_false(nub_sandbox_has_cap(sb, caps[i].hash));
            assert_int_equal(nub_drop_cap(sb, caps[i].hash), NUB_ERR_CAP_NOT_FOUND);
        }
        assert_int_equal(nub_invoke(sb, &p, &r), NUB_ERR_CAP_NOT_FOUND);
        expect_same_heap(sb, &before);
    }
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

/* 100,000 caps published and dropped in one sandbox (far past the 4096-cap
 * directory): the heap statistics end where they started. */
static void test_drop_many(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct nub_heap_stats before = stats(sb);
    for (uint32_t i = 0; i < 100000; i++) {
        uint8_t w[NUB_WIRE_DATA_FIXED_BYTES + 8];
        uint8_t contents[8];
        for (int b = 0; b < 8; b++)
            contents[b] = (uint8_t)((uint64_t)i >> (8 * (b % 4)));
        size_t needed = 0;
        assert_int_equal(nub_wire_encode_data(contents, 4 + i % 5, w, sizeof w, &needed), NUB_OK);
        nub_cap_hash h;
        nub_status s = nub_put_cap(sb, w, needed, h);
        if (s != NUB_OK)
            fail_msg("put %u: %s: %s", i, nub_strerror(s), nub_sandbox_last_error(sb));
        assert_int_equal(nub_drop_cap(sb, h), NUB_OK);
    }
    expect_same_heap(sb, &before);
    struct nub_heap_stats now = stats(sb);
    assert_int_equal(now.fragment_count, before.fragment_count);
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_data_and_dedup),
        cmocka_unit_test(test_malformed_caps),
        cmocka_unit_test(test_missing_dependencies),
        cmocka_unit_test(test_directory_limits),
        cmocka_unit_test(test_cap_larger_than_the_limit),
        cmocka_unit_test(test_drop_cap),
        cmocka_unit_test(test_drop_many),
    };
    return nub_test_kvm_suite_result(
        cmocka_run_group_tests_name("sandbox_caps", tests, NULL, NULL));
}
