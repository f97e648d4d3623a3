/*
 * paging.c — replaces the host's boot page tables (2 MiB pages, all RWX)
 * with the kernel's own: 4 KiB pages for the first 2 MiB (where page 0, the
 * image and its guard pages are), 2 MiB pages above, nothing user-accessible.
 */
#include "paging.h"

#include "trap.h"
#include "x86.h"

extern char nub_kernel_image_start[], nub_kernel_text_end[], nub_kernel_rodata_end[];
extern char nub_kernel_image_end[];
extern char nub_kernel_stack_guard[], nub_kernel_ist_guard[], nub_kernel_trap_guard[];
extern char nub_kernel_ist_top[], nub_kernel_trap_top[];

#define PAGE_4K  UINT64_C(0x1000)
#define PAGE_2M  UINT64_C(0x200000)
#define PD_COUNT (NUB_KERNEL_MAX_MEMORY >> 30)

static struct {
    uint64_t pml4[512];
    uint64_t pdpt[512];
    uint64_t pd[PD_COUNT][512];
    uint64_t pt_low[512]; /* the first 2 MiB */
} kernel_tables __attribute__((aligned(4096)));

static uint64_t addr(const char *symbol)
{
    return (uint64_t)(uintptr_t)symbol;
}

static uint64_t low_page_flags(uint64_t pa)
{
    if (pa == 0)
        return 0; /* null guard */
    if (pa == addr(nub_kernel_stack_guard) || pa == addr(nub_kernel_ist_guard) ||
        pa == addr(nub_kernel_trap_guard))
        return 0;
    /* The stacks ring 0 runs on stay supervisor-only; the rest is also the
     * ring-3 service's (it is the kernel's own code, trusted). */
    if ((pa > addr(nub_kernel_ist_guard) && pa < addr(nub_kernel_ist_top)) ||
        (pa > addr(nub_kernel_trap_guard) && pa < addr(nub_kernel_trap_top)))
        return X86_PTE_P | X86_PTE_RW | X86_PTE_NX;
    if (pa >= addr(nub_kernel_image_start) && pa < addr(nub_kernel_text_end))
        return X86_PTE_P | X86_PTE_US; /* read + execute */
    if (pa >= addr(nub_kernel_text_end) && pa < addr(nub_kernel_rodata_end))
        return X86_PTE_P | X86_PTE_US | X86_PTE_NX;
    return X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_NX;
}

uint64_t *nub_paging_kernel_pml4(void)
{
    return kernel_tables.pml4;
}

void nub_paging_init(uint64_t memory_bytes)
{
    if (memory_bytes < PAGE_2M || memory_bytes > NUB_KERNEL_MAX_MEMORY ||
        memory_bytes % PAGE_2M != 0)
        nub_kernel_panic(NUB_PANIC_BAD_MEMORY_SIZE);

    for (uint64_t i = 0; i < 512; i++)
        kernel_tables.pt_low[i] = (i * PAGE_4K) | low_page_flags(i * PAGE_4K);

    /* The tables are in .bss, zero at boot (the host hands over fresh
     * memory and this runs once): only the present entries are written. */
    uint64_t pages_2m = memory_bytes / PAGE_2M;
    const uint64_t table = X86_PTE_P | X86_PTE_RW | X86_PTE_US;
    kernel_tables.pd[0][0] = addr((const char *)kernel_tables.pt_low) | table;
    for (uint64_t i = 1; i < pages_2m; i++)
        kernel_tables.pd[i / 512][i % 512] =
            (i * PAGE_2M) | X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_PS | X86_PTE_NX;
    for (uint64_t i = 0; i < PD_COUNT; i++)
        kernel_tables.pdpt[i] = addr((const char *)kernel_tables.pd[i]) | table;
    kernel_tables.pml4[0] = addr((const char *)kernel_tables.pdpt) | table;

    x86_write_cr3(addr((const char *)kernel_tables.pml4));
}
