/* cpu.h — the kernel's own GDT, TSS and IDT. */
#ifndef NUB_KERNEL_CPU_H
#define NUB_KERNEL_CPU_H

#include <stdint.h>

/* Segment selectors of the kernel GDT (user ones carry RPL 3). */
#define NUB_SEL_KERNEL_CODE 0x08
#define NUB_SEL_KERNEL_DATA 0x10
#define NUB_SEL_USER_DATA   (0x18 | 3)
#define NUB_SEL_USER_CODE   (0x20 | 3)
#define NUB_SEL_TSS         0x28

/* The `int` vector the JIT code uses to leave ring 3 (jit.h JIT_GUEST_EXIT_INT). */
#define NUB_VECTOR_JIT_EXIT    32u
#define NUB_KERNEL_IDT_VECTORS (NUB_VECTOR_JIT_EXIT + 1)

/* Installs the kernel GDT (with a TSS whose IST1 stack takes #DF/#NMI/#MC/#PF)
 * and the kernel IDT over the entry.S stubs. */
void nub_cpu_init(void);

/* The stack the CPU switches to on an exception from ring 3. */
void nub_cpu_set_kernel_stack(uint64_t rsp0);

#endif /* NUB_KERNEL_CPU_H */
