/*
 * fuzz_pvm.c — libFuzzer target for the PVM core on untrusted bytes.
 *
 * The first input byte picks what the rest is:
 *   even: a program blob — decode it; if valid, run it on the interpreter
 *         (bounded gas, host calls resumed a few times) and check that
 *         disassembling and re-assembling gives back the same blob;
 *   odd:  a standard program container — load it, decode its code, run it.
 * Any crash, sanitizer report or broken round trip (abort) is a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pvm_alloc_libc.h"
#include "pvm_interp.h"
#include "pvm_program.h"
#include "pvm_stdprog.h"
#include "pvmasm.h"

static void run_program(const uint8_t *blob, size_t len, const struct pvm_segment *segs,
                        size_t nsegs, const struct pvm_state *init)
{
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *p;
    if (pvm_program_decode(blob, len, &alloc, &p) != PVM_OK)
        return;
    struct pvm_interp *it;
    if (pvm_interp_create(p, segs, nsegs, init, &alloc, &it) == PVM_OK) {
        struct pvm_exit e;
        for (int k = 0; k < 4; k++) {
            pvm_interp_run(it, &e);
            if (e.reason != PVM_EXIT_HOST_CALL)
                break;
        }
        if (e.reason > PVM_EXIT_HOST_CALL)
            abort();
        pvm_interp_destroy(it);
    }
    pvm_program_destroy(p);
}

static void check_round_trip(const uint8_t *blob, size_t len)
{
    char err[256];
    char *text = pvmasm_disassemble(blob, len, err, sizeof(err));
    if (text == NULL)
        return;
    struct pvmasm_output out;
    if (pvmasm_assemble(text, strlen(text), &out, err, sizeof(err)) != 0)
        abort();
    if (out.blob_len != len || memcmp(out.blob, blob, len) != 0)
        abort();
    pvmasm_output_free(&out);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const uint8_t *bytes = data + 1;
    size_t len = size - 1;
    struct pvm_state init;
    memset(&init, 0, sizeof(init));
    init.regs[0] = PVM_HALT_ADDRESS;
    init.gas = 20000;
    if ((data[0] & 1) == 0) {
        struct pvm_segment seg = {.address = 0x10000, .length = 0x2000, .access = PVM_ACCESS_WRITE};
        init.heap_top = 0x12000;
        run_program(bytes, len, &seg, 1, &init);
        check_round_trip(bytes, len);
    } else {
        static const uint8_t args[] = {1, 2, 3};
        struct pvm_stdprog sp;
        if (pvm_stdprog_load(bytes, len, args, sizeof(args), &sp) != PVM_OK)
            return 0;
        if (pvm_segments_validate(sp.segments, sp.segment_count) != PVM_OK)
            abort();
        pvm_stdprog_initial_state(&sp, data[0] & 2 ? 5 : 0, 20000, &init);
        run_program(sp.code_blob, sp.code_blob_len, sp.segments, sp.segment_count, &init);
    }
    return 0;
}
