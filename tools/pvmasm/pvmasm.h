/*
 * pvmasm.h — PVM assembler and disassembler (text <-> program blob).
 *
 * Syntax: one instruction per line; `;` or `#` starts a comment; `name:`
 * defines a label (optionally followed by an instruction on the same line).
 * Mnemonics are the SPEC §9 names. Operands, by format (SPEC §8):
 *
 *   F0  trap | fallthrough
 *   F1  ecalli X
 *   F2  load_imm_64 rA, X                (any u64)
 *   F3  store_imm_u32 X, Y               (X = address)
 *   F4  jump T
 *   F5  load_imm rA, X | load_u8 rA, X | store_u8 rA, X | jump_ind rA, X
 *   F6  store_imm_ind_u8 rA, X, Y        (address rA + X)
 *   F7  branch_eq_imm rA, X, T | load_imm_jump rA, X, T
 *   F8  move_reg rD, rA                  (rD = destination)
 *   F9  add_imm_64 rA, rB, X | load_ind_u8 rA, rB, X | store_ind_u8 rA, rB, X
 *   F10 branch_eq rA, rB, T
 *   F11 load_imm_jump_ind rA, rB, X, Y
 *   F12 add_64 rD, rA, rB                (rD = destination: rD' = A op B)
 *
 * Registers: r0..r12 or ra sp t0 t1 t2 s0 s1 a0..a5. Numbers: decimal or
 * 0x hex, optionally negative. An immediate must be representable as a
 * sign-extended 32-bit value, except load_imm_64 (any u64) and memory
 * addresses (loads/stores: any value, taken modulo 2^32). `&label` is the
 * dynamic-jump address of a label in the jump table (2 * (index + 1)).
 * A target T is a label or `@N` (absolute pc N).
 *
 * Directives:
 *   .jumptable T, T, ...   append jump-table entries (labels or @N)
 *   .jump_entry_size N     force the entry size z (default: smallest that fits)
 *   .byte b, ...           raw code bytes that are not instruction starts
 *   .opcode N, b, ...      a raw instruction: byte N starts an instruction
 *                          (any value, e.g. an undefined opcode), b... follow
 *   .stack N  .heap N  .ro b, ...  .rw b, ...   fields of the standard
 *                          program container (SPEC §11) built alongside
 *
 * Encoding: immediates and offsets use the fewest bytes that represent them
 * (0 bytes for 0), so text -> blob -> text -> blob is stable. The
 * disassembler prints instructions whose bytes are not the canonical
 * encoding as `.opcode` lines, so blob -> text -> blob is exact.
 */
#ifndef NUB_PVMASM_H
#define NUB_PVMASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pvmasm_label {
    char *name;
    uint32_t pc;
};

struct pvmasm_output {
    uint8_t *blob; /* SPEC §4 program blob */
    size_t blob_len;
    uint8_t *stdprog; /* SPEC §11 container around the blob (.stack/.heap/.ro/.rw) */
    size_t stdprog_len;
    struct pvmasm_label *labels;
    size_t label_count;
};

/* Assembles text[0..len). Returns 0, or -1 with "line N: message" in err. */
int pvmasm_assemble(const char *text, size_t len, struct pvmasm_output *out, char *err,
                    size_t err_len);
void pvmasm_output_free(struct pvmasm_output *out);

/* pc of a label, or -1 if there is no such label. */
int64_t pvmasm_label_pc(const struct pvmasm_output *out, const char *name);

/* Disassembles a blob into malloc'd, NUL-terminated text (free it), or
 * returns NULL with a message in err (invalid blob). */
char *pvmasm_disassemble(const uint8_t *blob, size_t len, char *err, size_t err_len);

#endif /* NUB_PVMASM_H */
