/* test_util.c — see test_util.h. */
#include "test_util.h"
#include "kvm_check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *nub_test_kvm_missing(void)
{
    static char why[160]; /* test-only helper: one reason at a time */
    return nub_test_kvm_unusable(why, sizeof why) ? why : NULL;
}

nub_sandbox *nub_test_sandbox(const nub_sandbox_config *base)
{
    nub_sandbox_config cfg = {0};
    if (base)
        cfg = *base;
    char err[256] = "";
    cfg.flags |= NUB_SANDBOX_FLAG_DEBUG_FNS;
    cfg.create_error = err;
    cfg.create_error_len = sizeof err;
    nub_sandbox *sb = NULL;
    nub_status s = nub_sandbox_create(&cfg, &sb);
    if (s != NUB_OK)
        fail_msg("nub_sandbox_create: %s: %s", nub_strerror(s), err);
    return sb;
}

int nub_test_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}
