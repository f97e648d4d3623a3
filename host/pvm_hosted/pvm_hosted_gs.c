/*
 * pvm_hosted_gs.c — the thread's gs base, which the JIT code addresses its
 * window and context block through (guest/pvm/jit.h).
 *
 * Linux x86-64 user space leaves gs to the program (TLS is fs), so a run
 * may point it at its window. With FSGSBASE enabled by the kernel (it says
 * so in AT_HWCAP2), rdgsbase/wrgsbase change it without a system call;
 * otherwise arch_prctl does. The choice is made once per instance, when it
 * is created.
 */
#include <asm/prctl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pvm_hosted_int.h"

/* AT_HWCAP2 bit: the kernel lets user space run rd/wr{fs,gs}base. */
#define HOSTED_HWCAP2_FSGSBASE (1u << 1)

bool hosted_gs_fast_available(void)
{
    return (getauxval(AT_HWCAP2) & HOSTED_HWCAP2_FSGSBASE) != 0;
}

uint64_t hosted_gs_base_get(bool fast)
{
    uint64_t base = 0;
    if (fast)
        __asm__ volatile("rdgsbase %0" : "=r"(base));
    else
        syscall(SYS_arch_prctl, ARCH_GET_GS, &base);
    return base;
}

void hosted_gs_base_set(bool fast, uint64_t base)
{
    if (fast)
        __asm__ volatile("wrgsbase %0" : : "r"(base) : "memory");
    else
        syscall(SYS_arch_prctl, ARCH_SET_GS, base);
}
