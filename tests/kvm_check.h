/*
 * kvm_check.h — shared by the test programs that need KVM: is /dev/kvm
 * usable here, and if not, why. A suite that needs KVM and finds it
 * unusable exits with NUB_TEST_SKIP (ctest's SKIP_RETURN_CODE), so it is
 * reported as skipped with the reason, never as passed.
 */
#ifndef NUB_TESTS_KVM_CHECK_H
#define NUB_TESTS_KVM_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define NUB_TEST_SKIP 77

/* 0 when /dev/kvm opens read-write and speaks KVM API 12; else 1 with the
 * reason in why[0..n). */
static inline int nub_test_kvm_unusable(char *why, size_t n)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, n, "/dev/kvm unusable: %s", strerror(errno));
        return 1;
    }
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    close(fd);
    if (version != KVM_API_VERSION) {
        snprintf(why, n, "/dev/kvm is not a KVM device (KVM_GET_API_VERSION gave %d)", version);
        return 1;
    }
    return 0;
}

/* The exit code of a cmocka suite that needs KVM: its own result, except
 * that a suite with no failure on a machine without KVM is skipped. */
static inline int nub_test_kvm_suite_result(int failed)
{
    char why[160];
    if (failed == 0 && nub_test_kvm_unusable(why, sizeof why)) {
        printf("SKIP: %s\n", why);
        return NUB_TEST_SKIP;
    }
    return failed;
}

#endif /* NUB_TESTS_KVM_CHECK_H */
