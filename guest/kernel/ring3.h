/* ring3.h — the ring-3 service, its gate into PVM runs and back (ring3.S). */
#ifndef NUB_KERNEL_RING3_H
#define NUB_KERNEL_RING3_H

#include <stdint.h>

#include "nub_rpc.h"

struct nub_ring3_return {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp;
};

/* Service side: runs the run nub_run_gate describes (its CR3 and JIT entry)
 * until the kernel sends it back through nub_ring3_resume(ret); then
 * returns 0. */
uint64_t nub_ring3_enter(struct nub_ring3_return *ret);
__attribute__((noreturn)) void nub_ring3_resume(const struct nub_ring3_return *ret);

/* What the ring-0 fast paths (ring3.S) need to know about the run in
 * progress; filled by the service right before the gate, cleared after
 * (ret == NULL: no run). Offsets are fixed in ring3.S. */
struct nub_run_gate {
    uint64_t cr3;                 /*  0: the run's address space */
    uint64_t entry;               /*  8: the JIT entry stub (user VA) */
    uint64_t gate_va;             /* 16: nub_gate_enter_program while a run is on, else 0 */
    uint64_t exit_int_va;         /* 24: the exit stub's `int 32` (user VA), else 0 */
    struct nub_ring3_return *ret; /* 32 */
    uint64_t kernel_cr3;          /* 40: the kernel's (and service's) tables */
};
_Static_assert(__builtin_offsetof(struct nub_run_gate, exit_int_va) == 24, "ring3.S offsets");
_Static_assert(__builtin_offsetof(struct nub_run_gate, kernel_cr3) == 40, "ring3.S offsets");
extern struct nub_run_gate nub_run_gate;

/* The gate instruction inside nub_ring3_enter (a ud2). */
extern const char nub_gate_enter_program[];

/* rflags of the ring-3 service and of PVM code (interrupts off, IOPL 0:
 * the TSS I/O bitmap lets ring 3 use the console and RPC ports only). */
#define NUB_SERVICE_RFLAGS UINT64_C(0x0002)
#define NUB_PROGRAM_RFLAGS UINT64_C(0x0002)

#endif /* NUB_KERNEL_RING3_H */
