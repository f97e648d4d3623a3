/*
 * fuzz_jit_blob.c — libFuzzer target: raw program blobs on the interpreter
 * and on the JIT, which must agree (jit_diff_run) or the target aborts.
 *
 * Input: 16 header bytes, then the SPEC §4 blob.
 *   bytes 0..3  gas (u32, taken modulo 20000: loops end quickly)
 *   bytes 4..7  initial pc (u32; values past the code are allowed)
 *   bytes 8..15 seed for the 13 registers (interesting values and addresses)
 * Memory: the differential generator's layout (RW 0x20000-0x21FFF, RO
 * 0x30000, RW 0x40000), heap top 0x44000.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit_diff.h"
#include "jit_gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 16)
        return 0;
    static const uint8_t rw_data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0xff, 0, 0, 0x7f};
    const struct pvm_segment segs[3] = {
        {0x20000, 0x2000, PVM_ACCESS_WRITE, rw_data, sizeof(rw_data)},
        {0x30000, 0x1000, PVM_ACCESS_READ, rw_data, sizeof(rw_data)},
        {0x40000, 0x1000, PVM_ACCESS_WRITE, NULL, 0},
    };
    static const uint64_t values[] = {0,          1,          2,          0x20000,
                                      0x20ffe,    0x21ffd,    0x30000,    0x40000,
                                      0xffffffff, 0x80000000, UINT64_MAX, 0x8000000000000000ull,
                                      0xfff0,     2,          4,          0xffff0000};
    struct pvm_state init;
    memset(&init, 0, sizeof(init));
    uint32_t gas, pc;
    uint64_t seed;
    memcpy(&gas, data, 4);
    memcpy(&pc, data + 4, 4);
    memcpy(&seed, data + 8, 8);
    init.gas = gas % 20000;
    init.pc = pc;
    init.heap_top = 0x44000;
    struct jit_rng r = {seed | 1};
    for (int i = 0; i < PVM_NUM_REGS; i++)
        init.regs[i] = values[jit_rng_below(&r, 16)] + jit_rng_below(&r, 3);
    char msg[256];
    int rc = jit_diff_run(data + 16, size - 16, segs, 3, &init, NULL, msg, sizeof(msg));
    if (rc > 0) {
        fprintf(stderr, "fuzz_jit_blob: divergence: %s\n", msg);
        abort();
    }
    return 0;
}
