/*
 * boot.c — the boot environment the host writes into guest memory before
 * the first instruction: boot parameters, a GDT with a 64-bit code segment
 * and a TSS, an IDT over the kernel's exception stubs (so even a fault in
 * the kernel's first instruction is reported) and identity page tables with
 * 2 MiB pages. The kernel replaces the tables with its own at once.
 */
#include "sandbox_int.h"

#include <string.h>

#include "boot_layout.h"

#define PAGE_2M (UINT64_C(2) << 20)
#define PTE_P   (UINT64_C(1) << 0)
#define PTE_RW  (UINT64_C(1) << 1)
#define PTE_PS  (UINT64_C(1) << 7)

#define RESPONSE_BYTES (UINT64_C(1) << 20)

static void put_u64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, sizeof v); /* x86-64 host: little-endian like the guest */
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static void write_gdt_and_tss(uint8_t *mem)
{
    uint8_t *gdt = mem + NUB_BOOT_GDT_GPA;
    put_u64(gdt + 0, 0);
    put_u64(gdt + NUB_BOOT_SEL_CODE, UINT64_C(0x00209A0000000000)); /* P, DPL0, code, L */
    put_u64(gdt + NUB_BOOT_SEL_DATA, UINT64_C(0x0000920000000000)); /* P, DPL0, data RW */
    uint64_t base = NUB_BOOT_TSS_GPA, limit = NUB_BOOT_TSS_BYTES - 1;
    put_u64(gdt + NUB_BOOT_SEL_TSS, (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
                                        (UINT64_C(0x8B) << 40) |
                                        (((base >> 24) & 0xFF) << 56)); /* P, busy 64-bit TSS */
    put_u64(gdt + NUB_BOOT_SEL_TSS + 8, base >> 32);

    uint8_t *tss = mem + NUB_BOOT_TSS_GPA;
    memset(tss, 0, NUB_BOOT_TSS_BYTES);
    uint16_t iomap = NUB_BOOT_TSS_BYTES; /* no I/O permission bitmap */
    memcpy(tss + 102, &iomap, sizeof iomap);
}

static void write_idt(uint8_t *mem, const struct nub_kernel_layout *layout)
{
    uint8_t *idt = mem + NUB_BOOT_IDT_GPA;
    for (uint32_t v = 0; v < NUB_VECTOR_COUNT; v++) {
        uint64_t target = layout->vector_stubs_va + (uint64_t)v * layout->vector_stub_stride;
        uint64_t low = (target & 0xFFFF) | ((uint64_t)NUB_BOOT_SEL_CODE << 16) |
                       (UINT64_C(0x8E) << 40) | /* P, DPL0, 64-bit interrupt gate */
                       (((target >> 16) & 0xFFFF) << 48);
        put_u64(idt + 16 * v, low);
        put_u64(idt + 16 * v + 8, target >> 32);
    }
}

static void write_page_tables(uint8_t *mem, uint64_t mem_bytes)
{
    put_u64(mem + NUB_BOOT_PML4_GPA, NUB_BOOT_PDPT_GPA | PTE_P | PTE_RW);
    for (uint64_t gb = 0; gb < 4; gb++)
        put_u64(mem + NUB_BOOT_PDPT_GPA + 8 * gb, (NUB_BOOT_PD_GPA + 0x1000 * gb) | PTE_P | PTE_RW);
    for (uint64_t pa = 0; pa < mem_bytes; pa += PAGE_2M)
        put_u64(mem + NUB_BOOT_PD_GPA + 8 * (pa / PAGE_2M), pa | PTE_P | PTE_RW | PTE_PS);
}

nub_status nub__boot_prepare(nub_sandbox *sb, uint64_t image_end,
                             const struct nub_kernel_layout *layout, uint32_t boot_flags,
                             const nub_sandbox_config *cfg)
{
    uint64_t mem = sb->mem_bytes;
    /* The request buffer holds one whole cap: a sixteenth of memory. */
    uint64_t request_bytes = mem / 16;
    uint64_t request_gpa = align_up(image_end, NUB_PAGE_SIZE);
    uint64_t response_gpa = request_gpa + request_bytes;
    uint64_t heap_gpa = response_gpa + RESPONSE_BYTES;
    if (heap_gpa + PAGE_2M > mem)
        return nub__fail(sb, NUB_ERR_INVALID_ARGUMENT,
                         "guest memory of %llu bytes leaves no heap after the image",
                         (unsigned long long)mem);

    write_gdt_and_tss(sb->mem);
    write_idt(sb->mem, layout);
    write_page_tables(sb->mem, mem);

    sb->params = (struct nub_boot_params){
        .magic = NUB_BOOT_PARAMS_MAGIC,
        .version = NUB_BOOT_PARAMS_VERSION,
        .flags = boot_flags,
        .memory_bytes = mem,
        .request_gpa = request_gpa,
        .request_bytes = request_bytes,
        .response_gpa = response_gpa,
        .response_bytes = RESPONSE_BYTES,
        .heap_gpa = heap_gpa,
        .heap_bytes = mem - heap_gpa,
        .directory_max_caps = cfg->directory_max_caps,
        .directory_max_bytes = cfg->directory_max_bytes,
    };
    memcpy(sb->mem + NUB_BOOT_PARAMS_GPA, &sb->params, sizeof sb->params);
    return NUB_OK;
}
