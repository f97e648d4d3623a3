/*
 * main.c — kernel start: check the boot parameters, install the kernel's
 * own CPU tables and page tables, start the heap, then serve RPCs.
 */
#include "kernel.h"

#include "cpu.h"
#include "directory.h"
#include "heap.h"
#include "kstring.h"
#include "paging.h"
#include "ring3.h"
#include "serial.h"
#include "trap.h"

struct nub_boot_params nub_kernel_params;

extern char nub_kernel_image_end[];
extern char nub_kernel_stack_top[];

static int range_ok(uint64_t start, uint64_t bytes, uint64_t floor, uint64_t limit)
{
    return start >= floor && bytes <= limit && start <= limit - bytes && start % NUB_PAGE_SIZE == 0;
}

static void load_boot_params(void)
{
    struct nub_boot_params p;
    nub_memcpy(&p, (const void *)(uintptr_t)NUB_BOOT_PARAMS_GPA, sizeof p);
    uint64_t image_end = (uint64_t)(uintptr_t)nub_kernel_image_end;
    uint64_t mem = p.memory_bytes;
    if (p.magic != NUB_BOOT_PARAMS_MAGIC || p.version != NUB_BOOT_PARAMS_VERSION ||
        !range_ok(p.request_gpa, p.request_bytes, image_end, mem) ||
        !range_ok(p.response_gpa, p.response_bytes, image_end, mem) ||
        !range_ok(p.heap_gpa, p.heap_bytes, image_end, mem) ||
        p.request_bytes < sizeof(struct nub_rpc_request_header) ||
        p.response_bytes < sizeof(struct nub_rpc_response_header) + sizeof(struct nub_boot_info))
        nub_kernel_panic(NUB_PANIC_BAD_BOOT_PARAMS);
    nub_kernel_params = p;
}

void nub_kernel_main(void)
{
    nub_cpu_init();
    load_boot_params();
    nub_paging_init(nub_kernel_params.memory_bytes);
    nub_heap_init(nub_kernel_params.heap_gpa, nub_kernel_params.heap_bytes);
    nub_directory_init(nub_kernel_params.heap_bytes, nub_kernel_params.directory_max_caps,
                       nub_kernel_params.directory_max_bytes);
    if (nub_kernel_params.flags & NUB_BOOT_FLAG_CONSOLE) {
        nub_serial_write("nub guest kernel: up, heap ");
        nub_serial_write_hex(nub_kernel_params.heap_bytes);
        nub_serial_write(" bytes\n");
    }
    /* Everything from here on runs in ring 3 (see ring3.S): on a
     * hypervisor that emulates guest ring 0 this is what makes calls fast. */
    nub_enter_service(nub_rpc_serve, (uint64_t)(uintptr_t)nub_kernel_stack_top);
}
