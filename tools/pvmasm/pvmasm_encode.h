/*
 * pvmasm_encode.h — encoding one instruction from numeric operands; shared
 * by the assembler and the disassembler's canonical-form check.
 */
#ifndef NUB_PVMASM_ENCODE_H
#define NUB_PVMASM_ENCODE_H

#include <stdbool.h>
#include <stdint.h>

#define PVMASM_MAX_INSN_BYTES 16
#define PVMASM_MAX_OPERANDS   4

/* Operand kinds of a format, one letter per operand:
 *   R register, I sign-extended 32-bit immediate, A memory address
 *   immediate (modulo 2^32), Q 64-bit immediate, T jump target. */
const char *pvmasm_operand_kinds(uint8_t opcode);

/* Encodes opcode with operands vals (registers 0..12; targets are absolute
 * pcs as int64 in a u64) at pc into buf. Returns the length, or -1 with a
 * reason in *why when an operand cannot be encoded. */
int pvmasm_encode_insn(uint8_t opcode, const uint64_t vals[PVMASM_MAX_OPERANDS], uint32_t pc,
                       uint8_t buf[PVMASM_MAX_INSN_BYTES], const char **why);

#endif /* NUB_PVMASM_ENCODE_H */
