/*
 * rv2pvm_image.c — the data side of a standard program: read-only and
 * read-write bytes and heap pages from the ELF's data sections (SPEC §11.3),
 * code addresses in data rewritten to jump-table addresses, and the §11.1
 * container around the code blob.
 */
#include "rv2pvm_int.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#define PVM_RO_BASE   0x10000u
#define PVM_ZONE      0x10000u
#define PVM_PAGE      0x1000u
#define PVM_INPUT_LEN 0x1000000u

static bool is_data(const struct rv_elf_section *s)
{
    return (s->flags & SHF_ALLOC) && !(s->flags & SHF_EXECINSTR) && s->size > 0;
}

/* Read-modify-write atomics need two spill slots (rv2pvm_insn.c). */
static bool needs_amo_scratch(const struct rv2pvm_ctx *ctx)
{
    for (size_t i = 0; i < ctx->item_count; i++) {
        enum rv_op op = ctx->items[i].in.op;
        if (op >= RV_LR_W && op <= RV_AMOMAXU_D && op != RV_LR_W && op != RV_SC_W &&
            op != RV_LR_D && op != RV_SC_D)
            return true;
    }
    return false;
}

int rv2pvm_layout_data(struct rv2pvm_ctx *ctx, struct rv_data_image *img)
{
    uint64_t ro_end = PVM_RO_BASE, rw_fill_end = 0, rw_end = 0;
    for (size_t i = 0; i < ctx->elf.section_count; i++) {
        const struct rv_elf_section *s = &ctx->elf.sections[i];
        if (!is_data(s))
            continue;
        if (s->addr + s->size < s->addr || s->addr + s->size > 0xFFFFFFFFu)
            return rv2pvm_fail(ctx, "section %s (0x%llx, %llu bytes) is outside 32-bit memory",
                               s->name, (unsigned long long)s->addr, (unsigned long long)s->size);
        for (size_t r = 0; r < ctx->range_count; r++)
            if (s->addr < ctx->ranges[r].end && ctx->ranges[r].start < s->addr + s->size)
                return rv2pvm_fail(ctx, "data section %s overlaps the code", s->name);
        if (s->type == SHT_INIT_ARRAY || s->type == SHT_FINI_ARRAY || s->type == SHT_PREINIT_ARRAY)
            return rv2pvm_fail(ctx,
                               "section %s: constructors and destructors are not run on "
                               "the PVM (no startup code)",
                               s->name);
        if (s->flags & SHF_TLS)
            return rv2pvm_fail(ctx, "section %s: thread-local storage is not supported", s->name);
        if (s->type != SHT_NOBITS && s->data == NULL)
            return rv2pvm_fail(ctx, "data section %s has no contents in the file", s->name);
        if (s->addr < PVM_RO_BASE)
            return rv2pvm_fail(ctx,
                               "section %s at 0x%llx is below 0x10000 (link with nub-cc's "
                               "linker script)",
                               s->name, (unsigned long long)s->addr);
        if (!(s->flags & SHF_WRITE) && s->addr + s->size > ro_end)
            ro_end = s->addr + s->size;
    }
    img->ro_len = ro_end - PVM_RO_BASE;
    img->rw_base = 0x20000u + rv2pvm_round_up(img->ro_len, PVM_ZONE);
    rw_fill_end = rw_end = img->rw_base;
    for (size_t i = 0; i < ctx->elf.section_count; i++) {
        const struct rv_elf_section *s = &ctx->elf.sections[i];
        if (!is_data(s))
            continue;
        bool writable = (s->flags & SHF_WRITE) != 0;
        if (writable && s->addr < img->rw_base)
            return rv2pvm_fail(ctx,
                               "writable section %s at 0x%llx is below the read-write base "
                               "0x%llx (link with nub-cc's linker script)",
                               s->name, (unsigned long long)s->addr,
                               (unsigned long long)img->rw_base);
        if (!writable && s->addr >= img->rw_base)
            continue; /* checked above: ro_end covers it, so this cannot happen */
        if (writable && s->addr + s->size > rw_end)
            rw_end = s->addr + s->size;
        if (writable && s->type != SHT_NOBITS && s->addr + s->size > rw_fill_end)
            rw_fill_end = s->addr + s->size;
    }
    if (needs_amo_scratch(ctx)) {
        rw_end = rv2pvm_round_up(rw_end, 8);
        ctx->amo_scratch = (uint32_t)rw_end;
        rw_end += 16;
    }
    img->rw_len = rw_fill_end - img->rw_base;
    uint64_t rw_pages = rv2pvm_round_up(rw_end - img->rw_base, PVM_PAGE) / PVM_PAGE;
    uint64_t fill_pages = rv2pvm_round_up(img->rw_len, PVM_PAGE) / PVM_PAGE;
    img->heap_pages = rw_pages - fill_pages + ctx->options->extra_heap_pages;
    if (img->ro_len >= (1u << 24) || img->rw_len >= (1u << 24) || img->heap_pages >= (1u << 16))
        return rv2pvm_fail(ctx,
                           "data too large for the standard program header "
                           "(ro %llu bytes, rw %llu bytes, %llu heap pages)",
                           (unsigned long long)img->ro_len, (unsigned long long)img->rw_len,
                           (unsigned long long)img->heap_pages);
    uint64_t need = 5ull * PVM_ZONE + rv2pvm_round_up(img->ro_len, PVM_ZONE) +
                    rv2pvm_round_up(img->rw_len + img->heap_pages * PVM_PAGE, PVM_ZONE) +
                    rv2pvm_round_up(ctx->options->stack_size, PVM_ZONE) + PVM_INPUT_LEN;
    if (need > (1ull << 32))
        return rv2pvm_fail(ctx, "program does not fit the 32-bit standard layout");
    img->ro = calloc(1, img->ro_len + 1);
    img->rw = calloc(1, img->rw_len + 1);
    if (img->ro == NULL || img->rw == NULL)
        return rv2pvm_fail(ctx, "out of memory");
    for (size_t i = 0; i < ctx->elf.section_count; i++) {
        const struct rv_elf_section *s = &ctx->elf.sections[i];
        if (!is_data(s) || s->type == SHT_NOBITS)
            continue;
        if (s->flags & SHF_WRITE)
            memcpy(img->rw + (s->addr - img->rw_base), s->data, s->size);
        else
            memcpy(img->ro + (s->addr - PVM_RO_BASE), s->data, s->size);
    }
    return 0;
}

/* Rewrites every data word that holds a code address to its jump-table address. */
int rv2pvm_patch_data_refs(struct rv2pvm_ctx *ctx, struct rv_data_image *img,
                           const struct rv_data_refs *refs)
{
    for (size_t i = 0; i < refs->n; i++) {
        const struct rv_data_code_ref *d = &refs->v[i];
        uint8_t *where;
        if (d->addr >= PVM_RO_BASE && d->addr + d->width <= PVM_RO_BASE + img->ro_len)
            where = img->ro + (d->addr - PVM_RO_BASE);
        else if (d->addr >= img->rw_base && d->addr + d->width <= img->rw_base + img->rw_len)
            where = img->rw + (d->addr - img->rw_base);
        else
            return rv2pvm_fail(ctx, "code address stored at 0x%llx, outside initialised data",
                               (unsigned long long)d->addr);
        uint64_t value = rv2pvm_jump_address(ctx, d->target);
        for (unsigned k = 0; k < d->width; k++)
            where[k] = (uint8_t)(value >> (8 * k));
    }
    return 0;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int rv2pvm_write_container(struct rv2pvm_ctx *ctx, const struct rv_data_image *img,
                           uint8_t **program, size_t *program_len)
{
    uint32_t *table = calloc(ctx->jump_target_count + 1, sizeof *table);
    if (table == NULL)
        return rv2pvm_fail(ctx, "out of memory");
    for (size_t i = 0; i < ctx->jump_target_count; i++)
        table[i] = rv2pvm_pvm_pc_of(ctx, ctx->jump_targets[i]);
    size_t blob_len = 0;
    uint8_t *blob = pvm_build_blob(&ctx->em, table, ctx->jump_target_count, &blob_len);
    free(table);
    if (blob == NULL)
        return rv2pvm_fail(ctx, "out of memory");
    if (blob_len > 0xFFFFFFFFu) {
        free(blob);
        return rv2pvm_fail(ctx, "code blob too large");
    }
    size_t total = 11 + img->ro_len + img->rw_len + 4 + blob_len;
    uint8_t *out = malloc(total);
    if (out == NULL) {
        free(blob);
        return rv2pvm_fail(ctx, "out of memory");
    }
    size_t at = 0;
    put_le(out + at, img->ro_len, 3), at += 3;
    put_le(out + at, img->rw_len, 3), at += 3;
    put_le(out + at, img->heap_pages, 2), at += 2;
    put_le(out + at, ctx->options->stack_size, 3), at += 3;
    memcpy(out + at, img->ro, img->ro_len), at += img->ro_len;
    memcpy(out + at, img->rw, img->rw_len), at += img->rw_len;
    put_le(out + at, blob_len, 4), at += 4;
    memcpy(out + at, blob, blob_len);
    free(blob);
    *program = out;
    *program_len = total;
    return 0;
}
