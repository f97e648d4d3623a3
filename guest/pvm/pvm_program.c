/*
 * pvm_program.c — blob decoding, skip, block starts, operand decoding.
 */
#include "pvm_program.h"

#include "pvm_util.h"

/* ---- opcode table ------------------------------------------------------ */

const struct pvm_opcode_info pvm_opcode_table[256] = {
#define PVM_OPCODE_INFO_ENTRY(num, nm, fmt, term, cost)                                            \
    [num] = {.name = #nm, .format = fmt, .is_terminator = term, .is_defined = true, .gas = cost},
    PVM_OPCODE_LIST(PVM_OPCODE_INFO_ENTRY)
#undef PVM_OPCODE_INFO_ENTRY
#define PVM_OPCODE_EXTRA_ENTRY(num, nm, fmt, term, cost)                                           \
    [num] = {.name = #nm, .format = fmt, .is_terminator = term, .is_defined = false, .gas = cost},
        PVM_OPCODE_LIST_EXTRA(PVM_OPCODE_EXTRA_ENTRY)
#undef PVM_OPCODE_EXTRA_ENTRY
};

int pvm_opcode_by_name(const char *name, size_t name_len)
{
    for (int op = 0; op < 256; op++) {
        const char *n = pvm_opcode_table[op].name;
        if (n == NULL)
            continue;
        size_t i = 0;
        while (i < name_len && n[i] != '\0' && n[i] == name[i])
            i++;
        if (i == name_len && n[i] == '\0')
            return op;
    }
    return -1;
}

const char *pvm_error_name(int error)
{
    switch (error) {
    case PVM_OK:
        return "ok";
    case PVM_ERR_INVALID_ARGUMENT:
        return "invalid argument";
    case PVM_ERR_NOMEM:
        return "out of memory";
    case PVM_ERR_BLOB_TRUNCATED:
        return "program blob shorter than its declared sizes";
    case PVM_ERR_BLOB_TRAILING:
        return "trailing bytes after the program blob";
    case PVM_ERR_BLOB_VARINT:
        return "non-canonical varint in the program blob";
    case PVM_ERR_BLOB_CODE_TOO_LARGE:
        return "program code length >= 2^32";
    case PVM_ERR_BLOB_JUMP_TABLE_SIZE:
        return "jump table larger than the program blob";
    case PVM_ERR_BLOB_BITMASK_PADDING:
        return "non-zero padding bits in the opcode bitmask";
    case PVM_ERR_STDPROG_TRUNCATED:
        return "standard program shorter than its declared sizes";
    case PVM_ERR_STDPROG_TRAILING:
        return "trailing bytes after the standard program";
    case PVM_ERR_STDPROG_TOO_LARGE:
        return "standard program layout exceeds the address space";
    case PVM_ERR_STDPROG_ARGS_TOO_LARGE:
        return "argument data longer than 16 MiB";
    case PVM_ERR_SEGMENT_UNALIGNED:
        return "memory segment not page-aligned";
    case PVM_ERR_SEGMENT_RANGE:
        return "memory segment out of range";
    case PVM_ERR_SEGMENT_OVERLAP:
        return "memory segments overlap";
    case PVM_ERR_SEGMENT_ACCESS:
        return "memory segment with an invalid access mode";
    case PVM_ERR_ISA_NO_EQUIVALENT:
        return "an instruction the target ISA version does not have";
    default:
        return "unknown error";
    }
}

/* ---- varint ------------------------------------------------------------ */

int pvm_varint_decode(const uint8_t *bytes, size_t len, uint64_t *value_out)
{
    if (len == 0)
        return 0;
    uint8_t b0 = bytes[0];
    unsigned ones = 0;
    while (ones < 8 && (b0 & (0x80u >> ones)))
        ones++;
    if (len < 1u + ones)
        return 0;
    uint64_t rest = pvm_load_le(bytes + 1, ones);
    uint64_t value;
    if (ones == 8) {
        value = rest;
        if (value < ((uint64_t)1 << 56))
            return -1;
    } else {
        uint64_t high = b0 & (0x7Fu >> ones);
        value = (high << (8 * ones)) | rest;
        if (ones > 0 && value < ((uint64_t)1 << (7 * ones)))
            return -1;
    }
    *value_out = value;
    return (int)(1 + ones);
}

int pvm_varint_encode(uint64_t value, uint8_t out[9])
{
    for (unsigned ones = 0; ones < 8; ones++) {
        if (value < ((uint64_t)1 << (7 * (ones + 1)))) {
            uint8_t prefix = (uint8_t)(0xFF00u >> ones);
            out[0] = (uint8_t)(prefix | (value >> (8 * ones)));
            pvm_store_le(out + 1, value, ones);
            return (int)(1 + ones);
        }
    }
    out[0] = 0xFF;
    pvm_store_le(out + 1, value, 8);
    return 9;
}

/* ---- skip, opcodes, block starts --------------------------------------- */

uint32_t pvm_program_skip(const struct pvm_program *p, uint32_t pc)
{
    uint64_t n = (uint64_t)pc + 1;
    uint32_t j = 0;
    while (j < PVM_MAX_SKIP && !pvm_program_is_insn_start(p, n + j))
        j++;
    return j;
}

uint8_t pvm_program_opcode(const struct pvm_program *p, uint32_t pc)
{
    if (pc >= p->code_len || !pvm_program_is_insn_start(p, pc))
        return PVM_OP_trap;
    uint8_t op = p->isa->opcode_of[p->code[pc]];
    return op != PVM_OPCODE_INVALID ? op : PVM_OP_trap;
}

/* Is c[pc] in the version's U? (pc < C) */
static bool valid_at(const struct pvm_program *p, uint64_t pc)
{
    return p->isa->opcode_of[p->code[pc]] != PVM_OPCODE_INVALID;
}

bool pvm_program_can_enter(const struct pvm_program *p, uint32_t pc)
{
    if (!p->isa->validate_before_run)
        return true;
    return p->stream_valid && pc < p->code_len && pvm_program_is_insn_start(p, pc) &&
           valid_at(p, pc);
}

/* v_blob (SPEC-0.8.md §4 item 2): from 0, every step lands on a set bit
 * holding a valid opcode, and the walk ends exactly at C. */
static bool stream_is_valid(const struct pvm_program *p)
{
    uint64_t i = 0;
    if (p->code_len == 0)
        return false;
    while (i < p->code_len) {
        if (!pvm_program_is_insn_start(p, i) || !valid_at(p, i))
            return false;
        i += 1 + pvm_program_skip(p, (uint32_t)i);
    }
    return i == p->code_len;
}

static void set_bit(uint8_t *bits, uint64_t n)
{
    bits[n >> 3] |= (uint8_t)(1u << (n & 7));
}

/* BB = ({0} ∪ {n + 1 + skip(n) : n an instruction start with c[n] in T})
 *      ∩ {p < C : bitmask bit p set and c[p] defined}. SPEC §6.1: the raw
 * byte c[n] is tested against T, so undefined opcodes do not end blocks here. */
static void compute_block_starts(struct pvm_program *p)
{
    uint32_t c = p->code_len;
    if (c == 0)
        return;
    if (pvm_program_is_insn_start(p, 0) && valid_at(p, 0))
        set_bit(p->block_starts, 0);
    for (uint32_t n = 0; n < c; n++) {
        if (!pvm_program_is_insn_start(p, n))
            continue;
        uint8_t op = p->isa->opcode_of[p->code[n]];
        if (op == PVM_OPCODE_INVALID || !pvm_opcode_table[op].is_terminator)
            continue;
        uint64_t next = (uint64_t)n + 1 + pvm_program_skip(p, n);
        if (next < c && pvm_program_is_insn_start(p, next) && valid_at(p, next))
            set_bit(p->block_starts, next);
    }
}

/* ---- decoding the blob ------------------------------------------------- */

int pvm_program_decode(const uint8_t *blob, size_t len, const struct pvm_allocator *allocator,
                       struct pvm_program **out)
{
    return pvm_program_decode_isa(blob, len, NUB_ISA_GP_0_7_2, allocator, out);
}

int pvm_program_decode_isa(const uint8_t *blob, size_t len, uint32_t isa_id,
                           const struct pvm_allocator *allocator, struct pvm_program **out)
{
    if (out == NULL)
        return PVM_ERR_INVALID_ARGUMENT;
    *out = NULL;
    const struct pvm_isa *isa = pvm_isa_get(isa_id);
    if ((blob == NULL && len > 0) || allocator == NULL || allocator->alloc == NULL ||
        allocator->free == NULL || isa == NULL)
        return PVM_ERR_INVALID_ARGUMENT;

    size_t at = 0;
    uint64_t jump_count, code_len;
    int n = pvm_varint_decode(blob, len, &jump_count);
    if (n == 0)
        return PVM_ERR_BLOB_TRUNCATED;
    if (n < 0)
        return PVM_ERR_BLOB_VARINT;
    at += (size_t)n;
    if (at >= len)
        return PVM_ERR_BLOB_TRUNCATED;
    uint32_t entry_size = blob[at++];
    n = pvm_varint_decode(blob + at, len - at, &code_len);
    if (n == 0)
        return PVM_ERR_BLOB_TRUNCATED;
    if (n < 0)
        return PVM_ERR_BLOB_VARINT;
    at += (size_t)n;
    if (code_len > UINT32_MAX)
        return PVM_ERR_BLOB_CODE_TOO_LARGE;

    size_t remaining = len - at;
    if (entry_size > 0 && jump_count > remaining / entry_size)
        return PVM_ERR_BLOB_JUMP_TABLE_SIZE;
    size_t table_bytes = (size_t)(jump_count * entry_size);
    const uint8_t *table = blob + at;
    at += table_bytes;
    remaining -= table_bytes;

    size_t mask_bytes = (size_t)((code_len + 7) / 8);
    if (code_len > remaining || mask_bytes > remaining - code_len)
        return PVM_ERR_BLOB_TRUNCATED;
    const uint8_t *code = blob + at;
    const uint8_t *mask = code + code_len;
    if (remaining - code_len - mask_bytes != 0)
        return PVM_ERR_BLOB_TRAILING;
    if ((code_len & 7) != 0 && (mask[mask_bytes - 1] >> (code_len & 7)) != 0)
        return PVM_ERR_BLOB_BITMASK_PADDING;

    struct pvm_program *p = allocator->alloc(allocator->ctx, sizeof(*p));
    if (p == NULL)
        return PVM_ERR_NOMEM;
    size_t bb_bytes = mask_bytes > 0 ? mask_bytes : 1;
    p->block_starts = allocator->alloc(allocator->ctx, bb_bytes);
    if (p->block_starts == NULL) {
        allocator->free(allocator->ctx, p);
        return PVM_ERR_NOMEM;
    }
    pvm_memset(p->block_starts, 0, bb_bytes);
    p->code = code;
    p->code_len = (uint32_t)code_len;
    p->bitmask = mask;
    p->jump_table = table;
    p->jump_table_len = jump_count;
    p->jump_entry_size = entry_size;
    p->allocator = *allocator;
    p->isa = isa;
    compute_block_starts(p);
    p->stream_valid = stream_is_valid(p);
    *out = p;
    return PVM_OK;
}

void pvm_program_destroy(struct pvm_program *p)
{
    if (p == NULL)
        return;
    struct pvm_allocator a = p->allocator;
    a.free(a.ctx, p->block_starts);
    a.free(a.ctx, p);
}

enum pvm_dynamic_jump pvm_program_dynamic_jump(const struct pvm_program *p, uint32_t address,
                                               uint32_t *target_out)
{
    if (address == PVM_HALT_ADDRESS)
        return PVM_DJUMP_HALT;
    if (address == 0 || (address & 1) != 0 || address / 2 > p->jump_table_len)
        return PVM_DJUMP_PANIC;
    uint64_t index = address / 2 - 1;
    const uint8_t *entry = p->jump_table + index * p->jump_entry_size;
    uint32_t z = p->jump_entry_size;
    /* An entry is a z-byte little-endian integer; any set byte past the
     * fourth makes it >= 2^32, which is never a block start. */
    for (uint32_t i = 4; i < z; i++)
        if (entry[i] != 0)
            return PVM_DJUMP_PANIC;
    uint32_t target = (uint32_t)pvm_load_le(entry, z < 4 ? z : 4);
    if (!pvm_program_is_block_start(p, target))
        return PVM_DJUMP_PANIC;
    *target_out = target;
    return PVM_DJUMP_TARGET;
}

/* ---- operand decoding (SPEC §8) ---------------------------------------- */

/* ζ[at]: code byte, or 0 past the end. */
static uint8_t zeta(const struct pvm_program *p, uint64_t at)
{
    return at < p->code_len ? p->code[at] : 0;
}

/* n bytes of ζ from at, little-endian, unsigned. */
static uint64_t zeta_le(const struct pvm_program *p, uint64_t at, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)zeta(p, at + i) << (8 * i);
    return v;
}

static uint64_t zeta_imm(const struct pvm_program *p, uint64_t at, unsigned n)
{
    return pvm_sign_extend_bytes(zeta_le(p, at, n), n);
}

static uint8_t clamp_reg(unsigned field)
{
    return (uint8_t)(field > 12 ? 12 : field);
}

static unsigned min_u(unsigned a, unsigned b)
{
    return a < b ? a : b;
}

/* min(4, max(0, l - k)) */
static unsigned rest_len(unsigned l, unsigned k)
{
    return l > k ? min_u(4, l - k) : 0;
}

void pvm_decode_insn(const struct pvm_program *p, uint32_t pc, struct pvm_insn *out)
{
    pvm_memset(out, 0, sizeof(*out));
    out->pc = pc;
    out->raw_opcode = zeta(p, pc);
    out->opcode = pvm_program_opcode(p, pc);
    out->format = pvm_opcode_table[out->opcode].format;
    if (pc >= p->code_len) {
        out->skip = 0;
        out->next_pc = (uint64_t)pc + 1;
        return;
    }
    unsigned l = pvm_program_skip(p, pc);
    out->skip = l;
    out->next_pc = (uint64_t)pc + 1 + l;
    uint64_t b1 = zeta(p, (uint64_t)pc + 1);
    uint64_t b2 = zeta(p, (uint64_t)pc + 2);
    uint64_t at = (uint64_t)pc;
    unsigned lx, ly;

    switch (out->format) {
    case PVM_FMT_NONE:
        break;
    case PVM_FMT_IMM:
        lx = min_u(4, l);
        out->len_x = (uint8_t)lx;
        out->imm_x = zeta_imm(p, at + 1, lx);
        break;
    case PVM_FMT_REG_IMM64:
        out->ra = clamp_reg(b1 & 15);
        out->len_x = 8;
        out->imm_x = zeta_le(p, at + 2, 8);
        break;
    case PVM_FMT_IMM_IMM:
        lx = min_u(4, b1 & 7);
        ly = rest_len(l, lx + 1);
        out->len_x = (uint8_t)lx;
        out->len_y = (uint8_t)ly;
        out->imm_x = zeta_imm(p, at + 2, lx);
        out->imm_y = zeta_imm(p, at + 2 + lx, ly);
        break;
    case PVM_FMT_OFFSET:
        lx = min_u(4, l);
        out->len_x = (uint8_t)lx;
        out->target = (int64_t)pc + (int64_t)zeta_imm(p, at + 1, lx);
        break;
    case PVM_FMT_REG_IMM:
        out->ra = clamp_reg(b1 & 15);
        lx = rest_len(l, 1);
        out->len_x = (uint8_t)lx;
        out->imm_x = zeta_imm(p, at + 2, lx);
        break;
    case PVM_FMT_REG_IMM_IMM:
    case PVM_FMT_REG_IMM_OFFSET:
        out->ra = clamp_reg(b1 & 15);
        lx = min_u(4, (b1 >> 4) & 7);
        ly = rest_len(l, lx + 1);
        out->len_x = (uint8_t)lx;
        out->len_y = (uint8_t)ly;
        out->imm_x = zeta_imm(p, at + 2, lx);
        out->imm_y = zeta_imm(p, at + 2 + lx, ly);
        if (out->format == PVM_FMT_REG_IMM_OFFSET)
            out->target = (int64_t)pc + (int64_t)out->imm_y;
        break;
    case PVM_FMT_REG_REG:
        out->rd = clamp_reg(b1 & 15);
        out->ra = clamp_reg(b1 >> 4);
        break;
    case PVM_FMT_REG_REG_IMM:
    case PVM_FMT_REG_REG_OFFSET:
        out->ra = clamp_reg(b1 & 15);
        out->rb = clamp_reg(b1 >> 4);
        lx = rest_len(l, 1);
        out->len_x = (uint8_t)lx;
        out->imm_x = zeta_imm(p, at + 2, lx);
        if (out->format == PVM_FMT_REG_REG_OFFSET)
            out->target = (int64_t)pc + (int64_t)out->imm_x;
        break;
    case PVM_FMT_REG_REG_IMM_IMM:
        out->ra = clamp_reg(b1 & 15);
        out->rb = clamp_reg(b1 >> 4);
        lx = min_u(4, b2 & 7);
        ly = rest_len(l, lx + 2);
        out->len_x = (uint8_t)lx;
        out->len_y = (uint8_t)ly;
        out->imm_x = zeta_imm(p, at + 3, lx);
        out->imm_y = zeta_imm(p, at + 3 + lx, ly);
        break;
    case PVM_FMT_REG_REG_REG:
        out->ra = clamp_reg(b1 & 15);
        out->rb = clamp_reg(b1 >> 4);
        out->rd = clamp_reg((unsigned)b2);
        break;
    default:
        break;
    }
}

int pvm_program_recode(const uint8_t *blob, size_t len, uint32_t from, uint32_t to, uint8_t *out,
                       const struct pvm_allocator *allocator)
{
    const struct pvm_isa *target = pvm_isa_get(to);
    if (target == NULL || out == NULL)
        return PVM_ERR_INVALID_ARGUMENT;
    struct pvm_program *p = NULL;
    int err = pvm_program_decode_isa(blob, len, from, allocator, &p);
    if (err != PVM_OK)
        return err;
    size_t code_at = (size_t)(p->code - blob);
    for (uint32_t pc = 0; pc < p->code_len && err == PVM_OK; pc++) {
        if (!pvm_program_is_insn_start(p, pc) || !valid_at(p, pc))
            continue;
        uint8_t byte = target->byte_of[p->isa->opcode_of[p->code[pc]]];
        if (byte == PVM_OPCODE_INVALID)
            err = PVM_ERR_ISA_NO_EQUIVALENT;
    }
    if (err == PVM_OK) {
        if (out != blob)
            pvm_memcpy(out, blob, len);
        for (uint32_t pc = 0; pc < p->code_len; pc++)
            if (pvm_program_is_insn_start(p, pc) && valid_at(p, pc))
                out[code_at + pc] = target->byte_of[p->isa->opcode_of[p->code[pc]]];
    }
    pvm_program_destroy(p);
    return err;
}
