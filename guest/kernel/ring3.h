/* ring3.h — entering ring 3 at a JIT entry point and coming back (ring3.S). */
#ifndef NUB_KERNEL_RING3_H
#define NUB_KERNEL_RING3_H

#include <stdint.h>

struct nub_ring3_return {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp;
};

/* Runs ring-3 code at rip (with the current CR3) until a trap handler calls
 * nub_ring3_resume(ret); then returns 0. */
uint64_t nub_ring3_enter(struct nub_ring3_return *ret, uint64_t rip);
__attribute__((noreturn)) void nub_ring3_resume(const struct nub_ring3_return *ret);

#endif /* NUB_KERNEL_RING3_H */
