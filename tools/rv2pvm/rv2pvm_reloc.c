/*
 * rv2pvm_reloc.c — what the --emit-relocs relocations say: which lui/auipc
 * (+ %lo) pairs compute code addresses, which auipc+jalr pairs are calls,
 * and which data words hold code addresses. Everything else keeps the value
 * the linker computed (data is linked at its final PVM address).
 */
#include "rv2pvm_int.h"

#include <elf.h>
#include <stdlib.h>

static int symbol_target(struct rv2pvm_ctx *ctx, const struct rv_elf_rela *r, uint64_t *value)
{
    struct rv_elf_symbol sym;
    if (rv_elf_symbol(&ctx->elf, r->symbol, &sym) != 0)
        return rv2pvm_fail(ctx, "relocation at 0x%llx: symbol %u has a bad name",
                           (unsigned long long)r->offset, r->symbol);
    *value = sym.value + (uint64_t)r->addend;
    return 0;
}

static int code_ref_target(struct rv2pvm_ctx *ctx, uint64_t target, uint64_t at, const char *what)
{
    if (rv2pvm_find_item(ctx, target) < 0)
        return rv2pvm_fail(ctx,
                           "%s at 0x%llx refers to code address 0x%llx, which is not an "
                           "instruction start",
                           what, (unsigned long long)at, (unsigned long long)target);
    return rv2pvm_add_jump_target(ctx, target);
}

static const char *reloc_name(uint32_t type)
{
    switch (type) {
    case R_RISCV_32:
        return "R_RISCV_32";
    case R_RISCV_64:
        return "R_RISCV_64";
    case R_RISCV_BRANCH:
        return "R_RISCV_BRANCH";
    case R_RISCV_JAL:
        return "R_RISCV_JAL";
    case R_RISCV_CALL:
        return "R_RISCV_CALL";
    case R_RISCV_CALL_PLT:
        return "R_RISCV_CALL_PLT";
    case R_RISCV_GOT_HI20:
        return "R_RISCV_GOT_HI20";
    case R_RISCV_TLS_GOT_HI20:
        return "R_RISCV_TLS_GOT_HI20";
    case R_RISCV_TLS_GD_HI20:
        return "R_RISCV_TLS_GD_HI20";
    case R_RISCV_PCREL_HI20:
        return "R_RISCV_PCREL_HI20";
    case R_RISCV_PCREL_LO12_I:
        return "R_RISCV_PCREL_LO12_I";
    case R_RISCV_PCREL_LO12_S:
        return "R_RISCV_PCREL_LO12_S";
    case R_RISCV_HI20:
        return "R_RISCV_HI20";
    case R_RISCV_LO12_I:
        return "R_RISCV_LO12_I";
    case R_RISCV_LO12_S:
        return "R_RISCV_LO12_S";
    case R_RISCV_TPREL_HI20:
        return "R_RISCV_TPREL_HI20";
    case R_RISCV_TPREL_LO12_I:
        return "R_RISCV_TPREL_LO12_I";
    case R_RISCV_TPREL_LO12_S:
        return "R_RISCV_TPREL_LO12_S";
    case R_RISCV_TPREL_ADD:
        return "R_RISCV_TPREL_ADD";
    case R_RISCV_ADD32:
        return "R_RISCV_ADD32";
    case R_RISCV_SUB32:
        return "R_RISCV_SUB32";
    case R_RISCV_ADD64:
        return "R_RISCV_ADD64";
    case R_RISCV_SUB64:
        return "R_RISCV_SUB64";
    case R_RISCV_ALIGN:
        return "R_RISCV_ALIGN";
    case R_RISCV_RVC_BRANCH:
        return "R_RISCV_RVC_BRANCH";
    case R_RISCV_RVC_JUMP:
        return "R_RISCV_RVC_JUMP";
    case R_RISCV_RELAX:
        return "R_RISCV_RELAX";
    case R_RISCV_32_PCREL:
        return "R_RISCV_32_PCREL";
    default:
        return "relocation";
    }
}

/* First pass over text relocations: the hi halves and call pairs. */
static int text_reloc_hi(struct rv2pvm_ctx *ctx, const struct rv_elf_rela *r, long idx)
{
    struct rv_item *it = &ctx->items[idx];
    uint64_t target = 0; /* set by symbol_target before any use */
    switch (r->type) {
    case R_RISCV_BRANCH:
    case R_RISCV_JAL:
    case R_RISCV_RVC_BRANCH:
    case R_RISCV_RVC_JUMP:
    case R_RISCV_RELAX:
    case R_RISCV_ALIGN:
    case R_RISCV_PCREL_LO12_I:
    case R_RISCV_PCREL_LO12_S:
    case R_RISCV_LO12_I:
    case R_RISCV_LO12_S:
        return 0; /* targets come from the instruction / second pass */
    case R_RISCV_CALL:
    case R_RISCV_CALL_PLT: {
        struct rv_item *next = (size_t)idx + 1 < ctx->item_count ? it + 1 : NULL;
        if (it->in.op != RV_AUIPC || next == NULL || next->in.op != RV_JALR ||
            next->addr != it->addr + 4 || next->in.rs1 != it->in.rd)
            return rv2pvm_fail(ctx, "%s at 0x%llx is not on an auipc+jalr pair",
                               reloc_name(r->type), (unsigned long long)r->offset);
        it->flags |= ITEM_CALL_HI;
        next->flags |= ITEM_CALL_LO;
        return 0;
    }
    case R_RISCV_HI20:
    case R_RISCV_PCREL_HI20:
        if (symbol_target(ctx, r, &target) != 0)
            return -1;
        if ((r->type == R_RISCV_HI20 && it->in.op != RV_LUI) ||
            (r->type == R_RISCV_PCREL_HI20 && it->in.op != RV_AUIPC))
            return rv2pvm_fail(ctx, "%s at 0x%llx is on a %s", reloc_name(r->type),
                               (unsigned long long)r->offset, rv_op_name(it->in.op));
        if (!rv2pvm_in_text(ctx, target)) {
            it->flags |= ITEM_DATA_HI;
            return 0; /* data address: the linked immediate is already final */
        }
        it->flags |= ITEM_CODE_HI;
        it->ref = target;
        return code_ref_target(ctx, target, r->offset, reloc_name(r->type));
    default:
        return rv2pvm_fail(ctx, "unsupported relocation %s (type %u) at 0x%llx in code",
                           reloc_name(r->type), r->type, (unsigned long long)r->offset);
    }
}

/* Second pass: %lo halves whose hi computes a code address. */
static int text_reloc_lo(struct rv2pvm_ctx *ctx, const struct rv_elf_rela *r, long idx)
{
    struct rv_item *it = &ctx->items[idx];
    uint64_t target = 0; /* set by symbol_target before any use */
    if (r->type != R_RISCV_PCREL_LO12_I && r->type != R_RISCV_PCREL_LO12_S &&
        r->type != R_RISCV_LO12_I && r->type != R_RISCV_LO12_S)
        return 0;
    if (symbol_target(ctx, r, &target) != 0)
        return -1;
    bool code;
    if (r->type == R_RISCV_PCREL_LO12_I || r->type == R_RISCV_PCREL_LO12_S) {
        /* The symbol is the auipc this %pcrel_lo pairs with. */
        long hi = rv2pvm_find_item(ctx, target);
        if (hi < 0 || ctx->items[hi].in.op != RV_AUIPC)
            return rv2pvm_fail(ctx, "%s at 0x%llx does not point at an auipc", reloc_name(r->type),
                               (unsigned long long)r->offset);
        code = (ctx->items[hi].flags & ITEM_CODE_HI) != 0;
    } else {
        code = rv2pvm_in_text(ctx, target);
    }
    if (!code)
        return 0;
    if (r->type == R_RISCV_PCREL_LO12_S || r->type == R_RISCV_LO12_S)
        return rv2pvm_fail(ctx, "%s at 0x%llx: a store at a code address", reloc_name(r->type),
                           (unsigned long long)r->offset);
    it->flags |= ITEM_CODE_LO;
    return 0;
}

static int data_reloc(struct rv2pvm_ctx *ctx, const struct rv_elf_section *target_sec,
                      const struct rv_elf_rela *r, struct rv_data_refs *refs)
{
    uint64_t target = 0; /* set by symbol_target before any use */
    if (symbol_target(ctx, r, &target) != 0)
        return -1;
    if (r->offset < target_sec->addr || r->offset - target_sec->addr >= target_sec->size)
        return rv2pvm_fail(ctx, "%s at 0x%llx is outside section %s", reloc_name(r->type),
                           (unsigned long long)r->offset, target_sec->name);
    if (!rv2pvm_in_text(ctx, target))
        return 0; /* data-to-data: already linked to its final address */
    if (r->type != R_RISCV_32 && r->type != R_RISCV_64)
        return rv2pvm_fail(ctx,
                           "unsupported relocation %s (type %u) at 0x%llx in %s refers to "
                           "code address 0x%llx",
                           reloc_name(r->type), r->type, (unsigned long long)r->offset,
                           target_sec->name, (unsigned long long)target);
    unsigned width = r->type == R_RISCV_32 ? 4 : 8;
    if (target_sec->size - (r->offset - target_sec->addr) < width)
        return rv2pvm_fail(ctx, "%s at 0x%llx runs past the end of %s", reloc_name(r->type),
                           (unsigned long long)r->offset, target_sec->name);
    if (code_ref_target(ctx, target, r->offset, reloc_name(r->type)) != 0)
        return -1;
    if (refs->n == refs->cap) {
        size_t cap = refs->cap ? refs->cap * 2 : 64;
        struct rv_data_code_ref *v = realloc(refs->v, cap * sizeof *v);
        if (v == NULL)
            return rv2pvm_fail(ctx, "out of memory");
        refs->v = v;
        refs->cap = cap;
    }
    refs->v[refs->n++] = (struct rv_data_code_ref){r->offset, width, target};
    return 0;
}

/*
 * The assembler resolves pc-relative references inside one section itself
 * when relaxation is off, so calls to functions in the same section carry no
 * relocation. An auipc without a relocation is therefore either the first
 * half of such a call (auipc rX; jalr rd, lo(rX)) or a code address we
 * cannot see the target of.
 *
 * For the bare auipc rX at item i: the index of the `addi rd, rX, lo` that
 * completes the address, if that addi is the first later instruction that
 * reads rX and rX is dead after it (rd is rX, or rX is written again before
 * any other read), all on one straight line of code (contiguous, no jump or
 * branch in between). Else -1.
 */
static long find_bare_lo(const struct rv2pvm_ctx *ctx, size_t i)
{
    unsigned rx = ctx->items[i].in.rd;
    long lo = -1;
    if (rx == 0)
        return -1;
    for (size_t j = i + 1; j < ctx->item_count && j <= i + 64; j++) {
        const struct rv_item *prev = &ctx->items[j - 1], *it = &ctx->items[j];
        if (it->addr != prev->addr + prev->in.len)
            return -1;
        if (rv_insn_reads(&it->in, rx)) {
            if (lo >= 0 || it->in.op != RV_ADDI || it->in.rs1 != rx || it->in.rd == 0)
                return -1; /* a second reader, or not the address addi */
            lo = (long)j;
            if (it->in.rd == rx)
                return lo;
            continue;
        }
        if (rv_insn_writes(&it->in, rx))
            return lo; /* -1 if the auipc's value was never read */
        if (rv_op_ends_block(it->in.op))
            return -1;
    }
    return -1;
}

int rv2pvm_check_bare_pairs(struct rv2pvm_ctx *ctx)
{
    for (size_t i = 0; i < ctx->item_count; i++) {
        size_t lo = ctx->items[i].lo_index;
        for (size_t j = i + 1; lo != 0 && j <= lo; j++)
            if (ctx->items[j].flags & ITEM_BLOCK_START)
                return rv2pvm_fail(ctx,
                                   "0x%llx: a jump target between the auipc at 0x%llx and "
                                   "the addi at 0x%llx that computes a code address",
                                   (unsigned long long)ctx->items[j].addr,
                                   (unsigned long long)ctx->items[i].addr,
                                   (unsigned long long)ctx->items[lo].addr);
    }
    return 0;
}

static int classify_bare_auipc(struct rv2pvm_ctx *ctx)
{
    for (size_t i = 0; i < ctx->item_count; i++) {
        struct rv_item *it = &ctx->items[i];
        if (it->in.op != RV_AUIPC || (it->flags & (ITEM_CALL_HI | ITEM_CODE_HI | ITEM_DATA_HI)))
            continue;
        struct rv_item *next = i + 1 < ctx->item_count ? it + 1 : NULL;
        if (next != NULL && next->in.op == RV_JALR && next->addr == it->addr + 4 &&
            next->in.rs1 == it->in.rd && it->in.rd != 0) {
            it->flags |= ITEM_CALL_HI;
            next->flags |= ITEM_CALL_LO;
            continue;
        }
        /* `lla rX, label` inside the section (medany): auipc rX ... addi rX, rX, lo,
         * possibly with unrelated instructions scheduled in between. */
        long lo = find_bare_lo(ctx, i);
        if (lo > 0) {
            struct rv_item *add = &ctx->items[lo];
            uint64_t target = it->addr + (uint64_t)it->in.imm + (uint64_t)add->in.imm;
            if (rv2pvm_in_text(ctx, target)) {
                /* The auipc emits nothing (its value is only read by the
                 * addi); the addi loads the jump-table address. */
                it->flags |= ITEM_FOLDED;
                it->lo_index = (size_t)lo;
                add->flags |= ITEM_CODE_HI;
                add->ref = target;
                if (code_ref_target(ctx, target, it->addr, "auipc+addi") != 0)
                    return -1;
                continue;
            }
        }
        return rv2pvm_fail(ctx,
                           "0x%llx: auipc without a relocation that is neither a call nor an "
                           "auipc+addi address (compile with -mcmodel=medlow)",
                           (unsigned long long)it->addr);
    }
    return 0;
}

int rv2pvm_read_relocations(struct rv2pvm_ctx *ctx, struct rv_data_refs *refs)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t s = 0; s < ctx->elf.section_count; s++) {
            const struct rv_elf_section *rs = &ctx->elf.sections[s];
            if (rs->type != SHT_RELA)
                continue;
            const struct rv_elf_section *t = &ctx->elf.sections[rs->info];
            if (!(t->flags & SHF_ALLOC))
                continue; /* debug information and the like */
            for (size_t j = 0; j < rv_elf_rela_count(&ctx->elf, s); j++) {
                struct rv_elf_rela r;
                rv_elf_rela(&ctx->elf, s, j, &r);
                if (rv2pvm_is_text(t)) {
                    long idx = rv2pvm_find_item(ctx, r.offset);
                    if (idx < 0)
                        return rv2pvm_fail(ctx, "%s at 0x%llx is not on an instruction start",
                                           reloc_name(r.type), (unsigned long long)r.offset);
                    if ((pass == 0 ? text_reloc_hi : text_reloc_lo)(ctx, &r, idx) != 0)
                        return -1;
                } else if (pass == 0 && data_reloc(ctx, t, &r, refs) != 0) {
                    return -1;
                }
            }
        }
        if (pass == 0 && classify_bare_auipc(ctx) != 0)
            return -1;
    }
    return 0;
}
