/*
 * pvmasm_disasm.c — blob to assembler text (see pvmasm.h for the syntax).
 *
 * Each instruction is re-encoded with the assembler's encoder; if the bytes
 * match, it is printed as a mnemonic line, otherwise as a `.opcode` line
 * with its exact bytes. Bytes not covered by any instruction are printed
 * with `.byte`. So assembling the output gives back the same blob.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvm_alloc_libc.h"
#include "pvm_program.h"
#include "pvmasm.h"
#include "pvmasm_encode.h"

struct text {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void put(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0 && t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->len + (size_t)n + 1) * 2;
        char *buf = realloc(t->buf, cap);
        if (buf == NULL)
            n = -1;
        else
            t->buf = buf, t->cap = cap;
    }
    if (n < 0) {
        t->failed = true;
        va_end(ap2);
        return;
    }
    vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap2);
    va_end(ap2);
    t->len += (size_t)n;
}

/* Label name for a target that is an instruction start, else "@N". */
static void put_target(struct text *t, const struct pvm_program *p, int64_t target)
{
    if (target >= 0 && target < p->code_len && pvm_program_is_insn_start(p, (uint64_t)target))
        put(t, "L%" PRId64, target);
    else
        put(t, "@%" PRId64, target);
}

/* Operand values of a decoded instruction in the assembler's order. */
static void operand_values(const struct pvm_insn *in, uint64_t vals[PVMASM_MAX_OPERANDS])
{
    memset(vals, 0, sizeof(uint64_t) * PVMASM_MAX_OPERANDS);
    switch (in->format) {
    case PVM_FMT_IMM:
        vals[0] = in->imm_x;
        break;
    case PVM_FMT_REG_IMM64:
    case PVM_FMT_REG_IMM:
        vals[0] = in->ra, vals[1] = in->imm_x;
        break;
    case PVM_FMT_IMM_IMM:
        vals[0] = in->imm_x, vals[1] = in->imm_y;
        break;
    case PVM_FMT_OFFSET:
        vals[0] = (uint64_t)in->target;
        break;
    case PVM_FMT_REG_IMM_IMM:
        vals[0] = in->ra, vals[1] = in->imm_x, vals[2] = in->imm_y;
        break;
    case PVM_FMT_REG_IMM_OFFSET:
        vals[0] = in->ra, vals[1] = in->imm_x, vals[2] = (uint64_t)in->target;
        break;
    case PVM_FMT_REG_REG:
        vals[0] = in->rd, vals[1] = in->ra;
        break;
    case PVM_FMT_REG_REG_IMM:
        vals[0] = in->ra, vals[1] = in->rb, vals[2] = in->imm_x;
        break;
    case PVM_FMT_REG_REG_OFFSET:
        vals[0] = in->ra, vals[1] = in->rb, vals[2] = (uint64_t)in->target;
        break;
    case PVM_FMT_REG_REG_IMM_IMM:
        vals[0] = in->ra, vals[1] = in->rb, vals[2] = in->imm_x, vals[3] = in->imm_y;
        break;
    case PVM_FMT_REG_REG_REG:
        vals[0] = in->rd, vals[1] = in->ra, vals[2] = in->rb;
        break;
    default:
        break;
    }
}

static void put_insn(struct text *t, const struct pvm_program *p, const struct pvm_insn *in,
                     const uint64_t vals[PVMASM_MAX_OPERANDS])
{
    const char *kinds = pvmasm_operand_kinds(in->opcode);
    put(t, "    %s", pvm_opcode_table[in->opcode].name);
    for (int i = 0; kinds[i] != '\0'; i++) {
        put(t, i == 0 ? " " : ", ");
        switch (kinds[i]) {
        case 'R':
            put(t, "r%" PRIu64, vals[i]);
            break;
        case 'I':
            put(t, "%" PRId64, (int64_t)vals[i]);
            break;
        case 'A':
            put(t, "0x%" PRIx32, (uint32_t)vals[i]);
            break;
        case 'Q':
            put(t, "0x%" PRIx64, vals[i]);
            break;
        case 'T':
            put_target(t, p, (int64_t)vals[i]);
            break;
        }
    }
    put(t, "\n");
}

static void put_bytes(struct text *t, const char *directive, const uint8_t *b, size_t n)
{
    put(t, "    %s", directive);
    for (size_t i = 0; i < n; i++)
        put(t, "%s0x%02x", i ? ", " : " ", b[i]);
    put(t, "\n");
}

/* The set of pcs that get a label: static targets and jump-table entries
 * that are instruction starts. */
static uint8_t *label_set(const struct pvm_program *p)
{
    uint8_t *set = calloc((size_t)p->code_len / 8 + 1, 1);
    if (set == NULL)
        return NULL;
#define MARK(pc)                                                                                   \
    do {                                                                                           \
        int64_t x_ = (pc);                                                                         \
        if (x_ >= 0 && x_ < p->code_len && pvm_program_is_insn_start(p, (uint64_t)x_))             \
            set[x_ / 8] |= (uint8_t)(1u << (x_ % 8));                                              \
    } while (0)
    for (uint32_t pc = 0; pc < p->code_len; pc++) {
        if (!pvm_program_is_insn_start(p, pc))
            continue;
        struct pvm_insn in;
        pvm_decode_insn(p, pc, &in);
        if (in.format == PVM_FMT_OFFSET || in.format == PVM_FMT_REG_IMM_OFFSET ||
            in.format == PVM_FMT_REG_REG_OFFSET)
            MARK(in.target);
    }
    for (uint64_t i = 0; i < p->jump_table_len; i++) {
        const uint8_t *e = p->jump_table + i * p->jump_entry_size;
        uint64_t v = 0;
        bool big = false;
        for (uint32_t b = 0; b < p->jump_entry_size; b++) {
            if (b < 8)
                v |= (uint64_t)e[b] << (8 * b);
            else if (e[b] != 0)
                big = true;
        }
        if (!big && v < p->code_len)
            MARK((int64_t)v);
    }
#undef MARK
    return set;
}

char *pvmasm_disassemble(const uint8_t *blob, size_t len, char *err, size_t err_len)
{
    if (err_len > 0)
        err[0] = '\0';
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *p = NULL;
    int rc = pvm_program_decode(blob, len, &alloc, &p);
    if (rc != PVM_OK) {
        snprintf(err, err_len, "invalid blob: %s", pvm_error_name(rc));
        return NULL;
    }
    if (p->jump_entry_size == 0 && p->jump_table_len > 0x100000) {
        snprintf(err, err_len, "jump table of %" PRIu64 " zero-size entries is too long to print",
                 p->jump_table_len);
        pvm_program_destroy(p);
        return NULL;
    }
    uint8_t *labels = label_set(p);
    struct text t = {0};
    if (labels == NULL)
        t.failed = true;
    put(&t, "; %" PRIu64 " jump-table entries of %u bytes, %u code bytes\n", p->jump_table_len,
        p->jump_entry_size, p->code_len);

    /* Jump table. The assembler picks the smallest entry size that fits; say
     * so explicitly when the blob used another. */
    uint64_t max_entry = 0;
    for (uint64_t i = 0; i < p->jump_table_len && !t.failed; i++) {
        const uint8_t *e = p->jump_table + i * p->jump_entry_size;
        uint64_t v = 0;
        for (uint32_t b = 0; b < p->jump_entry_size; b++) {
            if (b >= 8 && e[b] != 0) {
                snprintf(err, err_len, "jump-table entry %" PRIu64 " does not fit in 64 bits", i);
                t.failed = true;
                break;
            }
            if (b < 8)
                v |= (uint64_t)e[b] << (8 * b);
        }
        if (v > max_entry)
            max_entry = v;
        put(&t, "    .jumptable ");
        put_target(&t, p, (int64_t)v);
        put(&t, "\n");
    }
    uint32_t auto_size = 0;
    while (auto_size < 8 && (max_entry >> (8 * auto_size)) != 0)
        auto_size++;
    if (auto_size != p->jump_entry_size)
        put(&t, "    .jump_entry_size %u\n", p->jump_entry_size);

    uint32_t pc = 0;
    while (pc < p->code_len && !t.failed) {
        if (!pvm_program_is_insn_start(p, pc)) {
            uint32_t end = pc;
            while (end < p->code_len && !pvm_program_is_insn_start(p, end) && end - pc < 16)
                end++;
            put_bytes(&t, ".byte", p->code + pc, end - pc);
            pc = end;
            continue;
        }
        if (labels[pc / 8] & (1u << (pc % 8)))
            put(&t, "L%" PRIu32 ":\n", pc);
        struct pvm_insn in;
        pvm_decode_insn(p, pc, &in);
        uint32_t end = (uint32_t)in.next_pc; /* <= code_len */
        uint64_t vals[PVMASM_MAX_OPERANDS];
        operand_values(&in, vals);
        uint8_t enc[PVMASM_MAX_INSN_BYTES];
        const char *why = NULL;
        int n = pvm_opcode_table[p->code[pc]].is_defined
                    ? pvmasm_encode_insn(in.opcode, vals, pc, enc, &why)
                    : -1;
        if (n == (int)(end - pc) && memcmp(enc, p->code + pc, (size_t)n) == 0)
            put_insn(&t, p, &in, vals);
        else
            put_bytes(&t, ".opcode", p->code + pc, end - pc);
        pc = end;
    }
    free(labels);
    pvm_program_destroy(p);
    if (t.failed) {
        free(t.buf);
        if (err_len > 0 && err[0] == '\0')
            snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (t.buf == NULL)
        t.buf = calloc(1, 1);
    return t.buf;
}
