/* x86.h — the privileged instructions the kernel needs, one inline each. */
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

static inline uint64_t x86_read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint64_t x86_read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static inline void x86_write_cr3(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline uint64_t x86_read_cr4(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static inline void x86_write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void x86_invlpg(uint64_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void x86_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3])
                     : "a"(leaf), "c"(subleaf));
}

struct __attribute__((packed)) x86_table_pointer {
    uint16_t limit;
    uint64_t base;
};

static inline void x86_lidt(const struct x86_table_pointer *p)
{
    __asm__ volatile("lidt %0" : : "m"(*p));
}

static inline void x86_lgdt(const struct x86_table_pointer *p)
{
    __asm__ volatile("lgdt %0" : : "m"(*p));
}

static inline void x86_ltr(uint16_t selector)
{
    __asm__ volatile("ltr %0" : : "r"(selector));
}

static inline __attribute__((noreturn)) void x86_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

#define X86_CR4_SMEP (UINT64_C(1) << 20)
#define X86_CR4_SMAP (UINT64_C(1) << 21)

/* Page-table entry bits. */
#define X86_PTE_P         (UINT64_C(1) << 0)
#define X86_PTE_RW        (UINT64_C(1) << 1)
#define X86_PTE_US        (UINT64_C(1) << 2)
#define X86_PTE_PS        (UINT64_C(1) << 7)
#define X86_PTE_NX        (UINT64_C(1) << 63)
#define X86_PTE_ADDR_MASK UINT64_C(0x000FFFFFFFFFF000)

#endif /* NUB_KERNEL_X86_H */
