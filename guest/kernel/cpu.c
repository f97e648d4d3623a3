/*
 * cpu.c — the kernel's GDT, TSS and IDT, replacing the boot ones the host
 * built (same stubs, plus an IST stack so a kernel stack overflow is still
 * reported instead of escalating to a triple fault).
 */
#include "cpu.h"

#include "nub_rpc.h"
#include "kstring.h"
#include "x86.h"

extern const char nub_vector_stubs[];
extern const char nub_vector_stubs_end[];
extern char nub_kernel_ist_top[];
extern char nub_kernel_trap_top[];

#define VECTOR_STUB_STRIDE 16u /* entry.S NUB_VECTOR_STUB_STRIDE */
#define IST_INDEX          1u
#define IO_BITMAP_PORTS    (NUB_PORT_CRASH + 4) /* a 4-byte out checks 4 ports */
#define IO_BITMAP_BYTES    ((IO_BITMAP_PORTS + 7) / 8)

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS size");

struct __attribute__((packed)) idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate size");

static struct {
    uint64_t gdt[7] __attribute__((aligned(16)));
    struct tss64 tss __attribute__((aligned(16)));
    /* The I/O permission bitmap right after the TSS: ring 3 (the service)
     * may use exactly the console and the two RPC ports. */
    uint8_t io_bitmap[IO_BITMAP_BYTES + 1];
    struct idt_gate idt[NUB_KERNEL_IDT_VECTORS] __attribute__((aligned(16)));
} cpu_tables;

/* Flat 64-bit descriptors: access byte and flags are all that matter. */
#define GDT_KERNEL_CODE UINT64_C(0x00209A0000000000) /* P, DPL0, code, L */
#define GDT_KERNEL_DATA UINT64_C(0x0000920000000000) /* P, DPL0, data RW */
#define GDT_USER_DATA   UINT64_C(0x0000F20000000000) /* P, DPL3, data RW */
#define GDT_USER_CODE   UINT64_C(0x0020FA0000000000) /* P, DPL3, code, L */

static void gdt_set_tss(uint64_t *slot, uint64_t base, uint32_t limit)
{
    /* A 16-byte system descriptor: type 9 (available 64-bit TSS), present. */
    slot[0] = (limit & 0xFFFFu) | ((base & 0xFFFFFFu) << 16) | (UINT64_C(0x89) << 40) |
              ((uint64_t)((limit >> 16) & 0xFu) << 48) | (((base >> 24) & 0xFFu) << 56);
    slot[1] = base >> 32;
}

static int vector_uses_ist(unsigned vector)
{
    return vector == 2 /* NMI */ || vector == 8 /* #DF */ || vector == 14 /* #PF */ ||
           vector == 18 /* #MC */;
}

void nub_cpu_set_kernel_stack(uint64_t rsp0)
{
    cpu_tables.tss.rsp[0] = rsp0;
}

void nub_cpu_init(void)
{
    cpu_tables.gdt[0] = 0;
    cpu_tables.gdt[NUB_SEL_KERNEL_CODE >> 3] = GDT_KERNEL_CODE;
    cpu_tables.gdt[NUB_SEL_KERNEL_DATA >> 3] = GDT_KERNEL_DATA;
    cpu_tables.gdt[NUB_SEL_USER_DATA >> 3] = GDT_USER_DATA;
    cpu_tables.gdt[NUB_SEL_USER_CODE >> 3] = GDT_USER_CODE;
    nub_memset(&cpu_tables.tss, 0, sizeof cpu_tables.tss);
    cpu_tables.tss.rsp[0] = (uint64_t)(uintptr_t)nub_kernel_trap_top;
    cpu_tables.tss.ist[IST_INDEX - 1] = (uint64_t)(uintptr_t)nub_kernel_ist_top;
    cpu_tables.tss.iomap_base = sizeof(struct tss64);
    nub_memset(cpu_tables.io_bitmap, 0xFF, sizeof cpu_tables.io_bitmap); /* 1 = denied */
    /* COM1's data port (byte writes); the doorbell and crash ports take
     * 4-byte writes, and an access checks one bit per byte it spans. */
    const uint16_t allowed[] = {NUB_PORT_COM1,         NUB_PORT_DOORBELL,     NUB_PORT_DOORBELL + 1,
                                NUB_PORT_DOORBELL + 2, NUB_PORT_DOORBELL + 3, NUB_PORT_CRASH + 3};
    for (unsigned i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        cpu_tables.io_bitmap[allowed[i] / 8] &= (uint8_t) ~(1u << (allowed[i] % 8));
    gdt_set_tss(&cpu_tables.gdt[NUB_SEL_TSS >> 3], (uint64_t)(uintptr_t)&cpu_tables.tss,
                sizeof(struct tss64) + sizeof cpu_tables.io_bitmap - 1);

    struct x86_table_pointer gdtr = {sizeof cpu_tables.gdt - 1,
                                     (uint64_t)(uintptr_t)cpu_tables.gdt};
    x86_lgdt(&gdtr);
    /* Reload every segment register from the new table; CS needs a far return. */
    __asm__ volatile("mov %0, %%ds\n\t"
                     "mov %0, %%es\n\t"
                     "mov %0, %%ss\n\t"
                     "mov %0, %%fs\n\t"
                     "mov %0, %%gs\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:"
                     :
                     : "r"((uint64_t)NUB_SEL_KERNEL_DATA), "i"(NUB_SEL_KERNEL_CODE)
                     : "rax", "memory");
    x86_ltr(NUB_SEL_TSS);

    for (unsigned v = 0; v < NUB_KERNEL_IDT_VECTORS; v++) {
        uint64_t target = (uint64_t)(uintptr_t)nub_vector_stubs + v * VECTOR_STUB_STRIDE;
        cpu_tables.idt[v] = (struct idt_gate){
            .offset_low = (uint16_t)target,
            .selector = NUB_SEL_KERNEL_CODE,
            .ist = vector_uses_ist(v) ? IST_INDEX : 0,
            /* Interrupt gate, present; DPL 3 only for the JIT exit, so
             * ring-3 code cannot raise any other vector with `int n`. */
            .type_attr = (uint8_t)(v == NUB_VECTOR_JIT_EXIT ? 0xEE : 0x8E),
            .offset_mid = (uint16_t)(target >> 16),
            .offset_high = (uint32_t)(target >> 32),
        };
    }
    struct x86_table_pointer idtr = {sizeof cpu_tables.idt - 1,
                                     (uint64_t)(uintptr_t)cpu_tables.idt};
    x86_lidt(&idtr);
}
