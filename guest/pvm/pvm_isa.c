/*
 * pvm_isa.c — one table per PVM instruction-set version (see pvm_isa.h).
 *
 * Both code-byte maps start from GP v0.7.2's numbering (the internal one,
 * generated from PVM_OPCODE_LIST) and list only what a version changes.
 */
#include "pvm_isa.h"

#define INVALID_16                                                                                 \
    PVM_OPCODE_INVALID, PVM_OPCODE_INVALID, PVM_OPCODE_INVALID, PVM_OPCODE_INVALID,                \
        PVM_OPCODE_INVALID, PVM_OPCODE_INVALID, PVM_OPCODE_INVALID, PVM_OPCODE_INVALID,            \
        PVM_OPCODE_INVALID, PVM_OPCODE_INVALID, PVM_OPCODE_INVALID, PVM_OPCODE_INVALID,            \
        PVM_OPCODE_INVALID, PVM_OPCODE_INVALID, PVM_OPCODE_INVALID, PVM_OPCODE_INVALID
#define INVALID_256                                                                                \
    INVALID_16, INVALID_16, INVALID_16, INVALID_16, INVALID_16, INVALID_16, INVALID_16,            \
        INVALID_16, INVALID_16, INVALID_16, INVALID_16, INVALID_16, INVALID_16, INVALID_16,        \
        INVALID_16, INVALID_16
#define IDENTITY(num, name, fmt, term, gas) [num] = num,

/* GP 0.8.0 (SPEC-0.8.md §1.1): `unlikely` is new at 2, `sbrk` (101) is gone,
 * 102..111 move down by one, 111 is invalid. */
#define GP080_MOVED(X)                                                                             \
    X(101, count_set_bits_64)                                                                      \
    X(102, count_set_bits_32)                                                                      \
    X(103, leading_zero_bits_64)                                                                   \
    X(104, leading_zero_bits_32)                                                                   \
    X(105, trailing_zero_bits_64)                                                                  \
    X(106, trailing_zero_bits_32)                                                                  \
    X(107, sign_extend_8)                                                                          \
    X(108, sign_extend_16)                                                                         \
    X(109, zero_extend_16)                                                                         \
    X(110, reverse_bytes)
#define OPCODE_AT(byte, name) [byte] = PVM_OP_##name,
#define BYTE_OF(byte, name)   [PVM_OP_##name] = byte,

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"

const struct pvm_isa pvm_isa_gp_0_7_2 = {
    .id = NUB_ISA_GP_0_7_2,
    .name = "0.7.2",
    .opcode_of = {INVALID_256, PVM_OPCODE_LIST(IDENTITY)},
    .byte_of = {INVALID_256, PVM_OPCODE_LIST(IDENTITY)},
    .gas_model = PVM_GAS_PER_INSTRUCTION,
    .validate_before_run = false,
    .fault_keeps_block_paid = false,
    .end_block_cost = 1,
    .host_calls = {.gas = 0, .grow_heap = UINT32_MAX, .fetch = 1, .log = 100},
};

const struct pvm_isa pvm_isa_gp_0_8_0 = {
    .id = NUB_ISA_GP_0_8_0,
    .name = "0.8.0",
    .opcode_of = {INVALID_256, PVM_OPCODE_LIST(IDENTITY)[2] = PVM_OP_unlikely,
                  GP080_MOVED(OPCODE_AT)[111] = PVM_OPCODE_INVALID},
    .byte_of = {INVALID_256,
                PVM_OPCODE_LIST(IDENTITY)[PVM_OP_unlikely] = 2, [PVM_OP_sbrk] = PVM_OPCODE_INVALID,
                GP080_MOVED(BYTE_OF)},
    .gas_model = PVM_GAS_PIPELINE,
    .validate_before_run = true,
    .fault_keeps_block_paid = true,
    .end_block_cost = 0,
    .host_calls = {.gas = 0, .grow_heap = 1, .fetch = 2, .log = 100},
};

#pragma GCC diagnostic pop

const struct pvm_isa *pvm_isa_get(uint32_t id)
{
    switch (id) {
    case NUB_ISA_GP_0_7_2:
        return &pvm_isa_gp_0_7_2;
    case NUB_ISA_GP_0_8_0:
        return &pvm_isa_gp_0_8_0;
    default:
        return NULL;
    }
}

const struct pvm_isa *pvm_isa_by_name(const char *name, size_t name_len)
{
    for (uint32_t id = 0; id < NUB_ISA_COUNT; id++) {
        const struct pvm_isa *isa = pvm_isa_get(id);
        size_t i = 0;
        while (i < name_len && isa->name[i] != '\0' && isa->name[i] == name[i])
            i++;
        if (i == name_len && isa->name[i] == '\0')
            return isa;
    }
    return NULL;
}
