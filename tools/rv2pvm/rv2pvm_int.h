/*
 * rv2pvm_int.h — state shared by the translator's files (not installed).
 */
#ifndef NUB_RV2PVM_INT_H
#define NUB_RV2PVM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvm_emit.h"
#include "rv2pvm.h"
#include "rv_decode.h"
#include "rv_elf.h"

/* Facts about one RISC-V instruction, gathered before any code is emitted. */
enum rv_item_flag {
    ITEM_BLOCK_START =
        1u << 0,            /* a jump/branch target, jump-table target or follows a terminator */
    ITEM_CODE_HI = 1u << 1, /* lui/auipc naming a code address (ref), or the addi of a bare
                               auipc+addi pair that computes one */
    ITEM_CODE_LO = 1u << 2, /* the %lo half of such a pair: already folded into the hi */
    ITEM_CALL_HI = 1u << 3, /* auipc of an auipc+jalr call pair (R_RISCV_CALL[_PLT]) */
    ITEM_CALL_LO = 1u << 4, /* jalr of a call pair */
    ITEM_FOLDED = 1u << 5,  /* merged into the previous instruction by a peephole */
    ITEM_DATA_HI = 1u << 6, /* auipc whose relocation names a data address */
};

struct rv_item {
    uint64_t addr;
    struct rv_insn in;
    uint32_t flags;
    uint64_t ref;    /* ITEM_CODE_HI: the code address the pair computes */
    size_t lo_index; /* bare auipc+addi pair (no relocation): index of the addi, else 0 */
    uint32_t pvm_pc; /* pc of the first PVM instruction emitted for it */
};

struct rv_fixup {
    size_t offset_at; /* position of the 4-byte offset field in the code */
    uint32_t insn_pc; /* pc of the jump/branch */
    uint64_t target;  /* RISC-V address of the target */
};

struct rv_text_range {
    uint64_t start, end;
};

struct rv2pvm_ctx {
    struct rv_elf elf;
    const struct rv2pvm_options *options;
    char *err;
    size_t err_len;

    struct rv_text_range *ranges;
    size_t range_count;
    struct rv_item *items;
    size_t item_count;
    uint32_t end_pc; /* pc of the trap after the last instruction */

    uint64_t *jump_targets; /* RISC-V addresses; sorted and unique once collected */
    size_t jump_target_count, jump_target_cap;

    struct rv_fixup *fixups;
    size_t fixup_count, fixup_cap;

    uint64_t endpoint_addr[RV2PVM_MAX_ENDPOINTS];
    bool endpoint_set[RV2PVM_MAX_ENDPOINTS];
    size_t endpoint_count;

    struct pvm_emitter em;
    size_t fallthroughs;
    size_t fused_branches;
    uint32_t amo_scratch; /* 16 bytes of rw memory for the atomics' two spills; 0 if unused */
};

/* A data word that holds a code address (function pointer, switch table). */
struct rv_data_code_ref {
    uint64_t addr;  /* where the word is */
    unsigned width; /* 4 or 8 */
    uint64_t target;
};

struct rv_data_refs {
    struct rv_data_code_ref *v;
    size_t n, cap;
};

/* The program's memory image (SPEC §11.3). */
struct rv_data_image {
    uint8_t *ro, *rw;
    uint64_t ro_len, rw_len, heap_pages, rw_base;
};

/* printf-style error into ctx->err; always returns -1. */
int rv2pvm_fail(struct rv2pvm_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Item index of the instruction starting at addr, or -1. */
long rv2pvm_find_item(const struct rv2pvm_ctx *ctx, uint64_t addr);
bool rv2pvm_in_text(const struct rv2pvm_ctx *ctx, uint64_t addr);
/* Jump-table address 2*(i+1) of a collected code address, or 0 if absent. */
uint64_t rv2pvm_jump_address(const struct rv2pvm_ctx *ctx, uint64_t code_addr);

uint64_t rv2pvm_round_up(uint64_t v, uint64_t to);
bool rv2pvm_is_text(const struct rv_elf_section *s);
int rv2pvm_add_jump_target(struct rv2pvm_ctx *ctx, uint64_t addr);
/* PVM pc of a RISC-V address after emission (the end of the text -> final trap). */
uint32_t rv2pvm_pvm_pc_of(const struct rv2pvm_ctx *ctx, uint64_t addr);

/* rv2pvm_reloc.c: flags items, collects jump targets and data code refs. */
int rv2pvm_read_relocations(struct rv2pvm_ctx *ctx, struct rv_data_refs *refs);
/* Once block starts are known: no bare auipc+addi pair may be entered midway. */
int rv2pvm_check_bare_pairs(struct rv2pvm_ctx *ctx);

/* rv2pvm_image.c */
int rv2pvm_layout_data(struct rv2pvm_ctx *ctx, struct rv_data_image *img);
int rv2pvm_patch_data_refs(struct rv2pvm_ctx *ctx, struct rv_data_image *img,
                           const struct rv_data_refs *refs);
int rv2pvm_write_container(struct rv2pvm_ctx *ctx, const struct rv_data_image *img,
                           uint8_t **program, size_t *program_len);

/* Emits the PVM code for item i (rv2pvm_insn.c). */
int rv2pvm_translate_item(struct rv2pvm_ctx *ctx, size_t i);
/* Records a jump/branch to a RISC-V address for patching. */
int rv2pvm_add_fixup(struct rv2pvm_ctx *ctx, size_t offset_at, uint32_t insn_pc, uint64_t target);

#endif /* NUB_RV2PVM_INT_H */
