/*
 * boot.c — the guest's whole CPU environment, written by the host before
 * the first instruction: boot parameters, GDT (kernel and user segments, a
 * TSS with the IST stack, the ring-3 trap stack and the I/O bitmap), IDT over
 * the kernel's exception stubs (so even a fault at the first instruction is
 * reported) and the kernel's final page tables: page 0 and the guard pages
 * unmapped, each image page with its segment's permissions, the stacks ring
 * 0 runs on and the CPU tables supervisor-only, everything else user RW+NX
 * for the ring-3 service. The guest starts in ring 3 at the ELF entry: it
 * never runs ring-0 set-up code, which a PVM-style hypervisor would emulate.
 */
#include "sandbox_int.h"

#include <elf.h>
#include <string.h>

#include "boot_layout.h"

#define PAGE_4K   UINT64_C(0x1000)
#define PAGE_2M   (UINT64_C(2) << 20)
#define PTE_P     (UINT64_C(1) << 0)
#define PTE_RW    (UINT64_C(1) << 1)
#define PTE_US    (UINT64_C(1) << 2)
#define PTE_A     (UINT64_C(1) << 5)
#define PTE_D     (UINT64_C(1) << 6)
#define PTE_PS    (UINT64_C(1) << 7)
#define PTE_NX    (UINT64_C(1) << 63)
#define TABLE     (PTE_P | PTE_RW | PTE_US)
#define IST_INDEX 1u

#define RESPONSE_BYTES (UINT64_C(1) << 20)

static void put_u64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, sizeof v); /* x86-64 host: little-endian like the guest */
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static void write_gdt_and_tss(uint8_t *mem, const struct nub_kernel_layout *layout)
{
    uint8_t *gdt = mem + NUB_BOOT_GDT_GPA;
    memset(gdt, 0, NUB_BOOT_GDT_BYTES);
    put_u64(gdt + NUB_SEL_KERNEL_CODE, UINT64_C(0x00209A0000000000));      /* P, DPL0, code, L */
    put_u64(gdt + NUB_SEL_KERNEL_DATA, UINT64_C(0x0000920000000000));      /* P, DPL0, data RW */
    put_u64(gdt + (NUB_SEL_USER_DATA & ~3), UINT64_C(0x0000F20000000000)); /* P, DPL3, data */
    put_u64(gdt + (NUB_SEL_USER_CODE & ~3), UINT64_C(0x0020FA0000000000)); /* P, DPL3, code, L */
    uint64_t base = NUB_BOOT_TSS_GPA, limit = NUB_BOOT_TSS_BYTES - 1;
    put_u64(gdt + NUB_SEL_TSS, (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
                                   (UINT64_C(0x8B) << 40) | /* P, busy 64-bit TSS */
                                   (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56));
    put_u64(gdt + NUB_SEL_TSS + 8, base >> 32);

    uint8_t *tss = mem + NUB_BOOT_TSS_GPA;
    memset(tss, 0, NUB_BOOT_TSS_CORE);
    put_u64(tss + 4, layout->trap_top);                       /* rsp0: traps from ring 3 */
    put_u64(tss + 36 + 8 * (IST_INDEX - 1), layout->ist_top); /* ist1 */
    uint16_t iomap = NUB_BOOT_TSS_CORE;
    memcpy(tss + 102, &iomap, sizeof iomap);
    /* I/O bitmap (1 = denied): ring 3 may write COM1's data port and the
     * three RPC ports (4-byte writes: each spans 4 port numbers). */
    uint8_t *bitmap = tss + NUB_BOOT_TSS_CORE;
    memset(bitmap, 0xFF, NUB_BOOT_IO_BITMAP);
    const uint16_t allowed[] = {NUB_PORT_COM1,          NUB_PORT_DOORBELL,
                                NUB_PORT_DOORBELL + 1,  NUB_PORT_DOORBELL + 2,
                                NUB_PORT_DOORBELL + 3,  NUB_PORT_CRASH + 3,
                                NUB_PORT_HOST_CALL,     NUB_PORT_HOST_CALL + 1,
                                NUB_PORT_HOST_CALL + 2, NUB_PORT_HOST_CALL + 3};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        bitmap[allowed[i] / 8] &= (uint8_t) ~(1u << (allowed[i] % 8));
}

static int uses_ist(uint32_t v)
{
    return v == 2 /* NMI */ || v == 8 /* #DF */ || v == 14 /* #PF */ || v == 18 /* #MC */;
}

static void write_idt(uint8_t *mem, const struct nub_kernel_layout *layout)
{
    uint8_t *idt = mem + NUB_BOOT_IDT_GPA;
    for (uint32_t v = 0; v < NUB_KERNEL_VECTORS; v++) {
        uint64_t target = layout->vector_stubs_va + (uint64_t)v * layout->vector_stub_stride;
        /* 64-bit interrupt gates; DPL 3 only for the JIT's exit trap, so ring
         * 3 cannot raise any other vector with `int n`. */
        uint64_t type = v == NUB_VECTOR_JIT_EXIT ? 0xEE : 0x8E;
        uint64_t low = (target & 0xFFFF) | ((uint64_t)NUB_SEL_KERNEL_CODE << 16) |
                       ((uint64_t)(uses_ist(v) ? IST_INDEX : 0) << 32) | (type << 40) |
                       (((target >> 16) & 0xFFFF) << 48);
        put_u64(idt + 16 * v, low);
        put_u64(idt + 16 * v + 8, target >> 32);
    }
}

static int inside(uint64_t pa, uint64_t lo, uint64_t hi)
{
    return pa >= lo && pa < hi;
}

/* Leaf flags of the 4 KiB page at pa in the first 2 MiB. */
static uint64_t low_page_flags(const struct nub_image *img, uint64_t pa)
{
    const struct nub_kernel_layout *l = &img->layout;
    if (pa == 0 || pa == l->stack_guard_va || pa == l->ist_guard_va || pa == l->trap_guard_va)
        return 0; /* unmapped: null and stack guards */
    if (inside(pa, l->ist_guard_va, l->ist_top) || inside(pa, l->trap_guard_va, l->trap_top) ||
        inside(pa, NUB_BOOT_GDT_GPA, NUB_BOOT_PML4_GPA))
        return PTE_P | PTE_RW | PTE_NX; /* ring-0 stacks, GDT/TSS/IDT: supervisor */
    if (inside(pa, NUB_BOOT_PML4_GPA, NUB_BOOT_TABLES_END))
        return PTE_P | PTE_US | PTE_NX; /* page tables: the service reads the kernel's PML4 */
    for (uint32_t i = 0; i < img->segment_count; i++) {
        if (!inside(pa, img->segments[i].start & ~(PAGE_4K - 1), img->segments[i].end))
            continue;
        uint32_t f = img->segments[i].flags;
        if (f & PF_X)
            return PTE_P | PTE_US; /* read + execute */
        return PTE_P | PTE_US | PTE_NX | ((f & PF_W) ? PTE_RW : 0);
    }
    return PTE_P | PTE_RW | PTE_US | PTE_NX;
}

static void write_page_tables(uint8_t *mem, uint64_t mem_bytes, const struct nub_image *img)
{
    put_u64(mem + NUB_BOOT_PML4_GPA, NUB_BOOT_PDPT_GPA | TABLE);
    for (uint64_t gb = 0; gb < 4; gb++)
        put_u64(mem + NUB_BOOT_PDPT_GPA + 8 * gb, (NUB_BOOT_PD_GPA + PAGE_4K * gb) | TABLE);
    put_u64(mem + NUB_BOOT_PD_GPA, NUB_BOOT_PT_LOW_GPA | TABLE);
    for (uint64_t pa = PAGE_2M; pa < mem_bytes; pa += PAGE_2M)
        put_u64(mem + NUB_BOOT_PD_GPA + 8 * (pa / PAGE_2M),
                pa | PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_NX | PTE_A | PTE_D);
    /* Leaves are accessed (and writable ones dirty) from the start: the
     * CPU need not set the bits, and a shadow-paging hypervisor may then
     * map a page's neighbours on the fault of one (KVM prefetches only
     * accessed entries), which spares a fresh VM a fault for every page
     * of kernel code it runs. */
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t flags = low_page_flags(img, i * PAGE_4K);
        if (flags)
            flags |= PTE_A | ((flags & PTE_RW) ? PTE_D : 0);
        put_u64(mem + NUB_BOOT_PT_LOW_GPA + 8 * i, flags ? (i * PAGE_4K) | flags : 0);
    }
}

nub_status nub__boot_prepare(nub_sandbox *sb, const struct nub_image *img, uint32_t boot_flags,
                             const nub_sandbox_config *cfg)
{
    uint64_t mem = sb->mem_bytes;
    /* The request buffer holds one whole cap: a sixteenth of memory. */
    uint64_t request_bytes = mem / 16;
    uint64_t request_gpa = align_up(img->end, NUB_PAGE_SIZE);
    uint64_t response_gpa = request_gpa + request_bytes;
    uint64_t heap_gpa = response_gpa + RESPONSE_BYTES;
    if (heap_gpa + PAGE_2M > mem)
        return nub__fail(sb, NUB_ERR_INVALID_ARGUMENT,
                         "guest memory of %llu bytes leaves no heap after the image",
                         (unsigned long long)mem);

    write_gdt_and_tss(sb->mem, &img->layout);
    write_idt(sb->mem, &img->layout);
    write_page_tables(sb->mem, mem, img);

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
        .kernel_cr3 = NUB_BOOT_PML4_GPA,
    };
    memcpy(sb->mem + NUB_BOOT_PARAMS_GPA, &sb->params, sizeof sb->params);
    return NUB_OK;
}
