/* test_util.h — helpers shared by the sandbox test suites. */
#ifndef NUB_TEST_SANDBOX_UTIL_H
#define NUB_TEST_SANDBOX_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nub/host.h"

/* Skips the current test (with the reason on stderr) when /dev/kvm cannot be used. */
#define REQUIRE_KVM()                                                                              \
    do {                                                                                           \
        const char *why_ = nub_test_kvm_missing();                                                 \
        if (why_) {                                                                                \
            print_message("SKIP: %s\n", why_);                                                     \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* NULL when /dev/kvm is usable, else the reason. */
const char *nub_test_kvm_missing(void);

/* Creates a sandbox with the debug functions on (plus cfg fields given),
 * failing the test with the library's message if that does not work. */
nub_sandbox *nub_test_sandbox(const nub_sandbox_config *base);

/* Open file descriptors of this process (entries of /proc/self/fd). */
int nub_test_count_fds(void);

#endif /* NUB_TEST_SANDBOX_UTIL_H */
