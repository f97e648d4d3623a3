/*
 * timeout.c — invoke_timeout_ns without a process-wide signal handler.
 *
 * A POSIX timer sends NUB_KICK_SIGNAL to the calling thread. The thread
 * keeps that signal blocked during the call, and KVM_SET_SIGNAL_MASK gives
 * KVM_RUN a mask where it is unblocked: when it arrives, KVM_RUN returns
 * EINTR, and because the thread's own mask blocks it again on return, the
 * signal stays pending instead of being delivered. The host then drains it
 * with sigtimedwait. No handler is installed, nothing global is touched.
 */
#include "sandbox_int.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define NUB_KICK_SIGNAL     (SIGRTMIN + 3)
#define KERNEL_SIGSET_BYTES 8 /* the kernel's sigset_t: 64 signals */

static nub_status set_vcpu_mask(nub_sandbox *sb, const sigset_t *mask)
{
    if (sb->vcpu_mask_set && memcmp(&sb->vcpu_mask, mask, sizeof *mask) == 0)
        return NUB_OK;
    union {
        struct kvm_signal_mask m;
        uint8_t bytes[sizeof(struct kvm_signal_mask) + KERNEL_SIGSET_BYTES];
    } arg;
    arg.m.len = KERNEL_SIGSET_BYTES;
    memcpy(arg.m.sigset, mask, KERNEL_SIGSET_BYTES);
    if (ioctl(sb->vcpu_fd, KVM_SET_SIGNAL_MASK, &arg.m) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_SET_SIGNAL_MASK: %s", strerror(errno));
    sb->vcpu_mask = *mask;
    sb->vcpu_mask_set = 1;
    return NUB_OK;
}

static nub_status ensure_timer(nub_sandbox *sb, pid_t tid)
{
    if (sb->timer_created && sb->timer_tid == tid)
        return NUB_OK;
    if (sb->timer_created) {
        timer_delete(sb->timer);
        sb->timer_created = 0;
    }
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = NUB_KICK_SIGNAL;
    sev._sigev_un._tid = tid;
    if (timer_create(CLOCK_MONOTONIC, &sev, &sb->timer) < 0)
        return nub__fail(sb, NUB_ERR_NOMEM, "timer_create: %s", strerror(errno));
    sb->timer_created = 1;
    sb->timer_tid = tid;
    return NUB_OK;
}

nub_status nub__timeout_arm(nub_sandbox *sb, sigset_t *saved_mask)
{
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, NUB_KICK_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &kick, saved_mask);

    sigset_t run_mask = *saved_mask;
    sigdelset(&run_mask, NUB_KICK_SIGNAL);
    nub_status s = ensure_timer(sb, gettid());
    if (s == NUB_OK)
        s = set_vcpu_mask(sb, &run_mask);
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(sb->timeout_ns / 1000000000u),
                     .tv_nsec = (long)(sb->timeout_ns % 1000000000u)},
    };
    if (s == NUB_OK && timer_settime(sb->timer, 0, &its, NULL) < 0)
        s = nub__fail(sb, NUB_ERR_NOMEM, "timer_settime: %s", strerror(errno));
    if (s != NUB_OK)
        pthread_sigmask(SIG_SETMASK, saved_mask, NULL);
    return s;
}

void nub__timeout_disarm(nub_sandbox *sb, const sigset_t *saved_mask, int *fired)
{
    /* A one-shot timer that has expired shows no time left. Check that
     * before disarming: re-arming a POSIX timer discards its queued signal,
     * so the pending signal alone is not a reliable witness. */
    struct itimerspec left;
    *fired = timer_gettime(sb->timer, &left) == 0 && left.it_value.tv_sec == 0 &&
             left.it_value.tv_nsec == 0;
    struct itimerspec off;
    memset(&off, 0, sizeof off);
    timer_settime(sb->timer, 0, &off, NULL);
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, NUB_KICK_SIGNAL);
    struct timespec now = {0, 0};
    while (sigtimedwait(&kick, NULL, &now) == NUB_KICK_SIGNAL)
        ; /* drain, so that it is never delivered once the mask is restored */
    pthread_sigmask(SIG_SETMASK, saved_mask, NULL);
}

void nub__timeout_forget_mask(nub_sandbox *sb)
{
    if (sb->vcpu_mask_set && ioctl(sb->vcpu_fd, KVM_SET_SIGNAL_MASK, NULL) == 0)
        sb->vcpu_mask_set = 0;
}

void nub__timeout_destroy(nub_sandbox *sb)
{
    if (sb->timer_created)
        timer_delete(sb->timer);
    sb->timer_created = 0;
}
