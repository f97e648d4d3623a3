/*
 * rv2pvm.h — translate a static RISC-V ELF (rv64emac_zbb, lp64e, linked by
 * ld.lld --emit-relocs with nub-cc's linker script) into a JAM standard
 * program (SPEC §11).
 *
 * Conventions of the produced program (documented in docs/nub-cc.md):
 *  - Registers: x1 ra -> r0, x2 sp -> r1, x5..x7 t0..t2 -> r2..r4,
 *    x8,x9 s0,s1 -> r5,r6, x10..x15 a0..a5 -> r7..r12. x0 reads as zero;
 *    gp, tp (x3, x4) and x16..x31 are rejected.
 *  - Code addresses never appear in PVM registers or memory: every value the
 *    C program sees as a code address (return addresses, function pointers,
 *    switch-table entries) is a jump-table address 2*(i+1).
 *  - Endpoint K is the 5-byte instruction at pc 5*K: a `jump` to the
 *    exported function (pc 0 = refine / is-authorized, pc 5 = accumulate).
 *    Unused endpoint slots are `trap`. Endpoints come from the symbols
 *    __nub_export_<K> (NUB_EXPORT in nub_pvm.h) and then from
 *    options.entry_symbols in order, filling the lowest free K.
 *  - A function returns by jumping to ra; the initial ra is 0xFFFF0000, so
 *    returning from an endpoint halts (SPEC §11.4).
 */
#ifndef NUB_RV2PVM_H
#define NUB_RV2PVM_H

#include <stddef.h>
#include <stdint.h>

#define RV2PVM_MAX_ENDPOINTS      64
#define RV2PVM_DEFAULT_STACK_SIZE (64u * 1024u)

struct rv2pvm_options {
    uint32_t stack_size;              /* bytes; the container field is 24 bits */
    uint32_t extra_heap_pages;        /* added to the pages .bss needs */
    const char *const *entry_symbols; /* optional extra endpoints, by symbol name */
    size_t entry_symbol_count;
    /* Optional: called once per RISC-V instruction after a successful
     * translation with its address and the pc of its first PVM instruction
     * (for debugging and profiling tools; rv2pvm --map). */
    void (*map)(void *map_ctx, uint64_t rv_addr, uint32_t pvm_pc);
    void *map_ctx;
};

struct rv2pvm_stats {
    size_t rv_insns;       /* RISC-V instructions translated */
    size_t pvm_insns;      /* PVM instructions emitted (stub and padding included) */
    size_t code_bytes;     /* PVM code length */
    size_t jump_table_len; /* jump-table entries */
    size_t fallthroughs;   /* `fallthrough`s inserted to start blocks */
    size_t fused_branches; /* li + branch pairs emitted as one branch_*_imm */
    size_t endpoint_count; /* endpoint slots (highest K + 1) */
};

/*
 * Translates elf[0..elf_len). On success returns 0 and sets *program (malloc'ed,
 * caller frees) and *program_len; stats may be NULL. On failure returns -1 and
 * writes a message naming the offending instruction or relocation and its
 * address into err (err_len bytes, always NUL-terminated when err_len > 0).
 */
int rv2pvm_translate(const uint8_t *elf, size_t elf_len, const struct rv2pvm_options *options,
                     uint8_t **program, size_t *program_len, struct rv2pvm_stats *stats, char *err,
                     size_t err_len);

#endif /* NUB_RV2PVM_H */
