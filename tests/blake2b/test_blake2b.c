/*
 * BLAKE2b tests: RFC 7693's worked example and self-test, well-known
 * digests, and libb2 as an oracle on pseudo-random inputs of many lengths,
 * keys and digest sizes, fed whole and in random pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <blake2.h>
#include <cmocka.h>

#include "nub_blake2b.h"

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void check_digest(const char *msg, size_t out_len, const char *expected_hex)
{
    uint8_t expected[64], got[64];
    assert_int_equal(strlen(expected_hex), 2 * out_len);
    hex_to_bytes(expected_hex, expected, out_len);
    assert_int_equal(nub_blake2b(got, out_len, NULL, 0, msg, strlen(msg)), NUB_OK);
    assert_memory_equal(got, expected, out_len);
}

/* RFC 7693 Appendix A: BLAKE2b-512("abc"). */
static void test_rfc7693_abc(void **state)
{
    (void)state;
    check_digest("abc", 64,
                 "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                 "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

static void test_empty_message(void **state)
{
    (void)state;
    check_digest("", 64,
                 "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
                 "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
    check_digest("", 32, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

/* RFC 7693 Appendix E's self-test: the deterministic byte sequence it uses. */
static void selftest_sequence(uint8_t *out, size_t len, uint32_t seed)
{
    uint32_t a = 0xDEAD4BADu * seed, b = 1;
    for (size_t i = 0; i < len; i++) {
        uint32_t t = a + b;
        a = b;
        b = t;
        out[i] = (uint8_t)(t >> 24);
    }
}

/* Hash of the digests for 4 output sizes x 6 input sizes, keyed and unkeyed. */
static void test_rfc7693_selftest(void **state)
{
    (void)state;
    static const size_t out_lens[4] = {20, 32, 48, 64};
    static const size_t in_lens[6] = {0, 3, 128, 129, 255, 1024};
    uint8_t in[1024], key[64], md[64], grand[32], expected[32];
    struct nub_blake2b all;
    assert_int_equal(nub_blake2b_init(&all, 32, NULL, 0), NUB_OK);
    for (int i = 0; i < 4; i++) {
        size_t out_len = out_lens[i];
        for (int j = 0; j < 6; j++) {
            size_t in_len = in_lens[j];
            selftest_sequence(in, in_len, (uint32_t)in_len);
            assert_int_equal(nub_blake2b(md, out_len, NULL, 0, in, in_len), NUB_OK);
            nub_blake2b_update(&all, md, out_len);
            selftest_sequence(key, out_len, (uint32_t)out_len);
            assert_int_equal(nub_blake2b(md, out_len, key, out_len, in, in_len), NUB_OK);
            nub_blake2b_update(&all, md, out_len);
        }
    }
    nub_blake2b_final(&all, grand);
    hex_to_bytes("c23a7800d98123bd10f506c61e29da5603d763b8bbad2e737f5e765a7bccd475", expected, 32);
    assert_memory_equal(grand, expected, 32);
}

static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t rng_next(void)
{
    /* xorshift64*: deterministic, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(0x2545F4914F6CDD1D);
}

static void fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rng_next() >> 56);
}

/* Compare with libb2 for lengths 0..1100 (every block boundary and its
 * neighbours), random digest sizes and keys, one-shot and incremental. */
static void test_libb2_oracle(void **state)
{
    (void)state;
    static uint8_t in[1100];
    uint8_t key[64], ours[64], theirs[64], pieces[64];
    fill_random(in, sizeof in);
    for (size_t len = 0; len <= sizeof in; len++) {
        size_t out_len = 1 + (size_t)(rng_next() % 64);
        size_t key_len = (len % 3 == 0) ? (size_t)(rng_next() % 65) : 0;
        fill_random(key, key_len);
        assert_int_equal(nub_blake2b(ours, out_len, key_len ? key : NULL, key_len, in, len),
                         NUB_OK);
        assert_int_equal(blake2b(theirs, in, key_len ? key : NULL, out_len, len, key_len), 0);
        assert_memory_equal(ours, theirs, out_len);

        /* The same input in random pieces (including empty ones). */
        struct nub_blake2b s;
        assert_int_equal(nub_blake2b_init(&s, out_len, key_len ? key : NULL, key_len), NUB_OK);
        size_t pos = 0;
        while (pos < len) {
            size_t take = (size_t)(rng_next() % 300);
            if (take > len - pos)
                take = len - pos;
            nub_blake2b_update(&s, in + pos, take);
            pos += take;
        }
        nub_blake2b_final(&s, pieces);
        assert_memory_equal(pieces, theirs, out_len);
    }
}

/* Large input across many blocks, in one call vs libb2. */
static void test_libb2_oracle_large(void **state)
{
    (void)state;
    static uint8_t in[1 << 20];
    uint8_t ours[64], theirs[64];
    fill_random(in, sizeof in);
    for (size_t len = (1 << 20) - 300; len <= (1 << 20); len += 37) {
        assert_int_equal(nub_blake2b(ours, 64, NULL, 0, in, len), NUB_OK);
        assert_int_equal(blake2b(theirs, in, NULL, 64, len, 0), 0);
        assert_memory_equal(ours, theirs, 64);
    }
}

static void test_cap_hash_is_blake2b_256(void **state)
{
    (void)state;
    uint8_t in[300], theirs[32];
    nub_cap_hash ours;
    fill_random(in, sizeof in);
    nub_cap_hash_of(in, sizeof in, ours);
    assert_int_equal(blake2b(theirs, in, NULL, 32, sizeof in, 0), 0);
    assert_memory_equal(ours, theirs, 32);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct nub_blake2b s;
    uint8_t key[65] = {0}, out[64];
    assert_int_equal(nub_blake2b_init(&s, 0, NULL, 0), NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub_blake2b_init(&s, 65, NULL, 0), NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub_blake2b_init(&s, 32, key, 65), NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub_blake2b_init(&s, 32, NULL, 1), NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub_blake2b_init(NULL, 32, NULL, 0), NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub_blake2b(out, 32, NULL, 0, NULL, 1), NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub_blake2b(NULL, 32, NULL, 0, "x", 1), NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub_blake2b(out, 64, key, 64, NULL, 0), NUB_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7693_abc),        cmocka_unit_test(test_empty_message),
        cmocka_unit_test(test_rfc7693_selftest),   cmocka_unit_test(test_libb2_oracle),
        cmocka_unit_test(test_libb2_oracle_large), cmocka_unit_test(test_cap_hash_is_blake2b_256),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests_name("blake2b", tests, NULL, NULL);
}
