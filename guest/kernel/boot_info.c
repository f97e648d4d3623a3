/*
 * boot_info.c — the two ELF sections the host reads from the image file:
 * .boot_info (struct nub_boot_info, also served by GET_BOOT_INFO) and
 * .nub_layout (where the exception stubs are, for the host's boot IDT).
 */
#include "kernel.h"

#include "nub_rpc.h"

extern const char nub_vector_stubs[];
extern char nub_kernel_stack_guard[], nub_kernel_ist_guard[], nub_kernel_ist_top[];
extern char nub_kernel_trap_guard[], nub_kernel_trap_top[];

__attribute__((section(".boot_info"), used)) const struct nub_boot_info nub_kernel_boot_info = {
    .magic = NUB_BOOT_INFO_MAGIC,
    .directory_va = (uint64_t)(uintptr_t)&nub_kernel_directory,
    .directory_type_id = NUB_DIRECTORY_TYPE_ID,
    .guest_va_base = 0, /* identity mapping: guest-physical 0 is at VA 0 */
};

__attribute__((section(".nub_layout"), used))
const struct nub_kernel_layout nub_kernel_layout_info = {
    .magic = NUB_LAYOUT_MAGIC,
    .vector_stubs_va = (uint64_t)(uintptr_t)nub_vector_stubs,
    .vector_stub_stride = 16,
    .vector_count = NUB_KERNEL_VECTORS,
    .stack_guard_va = (uint64_t)(uintptr_t)nub_kernel_stack_guard,
    .ist_guard_va = (uint64_t)(uintptr_t)nub_kernel_ist_guard,
    .ist_top = (uint64_t)(uintptr_t)nub_kernel_ist_top,
    .trap_guard_va = (uint64_t)(uintptr_t)nub_kernel_trap_guard,
    .trap_top = (uint64_t)(uintptr_t)nub_kernel_trap_top,
};
