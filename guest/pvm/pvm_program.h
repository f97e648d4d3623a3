/*
 * pvm_program.h — decoding a PVM program blob (SPEC §4-6, §8).
 *
 * pvm_program_decode checks a blob strictly and builds the one thing that
 * needs memory: the basic-block-start set. Code, bitmask and jump table are
 * NOT copied: the program borrows them from the blob, which must stay alive
 * (and unchanged) until pvm_program_destroy.
 *
 * pvm_decode_insn is the single operand decoder shared by the interpreter,
 * the JIT and the disassembler: it reproduces the zero-extended-code rules
 * of SPEC §5 exactly, for any pc (even past the code, even at a non-start).
 */
#ifndef NUB_PVM_PROGRAM_H
#define NUB_PVM_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvm.h"
#include "pvm_isa.h"
#include "pvm_opcodes.h"

struct pvm_program {
    const uint8_t *code;       /* c: code_len bytes (borrowed) */
    uint32_t code_len;         /* C; pc == C is the implicit trap */
    const uint8_t *bitmask;    /* k: ceil(C/8) bytes (borrowed) */
    const uint8_t *jump_table; /* j: jump_table_len * jump_entry_size bytes (borrowed) */
    uint64_t jump_table_len;   /* J (may be huge when the entry size is 0) */
    uint32_t jump_entry_size;  /* z, 0..255 */
    uint8_t *block_starts;     /* BB as a bitset of C bits (owned) */
    struct pvm_allocator allocator;
    const struct pvm_isa *isa; /* the version the code is written for */
    /* GP 0.8.0 §4 v_blob: the instruction stream walks from 0 through valid
     * opcodes exactly to code_len. Computed for every version; only versions
     * with validate_before_run act on it. */
    bool stream_valid;
};

/* Static information about one INTERNAL opcode (all 256 have an entry;
 * see pvm_opcodes.h and pvm_isa.h for how code bytes map to them). */
struct pvm_opcode_info {
    const char *name;   /* "add_64"; NULL when no instruction has the number */
    uint8_t format;     /* enum pvm_format (PVM_FMT_NONE when undefined) */
    bool is_terminator; /* member of SPEC §6.1's T */
    bool is_defined;    /* member of GP v0.7.2's U (SPEC §9.14) */
    uint8_t gas;        /* cost; 1 for every instruction in GP v0.7.2 */
};

extern const struct pvm_opcode_info pvm_opcode_table[256];

/* Opcode number for a name ("add_64" -> 200), or -1. */
int pvm_opcode_by_name(const char *name, size_t name_len);

/*
 * Decodes and validates blob[0..len). On success *out is a new program
 * (free with pvm_program_destroy) and PVM_OK is returned; otherwise an
 * enum pvm_error (PVM_ERR_BLOB_*) and *out is NULL. Never reads outside the
 * blob, whatever its bytes.
 */
int pvm_program_decode(const uint8_t *blob, size_t len, const struct pvm_allocator *allocator,
                       struct pvm_program **out);
/* The same for a chosen version (NUB_ISA_*): pvm_program_decode is
 * pvm_program_decode_isa with NUB_ISA_GP_0_7_2. An unknown id gives
 * PVM_ERR_INVALID_ARGUMENT. A blob that fails GP 0.8.0's validation still
 * decodes (stream_valid = false): running it panics, as the paper says. */
int pvm_program_decode_isa(const uint8_t *blob, size_t len, uint32_t isa,
                           const struct pvm_allocator *allocator, struct pvm_program **out);

/*
 * Rewrites blob[0..len), a program of version `from`, into version `to`'s
 * numbering: out[0..len) (out may be blob) gets the same bytes with every
 * valid opcode at an instruction start replaced by the target's byte for the
 * same instruction (SPEC-0.8.md §6.1 does this for 0.7.2 -> 0.8.0). Bytes
 * that are not valid instructions are copied as they are.
 * @retval PVM_ERR_ISA_NO_EQUIVALENT  an instruction `to` lacks (nothing written)
 */
int pvm_program_recode(const uint8_t *blob, size_t len, uint32_t from, uint32_t to, uint8_t *out,
                       const struct pvm_allocator *allocator);

/* GP 0.8.0 §4 (v_blob and v_loc): may a run start (or be resumed by a
 * caller) at pc? Always true for versions without validate_before_run. */
bool pvm_program_can_enter(const struct pvm_program *program, uint32_t pc);
void pvm_program_destroy(struct pvm_program *program);

/* Bitmask bit n (bits at n >= C read as 1, SPEC §5). */
static inline bool pvm_program_is_insn_start(const struct pvm_program *p, uint64_t n)
{
    if (n >= p->code_len)
        return true;
    return (p->bitmask[n >> 3] >> (n & 7)) & 1;
}

/* True iff pc is in BB (SPEC §6.1): a valid static or dynamic jump target. */
static inline bool pvm_program_is_block_start(const struct pvm_program *p, uint64_t pc)
{
    if (pc >= p->code_len)
        return false;
    return (p->block_starts[pc >> 3] >> (pc & 7)) & 1;
}

/* skip(pc) = ℓ (SPEC §5), 0..24. */
uint32_t pvm_program_skip(const struct pvm_program *program, uint32_t pc);

/* Effective internal opcode op(pc): the version's instruction for c[pc] if
 * pc starts an instruction and c[pc] is valid, else PVM_OP_trap (also for
 * pc >= C). */
uint8_t pvm_program_opcode(const struct pvm_program *program, uint32_t pc);

/* Where a dynamic jump to address goes (SPEC §6.3). */
enum pvm_dynamic_jump {
    PVM_DJUMP_TARGET = 0, /* continue at *target_out */
    PVM_DJUMP_HALT = 1,
    PVM_DJUMP_PANIC = 2,
};
enum pvm_dynamic_jump pvm_program_dynamic_jump(const struct pvm_program *program, uint32_t address,
                                               uint32_t *target_out);

/* One decoded instruction (SPEC §8). Register fields are already clamped to
 * 0..12 and named as in the SPEC's format table: F8 uses rd (low nibble,
 * destination) and ra (high nibble); F9/F10/F11 use ra (low) and rb (high);
 * F12 uses ra, rb and rd (byte 2). Unused fields are 0. */
struct pvm_insn {
    uint32_t pc;
    uint32_t skip;      /* ℓ */
    uint64_t next_pc;   /* pc + 1 + skip (<= C whenever pc < C) */
    uint8_t opcode;     /* effective opcode: PVM_OP_trap when undefined / not a start */
    uint8_t raw_opcode; /* ζ[pc] */
    uint8_t format;     /* enum pvm_format of opcode */
    uint8_t ra, rb, rd;
    uint8_t len_x, len_y; /* immediate/offset byte lengths used (for the disassembler) */
    uint64_t imm_x;       /* X (sign-extended; for F2 the raw 8 bytes) */
    uint64_t imm_y;       /* Y */
    int64_t target;       /* F4/F7/F10: pc + offset as a mathematical integer */
};

void pvm_decode_insn(const struct pvm_program *program, uint32_t pc, struct pvm_insn *out);

/* Varint (SPEC §4.1). Decode: returns bytes consumed (1..9), 0 if truncated,
 * -1 if not canonical. Encode: writes 1..9 bytes to out[9], returns count. */
int pvm_varint_decode(const uint8_t *bytes, size_t len, uint64_t *value_out);
int pvm_varint_encode(uint64_t value, uint8_t out[9]);

#endif /* NUB_PVM_PROGRAM_H */
