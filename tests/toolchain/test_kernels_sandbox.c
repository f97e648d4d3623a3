/*
 * test_kernels_sandbox.c — every benchmark kernel gives the native answer
 * in the KVM sandbox too (libnubhost, nub_invoke; the caps are built from
 * the .jam with nub_capbuild_stdprog). Skipped with a reason when /dev/kvm
 * is unusable or this build has no nub_invoke; a call that fails or times
 * out (20 s) fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "kernel_list.h"
#include "test_util.h"
#if defined(NUB_HAVE_JAM_SANDBOX)
#include <unistd.h>

#include "jam_sandbox.h"
#include "kvm_check.h"
#endif

/* The same answers from the KVM sandbox (skipped without /dev/kvm). */
static void test_every_kernel_in_sandbox(void **state)
{
    (void)state;
#if !defined(NUB_HAVE_JAM_SANDBOX)
    print_message("libnubhost without nub_invoke in this build: no sandbox runs\n");
    skip();
#else
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        print_message("/dev/kvm is not usable: sandbox runs skipped\n");
        skip();
    }
    char why[256] = "", jam[64];
    nub_sandbox_config cfg = {.invoke_timeout_ns = 20ull * 1000000000ull,
                              .create_error = why,
                              .create_error_len = sizeof why};
    nub_sandbox *sb = NULL;
    nub_status st = nub_sandbox_create(&cfg, &sb);
    if (st == NUB_ERR_KVM_UNAVAILABLE || st == NUB_ERR_KVM_PERMISSION) {
        print_message("no KVM (%s): sandbox runs skipped\n", why);
        skip();
    }
    if (st != NUB_OK)
        fail_msg("nub_sandbox_create: %s (%s)", nub_strerror(st), why);
    for (size_t i = 0; i < nub_kernel_count; i++) {
        const struct nub_kernel *k = &nub_kernels[i];
        snprintf(jam, sizeof jam, "%s.jam", k->name);
        struct jam_loaded *l = test_load_jam(NUB_KERNEL_JAM_DIR, jam);
        assert_non_null(l);
        size_t len;
        const uint8_t *bytes = jam_bytes(l, &len);
        nub_cap_hash instance;
        assert_int_equal(jam_sandbox_publish(sb, bytes, len, instance), NUB_OK);
        struct nub_invocation_result res;
        uint64_t ns;
        st = jam_sandbox_invoke(sb, instance, 0, &k->test_n, 1, (uint64_t)INT64_MAX / 4, &res, &ns);
        jam_free(l);
        if (st == NUB_ERR_UNKNOWN_FN) {
            nub_sandbox_destroy(sb);
            print_message("the sandbox guest does not serve INVOKE yet: skipped\n");
            skip();
        }
        if (st != NUB_OK)
            fail_msg("%s in the sandbox: %s (%s)", k->name, nub_strerror(st),
                     nub_sandbox_last_error(sb));
        if (res.exit_reason != NUB_EXIT_HALT || res.return_value != k->native(k->test_n))
            fail_msg("%s in the sandbox: exit %u at pc %u, r7 0x%llx, native 0x%llx", k->name,
                     res.exit_reason, res.pc, (unsigned long long)res.return_value,
                     (unsigned long long)k->native(k->test_n));
    }
    nub_sandbox_destroy(sb);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kernel_in_sandbox),
    };
    return nub_test_kvm_suite_result(cmocka_run_group_tests(tests, NULL, NULL));
}
