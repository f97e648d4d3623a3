/*
 * timeout.c — a call's deadline (invoke_timeout_ns) and
 * nub_sandbox_interrupt, without a process-wide signal handler.
 *
 * Both kick the vCPU with one real-time signal sent to the thread in the
 * call: a POSIX timer armed at the call's absolute deadline, or
 * nub_sandbox_interrupt from any thread. The thread keeps that signal
 * blocked during the call, and KVM_SET_SIGNAL_MASK gives KVM_RUN a mask
 * where it is unblocked: when it arrives, KVM_RUN returns EINTR, and
 * because the thread's own mask blocks it again on return, the signal stays
 * pending instead of being delivered. The host drains it with sigtimedwait
 * before restoring the thread's mask. No handler is installed, nothing
 * global is touched.
 *
 * Other signals of the process (SIGALRM, profilers, SIGCHLD) interrupt
 * KVM_RUN too. The deadline is absolute: after such an EINTR the call runs
 * on until the same deadline, so a storm of signals cannot postpone it.
 *
 * nub_sandbox_interrupt may run on any thread at any time. It sends the
 * signal only to a thread that is in a call, and the call cannot end while
 * a signal is on its way: the interrupter counts itself in `kickers` before
 * it reads `call_tid`, and the call clears `call_tid` and then waits for
 * `kickers` to drop to zero before draining the signal. (All atomics are
 * sequentially consistent.) An interrupt with no call running does nothing.
 */

#include "sandbox_int.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NUB_KICK_SIGNAL     (SIGRTMIN + 3)
#define KERNEL_SIGSET_BYTES 8 /* the kernel's sigset_t: 64 signals */
#define NS_PER_S            1000000000L

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

static int deadline_passed(const nub_sandbox *sb)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > sb->deadline.tv_sec ||
           (now.tv_sec == sb->deadline.tv_sec && now.tv_nsec >= sb->deadline.tv_nsec);
}

nub_status nub__call_begin(nub_sandbox *sb, sigset_t *saved_mask)
{
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, NUB_KICK_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &kick, saved_mask);
    sigset_t run_mask = *saved_mask;
    sigdelset(&run_mask, NUB_KICK_SIGNAL);
    pid_t tid = gettid();
    nub_status s = set_vcpu_mask(sb, &run_mask);
    if (s == NUB_OK && sb->timeout_ns) {
        s = ensure_timer(sb, tid);
        clock_gettime(CLOCK_MONOTONIC, &sb->deadline);
        uint64_t ns = (uint64_t)sb->deadline.tv_nsec + sb->timeout_ns % NS_PER_S;
        sb->deadline.tv_sec += (time_t)(sb->timeout_ns / NS_PER_S + ns / NS_PER_S);
        sb->deadline.tv_nsec = (long)(ns % NS_PER_S);
        struct itimerspec its = {.it_value = sb->deadline};
        if (s == NUB_OK && timer_settime(sb->timer, TIMER_ABSTIME, &its, NULL) < 0)
            s = nub__fail(sb, NUB_ERR_NOMEM, "timer_settime: %s", strerror(errno));
    }
    if (s != NUB_OK) {
        pthread_sigmask(SIG_SETMASK, saved_mask, NULL);
        return s;
    }
    atomic_store(&sb->interrupt_requested, 0);
    atomic_store(&sb->call_tid, tid);
    return NUB_OK;
}

nub_status nub__call_interrupted(nub_sandbox *sb)
{
    if (atomic_load(&sb->interrupt_requested))
        return NUB_ERR_INTERRUPTED;
    if (sb->timeout_ns && deadline_passed(sb))
        return NUB_ERR_TIMEOUT;
    return NUB_OK;
}

void nub__call_end(nub_sandbox *sb, const sigset_t *saved_mask)
{
    atomic_store(&sb->call_tid, 0);
    while (atomic_load(&sb->kickers) != 0)
        sched_yield(); /* an interrupter between reading call_tid and sending */
    int kicked = atomic_exchange(&sb->interrupt_requested, 0);
    if (sb->timeout_ns) {
        struct itimerspec off;
        memset(&off, 0, sizeof off);
        timer_settime(sb->timer, 0, &off, NULL);
        kicked |= deadline_passed(sb); /* the timer may have fired */
    }
    if (kicked) {
        sigset_t kick;
        sigemptyset(&kick);
        sigaddset(&kick, NUB_KICK_SIGNAL);
        struct timespec now = {0, 0};
        while (sigtimedwait(&kick, NULL, &now) == NUB_KICK_SIGNAL)
            ; /* drain, so that it is never delivered once the mask is restored */
    }
    pthread_sigmask(SIG_SETMASK, saved_mask, NULL);
}

nub_status nub_sandbox_set_timeout(nub_sandbox *sb, uint64_t invoke_timeout_ns)
{
    if (!sb)
        return NUB_ERR_INVALID_ARGUMENT;
    sb->timeout_ns = invoke_timeout_ns;
    return NUB_OK;
}

nub_status nub_sandbox_interrupt(nub_sandbox *sb)
{
    if (!sb)
        return NUB_ERR_INVALID_ARGUMENT;
    atomic_fetch_add(&sb->kickers, 1);
    pid_t tid = atomic_load(&sb->call_tid);
    if (tid) {
        atomic_store(&sb->interrupt_requested, 1);
        syscall(SYS_tgkill, getpid(), tid, NUB_KICK_SIGNAL);
    }
    atomic_fetch_sub(&sb->kickers, 1);
    return NUB_OK;
}

void nub__timeout_destroy(nub_sandbox *sb)
{
    if (sb->timer_created)
        timer_delete(sb->timer);
    sb->timer_created = 0;
}
