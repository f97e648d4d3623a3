/*
 * main.c — the ring-3 service starts here (entry.S): check the boot
 * parameters, start the heap and the directory, then serve RPCs. The CPU
 * tables and page tables are the host's (host/boot.c).
 */
#include "kernel.h"

#include "directory.h"
#include "heap.h"
#include "kstring.h"
#include "page_pool.h"
#include "serial.h"
#include "trap.h"

struct nub_boot_params nub_kernel_params;

extern char nub_kernel_image_end[];

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
        p.response_bytes < sizeof(struct nub_rpc_response_header) + sizeof(struct nub_boot_info) ||
        p.kernel_cr3 == 0 || p.kernel_cr3 % NUB_PAGE_SIZE != 0 ||
        p.kernel_cr3 >= NUB_KERNEL_LOAD_MIN)
        nub_kernel_panic(NUB_PANIC_BAD_BOOT_PARAMS);
    nub_kernel_params = p;
}

void nub_service_main(void)
{
    load_boot_params();
    /* The page pool's bookkeeping comes off the end of the heap range. */
    uint64_t pool_bytes = nub_page_pool_bookkeeping_bytes(nub_kernel_params.memory_bytes);
    if (pool_bytes >= nub_kernel_params.heap_bytes / 2)
        nub_kernel_panic(NUB_PANIC_BAD_BOOT_PARAMS);
    uint64_t heap_bytes = nub_kernel_params.heap_bytes - pool_bytes;
    nub_page_pool_init(nub_kernel_params.memory_bytes, nub_kernel_params.heap_gpa + heap_bytes);
    nub_heap_init(nub_kernel_params.heap_gpa, heap_bytes);
    nub_directory_init(heap_bytes, nub_kernel_params.directory_max_caps,
                       nub_kernel_params.directory_max_bytes);
    if (nub_kernel_params.flags & NUB_BOOT_FLAG_CONSOLE) {
        nub_serial_write("nub guest kernel: up, heap ");
        nub_serial_write_hex(nub_kernel_params.heap_bytes);
        nub_serial_write(" bytes\n");
    }
    nub_rpc_serve();
}
