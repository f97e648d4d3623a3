/* paging.h — the kernel's identity-mapped, supervisor-only address space. */
#ifndef NUB_KERNEL_PAGING_H
#define NUB_KERNEL_PAGING_H

#include <stdint.h>

#define NUB_KERNEL_MAX_MEMORY (UINT64_C(4) << 30) /* four page directories */

/* Builds and loads the kernel page tables for memory_bytes of guest memory:
 * page 0 and the stack guard pages unmapped, .text the only executable
 * range, everything else RW+NX. User-accessible for the ring-3 service
 * (the kernel's own code) except the stacks ring 0 runs on; a PVM run's
 * address space includes this map only without the U bit (uspace.c). */
void nub_paging_init(uint64_t memory_bytes);

/* The kernel's PML4 (physical = virtual). */
uint64_t *nub_paging_kernel_pml4(void);

#endif /* NUB_KERNEL_PAGING_H */
