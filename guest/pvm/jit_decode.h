/*
 * jit_decode.h — the JIT's fast path of pvm_decode_insn.
 *
 * Compile speed matters (the goal is <= 10 ns per PVM instruction), and the
 * shared decoder checks every byte against the end of the code. Away from
 * the end (pc + JIT_DECODE_MARGIN < code_len) no byte an instruction can
 * read or skip over is missing, so this decoder reads code and bitmask
 * words directly and produces the same struct pvm_insn fields the compiler
 * uses (pc, next_pc, opcode, format, ra, rb, rd, imm_x, imm_y, target).
 * Near the end it defers to pvm_decode_insn. The differential tests compare
 * the JIT with the interpreter, which uses pvm_decode_insn throughout.
 */
#ifndef NUB_JIT_DECODE_H
#define NUB_JIT_DECODE_H

#include "pvm_program.h"

/* The fast path needs pc + margin < code_len: it reads up to 12 code bytes
 * and the 8 bitmask bytes from bit pc + 1 on (64 bits = 64 code bytes). */
#define JIT_DECODE_MARGIN 72u

void jit_decode_insn(const struct pvm_program *program, uint32_t pc, struct pvm_insn *out);

/* Per opcode byte: its format (enum pvm_format), or JIT_OP_UNDEFINED; and
 * whether it ends a gas block. Compact copies of pvm_opcode_table's fields
 * (256 bytes each instead of 4 KiB), generated from PVM_OPCODE_LIST. */
#define JIT_OP_UNDEFINED 0xFF
extern const uint8_t jit_op_format[256];
extern const uint8_t jit_op_ends_block[256];
/* Gas cost per opcode byte (undefined opcodes cost what trap costs). */
extern const uint8_t jit_op_gas[256];

#endif /* NUB_JIT_DECODE_H */
