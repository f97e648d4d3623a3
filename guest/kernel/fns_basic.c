/* fns_basic.c — SMOKE, HEAP_STATS, GET_BOOT_INFO and the debug functions. */
#include "kernel.h"

#include "heap.h"
#include "kstring.h"

extern const struct nub_boot_info nub_kernel_boot_info;

nub_status nub_fn_smoke(const uint8_t *payload, uint32_t len, uint8_t *reply, uint32_t cap,
                        uint32_t *reply_len)
{
    (void)payload;
    (void)len;
    if (cap < 8)
        return NUB_ERR_PAYLOAD_TOO_LARGE;
    nub_put_u64(reply, 42);
    *reply_len = 8;
    return NUB_OK;
}

nub_status nub_fn_heap_stats(const uint8_t *payload, uint32_t len, uint8_t *reply, uint32_t cap,
                             uint32_t *reply_len)
{
    (void)payload;
    (void)len;
    struct nub_heap_stats st;
    if (cap < sizeof st)
        return NUB_ERR_PAYLOAD_TOO_LARGE;
    nub_heap_get_stats(&st);
    nub_put_u64(reply + 0, st.allocated_bytes);
    nub_put_u64(reply + 8, st.allocation_count);
    nub_put_u64(reply + 16, st.fragment_count);
    nub_put_u64(reply + 24, st.available_bytes);
    *reply_len = sizeof st;
    return NUB_OK;
}

nub_status nub_fn_get_boot_info(const uint8_t *payload, uint32_t len, uint8_t *reply, uint32_t cap,
                                uint32_t *reply_len)
{
    (void)payload;
    (void)len;
    if (cap < sizeof nub_kernel_boot_info)
        return NUB_ERR_PAYLOAD_TOO_LARGE;
    nub_memcpy(reply, &nub_kernel_boot_info, sizeof nub_kernel_boot_info);
    *reply_len = sizeof nub_kernel_boot_info;
    return NUB_OK;
}

/* Recurses until the stack runs into its guard page. */
static __attribute__((noinline)) uint64_t overflow_stack(volatile uint64_t depth)
{
    volatile uint8_t pad[512];
    pad[0] = (uint8_t)depth;
    if (depth == UINT64_MAX) /* never: the guard page stops the recursion first */
        return 0;
    return overflow_stack(depth + 1) + pad[0];
}

nub_status nub_fn_debug_fault(const uint8_t *payload, uint32_t len, uint8_t *reply, uint32_t cap,
                              uint32_t *reply_len)
{
    (void)len;
    (void)reply;
    (void)cap;
    (void)reply_len;
    switch (nub_get_u32(payload)) {
    case NUB_DEBUG_FAULT_NULL_READ: {
        /* The empty asm hides the constant address, so no compiler flags a
         * read it can see is out of bounds: the fault is the point. */
        volatile uint32_t *null_page = (volatile uint32_t *)(uintptr_t)8;
        __asm__("" : "+r"(null_page));
        return (nub_status)*null_page;
    }
    case NUB_DEBUG_FAULT_INVALID_OPCODE:
        __asm__ volatile("ud2");
        break;
    case NUB_DEBUG_FAULT_STACK_OVERFLOW:
        return (nub_status)overflow_stack(0);
    case NUB_DEBUG_FAULT_DIVIDE: {
        uint64_t zero = 0;
        __asm__ volatile("xor %%edx, %%edx\n\tdivq %0" : : "r"(zero), "a"(1) : "rdx");
        break;
    }
    case NUB_DEBUG_FAULT_NONCANONICAL:
        return (nub_status) * (volatile uint32_t *)(uintptr_t)UINT64_C(0x8000000000000000);
    default:
        return NUB_ERR_INVALID_ARGUMENT;
    }
    return NUB_ERR_INVALID_ARGUMENT;
}

nub_status nub_fn_debug_spin(const uint8_t *payload, uint32_t len, uint8_t *reply, uint32_t cap,
                             uint32_t *reply_len)
{
    (void)payload;
    (void)len;
    (void)reply;
    (void)cap;
    (void)reply_len;
    for (;;)
        __asm__ volatile("pause");
}
