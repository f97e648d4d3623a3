/*
 * pvm_emit.c — PVM instruction encoder and program-blob writer.
 */
#include "pvm_emit.h"

#include <stdlib.h>
#include <string.h>

#include "pvm_program.h" /* pvm_varint_encode */

static const bool op_is_terminator[256] = {
#define PVM_EMIT_TERM(num, name, fmt, term, gas) [num] = (term) != 0,
    PVM_OPCODE_LIST(PVM_EMIT_TERM)
#undef PVM_EMIT_TERM
};

void pvm_emit_init(struct pvm_emitter *e)
{
    memset(e, 0, sizeof *e);
    e->last_was_terminator = true;
}

void pvm_emit_free(struct pvm_emitter *e)
{
    free(e->code);
    free(e->is_start);
    memset(e, 0, sizeof *e);
}

static bool reserve(struct pvm_emitter *e, size_t more)
{
    if (e->failed)
        return false;
    if (e->len + more <= e->cap)
        return true;
    size_t cap = e->cap ? e->cap * 2 : 4096;
    while (cap < e->len + more)
        cap *= 2;
    uint8_t *code = realloc(e->code, cap);
    if (code == NULL) {
        e->failed = true;
        return false;
    }
    e->code = code;
    uint8_t *starts = realloc(e->is_start, cap);
    if (starts == NULL) {
        e->failed = true;
        return false;
    }
    e->is_start = starts;
    e->cap = cap;
    return true;
}

unsigned pvm_imm_len(int64_t v)
{
    for (unsigned n = 0; n <= 4; n++) {
        if (n == 0) {
            if (v == 0)
                return 0;
            continue;
        }
        int64_t lo = -(INT64_C(1) << (8 * n - 1)), hi = (INT64_C(1) << (8 * n - 1)) - 1;
        if (v >= lo && v <= hi)
            return n;
    }
    return 5;
}

/* Scratch encoding of one instruction, appended by finish(). */
struct insn_bytes {
    uint8_t b[24];
    unsigned n;
};

static void put(struct insn_bytes *ib, uint8_t v)
{
    ib->b[ib->n++] = v;
}

static void put_le(struct insn_bytes *ib, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        put(ib, (uint8_t)(v >> (8 * i)));
}

/* Immediates must fit 4 bytes; the translator only passes such values. */
static unsigned imm_len_checked(struct pvm_emitter *e, int64_t v)
{
    unsigned n = pvm_imm_len(v);
    if (n > 4) {
        e->failed = true; /* caller bug; reported as a failure */
        return 4;
    }
    return n;
}

static uint32_t finish(struct pvm_emitter *e, const struct insn_bytes *ib)
{
    uint32_t pc = (uint32_t)e->len;
    if (!reserve(e, ib->n))
        return pc;
    memcpy(e->code + e->len, ib->b, ib->n);
    memset(e->is_start + e->len, 0, ib->n);
    e->is_start[e->len] = 1;
    e->len += ib->n;
    e->last_was_terminator = op_is_terminator[ib->b[0]];
    e->insn_count++;
    return pc;
}

static uint8_t reg(unsigned r)
{
    return (uint8_t)(r > 12 ? 12 : r);
}

uint32_t pvm_emit_none(struct pvm_emitter *e, enum pvm_opcode op)
{
    struct insn_bytes ib = {.n = 0};
    put(&ib, (uint8_t)op);
    return finish(e, &ib);
}

uint32_t pvm_emit_padded(struct pvm_emitter *e, enum pvm_opcode op, unsigned size)
{
    struct insn_bytes ib = {.n = 0};
    put(&ib, (uint8_t)op);
    while (ib.n < size && ib.n < 16)
        put(&ib, 0);
    return finish(e, &ib);
}

uint32_t pvm_emit_imm(struct pvm_emitter *e, enum pvm_opcode op, int64_t x)
{
    struct insn_bytes ib = {.n = 0};
    put(&ib, (uint8_t)op);
    put_le(&ib, (uint64_t)x, imm_len_checked(e, x));
    return finish(e, &ib);
}

uint32_t pvm_emit_load_imm_64(struct pvm_emitter *e, unsigned ra, uint64_t x)
{
    struct insn_bytes ib = {.n = 0};
    put(&ib, PVM_OP_load_imm_64);
    put(&ib, reg(ra));
    put_le(&ib, x, 8);
    return finish(e, &ib);
}

uint32_t pvm_emit_imm_imm(struct pvm_emitter *e, enum pvm_opcode op, int64_t x, int64_t y)
{
    struct insn_bytes ib = {.n = 0};
    unsigned lx = imm_len_checked(e, x);
    put(&ib, (uint8_t)op);
    put(&ib, (uint8_t)lx);
    put_le(&ib, (uint64_t)x, lx);
    put_le(&ib, (uint64_t)y, imm_len_checked(e, y));
    return finish(e, &ib);
}

uint32_t pvm_emit_jump(struct pvm_emitter *e, size_t *offset_at)
{
    struct insn_bytes ib = {.n = 0};
    put(&ib, PVM_OP_jump);
    *offset_at = e->len + ib.n;
    put_le(&ib, 0, 4);
    return finish(e, &ib);
}

uint32_t pvm_emit_reg_imm(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra, int64_t x)
{
    struct insn_bytes ib = {.n = 0};
    put(&ib, (uint8_t)op);
    put(&ib, reg(ra));
    put_le(&ib, (uint64_t)x, imm_len_checked(e, x));
    return finish(e, &ib);
}

uint32_t pvm_emit_reg_imm_imm(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra, int64_t x,
                              int64_t y)
{
    struct insn_bytes ib = {.n = 0};
    unsigned lx = imm_len_checked(e, x);
    put(&ib, (uint8_t)op);
    put(&ib, (uint8_t)(reg(ra) | (lx << 4)));
    put_le(&ib, (uint64_t)x, lx);
    put_le(&ib, (uint64_t)y, imm_len_checked(e, y));
    return finish(e, &ib);
}

uint32_t pvm_emit_reg_imm_offset(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra, int64_t x,
                                 size_t *offset_at)
{
    struct insn_bytes ib = {.n = 0};
    unsigned lx = imm_len_checked(e, x);
    put(&ib, (uint8_t)op);
    put(&ib, (uint8_t)(reg(ra) | (lx << 4)));
    put_le(&ib, (uint64_t)x, lx);
    *offset_at = e->len + ib.n;
    put_le(&ib, 0, 4);
    return finish(e, &ib);
}

uint32_t pvm_emit_reg_reg(struct pvm_emitter *e, enum pvm_opcode op, unsigned rd, unsigned ra)
{
    struct insn_bytes ib = {.n = 0};
    put(&ib, (uint8_t)op);
    put(&ib, (uint8_t)(reg(rd) | (reg(ra) << 4)));
    return finish(e, &ib);
}

uint32_t pvm_emit_reg_reg_imm(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra, unsigned rb,
                              int64_t x)
{
    struct insn_bytes ib = {.n = 0};
    put(&ib, (uint8_t)op);
    put(&ib, (uint8_t)(reg(ra) | (reg(rb) << 4)));
    put_le(&ib, (uint64_t)x, imm_len_checked(e, x));
    return finish(e, &ib);
}

uint32_t pvm_emit_reg_reg_offset(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra,
                                 unsigned rb, size_t *offset_at)
{
    struct insn_bytes ib = {.n = 0};
    put(&ib, (uint8_t)op);
    put(&ib, (uint8_t)(reg(ra) | (reg(rb) << 4)));
    *offset_at = e->len + ib.n;
    put_le(&ib, 0, 4);
    return finish(e, &ib);
}

uint32_t pvm_emit_reg_reg_imm_imm(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra,
                                  unsigned rb, int64_t x, int64_t y)
{
    struct insn_bytes ib = {.n = 0};
    unsigned lx = imm_len_checked(e, x);
    put(&ib, (uint8_t)op);
    put(&ib, (uint8_t)(reg(ra) | (reg(rb) << 4)));
    put(&ib, (uint8_t)lx);
    put_le(&ib, (uint64_t)x, lx);
    put_le(&ib, (uint64_t)y, imm_len_checked(e, y));
    return finish(e, &ib);
}

uint32_t pvm_emit_reg_reg_reg(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra, unsigned rb,
                              unsigned rd)
{
    struct insn_bytes ib = {.n = 0};
    put(&ib, (uint8_t)op);
    put(&ib, (uint8_t)(reg(ra) | (reg(rb) << 4)));
    put(&ib, reg(rd));
    return finish(e, &ib);
}

void pvm_emit_patch_offset(struct pvm_emitter *e, size_t offset_at, uint32_t insn_pc,
                           uint32_t target)
{
    if (e->failed || offset_at + 4 > e->len)
        return;
    uint32_t off = target - insn_pc; /* two's complement of the signed distance */
    for (unsigned i = 0; i < 4; i++)
        e->code[offset_at + i] = (uint8_t)(off >> (8 * i));
}

uint8_t *pvm_build_blob(const struct pvm_emitter *e, const uint32_t *jump_table,
                        size_t jump_table_len, size_t *blob_len)
{
    uint32_t max_entry = 0;
    for (size_t i = 0; i < jump_table_len; i++)
        if (jump_table[i] > max_entry)
            max_entry = jump_table[i];
    unsigned z = max_entry <= 0xFF ? 1 : max_entry <= 0xFFFF ? 2 : max_entry <= 0xFFFFFF ? 3 : 4;
    uint8_t j_enc[9], c_enc[9];
    int jn = pvm_varint_encode(jump_table_len, j_enc), cn = pvm_varint_encode(e->len, c_enc);
    if (jn <= 0 || cn <= 0)
        return NULL;
    size_t mask_len = (e->len + 7) / 8;
    size_t total = (size_t)jn + 1 + (size_t)cn + jump_table_len * z + e->len + mask_len;
    uint8_t *blob = calloc(1, total ? total : 1);
    if (blob == NULL)
        return NULL;
    size_t at = 0;
    memcpy(blob + at, j_enc, (size_t)jn);
    at += (size_t)jn;
    blob[at++] = (uint8_t)z;
    memcpy(blob + at, c_enc, (size_t)cn);
    at += (size_t)cn;
    for (size_t i = 0; i < jump_table_len; i++)
        for (unsigned k = 0; k < z; k++)
            blob[at++] = (uint8_t)(jump_table[i] >> (8 * k));
    if (e->len)
        memcpy(blob + at, e->code, e->len);
    at += e->len;
    for (size_t n = 0; n < e->len; n++)
        if (e->is_start[n])
            blob[at + n / 8] |= (uint8_t)(1u << (n % 8));
    *blob_len = total;
    return blob;
}
