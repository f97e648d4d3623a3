/* Layout of the host<->guest structs, checked at run time too (the
 * _Static_asserts in nub_abi.h pin them at compile time) and the status
 * strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nub_abi.h"

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(sizeof(nub_cap_hash), 32);
    assert_int_equal(sizeof(struct nub_invoke_packet), 80);
    assert_int_equal(sizeof(struct nub_boot_info), 128);
    assert_int_equal(sizeof(struct nub_heap_stats), 32);
    assert_int_equal(sizeof(struct nub_invocation_result), 136);
    assert_true(NUB_GUEST_FN_TABLE_SIZE > NUB_FN_ID_MAX);
}

static void test_fn_ids(void **state)
{
    (void)state;
    assert_int_equal(NUB_FN_ID_SMOKE, 0);
    assert_int_equal(NUB_FN_ID_HEAP_STATS, 2);
    assert_int_equal(NUB_FN_ID_INVOKE_CACHED, 3);
    assert_int_equal(NUB_FN_ID_PUT_CAP, 4);
    assert_int_equal(NUB_FN_ID_GET_BOOT_INFO, 5);
    assert_int_equal(NUB_GUEST_FN_TABLE_SIZE, 8);
}

static void test_magic_spells_nubboot1(void **state)
{
    (void)state;
    uint64_t m = NUB_BOOT_INFO_MAGIC;
    char s[9] = {0};
    for (int i = 0; i < 8; i++)
        s[i] = (char)(m >> (8 * i));
    assert_string_equal(s, "NUBBOOT1");
}

static void test_strerror_total(void **state)
{
    (void)state;
    assert_string_equal(nub_strerror(NUB_OK), "success");
    assert_string_equal(nub_strerror((nub_status)9999), "unknown status");
    for (int s = 0; s < 200; s++)
        assert_non_null(nub_strerror((nub_status)s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_fn_ids),
        cmocka_unit_test(test_magic_spells_nubboot1),
        cmocka_unit_test(test_strerror_total),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
