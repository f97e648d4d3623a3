/* trap.h — the frame entry.S builds for an exception, and its handler. */
#ifndef NUB_KERNEL_TRAP_H
#define NUB_KERNEL_TRAP_H

#include <stdint.h>

/* Matches the push order in entry.S (nub_exception_common), lowest first. */
struct nub_trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    /* pushed by the CPU */
    uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct nub_trap_frame) == 22 * 8, "trap frame layout");

/* Called by entry.S for every exception. Faults in the kernel never return. */
void nub_exception_dispatch(struct nub_trap_frame *frame);

/* A software panic: reported like a fault, with vector NUB_PANIC_VECTOR. */
#define NUB_PANIC_VECTOR 0x100u
__attribute__((noreturn)) void nub_kernel_panic(uint64_t reason);

/* Panic reasons (the report's error_code). */
#define NUB_PANIC_BAD_BOOT_PARAMS 1u

#endif /* NUB_KERNEL_TRAP_H */
