/*
 * jit_decode.c — fast operand decoding for the compiler (see jit_decode.h;
 * the formats are SPEC §8's, field for field as in pvm_decode_insn).
 */
#include "jit_decode.h"

#include "pvm_util.h"

#define FORMAT_ENTRY(num, name, fmt, term, gas) [num] = fmt,
#define UNDEFINED_16                                                                               \
    JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED,      \
        JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED,  \
        JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED, JIT_OP_UNDEFINED,  \
        JIT_OP_UNDEFINED

/* All entries default to undefined, then the defined opcodes override them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const uint8_t jit_op_format[256] = {UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    UNDEFINED_16,
                                    PVM_OPCODE_LIST(FORMAT_ENTRY)
                                        PVM_OPCODE_LIST_EXTRA(FORMAT_ENTRY)};
#pragma GCC diagnostic pop

/* jit_decode_insn_fast looks up PVM_OPCODE_INVALID (a code byte the ISA
 * does not define) in jit_op_format too: no opcode may have its number. */
#define NOT_INVALID(num, name, fmt, term, gas) &&(num) != PVM_OPCODE_INVALID
_Static_assert(1 PVM_OPCODE_LIST(NOT_INVALID) PVM_OPCODE_LIST_EXTRA(NOT_INVALID),
               "PVM_OPCODE_INVALID must be undefined in jit_op_format");

/* Undefined opcodes execute as trap, which ends a block. */
#define ENDS_ENTRY(num, name, fmt, term, gas) [num] = term,
#define ONES_16                               1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const uint8_t jit_op_ends_block[256] = {ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        ONES_16,
                                        PVM_OPCODE_LIST(ENDS_ENTRY)
                                            PVM_OPCODE_LIST_EXTRA(ENDS_ENTRY)};
#pragma GCC diagnostic pop

#define GAS_ENTRY(num, name, fmt, term, gas) [num] = gas,
#define TRAP_GAS_16                                                                                \
    PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS,            \
        PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS,        \
        PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS, PVM_TRAP_GAS
#define PVM_TRAP_GAS_OF(num, name, fmt, term, gas) +(num == 0 ? gas : 0)
#define PVM_TRAP_GAS                               (0 PVM_OPCODE_LIST(PVM_TRAP_GAS_OF))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const uint8_t jit_op_gas[256] = {TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 TRAP_GAS_16,
                                 PVM_OPCODE_LIST(GAS_ENTRY) PVM_OPCODE_LIST_EXTRA(GAS_ENTRY)};
#pragma GCC diagnostic pop

/* Register fields: min(field, PVM_NUM_REGS - 1) (SPEC §8). */
#define LAST_REG_4  PVM_NUM_REGS - 1, PVM_NUM_REGS - 1, PVM_NUM_REGS - 1, PVM_NUM_REGS - 1
#define LAST_REG_16 LAST_REG_4, LAST_REG_4, LAST_REG_4, LAST_REG_4
_Static_assert(PVM_NUM_REGS == 13, "jit_reg_clamp lists registers 0..12");
/* clang-format off */
const uint8_t jit_reg_clamp[256] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, LAST_REG_4,       /* 0..15 (the nibbles) */
    LAST_REG_16, LAST_REG_16, LAST_REG_16, LAST_REG_16,      /* 16..79 */
    LAST_REG_16, LAST_REG_16, LAST_REG_16, LAST_REG_16,      /* 80..143 */
    LAST_REG_16, LAST_REG_16, LAST_REG_16, LAST_REG_16,      /* 144..207 */
    LAST_REG_16, LAST_REG_16, LAST_REG_16,                   /* 208..255 */
};
/* clang-format on */
