/*
 * rv2pvm.c — RISC-V ELF -> JAM standard program: reading the ELF, finding
 * code references through the --emit-relocs relocations, basic blocks, the
 * jump table, endpoints, data layout and the container. The per-instruction
 * mapping is in rv2pvm_insn.c.
 *
 * Pipeline:
 *   1. decode every instruction of the executable sections;
 *   2. read relocations: which lui/auipc (+ %lo) compute a code address,
 *      which auipc+jalr pairs are calls, which data words hold code
 *      addresses;
 *   3. collect jump-table entries (return sites and every address-taken code
 *      location) and block starts;
 *   4. emit the endpoint stub, then each instruction, inserting `fallthrough`
 *      before a block start that the previous instruction does not end;
 *   5. patch jump offsets, rewrite data words that hold code addresses to
 *      jump-table addresses, and write the §11 container.
 *
 * Files: this one (steps 1, 3, 4 and the driver), rv2pvm_reloc.c (step 2),
 * rv2pvm_image.c (data layout, step 5), rv2pvm_insn.c (one instruction).
 */
#include "rv2pvm_int.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_PREFIX "__nub_export_"

int rv2pvm_fail(struct rv2pvm_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (ctx->err_len > 0)
        vsnprintf(ctx->err, ctx->err_len, fmt, ap);
    va_end(ap);
    return -1;
}

uint64_t rv2pvm_round_up(uint64_t v, uint64_t to)
{
    return (v + to - 1) / to * to;
}

/* ---- lookups ----------------------------------------------------------- */

long rv2pvm_find_item(const struct rv2pvm_ctx *ctx, uint64_t addr)
{
    size_t lo = 0, hi = ctx->item_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ctx->items[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ctx->item_count && ctx->items[lo].addr == addr)
        return (long)lo;
    return -1;
}

bool rv2pvm_in_text(const struct rv2pvm_ctx *ctx, uint64_t addr)
{
    for (size_t r = 0; r < ctx->range_count; r++)
        if (addr >= ctx->ranges[r].start && addr < ctx->ranges[r].end)
            return true;
    return false;
}

/* The last text byte + 1: return sites of calls at the very end map here. */
static uint64_t text_end(const struct rv2pvm_ctx *ctx)
{
    return ctx->range_count ? ctx->ranges[ctx->range_count - 1].end : 0;
}

static long find_target(const struct rv2pvm_ctx *ctx, uint64_t addr)
{
    size_t lo = 0, hi = ctx->jump_target_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ctx->jump_targets[mid] < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ctx->jump_target_count && ctx->jump_targets[lo] == addr)
        return (long)lo;
    return -1;
}

uint64_t rv2pvm_jump_address(const struct rv2pvm_ctx *ctx, uint64_t code_addr)
{
    long i = find_target(ctx, code_addr);
    return i < 0 ? 0 : 2u * ((uint64_t)i + 1);
}

int rv2pvm_add_jump_target(struct rv2pvm_ctx *ctx, uint64_t addr)
{
    if (ctx->jump_target_count == ctx->jump_target_cap) {
        size_t cap = ctx->jump_target_cap ? ctx->jump_target_cap * 2 : 256;
        uint64_t *t = realloc(ctx->jump_targets, cap * sizeof *t);
        if (t == NULL)
            return rv2pvm_fail(ctx, "out of memory");
        ctx->jump_targets = t;
        ctx->jump_target_cap = cap;
    }
    ctx->jump_targets[ctx->jump_target_count++] = addr;
    return 0;
}

int rv2pvm_add_fixup(struct rv2pvm_ctx *ctx, size_t offset_at, uint32_t insn_pc, uint64_t target)
{
    if (ctx->fixup_count == ctx->fixup_cap) {
        size_t cap = ctx->fixup_cap ? ctx->fixup_cap * 2 : 256;
        struct rv_fixup *f = realloc(ctx->fixups, cap * sizeof *f);
        if (f == NULL)
            return rv2pvm_fail(ctx, "out of memory");
        ctx->fixups = f;
        ctx->fixup_cap = cap;
    }
    ctx->fixups[ctx->fixup_count++] = (struct rv_fixup){offset_at, insn_pc, target};
    return 0;
}

/* ---- 1. decode --------------------------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
    const struct rv_text_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

bool rv2pvm_is_text(const struct rv_elf_section *s)
{
    return (s->flags & SHF_ALLOC) && (s->flags & SHF_EXECINSTR) && s->size > 0;
}

static int decode_text(struct rv2pvm_ctx *ctx)
{
    size_t total = 0;
    ctx->ranges = calloc(ctx->elf.section_count, sizeof *ctx->ranges);
    if (ctx->ranges == NULL)
        return rv2pvm_fail(ctx, "out of memory");
    for (size_t i = 0; i < ctx->elf.section_count; i++) {
        const struct rv_elf_section *s = &ctx->elf.sections[i];
        if (!rv2pvm_is_text(s))
            continue;
        if (s->data == NULL)
            return rv2pvm_fail(ctx, "executable section %s has no contents", s->name);
        if (s->addr + s->size < s->addr || s->addr % 2 != 0)
            return rv2pvm_fail(ctx, "executable section %s has a bad address 0x%llx", s->name,
                               (unsigned long long)s->addr);
        ctx->ranges[ctx->range_count++] = (struct rv_text_range){s->addr, s->addr + s->size};
        total += s->size / 2;
    }
    if (ctx->range_count == 0)
        return rv2pvm_fail(ctx, "no executable section");
    qsort(ctx->ranges, ctx->range_count, sizeof *ctx->ranges, cmp_range);
    for (size_t r = 1; r < ctx->range_count; r++)
        if (ctx->ranges[r].start < ctx->ranges[r - 1].end)
            return rv2pvm_fail(ctx, "executable sections overlap at 0x%llx",
                               (unsigned long long)ctx->ranges[r].start);
    ctx->items = calloc(total + 1, sizeof *ctx->items);
    if (ctx->items == NULL)
        return rv2pvm_fail(ctx, "out of memory");
    for (size_t r = 0; r < ctx->range_count; r++) {
        const struct rv_elf_section *s = NULL;
        for (size_t i = 0; i < ctx->elf.section_count && s == NULL; i++)
            if (rv2pvm_is_text(&ctx->elf.sections[i]) &&
                ctx->elf.sections[i].addr == ctx->ranges[r].start)
                s = &ctx->elf.sections[i];
        for (uint64_t off = 0; off < s->size;) {
            struct rv_item *it = &ctx->items[ctx->item_count];
            it->addr = s->addr + off;
            if (rv_decode(s->data + off, s->size - off, &it->in) != 0)
                return rv2pvm_fail(ctx,
                                   "0x%llx: unsupported or invalid instruction 0x%0*x in %s "
                                   "(RV64EMAC + Zbb only, no floating point)",
                                   (unsigned long long)it->addr, it->in.len ? it->in.len * 2 : 4,
                                   it->in.raw, s->name);
            off += it->in.len;
            ctx->item_count++;
        }
    }
    return 0;
}

/* ---- 3. endpoints, jump table, block starts ---------------------------- */

static int set_endpoint(struct rv2pvm_ctx *ctx, size_t k, uint64_t addr, const char *name)
{
    if (k >= RV2PVM_MAX_ENDPOINTS)
        return rv2pvm_fail(ctx, "endpoint %zu (%s) is beyond the limit of %d", k, name,
                           RV2PVM_MAX_ENDPOINTS);
    if (rv2pvm_find_item(ctx, addr) < 0)
        return rv2pvm_fail(ctx, "endpoint %zu: %s (0x%llx) is not an instruction in the code", k,
                           name, (unsigned long long)addr);
    if (ctx->endpoint_set[k] && ctx->endpoint_addr[k] != addr)
        return rv2pvm_fail(ctx, "endpoint %zu is defined twice (%s)", k, name);
    ctx->endpoint_set[k] = true;
    ctx->endpoint_addr[k] = addr;
    if (k + 1 > ctx->endpoint_count)
        ctx->endpoint_count = k + 1;
    return 0;
}

static int find_endpoints(struct rv2pvm_ctx *ctx)
{
    size_t nsym = rv_elf_symbol_count(&ctx->elf);
    for (size_t i = 0; i < nsym; i++) {
        struct rv_elf_symbol sym;
        if (rv_elf_symbol(&ctx->elf, i, &sym) != 0)
            return rv2pvm_fail(ctx, "symbol %zu has a bad name", i);
        if (strncmp(sym.name, EXPORT_PREFIX, strlen(EXPORT_PREFIX)) != 0)
            continue;
        const char *digits = sym.name + strlen(EXPORT_PREFIX);
        char *end;
        unsigned long k = strtoul(digits, &end, 10);
        if (*digits < '0' || *digits > '9' || *end != '\0')
            return rv2pvm_fail(ctx, "bad export symbol name %s", sym.name);
        if (set_endpoint(ctx, k, sym.value, sym.name) != 0)
            return -1;
    }
    for (size_t e = 0; e < ctx->options->entry_symbol_count; e++) {
        const char *want = ctx->options->entry_symbols[e];
        bool found = false;
        for (size_t i = 0; i < nsym && !found; i++) {
            struct rv_elf_symbol sym;
            if (rv_elf_symbol(&ctx->elf, i, &sym) != 0 || strcmp(sym.name, want) != 0 ||
                sym.shndx == SHN_UNDEF)
                continue;
            size_t k = 0;
            while (k < RV2PVM_MAX_ENDPOINTS && ctx->endpoint_set[k] &&
                   ctx->endpoint_addr[k] != sym.value)
                k++;
            if (set_endpoint(ctx, k, sym.value, want) != 0)
                return -1;
            found = true;
        }
        if (!found)
            return rv2pvm_fail(ctx, "entry symbol %s not found", want);
    }
    if (ctx->endpoint_count == 0)
        return rv2pvm_fail(ctx, "no endpoints: mark a function with NUB_EXPORT(k, fn) "
                                "(nub_pvm.h) or pass --entry SYMBOL");
    return 0;
}

static bool is_branch(enum rv_op op)
{
    return op == RV_BEQ || op == RV_BNE || op == RV_BLT || op == RV_BGE || op == RV_BLTU ||
           op == RV_BGEU;
}

static int mark_start(struct rv2pvm_ctx *ctx, uint64_t addr, const struct rv_item *from)
{
    if (addr == text_end(ctx))
        return 0; /* the final trap is always a block start */
    long t = rv2pvm_find_item(ctx, addr);
    if (t < 0)
        return rv2pvm_fail(ctx, "0x%llx: %s target 0x%llx is not an instruction",
                           (unsigned long long)from->addr, rv_op_name(from->in.op),
                           (unsigned long long)addr);
    if (ctx->items[t].flags & ITEM_CALL_LO)
        return rv2pvm_fail(ctx, "0x%llx: jump into the middle of the call at 0x%llx",
                           (unsigned long long)from->addr, (unsigned long long)addr - 4);
    ctx->items[t].flags |= ITEM_BLOCK_START;
    return 0;
}

static int collect_blocks(struct rv2pvm_ctx *ctx)
{
    for (size_t i = 0; i < ctx->item_count; i++) {
        struct rv_item *it = &ctx->items[i];
        if (i == 0 || it->addr != it[-1].addr + it[-1].in.len)
            it->flags |= ITEM_BLOCK_START; /* first instruction of a text section */
        if (is_branch(it->in.op) && mark_start(ctx, it->addr + (uint64_t)it->in.imm, it) != 0)
            return -1;
        if (it->in.op == RV_JAL && mark_start(ctx, it->addr + (uint64_t)it->in.imm, it) != 0)
            return -1;
        if (it->flags & ITEM_CALL_LO) {
            uint64_t target = it[-1].addr + (uint64_t)it[-1].in.imm + (uint64_t)it->in.imm;
            if (mark_start(ctx, target, it) != 0)
                return -1;
        }
        bool calls = (it->in.op == RV_JAL || it->in.op == RV_JALR) && it->in.rd != 0;
        if (calls && rv2pvm_add_jump_target(ctx, it->addr + it->in.len) != 0)
            return -1;
        if (rv_op_ends_block(it->in.op) && i + 1 < ctx->item_count &&
            ctx->items[i + 1].addr == it->addr + it->in.len)
            ctx->items[i + 1].flags |= ITEM_BLOCK_START;
    }
    for (size_t k = 0; k < ctx->endpoint_count; k++)
        if (ctx->endpoint_set[k] && mark_start(ctx, ctx->endpoint_addr[k], &ctx->items[0]) != 0)
            return -1;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int finish_jump_table(struct rv2pvm_ctx *ctx)
{
    if (ctx->jump_target_count == 0)
        return 0;
    qsort(ctx->jump_targets, ctx->jump_target_count, sizeof *ctx->jump_targets, cmp_u64);
    size_t n = 1;
    for (size_t i = 1; i < ctx->jump_target_count; i++)
        if (ctx->jump_targets[i] != ctx->jump_targets[n - 1])
            ctx->jump_targets[n++] = ctx->jump_targets[i];
    ctx->jump_target_count = n;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = ctx->jump_targets[i];
        if (a == text_end(ctx))
            continue;
        long t = rv2pvm_find_item(ctx, a);
        if (t < 0)
            return rv2pvm_fail(ctx, "code address 0x%llx is not an instruction",
                               (unsigned long long)a);
        if (ctx->items[t].flags & ITEM_CALL_LO)
            return rv2pvm_fail(ctx, "code address 0x%llx is inside a call pair",
                               (unsigned long long)a);
        ctx->items[t].flags |= ITEM_BLOCK_START;
    }
    return 0;
}

/* ---- 4. emit ----------------------------------------------------------- */

static void begin_block(struct rv2pvm_ctx *ctx)
{
    if (!ctx->em.last_was_terminator) {
        pvm_emit_none(&ctx->em, PVM_OP_fallthrough);
        ctx->fallthroughs++;
    }
}

static int emit_code(struct rv2pvm_ctx *ctx)
{
    /* Endpoint stub: slot K at pc 5K is a 5-byte jump or a trap padded to 5. */
    for (size_t k = 0; k < ctx->endpoint_count; k++) {
        if (ctx->endpoint_set[k]) {
            size_t at;
            uint32_t pc = pvm_emit_jump(&ctx->em, &at);
            if (rv2pvm_add_fixup(ctx, at, pc, ctx->endpoint_addr[k]) != 0)
                return -1;
        } else {
            pvm_emit_padded(&ctx->em, PVM_OP_trap, 5);
        }
    }
    for (size_t i = 0; i < ctx->item_count; i++) {
        struct rv_item *it = &ctx->items[i];
        if (it->flags & ITEM_BLOCK_START)
            begin_block(ctx);
        it->pvm_pc = (uint32_t)ctx->em.len;
        if (rv2pvm_translate_item(ctx, i) != 0)
            return -1;
        if (ctx->em.len > 0x7FFFFFFFu)
            return rv2pvm_fail(ctx, "code too large");
    }
    begin_block(ctx);
    ctx->end_pc = pvm_emit_none(&ctx->em, PVM_OP_trap);
    if (ctx->em.failed)
        return rv2pvm_fail(ctx, "out of memory while emitting code");
    return 0;
}

uint32_t rv2pvm_pvm_pc_of(const struct rv2pvm_ctx *ctx, uint64_t addr)
{
    if (addr == text_end(ctx))
        return ctx->end_pc;
    long t = rv2pvm_find_item(ctx, addr);
    return t < 0 ? ctx->end_pc : ctx->items[t].pvm_pc;
}

static int patch_fixups(struct rv2pvm_ctx *ctx)
{
    for (size_t f = 0; f < ctx->fixup_count; f++) {
        const struct rv_fixup *fx = &ctx->fixups[f];
        if (fx->target != text_end(ctx) && rv2pvm_find_item(ctx, fx->target) < 0)
            return rv2pvm_fail(ctx, "jump target 0x%llx is not an instruction",
                               (unsigned long long)fx->target);
        pvm_emit_patch_offset(&ctx->em, fx->offset_at, fx->insn_pc,
                              rv2pvm_pvm_pc_of(ctx, fx->target));
    }
    return 0;
}

int rv2pvm_translate(const uint8_t *elf, size_t elf_len, const struct rv2pvm_options *options,
                     uint8_t **program, size_t *program_len, struct rv2pvm_stats *stats, char *err,
                     size_t err_len)
{
    struct rv2pvm_options defaults = {.stack_size = RV2PVM_DEFAULT_STACK_SIZE};
    struct rv2pvm_ctx ctx = {
        .options = options ? options : &defaults, .err = err, .err_len = err_len};
    struct rv_data_refs refs = {0};
    struct rv_data_image img = {0};
    int rc = -1;
    if (err_len > 0)
        err[0] = '\0';
    if (program == NULL || program_len == NULL)
        return rv2pvm_fail(&ctx, "no output pointer");
    *program = NULL;
    *program_len = 0;
    pvm_emit_init(&ctx.em);
    if (ctx.options->stack_size >= (1u << 24)) {
        rv2pvm_fail(&ctx, "stack size %u does not fit the 24-bit header field",
                    ctx.options->stack_size);
        goto out;
    }
    if (rv_elf_parse(elf, elf_len, &ctx.elf, err, err_len) != 0)
        goto out;
    if ((ctx.elf.flags & 0x6u) != 0) {
        rv2pvm_fail(&ctx, "ELF uses a floating-point ABI (e_flags 0x%x); use -mabi=lp64e",
                    ctx.elf.flags);
        goto out;
    }
    if (decode_text(&ctx) != 0 || rv2pvm_read_relocations(&ctx, &refs) != 0 ||
        find_endpoints(&ctx) != 0 || collect_blocks(&ctx) != 0 || finish_jump_table(&ctx) != 0 ||
        rv2pvm_check_bare_pairs(&ctx) != 0 || rv2pvm_layout_data(&ctx, &img) != 0 ||
        emit_code(&ctx) != 0 || patch_fixups(&ctx) != 0 ||
        rv2pvm_patch_data_refs(&ctx, &img, &refs) != 0 ||
        rv2pvm_write_container(&ctx, &img, program, program_len) != 0)
        goto out;
    if (ctx.options->map != NULL)
        for (size_t i = 0; i < ctx.item_count; i++)
            ctx.options->map(ctx.options->map_ctx, ctx.items[i].addr, ctx.items[i].pvm_pc);
    if (stats != NULL) {
        *stats = (struct rv2pvm_stats){
            .rv_insns = ctx.item_count,
            .pvm_insns = ctx.em.insn_count,
            .code_bytes = ctx.em.len,
            .jump_table_len = ctx.jump_target_count,
            .fallthroughs = ctx.fallthroughs,
            .fused_branches = ctx.fused_branches,
            .endpoint_count = ctx.endpoint_count,
        };
    }
    rc = 0;
out:
    free(img.ro);
    free(img.rw);
    free(refs.v);
    free(ctx.ranges);
    free(ctx.items);
    free(ctx.jump_targets);
    free(ctx.fixups);
    pvm_emit_free(&ctx.em);
    rv_elf_free(&ctx.elf);
    return rc;
}
