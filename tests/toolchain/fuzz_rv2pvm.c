/*
 * fuzz_rv2pvm.c — libFuzzer target for the translator: any input either is
 * rejected with a message or becomes a standard program that loads and
 * decodes. Seeds: the ELF files nub-cc keeps for the toolchain tests.
 * Built only with -DNUB_FUZZ=ON (see CMakeLists.txt).
 */
#include <stdint.h>
#include <stdlib.h>

#include "pvm_alloc_libc.h"
#include "pvm_program.h"
#include "pvm_stdprog.h"
#include "rv2pvm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rv2pvm_options opt = {.stack_size = 4096};
    uint8_t *out = NULL;
    size_t out_len = 0;
    char err[512];
    if (rv2pvm_translate(data, size, &opt, &out, &out_len, NULL, err, sizeof err) != 0) {
        if (err[0] == '\0')
            abort(); /* every rejection says why */
        return 0;
    }
    struct pvm_stdprog sp;
    struct pvm_program *prog = NULL;
    struct pvm_allocator alloc = pvm_libc_allocator();
    if (pvm_stdprog_load(out, out_len, NULL, 0, &sp) != PVM_OK ||
        pvm_program_decode(sp.code_blob, sp.code_blob_len, &alloc, &prog) != PVM_OK)
        abort(); /* accepted output must be a valid program */
    pvm_program_destroy(prog);
    free(out);
    return 0;
}
