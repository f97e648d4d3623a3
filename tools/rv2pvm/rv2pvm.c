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
 */
#include "rv2pvm_int.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PVM_RO_BASE   0x10000u
#define PVM_ZONE      0x10000u
#define PVM_PAGE      0x1000u
#define PVM_INPUT_LEN 0x1000000u
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

static uint64_t round_up(uint64_t v, uint64_t to)
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

static int add_jump_target(struct rv2pvm_ctx *ctx, uint64_t addr)
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

static bool is_text(const struct rv_elf_section *s)
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
        if (!is_text(s))
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
            if (is_text(&ctx->elf.sections[i]) && ctx->elf.sections[i].addr == ctx->ranges[r].start)
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

/* ---- 2. relocations ---------------------------------------------------- */

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
    return add_jump_target(ctx, target);
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
    uint64_t target;
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
    uint64_t target;
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

/* A data word that holds a code address (function pointer, switch table). */
struct data_code_ref {
    uint64_t addr;  /* where the word is */
    unsigned width; /* 4 or 8 */
    uint64_t target;
};

struct data_refs {
    struct data_code_ref *v;
    size_t n, cap;
};

static int data_reloc(struct rv2pvm_ctx *ctx, const struct rv_elf_section *target_sec,
                      const struct rv_elf_rela *r, struct data_refs *refs)
{
    uint64_t target;
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
        struct data_code_ref *v = realloc(refs->v, cap * sizeof *v);
        if (v == NULL)
            return rv2pvm_fail(ctx, "out of memory");
        refs->v = v;
        refs->cap = cap;
    }
    refs->v[refs->n++] = (struct data_code_ref){r->offset, width, target};
    return 0;
}

/*
 * The assembler resolves pc-relative references inside one section itself
 * when relaxation is off, so calls to functions in the same section carry no
 * relocation. An auipc without a relocation is therefore either the first
 * half of such a call (auipc rX; jalr rd, lo(rX)) or a code address we
 * cannot see the target of.
 */
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
        /* `lla rd, label` inside the section (medany): auipc rd; addi rd, rd, lo. */
        if (next != NULL && next->in.op == RV_ADDI && next->addr == it->addr + 4 &&
            next->in.rs1 == it->in.rd && next->in.rd == it->in.rd && it->in.rd != 0) {
            uint64_t target = it->addr + (uint64_t)it->in.imm + (uint64_t)next->in.imm;
            if (rv2pvm_in_text(ctx, target)) {
                it->flags |= ITEM_CODE_HI;
                it->ref = target;
                next->flags |= ITEM_CODE_LO;
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

static int read_relocations(struct rv2pvm_ctx *ctx, struct data_refs *refs)
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
                if (is_text(t)) {
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

static bool ends_block(const struct rv_item *it)
{
    switch (it->in.op) {
    case RV_JAL:
    case RV_JALR:
    case RV_BEQ:
    case RV_BNE:
    case RV_BLT:
    case RV_BGE:
    case RV_BLTU:
    case RV_BGEU:
    case RV_EBREAK:
    case RV_UNIMP:
        return true;
    default:
        return false;
    }
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
        if (calls && add_jump_target(ctx, it->addr + it->in.len) != 0)
            return -1;
        if (ends_block(it) && i + 1 < ctx->item_count &&
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

static uint32_t pvm_pc_of(const struct rv2pvm_ctx *ctx, uint64_t addr)
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
        pvm_emit_patch_offset(&ctx->em, fx->offset_at, fx->insn_pc, pvm_pc_of(ctx, fx->target));
    }
    return 0;
}

/* ---- 5. data layout and the container ---------------------------------- */

struct data_image {
    uint8_t *ro, *rw;
    uint64_t ro_len, rw_len, heap_pages, rw_base;
};

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

static int layout_data(struct rv2pvm_ctx *ctx, struct data_image *img)
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
    img->rw_base = 0x20000u + round_up(img->ro_len, PVM_ZONE);
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
        rw_end = round_up(rw_end, 8);
        ctx->amo_scratch = (uint32_t)rw_end;
        rw_end += 16;
    }
    img->rw_len = rw_fill_end - img->rw_base;
    uint64_t rw_pages = round_up(rw_end - img->rw_base, PVM_PAGE) / PVM_PAGE;
    uint64_t fill_pages = round_up(img->rw_len, PVM_PAGE) / PVM_PAGE;
    img->heap_pages = rw_pages - fill_pages + ctx->options->extra_heap_pages;
    if (img->ro_len >= (1u << 24) || img->rw_len >= (1u << 24) || img->heap_pages >= (1u << 16))
        return rv2pvm_fail(ctx,
                           "data too large for the standard program header "
                           "(ro %llu bytes, rw %llu bytes, %llu heap pages)",
                           (unsigned long long)img->ro_len, (unsigned long long)img->rw_len,
                           (unsigned long long)img->heap_pages);
    uint64_t need = 5ull * PVM_ZONE + round_up(img->ro_len, PVM_ZONE) +
                    round_up(img->rw_len + img->heap_pages * PVM_PAGE, PVM_ZONE) +
                    round_up(ctx->options->stack_size, PVM_ZONE) + PVM_INPUT_LEN;
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
static int patch_data_refs(struct rv2pvm_ctx *ctx, struct data_image *img,
                           const struct data_refs *refs)
{
    for (size_t i = 0; i < refs->n; i++) {
        const struct data_code_ref *d = &refs->v[i];
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

static int write_container(struct rv2pvm_ctx *ctx, const struct data_image *img, uint8_t **program,
                           size_t *program_len)
{
    uint32_t *table = calloc(ctx->jump_target_count + 1, sizeof *table);
    if (table == NULL)
        return rv2pvm_fail(ctx, "out of memory");
    for (size_t i = 0; i < ctx->jump_target_count; i++)
        table[i] = pvm_pc_of(ctx, ctx->jump_targets[i]);
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

int rv2pvm_translate(const uint8_t *elf, size_t elf_len, const struct rv2pvm_options *options,
                     uint8_t **program, size_t *program_len, struct rv2pvm_stats *stats, char *err,
                     size_t err_len)
{
    struct rv2pvm_options defaults = {.stack_size = RV2PVM_DEFAULT_STACK_SIZE};
    struct rv2pvm_ctx ctx = {
        .options = options ? options : &defaults, .err = err, .err_len = err_len};
    struct data_refs refs = {0};
    struct data_image img = {0};
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
    if (decode_text(&ctx) != 0 || read_relocations(&ctx, &refs) != 0 || find_endpoints(&ctx) != 0 ||
        collect_blocks(&ctx) != 0 || finish_jump_table(&ctx) != 0 || layout_data(&ctx, &img) != 0 ||
        emit_code(&ctx) != 0 || patch_fixups(&ctx) != 0 ||
        patch_data_refs(&ctx, &img, &refs) != 0 ||
        write_container(&ctx, &img, program, program_len) != 0)
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
