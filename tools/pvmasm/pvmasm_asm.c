/*
 * pvmasm_asm.c — the assembler: parse lines into items, lay them out
 * (shrinking branch offsets until the layout is stable), emit the blob and
 * the standard program container.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvm_program.h"
#include "pvmasm.h"
#include "pvmasm_encode.h"

#define MAX_LINE_BYTES 4096

enum item_kind { ITEM_INSN, ITEM_BYTES, ITEM_RAW_OPCODE };

struct operand {
    char kind; /* 'R', 'N' number, 'L' label target, 'P' @pc target, 'J' &label */
    int line;  /* source line, for messages */
    uint64_t value;
    char *label;
};

struct item {
    enum item_kind kind;
    int line;
    uint8_t opcode;
    struct operand ops[PVMASM_MAX_OPERANDS];
    int op_count;
    uint8_t *bytes; /* ITEM_BYTES / ITEM_RAW_OPCODE (opcode byte first) */
    size_t byte_count;
    uint32_t pc;
    uint32_t size;
};

struct asm_label {
    char *name;
    size_t item; /* label is at the start of this item (item_count = end) */
    int line;
};

struct assembler {
    struct item *items;
    size_t item_count, item_cap;
    struct asm_label *labels;
    size_t label_count, label_cap;
    struct operand *jump_table;
    size_t jump_count, jump_cap;
    int jump_entry_size; /* -1: automatic */
    uint32_t stack_size, heap_pages;
    uint8_t *ro, *rw;
    size_t ro_len, rw_len;
    char *err;
    size_t err_len;
    bool failed;
};

static void error_at(struct assembler *as, int line, const char *fmt, ...)
{
    if (as->failed)
        return;
    as->failed = true;
    int n = snprintf(as->err, as->err_len, "line %d: ", line);
    if (n < 0 || (size_t)n >= as->err_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(as->err + n, as->err_len - (size_t)n, fmt, ap);
    va_end(ap);
}

static bool grow(void **array, size_t *cap, size_t count, size_t elem)
{
    if (count < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*array, ncap * elem);
    if (p == NULL)
        return false;
    *array = p;
    *cap = ncap;
    return true;
}

/* ---- lexical helpers ---------------------------------------------------- */

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

static int parse_register(const char *s, size_t n)
{
    static const char *const names[] = {"ra", "sp", "t0", "t1", "t2", "s0", "s1",
                                        "a0", "a1", "a2", "a3", "a4", "a5"};
    for (int i = 0; i < 13; i++)
        if (strlen(names[i]) == n && strncmp(s, names[i], n) == 0)
            return i;
    if (n >= 2 && n <= 3 && s[0] == 'r') {
        int v = 0;
        for (size_t i = 1; i < n; i++) {
            if (!isdigit((unsigned char)s[i]))
                return -1;
            v = v * 10 + (s[i] - '0');
        }
        if (n == 3 && s[1] == '0')
            return -1;
        return v <= 12 ? v : -1;
    }
    return -1;
}

/* Parses [-]digits or [-]0xhex into a u64 (negative values wrap). */
static bool parse_number(const char *s, size_t n, uint64_t *out)
{
    bool neg = false;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    if (n == 0)
        return false;
    unsigned base = 10;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d;
        char c = s[i];
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else if (c == '_')
            continue;
        else
            return false;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return false;
        v = v * base + (uint64_t)d;
    }
    if (neg && v > (uint64_t)1 << 63)
        return false;
    *out = neg ? 0 - v : v;
    return true;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Splits the operand list at commas into at most max trimmed tokens. */
static int split_operands(const char *p, const char **tok, size_t *tok_len, int max)
{
    int count = 0;
    p = skip_space(p);
    if (*p == '\0')
        return 0;
    for (;;) {
        const char *start = skip_space(p);
        const char *end = start;
        while (*end != ',' && *end != '\0')
            end++;
        const char *next = end;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            end--;
        if (count == max)
            return -1;
        tok[count] = start;
        tok_len[count] = (size_t)(end - start);
        count++;
        if (*next == '\0')
            return count;
        p = next + 1;
    }
}

/* ---- parsing ------------------------------------------------------------ */

static struct item *new_item(struct assembler *as, int line, enum item_kind kind)
{
    if (!grow((void **)&as->items, &as->item_cap, as->item_count, sizeof(struct item))) {
        error_at(as, line, "out of memory");
        return NULL;
    }
    struct item *it = &as->items[as->item_count++];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->line = line;
    return it;
}

static bool parse_target(struct assembler *as, int line, const char *s, size_t n,
                         struct operand *op)
{
    op->line = line;
    if (n > 1 && s[0] == '@') {
        op->kind = 'P';
        if (!parse_number(s + 1, n - 1, &op->value)) {
            error_at(as, line, "bad absolute target '%.*s'", (int)n, s);
            return false;
        }
        return true;
    }
    for (size_t i = 0; i < n; i++)
        if (!is_ident_char(s[i])) {
            error_at(as, line, "bad jump target '%.*s'", (int)n, s);
            return false;
        }
    if (n == 0) {
        error_at(as, line, "missing jump target");
        return false;
    }
    op->kind = 'L';
    op->label = dup_n(s, n);
    return op->label != NULL;
}

static bool parse_operand(struct assembler *as, int line, char kind, const char *s, size_t n,
                          struct operand *op)
{
    switch (kind) {
    case 'R': {
        int r = parse_register(s, n);
        if (r < 0) {
            error_at(as, line, "expected a register, got '%.*s'", (int)n, s);
            return false;
        }
        op->kind = 'R';
        op->value = (uint64_t)r;
        return true;
    }
    case 'T':
        return parse_target(as, line, s, n, op);
    default: /* I, A, Q */
        if (n > 1 && s[0] == '&') {
            op->kind = 'J';
            op->label = dup_n(s + 1, n - 1);
            return op->label != NULL;
        }
        op->kind = 'N';
        if (!parse_number(s, n, &op->value)) {
            error_at(as, line, "expected a number, got '%.*s'", (int)n, s);
            return false;
        }
        return true;
    }
}

/* Parses a comma-separated list of byte values (0..255 or -128..-1). */
static bool parse_byte_list(struct assembler *as, int line, const char *p, uint8_t **out,
                            size_t *count)
{
    const char *tok[MAX_LINE_BYTES / 2];
    size_t tok_len[MAX_LINE_BYTES / 2];
    int n = split_operands(p, tok, tok_len, MAX_LINE_BYTES / 2);
    if (n < 0) {
        error_at(as, line, "too many values");
        return false;
    }
    uint8_t *bytes = malloc((size_t)n + 1);
    if (bytes == NULL) {
        error_at(as, line, "out of memory");
        return false;
    }
    for (int i = 0; i < n; i++) {
        uint64_t v;
        if (!parse_number(tok[i], tok_len[i], &v) || (v > 255 && v < UINT64_MAX - 127)) {
            error_at(as, line, "bad byte '%.*s'", (int)tok_len[i], tok[i]);
            free(bytes);
            return false;
        }
        bytes[i] = (uint8_t)v;
    }
    *out = bytes;
    *count = (size_t)n;
    return true;
}

static bool parse_u32_arg(struct assembler *as, int line, const char *p, uint32_t max,
                          uint32_t *out)
{
    p = skip_space(p);
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    uint64_t v;
    if (!parse_number(p, n, &v) || v > max) {
        error_at(as, line, "expected a number 0..%u", max);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool parse_directive(struct assembler *as, int line, const char *name, size_t name_len,
                            const char *rest)
{
#define IS(word) (name_len == strlen(word) && strncmp(name, word, name_len) == 0)
    if (IS(".jumptable")) {
        const char *tok[256];
        size_t tok_len[256];
        int n = split_operands(rest, tok, tok_len, 256);
        if (n <= 0) {
            error_at(as, line, ".jumptable needs 1 to 256 targets per line");
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (!grow((void **)&as->jump_table, &as->jump_cap, as->jump_count,
                      sizeof(struct operand))) {
                error_at(as, line, "out of memory");
                return false;
            }
            struct operand *op = &as->jump_table[as->jump_count];
            memset(op, 0, sizeof(*op));
            if (!parse_target(as, line, tok[i], tok_len[i], op))
                return false;
            as->jump_count++;
        }
        return true;
    }
    if (IS(".jump_entry_size")) {
        uint32_t z;
        if (!parse_u32_arg(as, line, rest, 255, &z))
            return false;
        as->jump_entry_size = (int)z;
        return true;
    }
    if (IS(".byte") || IS(".opcode")) {
        struct item *it = new_item(as, line, IS(".byte") ? ITEM_BYTES : ITEM_RAW_OPCODE);
        if (it == NULL || !parse_byte_list(as, line, rest, &it->bytes, &it->byte_count))
            return false;
        if (it->byte_count == 0) {
            error_at(as, line, "%.*s needs at least one byte", (int)name_len, name);
            return false;
        }
        return true;
    }
    if (IS(".stack"))
        return parse_u32_arg(as, line, rest, 0xFFFFFF, &as->stack_size);
    if (IS(".heap"))
        return parse_u32_arg(as, line, rest, 0xFFFF, &as->heap_pages);
    if (IS(".ro") || IS(".rw")) {
        uint8_t *bytes;
        size_t count;
        if (!parse_byte_list(as, line, rest, &bytes, &count))
            return false;
        uint8_t **dst = IS(".ro") ? &as->ro : &as->rw;
        size_t *dst_len = IS(".ro") ? &as->ro_len : &as->rw_len;
        uint8_t *joined = realloc(*dst, *dst_len + count + 1);
        if (joined == NULL) {
            free(bytes);
            error_at(as, line, "out of memory");
            return false;
        }
        memcpy(joined + *dst_len, bytes, count);
        free(bytes);
        *dst = joined;
        *dst_len += count;
        if (*dst_len > 0xFFFFFF) {
            error_at(as, line, "data longer than 2^24 - 1 bytes");
            return false;
        }
        return true;
    }
#undef IS
    error_at(as, line, "unknown directive '%.*s'", (int)name_len, name);
    return false;
}

static bool parse_instruction(struct assembler *as, int line, const char *name, size_t name_len,
                              const char *rest)
{
    int op = pvm_opcode_by_name(name, name_len);
    if (op < 0) {
        error_at(as, line, "unknown instruction '%.*s'", (int)name_len, name);
        return false;
    }
    const char *kinds = pvmasm_operand_kinds((uint8_t)op);
    int want = (int)strlen(kinds);
    const char *tok[PVMASM_MAX_OPERANDS + 1];
    size_t tok_len[PVMASM_MAX_OPERANDS + 1];
    int n = split_operands(rest, tok, tok_len, PVMASM_MAX_OPERANDS + 1);
    if (n != want) {
        error_at(as, line, "%s takes %d operand%s", pvm_opcode_table[op].name, want,
                 want == 1 ? "" : "s");
        return false;
    }
    struct item *it = new_item(as, line, ITEM_INSN);
    if (it == NULL)
        return false;
    it->opcode = (uint8_t)op;
    it->op_count = n;
    for (int i = 0; i < n; i++)
        if (!parse_operand(as, line, kinds[i], tok[i], tok_len[i], &it->ops[i]))
            return false;
    return true;
}

static bool add_label(struct assembler *as, int line, const char *name, size_t n)
{
    for (size_t i = 0; i < as->label_count; i++)
        if (strlen(as->labels[i].name) == n && strncmp(as->labels[i].name, name, n) == 0) {
            error_at(as, line, "label '%.*s' defined twice", (int)n, name);
            return false;
        }
    if (!grow((void **)&as->labels, &as->label_cap, as->label_count, sizeof(struct asm_label))) {
        error_at(as, line, "out of memory");
        return false;
    }
    struct asm_label *l = &as->labels[as->label_count];
    l->name = dup_n(name, n);
    l->item = as->item_count;
    l->line = line;
    if (l->name == NULL)
        return false;
    as->label_count++;
    return true;
}

static bool parse_line(struct assembler *as, int line, char *text)
{
    /* Strip the comment. */
    for (char *c = text; *c != '\0'; c++)
        if (*c == ';' || *c == '#') {
            *c = '\0';
            break;
        }
    const char *p = skip_space(text);
    for (;;) {
        if (*p == '\0')
            return true;
        const char *word = p;
        while (is_ident_char(*p))
            p++;
        size_t word_len = (size_t)(p - word);
        if (word_len == 0) {
            error_at(as, line, "unexpected '%c'", *p);
            return false;
        }
        if (*p == ':') {
            if (word[0] == '.') {
                error_at(as, line, "labels cannot start with '.'");
                return false;
            }
            if (!add_label(as, line, word, word_len))
                return false;
            p = skip_space(p + 1);
            continue;
        }
        if (word[0] == '.')
            return parse_directive(as, line, word, word_len, p);
        return parse_instruction(as, line, word, word_len, p);
    }
}

/* ---- layout and emission ------------------------------------------------ */

static int64_t label_pc(const struct assembler *as, size_t index)
{
    size_t item = as->labels[index].item;
    if (item < as->item_count)
        return as->items[item].pc;
    /* A label after the last item: the end of the code. */
    if (as->item_count == 0)
        return 0;
    const struct item *last = &as->items[as->item_count - 1];
    return (int64_t)last->pc + last->size;
}

static int64_t find_label(const struct assembler *as, const char *name)
{
    for (size_t i = 0; i < as->label_count; i++)
        if (as->labels[i].name != NULL && strcmp(as->labels[i].name, name) == 0)
            return label_pc(as, i);
    return -1;
}

static bool resolve_target(struct assembler *as, int line, const struct operand *op, uint64_t *out)
{
    if (op->kind == 'P') {
        *out = op->value;
        return true;
    }
    int64_t pc = find_label(as, op->label);
    if (pc < 0) {
        error_at(as, line, "undefined label '%s'", op->label);
        return false;
    }
    *out = (uint64_t)pc;
    return true;
}

/* Resolves every operand of an instruction to a number. */
static bool resolve_operands(struct assembler *as, const struct item *it,
                             uint64_t vals[PVMASM_MAX_OPERANDS])
{
    for (int i = 0; i < it->op_count; i++) {
        const struct operand *op = &it->ops[i];
        vals[i] = 0;
        switch (op->kind) {
        case 'R':
        case 'N':
            vals[i] = op->value;
            break;
        case 'L':
        case 'P':
            if (!resolve_target(as, it->line, op, &vals[i]))
                return false;
            break;
        case 'J': {
            size_t k;
            for (k = 0; k < as->jump_count; k++)
                if (as->jump_table[k].kind == 'L' &&
                    strcmp(as->jump_table[k].label, op->label) == 0)
                    break;
            if (k == as->jump_count) {
                error_at(as, it->line, "'&%s': label not in the jump table", op->label);
                return false;
            }
            vals[i] = 2 * ((uint64_t)k + 1);
            break;
        }
        }
    }
    return true;
}

/* Encodes an item at its pc; returns its length or -1. */
static int encode_item(struct assembler *as, const struct item *it, uint8_t *buf)
{
    if (it->kind != ITEM_INSN) {
        memcpy(buf, it->bytes, it->byte_count);
        return (int)it->byte_count;
    }
    uint64_t vals[PVMASM_MAX_OPERANDS];
    if (!resolve_operands(as, it, vals))
        return -1;
    const char *why = "";
    int n = pvmasm_encode_insn(it->opcode, vals, it->pc, buf, &why);
    if (n < 0)
        error_at(as, it->line, "%s", why);
    return n;
}

static bool assign_pcs(struct assembler *as)
{
    uint64_t pc = 0;
    for (size_t i = 0; i < as->item_count; i++) {
        as->items[i].pc = (uint32_t)pc;
        pc += as->items[i].size;
        if (pc > UINT32_MAX - 32) {
            error_at(as, as->items[i].line, "program too large");
            return false;
        }
    }
    return true;
}

/* Starts from the largest possible sizes and re-encodes until no size
 * changes. Sizes only shrink (offsets only get shorter as code shrinks), so
 * this terminates. */
static bool layout(struct assembler *as)
{
    for (size_t i = 0; i < as->item_count; i++) {
        struct item *it = &as->items[i];
        it->size = it->kind == ITEM_INSN ? PVMASM_MAX_INSN_BYTES : (uint32_t)it->byte_count;
        if (it->byte_count > 0x100000) {
            error_at(as, it->line, "too many bytes");
            return false;
        }
    }
    for (int round = 0; round < 64; round++) {
        if (!assign_pcs(as))
            return false;
        bool changed = false;
        for (size_t i = 0; i < as->item_count; i++) {
            struct item *it = &as->items[i];
            if (it->kind != ITEM_INSN)
                continue;
            uint8_t buf[PVMASM_MAX_INSN_BYTES];
            int n = encode_item(as, it, buf);
            if (n < 0)
                return false;
            if ((uint32_t)n != it->size) {
                it->size = (uint32_t)n;
                changed = true;
            }
        }
        if (!changed)
            return assign_pcs(as);
    }
    error_at(as, 0, "layout did not converge");
    return false;
}

static bool put_varint(uint8_t **p, uint64_t v)
{
    uint8_t tmp[9];
    int n = pvm_varint_encode(v, tmp);
    memcpy(*p, tmp, (size_t)n);
    *p += n;
    return true;
}

static bool emit(struct assembler *as, struct pvmasm_output *out)
{
    uint64_t code_len = 0;
    if (as->item_count > 0)
        code_len = (uint64_t)as->items[as->item_count - 1].pc + as->items[as->item_count - 1].size;

    /* Jump-table entries and their size. */
    uint64_t *entries = calloc(as->jump_count + 1, sizeof(uint64_t));
    if (entries == NULL)
        return false;
    uint64_t max_entry = 0;
    for (size_t i = 0; i < as->jump_count; i++) {
        if (!resolve_target(as, as->jump_table[i].line, &as->jump_table[i], &entries[i])) {
            free(entries);
            return false;
        }
        if (entries[i] > max_entry)
            max_entry = entries[i];
    }
    int z = 0;
    while (z < 8 && (max_entry >> (8 * z)) != 0)
        z++;
    if (as->jump_entry_size >= 0) {
        if (as->jump_entry_size < z) {
            free(entries);
            error_at(as, 0, ".jump_entry_size %d is too small for the entries",
                     as->jump_entry_size);
            return false;
        }
        z = as->jump_entry_size;
    }

    size_t mask_len = (size_t)((code_len + 7) / 8);
    size_t cap = 9 + 1 + 9 + as->jump_count * (size_t)z + (size_t)code_len + mask_len;
    uint8_t *blob = calloc(cap, 1);
    if (blob == NULL) {
        free(entries);
        return false;
    }
    uint8_t *p = blob;
    put_varint(&p, as->jump_count);
    *p++ = (uint8_t)z;
    put_varint(&p, code_len);
    for (size_t i = 0; i < as->jump_count; i++)
        for (int b = 0; b < z; b++)
            *p++ = b < 8 ? (uint8_t)(entries[i] >> (8 * b)) : 0;
    free(entries);
    uint8_t *code = p;
    uint8_t *mask = code + code_len;
    for (size_t i = 0; i < as->item_count; i++) {
        const struct item *it = &as->items[i];
        int n = encode_item(as, it, code + it->pc);
        if (n < 0 || (uint32_t)n != it->size) {
            free(blob);
            if (!as->failed)
                error_at(as, it->line, "internal error: size changed");
            return false;
        }
        if (it->kind != ITEM_BYTES)
            mask[it->pc / 8] |= (uint8_t)(1u << (it->pc % 8));
    }
    out->blob = blob;
    out->blob_len = (size_t)(mask + mask_len - blob);

    /* The standard program container around it. */
    size_t sp_len = 11 + as->ro_len + as->rw_len + 4 + out->blob_len;
    uint8_t *sp = malloc(sp_len);
    if (sp == NULL)
        return false;
    uint8_t *q = sp;
    for (int b = 0; b < 3; b++)
        *q++ = (uint8_t)(as->ro_len >> (8 * b));
    for (int b = 0; b < 3; b++)
        *q++ = (uint8_t)(as->rw_len >> (8 * b));
    for (int b = 0; b < 2; b++)
        *q++ = (uint8_t)(as->heap_pages >> (8 * b));
    for (int b = 0; b < 3; b++)
        *q++ = (uint8_t)(as->stack_size >> (8 * b));
    if (as->ro_len)
        memcpy(q, as->ro, as->ro_len);
    q += as->ro_len;
    if (as->rw_len)
        memcpy(q, as->rw, as->rw_len);
    q += as->rw_len;
    for (int b = 0; b < 4; b++)
        *q++ = (uint8_t)(out->blob_len >> (8 * b));
    memcpy(q, out->blob, out->blob_len);
    out->stdprog = sp;
    out->stdprog_len = sp_len;

    out->labels = calloc(as->label_count + 1, sizeof(struct pvmasm_label));
    if (out->labels == NULL)
        return false;
    for (size_t i = 0; i < as->label_count; i++) {
        out->labels[i].pc = (uint32_t)label_pc(as, i);
        out->labels[i].name = as->labels[i].name;
        as->labels[i].name = NULL; /* ownership moves to the output */
    }
    out->label_count = as->label_count;
    return true;
}

/* ---- public API --------------------------------------------------------- */

static void free_operand(struct operand *op)
{
    free(op->label);
}

static void assembler_free(struct assembler *as)
{
    for (size_t i = 0; i < as->item_count; i++) {
        for (int k = 0; k < PVMASM_MAX_OPERANDS; k++)
            free_operand(&as->items[i].ops[k]);
        free(as->items[i].bytes);
    }
    free(as->items);
    for (size_t i = 0; i < as->label_count; i++)
        free(as->labels[i].name);
    free(as->labels);
    for (size_t i = 0; i < as->jump_count; i++)
        free_operand(&as->jump_table[i]);
    free(as->jump_table);
    free(as->ro);
    free(as->rw);
}

int pvmasm_assemble(const char *text, size_t len, struct pvmasm_output *out, char *err,
                    size_t err_len)
{
    memset(out, 0, sizeof(*out));
    struct assembler as;
    memset(&as, 0, sizeof(as));
    as.jump_entry_size = -1;
    as.err = err;
    as.err_len = err_len;
    if (err_len > 0)
        err[0] = '\0';

    char line_buf[MAX_LINE_BYTES];
    size_t at = 0;
    int line = 0;
    while (at < len && !as.failed) {
        line++;
        size_t end = at;
        while (end < len && text[end] != '\n')
            end++;
        if (end - at >= sizeof(line_buf)) {
            error_at(&as, line, "line longer than %d bytes", MAX_LINE_BYTES - 1);
            break;
        }
        memcpy(line_buf, text + at, end - at);
        line_buf[end - at] = '\0';
        if (memchr(line_buf, '\0', end - at) != NULL) {
            error_at(&as, line, "NUL byte in the source");
            break;
        }
        parse_line(&as, line, line_buf);
        at = end + 1;
    }
    bool ok = !as.failed && layout(&as) && emit(&as, out);
    if (!ok && !as.failed)
        error_at(&as, line, "out of memory");
    assembler_free(&as);
    if (!ok) {
        pvmasm_output_free(out);
        return -1;
    }
    return 0;
}

void pvmasm_output_free(struct pvmasm_output *out)
{
    free(out->blob);
    free(out->stdprog);
    for (size_t i = 0; i < out->label_count; i++)
        free(out->labels[i].name);
    free(out->labels);
    memset(out, 0, sizeof(*out));
}

int64_t pvmasm_label_pc(const struct pvmasm_output *out, const char *name)
{
    for (size_t i = 0; i < out->label_count; i++)
        if (strcmp(out->labels[i].name, name) == 0)
            return out->labels[i].pc;
    return -1;
}
