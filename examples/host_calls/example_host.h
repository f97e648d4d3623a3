/*
 * example_host.h — the host side of examples/host_calls: three host calls
 * the guest program (guest.c) makes. Shared by the example and its test.
 *
 *   EXAMPLE_HOST_INPUT  (1)  phi7 = buffer, phi8 = its size: the host writes
 *                            the input there (cut to the size); phi7 = the
 *                            input's full length
 *   EXAMPLE_HOST_SQUARE (2)  phi7 = phi7 * phi7 (a computation the guest asks for)
 *   EXAMPLE_HOST_OUTPUT (3)  phi7 = bytes, phi8 = length: the host keeps them
 *                            as the output
 *
 * Every call costs 10 gas. Memory the guest names but may not read or write
 * ends the run as a panic (as GP does for host calls).
 */
#ifndef EXAMPLE_HOST_H
#define EXAMPLE_HOST_H

#define EXAMPLE_HOST_INPUT  1
#define EXAMPLE_HOST_SQUARE 2
#define EXAMPLE_HOST_OUTPUT 3

#ifndef __riscv
#include <stddef.h>
#include <stdint.h>

#include "nub/host.h"

#define EXAMPLE_OUTPUT_MAX 4096

struct example_host {
    const uint8_t *input;
    uint32_t input_len;
    uint8_t output[EXAMPLE_OUTPUT_MAX];
    uint32_t output_len;
    nub_status last_memory_status; /* of the last failed memory access, else NUB_OK */
};

/* The host function (ctx = struct example_host *). */
int example_host_fn(void *ctx, nub_host_call *call);
#endif

#endif /* EXAMPLE_HOST_H */
