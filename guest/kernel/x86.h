/* x86.h — the few x86 instructions the kernel needs, one inline each. */
#ifndef NUB_KERNEL_X86_H
#define NUB_KERNEL_X86_H

#include <stdint.h>

static inline void x86_outb(uint16_t port, uint8_t value)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline void x86_outl(uint16_t port, uint32_t value)
{
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

/* Ring 0 only. */
static inline uint64_t x86_read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

/* Ring 0 only. */
static inline void x86_write_cr3(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

/* Ring 0 only. */
static inline __attribute__((noreturn)) void x86_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* Page-table entry bits. */
#define X86_PTE_P         (UINT64_C(1) << 0)
#define X86_PTE_RW        (UINT64_C(1) << 1)
#define X86_PTE_US        (UINT64_C(1) << 2)
#define X86_PTE_A         (UINT64_C(1) << 5)
#define X86_PTE_D         (UINT64_C(1) << 6)
#define X86_PTE_NX        (UINT64_C(1) << 63)
#define X86_PTE_ADDR_MASK UINT64_C(0x000FFFFFFFFFF000)

#endif /* NUB_KERNEL_X86_H */
