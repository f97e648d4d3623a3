/*
 * pvm_in_pvm.c — nub's own reference interpreter (guest/pvm), compiled by
 * nub-cc into a PVM program that runs a PVM program: a large, real C code
 * base (a big switch, tables, many helpers) for the translator. Endpoint 0
 * runs the embedded loop below with r7 = n and returns its r8, the sum
 * 1 + 2 + ... + n; anything else returns ~0.
 */
#include <stddef.h>
#include <stdint.h>

#include <nub_pvm.h>

#include "pvm_interp.h"
#include "pvm_program.h"

/* A bump allocator over a static arena: the interpreter's only memory. */
static uint8_t arena[1 << 20];
static size_t arena_used;

static void *arena_alloc(void *ctx, size_t size)
{
    (void)ctx;
    size = (size + 15) & ~(size_t)15;
    if (size > sizeof arena - arena_used)
        return NULL;
    void *p = arena + arena_used;
    arena_used += size;
    return p;
}

static void arena_free(void *ctx, void *ptr)
{
    (void)ctx;
    (void)ptr;
}

/* r8 += r7; r7 -= 1; if r7 != 0 goto 0; halt (jump_ind r0 = 0xFFFF0000). */
static const uint8_t sum_blob[] = {
    0x00, 0x00, 11,   /* no jump table, entry size 0, 11 code bytes */
    200,  0x78, 8,    /* pc 0: add_64 r8 = r7 + r8 */
    149,  0x77, 0xFF, /* pc 3: add_imm_64 r7 = r7 + (-1) */
    82,   0x07, 0xFA, /* pc 6: branch_ne_imm r7, 0, pc 0 */
    50,   0x00,       /* pc 9: jump_ind r0 */
    0x49, 0x02,       /* bitmask: instructions at 0, 3, 6, 9 */
};

uint64_t sum_in_pvm(uint64_t n);
uint64_t sum_in_pvm(uint64_t n)
{
    struct pvm_allocator alloc = {arena_alloc, arena_free, NULL};
    struct pvm_program *prog = NULL;
    struct pvm_interp *interp = NULL;
    struct pvm_state st = {.pc = 0, .gas = 1000000000};
    struct pvm_exit ex;
    arena_used = 0;
    if (pvm_program_decode(sum_blob, sizeof sum_blob, &alloc, &prog) != PVM_OK)
        return ~0ull;
    st.regs[0] = PVM_HALT_ADDRESS;
    st.regs[7] = n;
    if (pvm_interp_create(prog, NULL, 0, &st, &alloc, &interp) != PVM_OK)
        return ~0ull;
    pvm_interp_run(interp, &ex);
    pvm_interp_get_state(interp, &st);
    if (ex.reason != PVM_EXIT_HALT)
        return ~0ull - 1;
    return st.regs[8];
}
NUB_EXPORT(0, sum_in_pvm);
