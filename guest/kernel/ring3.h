/* ring3.h — the ring-3 service, its gate into PVM runs and back (ring3.S). */
#ifndef NUB_KERNEL_RING3_H
#define NUB_KERNEL_RING3_H

#include <stdint.h>

#include "cpu.h"

struct nub_ring3_return {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp;
};

/* Service side: runs the JIT entry at rip in address space cr3 until the
 * kernel sends it back through nub_ring3_resume(ret); then returns 0. */
uint64_t nub_ring3_enter(struct nub_ring3_return *ret, uint64_t rip, uint64_t cr3);
__attribute__((noreturn)) void nub_ring3_resume(const struct nub_ring3_return *ret);

/* The gate instruction inside nub_ring3_enter (a ud2). */
extern const char nub_gate_enter_program[];

/* Kernel side, at boot: leaves ring 0 for good and runs entry() in ring 3. */
__attribute__((noreturn)) void nub_enter_service(void (*entry)(void), uint64_t stack_top);

/* rflags of the ring-3 service (IOPL 3: it does its own port I/O) and of
 * PVM code (IOPL 0: no port access). */
#define NUB_SERVICE_RFLAGS UINT64_C(0x3002)
#define NUB_PROGRAM_RFLAGS UINT64_C(0x0002)
#define NUB_SERVICE_CS     NUB_SEL_USER_CODE

#endif /* NUB_KERNEL_RING3_H */
