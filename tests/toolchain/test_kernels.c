/*
 * test_kernels.c — every benchmark kernel gives the same answer natively and
 * on every engine (the .jam nub-cc built from the same C file), never the
 * self-check-failed value; plus independent answers where one exists:
 * pi(10^5) = 9592, fib(18) = 2584, 724 and 14200 solutions of 10 and 12
 * queens, and BLAKE2b checked against libb2 on the
 * same generated input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <blake2.h>
#include <cmocka.h>

#include "kernel_list.h"
#include "test_engines.h"
#include "test_util.h"

static const struct nub_kernel *find_kernel(const char *name)
{
    for (size_t i = 0; i < nub_kernel_count; i++)
        if (strcmp(nub_kernels[i].name, name) == 0)
            return &nub_kernels[i];
    return NULL;
}

static void test_every_kernel_on_every_engine(void **state)
{
    (void)state;
    char err[256], jam[64];
    size_t failures = 0;
    size_t in_geomean = 0;
    for (size_t i = 0; i < nub_kernel_count; i++)
        in_geomean += nub_kernels[i].in_geomean;
    assert_int_equal(in_geomean, NUB_KERNEL_GEOMEAN_COUNT);
    assert_int_equal(nub_kernel_count, NUB_KERNEL_GEOMEAN_COUNT + 3);
    for (size_t i = 0; i < nub_kernel_count; i++) {
        const struct nub_kernel *k = &nub_kernels[i];
        uint64_t native = k->native(k->test_n);
        assert_true((native & NUB_KERNEL_SELF_CHECK_MASK) != NUB_KERNEL_SELF_CHECK_BAD);
        snprintf(jam, sizeof jam, "%s.jam", k->name);
        struct jam_loaded *l = test_load_jam(NUB_KERNEL_JAM_DIR, jam);
        assert_non_null(l);
        for (size_t e = 0; e < TEST_ENGINE_COUNT; e++) {
            struct jam_run_result r;
            assert_int_equal(
                jam_run(l, test_engines[e], 0, &k->test_n, 1, INT64_MAX / 4, &r, err, sizeof err),
                0);
            if (r.exit.reason != PVM_EXIT_HALT || r.regs[7] != native) {
                failures++;
                print_error("%s on %s: exit %u pc %u r7 0x%llx, native 0x%llx\n", k->name,
                            test_engines[e]->name, r.exit.reason, r.exit.pc,
                            (unsigned long long)r.regs[7], (unsigned long long)native);
            }
        }
        jam_free(l);
    }
    assert_int_equal(failures, 0);
}

static void test_published_answers(void **state)
{
    (void)state;
    assert_int_equal(find_kernel("sieve")->native(100000), 9592);
    assert_int_equal(find_kernel("sieve")->native(1000000), 78498);
    assert_int_equal(find_kernel("fib")->native(18), 2584);
    assert_int_equal(find_kernel("fib")->native(30), 832040);
    assert_int_equal(find_kernel("nqueens")->native(10), 724);
    assert_int_equal(find_kernel("nqueens")->native(12), 14200);
}

/* The kernel's input: n blocks of xorshift64 output, little-endian. */
static void test_blake2b_matches_libb2(void **state)
{
    (void)state;
    const uint64_t n = 37;
    uint8_t *msg = malloc(n * 128), digest[64];
    assert_non_null(msg);
    uint64_t seed = 0x3C6EF372FE94F82Bull;
    for (size_t i = 0; i < n * 128; i += 8) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        for (int k = 0; k < 8; k++)
            msg[i + (size_t)k] = (uint8_t)(seed >> (8 * k));
    }
    assert_int_equal(blake2b(digest, msg, NULL, 64, n * 128, 0), 0);
    uint64_t first = 0;
    for (int k = 7; k >= 0; k--)
        first = (first << 8) | digest[k];
    assert_int_equal(find_kernel("blake2b")->native(n), first);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kernel_on_every_engine),
        cmocka_unit_test(test_published_answers),
        cmocka_unit_test(test_blake2b_matches_libb2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
