/*
 * boot_layout.h — where the host puts the guest's CPU environment in
 * guest-physical memory (below the kernel image at NUB_KERNEL_LOAD_MIN), and
 * the x86 control-register bits it sets. See abi/nub_rpc.h for the overall
 * map. These tables are final: the guest starts in ring 3 and never rebuilds
 * them.
 */
#ifndef NUB_HOST_BOOT_LAYOUT_H
#define NUB_HOST_BOOT_LAYOUT_H

#include "nub_rpc.h"

#define NUB_BOOT_GDT_GPA    UINT64_C(0x2000)
#define NUB_BOOT_GDT_BYTES  56u /* null, kernel code/data, user data/code, 16-byte TSS */
#define NUB_BOOT_TSS_GPA    UINT64_C(0x2100)
#define NUB_BOOT_TSS_CORE   104u
#define NUB_BOOT_IO_BITMAP  ((NUB_IO_BITMAP_PORTS + 7) / 8 + 1) /* + the 0xFF end byte */
#define NUB_BOOT_TSS_BYTES  (NUB_BOOT_TSS_CORE + NUB_BOOT_IO_BITMAP)
#define NUB_BOOT_IDT_GPA    UINT64_C(0x3000)
#define NUB_BOOT_PML4_GPA   UINT64_C(0x4000)
#define NUB_BOOT_PDPT_GPA   UINT64_C(0x5000)
#define NUB_BOOT_PD_GPA     UINT64_C(0x6000) /* four page directories: up to 4 GiB */
#define NUB_BOOT_PT_LOW_GPA UINT64_C(0xA000) /* 4 KiB pages for the first 2 MiB */
#define NUB_BOOT_TABLES_END UINT64_C(0xB000)

_Static_assert(NUB_BOOT_PARAMS_GPA + NUB_PAGE_SIZE <= NUB_BOOT_GDT_GPA, "params below the GDT");
_Static_assert(NUB_CRASH_REPORT_GPA + sizeof(struct nub_crash_report) <=
                   NUB_BOOT_PARAMS_GPA + NUB_PAGE_SIZE,
               "crash report inside the params page");
_Static_assert(NUB_SEL_TSS + 16 <= NUB_BOOT_GDT_BYTES, "TSS descriptor inside the GDT");
_Static_assert(NUB_BOOT_TSS_GPA >= NUB_BOOT_GDT_GPA + NUB_BOOT_GDT_BYTES, "GDT before TSS");
_Static_assert(NUB_BOOT_TSS_GPA + NUB_BOOT_TSS_BYTES <= NUB_BOOT_IDT_GPA, "TSS below the IDT");
_Static_assert(NUB_BOOT_IDT_GPA + 16 * NUB_KERNEL_VECTORS <= NUB_BOOT_PML4_GPA, "IDT size");
_Static_assert(NUB_BOOT_TABLES_END <= NUB_KERNEL_LOAD_MIN, "boot tables below the kernel");

#define X86_CR0_PE         (1ull << 0)
#define X86_CR0_MP         (1ull << 1)
#define X86_CR0_ET         (1ull << 4)
#define X86_CR0_NE         (1ull << 5)
#define X86_CR0_WP         (1ull << 16)
#define X86_CR0_PG         (1ull << 31)
#define X86_CR4_PAE        (1ull << 5)
#define X86_CR4_OSFXSR     (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_EFER_SCE       (1ull << 0)
#define X86_EFER_LME       (1ull << 8)
#define X86_EFER_LMA       (1ull << 10)
#define X86_EFER_NXE       (1ull << 11)

#endif /* NUB_HOST_BOOT_LAYOUT_H */
