/* example_host.c — the host functions of examples/host_calls (see the header). */
#include "example_host.h"

#include <string.h>

int example_host_fn(void *ctx, nub_host_call *call)
{
    struct example_host *h = ctx;
    int64_t gas = nub_host_call_gas(call) - 10;
    nub_host_call_set_gas(call, gas);
    if (gas < 0)
        return NUB_HOST_OUT_OF_GAS;
    uint64_t a = nub_host_call_reg(call, 7), b = nub_host_call_reg(call, 8);
    nub_status s = NUB_OK;
    switch (nub_host_call_id(call)) {
    case EXAMPLE_HOST_INPUT: {
        uint32_t n = b < h->input_len ? (uint32_t)b : h->input_len;
        s = nub_host_call_write(call, (uint32_t)a, h->input, n);
        nub_host_call_set_reg(call, 7, h->input_len);
        break;
    }
    case EXAMPLE_HOST_SQUARE:
        nub_host_call_set_reg(call, 7, a * a);
        break;
    case EXAMPLE_HOST_OUTPUT:
        if (b > EXAMPLE_OUTPUT_MAX)
            return NUB_HOST_PANIC;
        s = nub_host_call_read(call, (uint32_t)a, h->output, (uint32_t)b);
        h->output_len = s == NUB_OK ? (uint32_t)b : 0;
        break;
    default:
        return NUB_HOST_PANIC;
    }
    if (s != NUB_OK) {
        h->last_memory_status = s;
        return NUB_HOST_PANIC;
    }
    return NUB_HOST_CONTINUE;
}
